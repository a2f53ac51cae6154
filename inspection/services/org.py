"""Organisation settings, units and staff rosters."""

import io
import logging

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import clean_text
from inspection.models import OrgSettings, StaffCategory, StaffMember, Unit, UnitKind
from inspection.services import audit, blobs
from inspection.services.errors import ServiceError

log = logging.getLogger(__name__)

SETTINGS_FIELDS = (
    "org_name",
    "parent_body",
    "issuing_body",
    "issuing_abbr",
    "office_name",
    "place_name",
    "legal_basis",
)


def get_settings() -> OrgSettings | None:
    """Return the organisation settings row, or None before setup."""
    return db.session.get(OrgSettings, 1)


def save_settings(
    actor: audit.Actor, *, require_second_factor: bool | None = None, **values
) -> OrgSettings:
    """Create or update the organisation settings."""
    settings = get_settings() or OrgSettings(id=1)
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(settings, name, values[name].strip())
    if require_second_factor is not None:
        settings.require_second_factor = require_second_factor
    db.session.add(settings)
    db.session.flush()
    audit.record(
        actor, "settings_saved", settings, require_second_factor=settings.require_second_factor
    )
    return settings


MAX_SEAL_BYTES = 2 * 1024 * 1024
SEAL_RED = (200, 16, 16)


def _seal_png(data: bytes) -> bytes:
    """Check a seal image (a PNG on a transparent ground) and ink it red, keeping its shape."""
    problem = None
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG" or image.width * image.height > 16_000_000:
            raise ValueError("not a seal-sized PNG")
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        problem = _l("Choose a PNG image.")
    else:
        rgba = image.convert("RGBA")
        alpha = rgba.getchannel("A")
        corners = [
            (0, 0),
            (rgba.width - 1, 0),
            (0, rgba.height - 1),
            (rgba.width - 1, rgba.height - 1),
        ]
        if any(alpha.getpixel(c) > 16 for c in corners):
            problem = _l("The seal must be on a transparent background (a PNG with transparency).")
    if problem:
        raise ServiceError(str(_l("The seal was not saved.")), {"image": str(problem)})
    red = Image.new("RGBA", rgba.size, (*SEAL_RED, 255))
    red.putalpha(alpha)
    buffer = io.BytesIO()
    red.crop(alpha.getbbox() or (0, 0, rgba.width, rgba.height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def save_seal(actor: audit.Actor, data: bytes | None, diameter_mm=None) -> OrgSettings:
    """Set the organisation's seal image and its real diameter, or remove it (``data=None``).

    Printed in red at that size over the left third of the team lead's signature.
    """
    settings = get_settings()
    if settings is None:
        raise ServiceError(str(_l("Save the organisation settings first.")))
    if data is None:
        settings.seal_sha256, settings.seal_diameter_mm = None, None
    else:
        if len(data) > MAX_SEAL_BYTES:
            raise ServiceError(
                str(_l("The seal was not saved.")), {"image": str(_l("The image is too large."))}
            )
        settings.seal_sha256 = blobs.put(_seal_png(data), "image/png").sha256
        settings.seal_diameter_mm = diameter_mm
    db.session.flush()
    audit.record(actor, "seal_saved" if data else "seal_removed", settings)
    return settings


def _check_unit_code(code: str, unit_id: int | None) -> None:
    existing = db.session.scalar(select(Unit).filter_by(code=code))
    if existing is not None and existing.id != unit_id:
        raise ServiceError(
            str(_l("The unit was not saved.")), {"code": str(_l("This code is already used."))}
        )


def save_unit(
    actor: audit.Actor,
    unit: Unit | None,
    *,
    code: str,
    name: str,
    kind: UnitKind,
    address: str = "",
    active: bool = True,
    has_one_stop: bool = False,
) -> Unit:
    """Create a unit (``unit`` is None) or update one; codes are unique."""
    code = code.strip().upper()
    _check_unit_code(code, unit.id if unit else None)
    created = unit is None
    unit = unit or Unit()
    unit.code, unit.name, unit.kind = code, clean_text(name), UnitKind(kind)
    unit.address, unit.active, unit.has_one_stop = address.strip(), active, has_one_stop
    db.session.add(unit)
    db.session.flush()
    audit.record(actor, "unit_created" if created else "unit_updated", unit)
    return unit


def _check_badge(unit_id: int, badge_no: str | None, staff_id: int | None) -> None:
    if not badge_no:
        return
    existing = db.session.scalar(select(StaffMember).filter_by(unit_id=unit_id, badge_no=badge_no))
    if existing is not None and existing.id != staff_id:
        raise ServiceError(
            str(_l("The staff member was not saved.")),
            {"badge_no": str(_l("Another person in this unit has this badge number."))},
        )


def save_staff(
    actor: audit.Actor,
    staff: StaffMember | None,
    *,
    unit_id: int,
    full_name: str,
    position: str,
    category: StaffCategory,
    badge_no: str | None,
    active: bool = True,
) -> StaffMember:
    """Create or update a person on a unit's roster; badge numbers are unique per unit."""
    badge_no = (badge_no or "").strip() or None
    _check_badge(unit_id, badge_no, staff.id if staff else None)
    created = staff is None
    staff = staff or StaffMember(unit_id=unit_id)
    staff.full_name, staff.position = clean_text(full_name), clean_text(position)
    staff.category, staff.badge_no, staff.active = StaffCategory(category), badge_no, active
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "staff_created" if created else "staff_updated", staff)
    return staff


def list_units(*, active_only: bool = False, unit_id: int | None = None) -> list[Unit]:
    """Return units by name; ``unit_id`` narrows to one (a unit user's own)."""
    query = select(Unit).order_by(Unit.name)
    if active_only:
        query = query.filter_by(active=True)
    if unit_id is not None:
        query = query.filter_by(id=unit_id)
    return list(db.session.scalars(query))


def roster(unit_id: int, *, active_only: bool = True) -> list[StaffMember]:
    """Return a unit's staff in roster order."""
    query = select(StaffMember).filter_by(unit_id=unit_id).order_by(StaffMember.id)
    if active_only:
        query = query.filter_by(active=True)
    return list(db.session.scalars(query))
