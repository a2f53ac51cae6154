"""Signatures on the phone: the drawn image, the content it was given on, who must sign again."""

import base64
import binascii
import io

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import clean_text
from inspection.models import (
    Inspection,
    Signature,
    SignerRole,
    TeamRole,
    utcnow,
)
from inspection.models.base import valid_id
from inspection.services import audit, blobs, results, visits
from inspection.services.errors import Conflict, NotFound, ServiceError

MAX_SIGNATURE_BYTES = 512 * 1024
SIGNATURE_BLUE = (0, 45, 160, 255)
MIN_INK_PIXELS = 40  # fewer dark pixels than this is an empty pad or a stray tap


def _signature_png(data_url: str) -> bytes:
    """Decode a signature pad's PNG data URL, refuse an empty pad, re-encode it."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise ServiceError(
            str(_l("The signature was not saved.")),
            {"image": str(_l("Send the drawn signature as a PNG data URL."))},
        )
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError(
            str(_l("The signature was not saved.")), {"image": str(_l("Not valid base64."))}
        ) from exc
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ServiceError(
            str(_l("The signature was not saved.")), {"image": str(_l("The image is too large."))}
        )
    try:
        image = Image.open(io.BytesIO(raw))
        if image.format != "PNG" or image.width * image.height > 4_000_000:
            raise ValueError("not a signature-sized PNG")
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ServiceError(
            str(_l("The signature was not saved.")), {"image": str(_l("Not a PNG image."))}
        ) from exc
    rgba = image.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
    ink = ImageOps.invert(flat).point(lambda v: 255 if v > 60 else 0)
    if sum(ink.histogram()[255:]) < MIN_INK_PIXELS:
        raise ServiceError(
            str(_l("The signature was not saved.")),
            {"image": str(_l("The signature pad is empty: sign with your finger first."))},
        )
    # Blue ink on a transparent ground, as Decree 30 shows a signer's image, whatever
    # colour the pad drew in: each pixel's darkness becomes the ink's opacity.
    blue = Image.new("RGBA", rgba.size, SIGNATURE_BLUE)
    blue.putalpha(ImageOps.invert(flat))
    buffer = io.BytesIO()
    blue.crop(ink.getbbox()).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def record_signature(
    actor: audit.Actor,
    inspection: Inspection,
    role: SignerRole | str,
    *,
    name: str,
    position: str = "",
    image: str | None = None,
    refused: bool = False,
    reason: str = "",
    content_version: int | None = None,
    content_digest: str | None = None,
) -> Signature:
    """Store a signature (or, for the unit's representative, a refusal with its reason).

    The signature is bound to the content it was given on: ``content_digest`` is what
    the phone held (results.content_digest of its answers and texts). It counts only if
    the server's content is that now; otherwise Conflict, and the signer signs again. A
    client that sends no digest signs the server's content as it is. Signing again
    replaces the earlier signature of that role.
    """
    visits.ensure_editable(inspection)
    seen = None  # what the phone read, when signing now sets the end time
    if inspection.ended_at is None:
        seen = results.content_digest(inspection)
        inspection.ended_at = utcnow()  # signing starts: the visit has ended
        db.session.flush()
    current = results.content_digest(inspection)
    try:
        role = SignerRole(role)
    except ValueError as exc:
        raise NotFound(str(_l("Not found."))) from exc
    fields = {}
    name, position, reason = (clean_text(v or "") for v in (name, position, reason))
    if not name or len(name) > 120:
        fields["name"] = str(_l("Enter the signer's full name."))
    if len(position) > 120:
        fields["position"] = str(_l("At most %(n)d characters.", n=120))
    if refused and role is not SignerRole.UNIT_REP:
        fields["refused"] = str(_l("Only the unit's representative may refuse to sign."))
    if refused and not reason:
        fields["reason"] = str(_l("Give the reason for refusing."))
    if content_version is not None and not valid_id(content_version):
        fields["content_version"] = str(_l("Must be a whole number."))
    if fields:
        raise ServiceError(str(_l("The signature was not saved.")), fields)
    # The phone saw the content before this signature set the end time: that is current.
    if content_digest is not None and content_digest not in (seen, current):
        raise Conflict(
            str(
                _l(
                    "The answers changed after %(name)s signed: show them the minutes"
                    " again and ask them to sign again.",
                    name=name,
                )
            ),
            {f"signature.{role.value}": str(_l("Sign again: the content changed."))},
        )
    image_sha256 = None if refused else blobs.put(_signature_png(image), "image/png").sha256
    signature = db.session.scalar(
        select(Signature).filter_by(inspection_id=inspection.id, role=role)
    )
    if signature is None:
        signature = Signature(role=role)
        inspection.signatures.append(signature)
    signature.signer_name, signature.signer_position = name, position
    signature.image_sha256, signature.refused = image_sha256, refused
    signature.refusal_reason = reason if refused else ""
    signature.signed_at, signature.recorded_by_id = utcnow(), actor.user_id
    signature.content_version = content_version or inspection.version
    signature.content_digest = current
    inspection.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "signature_refused" if refused else "signed",
        signature,
        role=role.value,
        content_digest=current,
    )
    return signature


def must_sign_again(inspection: Inspection) -> list[Signature]:
    """Return the signatures given on content that has changed since: they no longer count."""
    current = results.content_digest(inspection)
    return [s for s in signatures_of(inspection).values() if s.content_digest != current]


def signatures_of(inspection: Inspection) -> dict[SignerRole, Signature]:
    """Return the visit's signatures (and refusals) by role."""
    return {s.role: s for s in inspection.signatures}


def signing_defaults(inspection: Inspection) -> dict[SignerRole, dict]:
    """Return the names and positions to prefill: the team's lead and secretary."""
    defaults = {role: {"name": "", "position": ""} for role in SignerRole}
    for member in inspection.team:
        role = {TeamRole.LEAD: SignerRole.LEAD, TeamRole.SECRETARY: SignerRole.SECRETARY}.get(
            member.role
        )
        if role:
            defaults[role] = {"name": member.user.full_name, "position": member.user.position}
    for role, signature in signatures_of(inspection).items():
        defaults[role] = {"name": signature.signer_name, "position": signature.signer_position}
    return defaults


def missing_for_finalize(
    inspection: Inspection, locale: str = "vi", stale: list[Signature] | None = None
) -> dict[str, str]:
    """Return what stops the visit from being finalized, by field; empty when ready."""
    fields = {}
    for entry in results.summary(inspection, locale)["missing"]:
        fields[entry["anchor"]] = "; ".join(
            filter(None, [fields.get(entry["anchor"]), entry["label"]])
        )
    signed = signatures_of(inspection)
    for signature in must_sign_again(inspection) if stale is None else stale:
        fields[f"signature.{signature.role.value}"] = str(
            _l(
                "%(name)s signed before the content changed and must sign again.",
                name=signature.signer_name,
            )
        )
        del signed[signature.role]
    if SignerRole.LEAD not in signed:
        fields.setdefault("signature.lead", str(_l("The team lead has not signed.")))
    if SignerRole.UNIT_REP not in signed:
        fields.setdefault(
            "signature.unit_rep",
            str(_l("The unit's representative has neither signed nor refused.")),
        )
    return fields
