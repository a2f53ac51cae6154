"""Users, passwords and API tokens."""

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from inspection.extensions import db
from inspection.models import ApiToken, Role, Unit, User, UserSession, utcnow
from inspection.services import audit
from inspection.services.errors import NotFound, ServiceError

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one argon2 hash.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problems(password: str, username: str = "") -> list[str]:
    """Return why ``password`` is not acceptable for a new password (empty when it is)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        problems.append(_l("Use both letters and digits."))
    if username and username.lower() in password.lower():
        problems.append(_l("Must not contain the username."))
    return [str(p) for p in problems]


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(user: User, password: str) -> bool:
    """Return whether ``password`` is ``user``'s password."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(username: str, password: str, actor: audit.Actor) -> User | None:
    """Return the active user with these credentials, or None; a failure is audited.

    Unknown users and wrong passwords take the same time and look the same to the caller.
    The login itself is recorded by ``logged_in``, after any second step.
    """
    user = db.session.scalar(select(User).filter_by(username=normalise_username(username)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        audit.record(actor, "login_failed", object_type="user", username=username[:64])
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def logged_in(actor: audit.Actor, user: User, **detail) -> None:
    """Record a completed login (password, and the second step when the account has one)."""
    user.last_login_at = utcnow()
    audit.record(audit.Actor(user.id, actor.ip), "login", user, **detail)


def create_user(
    actor: audit.Actor,
    *,
    username: str,
    full_name: str,
    password: str,
    role: Role,
    unit_id: int | None = None,
    position: str = "",
    email: str = "",
    check_policy: bool = True,
) -> User:
    """Create an account; a ``unit`` account must name its unit, others must not."""
    username = normalise_username(username)
    fields = {}
    email, problem = checked_email(email)
    if problem:
        fields["email"] = problem
    if not re.fullmatch(r"[a-z0-9_.-]{3,64}", username):
        fields["username"] = str(_l("3-64 letters, digits, dot, dash or underscore."))
    elif db.session.scalar(select(User.id).filter_by(username=username)):
        fields["username"] = str(_l("This username is taken."))
    if check_policy and (problems := password_problems(password, username)):
        fields["password"] = " ".join(problems)
    role = Role(role)
    if role is Role.UNIT:
        if unit_id is None or db.session.get(Unit, unit_id) is None:
            fields["unit_id"] = str(_l("A unit account must belong to a unit."))
    else:
        unit_id = None
    if fields:
        raise ServiceError(str(_l("The account was not created.")), fields)
    user = User(
        username=username,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id,
        position=position.strip(),
        email=email,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user_created", user, role=role.value)
    log.info("created user %s (%s)", username, role)
    return user


def update_user(
    actor: audit.Actor,
    user: User,
    *,
    full_name: str,
    role: Role,
    unit_id: int | None,
    position: str,
    active: bool,
    new_password: str = "",
    email: str = "",
) -> User:
    """Change an account; deactivating it or resetting its password ends its sessions."""
    role = Role(role)
    email, problem = checked_email(email)
    if problem:
        raise ServiceError(str(_l("The account was not saved.")), {"email": problem})
    if role is Role.UNIT and (unit_id is None or db.session.get(Unit, unit_id) is None):
        raise ServiceError(
            str(_l("The account was not saved.")),
            {"unit_id": str(_l("A unit account must belong to a unit."))},
        )
    if new_password:
        set_password(actor, user, new_password)
    if user.active and not active:
        end_sessions(user)
    user.full_name = full_name.strip()
    user.role = role
    user.unit_id = unit_id if role is Role.UNIT else None
    user.position = position.strip()
    user.email = email
    user.active = active
    audit.record(actor, "user_updated", user, role=role.value, active=active)
    return user


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


def checked_email(value: str | None) -> tuple[str | None, str | None]:
    """An address as stored (None when empty, the domain in lower case), or the problem."""
    value = (value or "").strip()
    if not value:
        return None, None
    if len(value) > 254 or not EMAIL.fullmatch(value):
        return None, str(_l("Enter an email address, such as ten@donvi.gov.vn."))
    local_part, _, domain = value.rpartition("@")
    return f"{local_part}@{domain.lower()}", None


def set_password(actor: audit.Actor, user: User, password: str) -> None:
    """Set a new password that meets the policy, and end the user's other sessions."""
    if problems := password_problems(password, user.username):
        raise ServiceError(
            str(_l("The password was not changed.")), {"password": " ".join(problems)}
        )
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(actor, "password_changed", user)


def end_sessions(user: User) -> None:
    """Invalidate every session cookie and every API token of ``user``."""
    user.session_epoch += 1
    now = utcnow()
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def start_session(user: User) -> str:
    """Record a new browser login; return the id its session cookie carries."""
    session_id = secrets.token_hex(32)
    db.session.add(UserSession(id=session_id, user_id=user.id))
    db.session.flush()
    return session_id


def end_session(session_id: str | None) -> None:
    """End one browser login (a logout): its cookie no longer logs anyone in."""
    row = db.session.get(UserSession, session_id) if session_id else None
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def session_is_live(session_id, user_id: int) -> bool:
    if not isinstance(session_id, str):
        return False
    row = db.session.get(UserSession, session_id)
    return row is not None and row.user_id == user_id and row.revoked_at is None


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    actor: audit.Actor, user: User, lifetime: timedelta, name: str = ""
) -> tuple[str, ApiToken]:
    """Create an API token; return the secret (shown once) and its stored record."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(secret),
        name=name[:100],
        expires_at=utcnow() + lifetime,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "token_issued", token)
    return secret, token


def user_for_token(secret: str) -> User | None:
    """Return the active user owning an unexpired, unrevoked token, or None."""
    return db.session.scalar(  # one query: every API request asks it
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _token_hash(secret),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
            User.active.is_(True),
        )
    )


def revoke_token(actor: audit.Actor, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(str(_l("No such token.")))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(actor, "token_revoked", token)
    return token
