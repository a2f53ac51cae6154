"""Two-step verification: a TOTP code from the phone (RFC 6238), or a recovery code.

An account enrols by scanning a QR code and confirming one code; it then gets ten
single-use recovery codes, shown once. Office and administrator accounts must enrol when
the organisation requires it. Enrolment, use, recovery, turning it off and an
administrator's reset are all audited.
"""

import hashlib
import secrets

import pyotp
import segno
from flask_babel import lazy_gettext as _l

from inspection.extensions import db
from inspection.models import RecoveryCode, User, utcnow
from inspection.services import accounts, audit, org, policy
from inspection.services.errors import ServiceError

RECOVERY_CODES = 10
# One step either side of the server's clock: phones drift, and a code typed at the
# end of its 30 s arrives in the next step.
CLOCK_DRIFT_STEPS = 1
ISSUER = "Kiểm tra công vụ"
ENROLMENT_REQUIRED = _l(
    "Your organisation requires two-step verification: turn it on in the web app."
)


def required_for(user: User) -> bool:
    """Return whether ``user`` must use two-step verification (an organisation setting)."""
    if user.role not in policy.REVIEWERS:  # asked on every request: no query for the rest
        return False
    settings = org.get_settings()
    return bool(settings and settings.require_second_factor)


def pending_secret(user: User) -> str:
    """Return the secret the account is enrolling with, starting an enrolment if needed."""
    if user.has_second_factor:
        raise ServiceError(str(_l("Two-step verification is already on.")))
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """Return the ``otpauth://`` address an authenticator app reads from the QR code."""
    settings = org.get_settings()
    issuer = settings.org_name if settings else ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """Return the enrolment QR code as a data: URI (SVG)."""
    return segno.make(uri, error="m").svg_data_uri(border=2, scale=4)


def _clean(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{_clean(code)}".encode()).hexdigest()


def _totp_step(user: User, code: str) -> int | None:
    """Return the time step ``code`` is valid for, or None."""
    code = _clean(code)
    if not (len(code) == 6 and code.isdigit()) or user.totp_secret is None:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    for drift in range(-CLOCK_DRIFT_STEPS, CLOCK_DRIFT_STEPS + 1):
        step = totp.timecode(now) + drift
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(actor: audit.Actor, user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them (shown once)."""
    codes = [_format(secrets.token_hex(5)) for _ in range(RECOVERY_CODES)]  # 40 bits each
    user.recovery_codes = [RecoveryCode(code_hash=_hash(user, code)) for code in codes]
    audit.record(actor, "recovery_codes_issued", user, count=len(codes))
    return codes


def _format(hex_code: str) -> str:
    return f"{hex_code[:5]}-{hex_code[5:]}"


def remaining_recovery_codes(user: User) -> int:
    return sum(1 for code in user.recovery_codes if code.used_at is None)


def confirm(actor: audit.Actor, user: User, code: str) -> list[str] | None:
    """Finish enrolment with a code from the phone; return the recovery codes, or None
    when the code is wrong (the enrolment stays pending, with the same secret)."""
    step = _totp_step(user, code) if not user.has_second_factor else None
    if step is None:
        return None
    user.totp_confirmed_at = utcnow()
    user.totp_last_step = step
    audit.record(actor, "second_factor_enrolled", user)
    return new_recovery_codes(actor, user)


def verify(actor: audit.Actor, user: User, code: str) -> bool:
    """Check a login's second step: a fresh TOTP code, or an unused recovery code.

    A TOTP code is accepted once; a recovery code is spent when used. The outcome is
    audited either way.
    """
    if not user.has_second_factor or not isinstance(code, str):
        return False
    step = _totp_step(user, code)
    if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
        user.totp_last_step = step
        audit.record(actor, "second_factor_used", user, method="totp")
        return True
    wanted = _hash(user, code)
    for recovery in user.recovery_codes:
        if recovery.used_at is None and secrets.compare_digest(recovery.code_hash, wanted):
            recovery.used_at = utcnow()
            audit.record(
                actor,
                "recovery_code_used",
                user,
                remaining=remaining_recovery_codes(user),
            )
            return True
    audit.record(actor, "second_factor_failed", user)
    return False


def turn_off(actor: audit.Actor, user: User, *, by_admin: bool = False) -> None:
    """Remove the account's second factor (the owner's choice, or an administrator's reset
    after a lost phone). A reset ends the account's sessions and tokens."""
    if not by_admin and required_for(user):
        raise ServiceError(
            str(_l("Your organisation requires two-step verification for this account."))
        )
    if not user.has_second_factor:
        return
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.recovery_codes = []
    if by_admin:
        accounts.end_sessions(user)
        audit.record(actor, "second_factor_reset", user)
    else:
        audit.record(actor, "second_factor_removed", user)
    db.session.flush()
