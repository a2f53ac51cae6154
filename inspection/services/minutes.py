"""Signatures on the phone, finalizing a visit into signed minutes, downloads, verification."""

import base64
import binascii
import hashlib
import io
import itertools
import logging
import re
import secrets
from datetime import date, datetime

import segno
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ, clean_text, format_date_vn, format_vn_decimal, local
from inspection.models import (
    Attendance,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Minutes,
    MinutesCounter,
    Outcome,
    PersonItemResult,
    PersonResult,
    Photo,
    Role,
    Signature,
    SignerRole,
    TeamMember,
    TeamRole,
    UnitItemResult,
    User,
    utcnow,
)
from inspection.models.base import valid_id
from inspection.pdf import render, signing
from inspection.services import audit, blobs, org, results, stats, visits
from inspection.services.errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)

MAX_SIGNATURE_BYTES = 512 * 1024
SIGNATURE_BLUE = (0, 45, 160, 255)
MIN_INK_PIXELS = 40  # fewer dark pixels than this is an empty pad or a stray tap
OUTCOME_SHORT = {Outcome.PASS: "Đ", Outcome.FAIL: "VP", Outcome.NA: "KAD"}
OUTCOME_TEXT = {Outcome.PASS: "Đạt", Outcome.FAIL: "Vi phạm", Outcome.NA: "Không áp dụng"}
ATTENDANCE_TEXT = {
    Attendance.PRESENT: "Có mặt",
    Attendance.LATE: "Đi muộn",
    Attendance.ABSENT_EXCUSED: "Vắng có phép",
    Attendance.ABSENT_UNEXCUSED: "Vắng không phép",
    Attendance.ON_DUTY: "Đi công tác",
}
TEAM_ROLE_TEXT = {
    TeamRole.LEAD: "Trưởng đoàn",
    TeamRole.MEMBER: "Thành viên",
    TeamRole.SECRETARY: "Thư ký",
}


# ---- signatures ----


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
    if inspection.ended_at is None:
        inspection.ended_at = utcnow()  # signing starts: the visit has ended
        db.session.flush()
    current = results.content_digest(inspection)
    try:
        role = SignerRole(role)
    except ValueError as exc:
        raise NotFound(str(_l("Not found."))) from exc
    fields = {}
    for key, value in (("name", name), ("position", position), ("reason", reason)):
        if value is not None and not isinstance(value, str):
            fields[key] = str(_l("Must be text."))
    if fields:
        raise ServiceError(str(_l("The signature was not saved.")), fields)
    name, position, reason = (clean_text(v or "") for v in (name, position, reason))
    if not name or len(name) > 120:
        fields["name"] = str(_l("Enter the signer's full name."))
    if len(position) > 120:
        fields["position"] = str(_l("At most %(n)d characters.", n=120))
    if refused and role is not SignerRole.UNIT_REP:
        fields["refused"] = str(_l("Only the unit's representative may refuse to sign."))
    if refused and not reason:
        fields["reason"] = str(_l("Give the reason for refusing."))
    if content_digest is not None and not isinstance(content_digest, str):
        fields["content_digest"] = str(_l("Must be text."))
    if content_version is not None and not valid_id(content_version):
        fields["content_version"] = str(_l("Must be a whole number."))
    if fields:
        raise ServiceError(str(_l("The signature was not saved.")), fields)
    if content_digest is not None and content_digest != current:
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
        signature = Signature(inspection_id=inspection.id, role=role)
        db.session.add(signature)
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
    """The signatures given on content that has changed since: they no longer count."""
    current = results.content_digest(inspection)
    return [s for s in signatures_of(inspection).values() if s.content_digest != current]


def signatures_of(inspection: Inspection) -> dict[SignerRole, Signature]:
    rows = db.session.scalars(select(Signature).filter_by(inspection_id=inspection.id))
    return {s.role: s for s in rows}


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


# ---- numbers ----


def next_number(issuing_abbr: str, year: int) -> int:
    """Take the next minutes number of the year for an issuing body.

    The counter row is updated in place, so concurrent finalizes queue on its lock and
    never share a number; a number is only used if its transaction commits.
    """
    number = db.session.execute(
        update(MinutesCounter)
        .where(MinutesCounter.issuing_abbr == issuing_abbr, MinutesCounter.year == year)
        .values(last_number=MinutesCounter.last_number + 1)
        .returning(MinutesCounter.last_number)
    ).scalar()
    if number is not None:
        return number
    try:
        with db.session.begin_nested():
            db.session.add(MinutesCounter(issuing_abbr=issuing_abbr, year=year, last_number=1))
    except IntegrityError:
        return next_number(issuing_abbr, year)  # the year's first finalize raced us
    return 1


def display_number(number: int, abbr: str) -> str:
    return f"{number:02d}/BB-{abbr}"


# ---- the document ----


def vn_date_words(moment: datetime | date, place: str) -> str:
    """'Bình Xuyên, ngày 05 tháng 10 năm 2018': days under 10 and months 1-2 padded."""
    month = f"{moment.month:02d}" if moment.month < 3 else str(moment.month)
    return f"{place}, ngày {moment.day:02d} tháng {month} năm {moment.year}"


def vn_time_words(moment: datetime) -> str:
    return f"{moment.hour:02d} giờ {moment.minute:02d} phút"


def _day_words(moment: datetime) -> str:
    return vn_date_words(moment, "").lstrip(", ")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(border=0)


def _number_text(item, value) -> str:
    """'Tỷ lệ hồ sơ giải quyết đúng hạn: 94,6%': the number as a Vietnamese document writes it."""
    label = (item.number_label_vi or "").strip()
    shown = format_vn_decimal(value.normalize())
    if label.endswith("(%)"):
        return f"{label[:-3].rstrip()}: {shown}%"
    return f"{label}: {shown}"


def _person_notes(person, person_checks) -> list[str]:
    """The person's notes, each item's named ('Đeo thẻ: không đeo thẻ khi tiếp công dân')."""
    rows = {r.item_id: r for r in person.items}
    notes = []
    for item in person_checks:
        row = rows.get(item.id)
        if row is not None and row.note.strip():
            notes.append(f"{item.short_label_vi or item.label_vi}: {row.note.strip()}")
    if person.note.strip():
        notes.append(person.note.strip())
    return notes


def _photo_caption(photo, items, people_by_id, person_checks, unit_rows) -> str:
    """What the photo proves: the finding's note and whom or what it is about."""
    about = []
    if photo.person_result_id in people_by_id:
        person = people_by_id[photo.person_result_id]
        about.append(person.full_name)
        about += _person_notes(person, person_checks)
    if photo.item_id:
        item = items[photo.item_id]
        row = unit_rows.get(item.id)
        if row is not None and row.note.strip():
            about.append(row.note.strip())  # a unit item's finding, in the team's words
        elif not any(n.startswith(f"{item.short_label_vi or item.label_vi}:") for n in about):
            about.append(item.short_label_vi or item.label_vi)
    taken = local(photo.captured_at or photo.uploaded_at)
    when = f"chụp lúc {taken.hour:02d} giờ {taken.minute:02d} ngày {taken:%d/%m/%Y}"
    return f"{' – '.join(a.rstrip('.') for a in about) or 'Toàn cảnh'}; {when}"


def visit_times(inspection: Inspection) -> tuple[str, str]:
    """The visit's start and end as the minutes word them ('… cùng ngày' on one date)."""
    started = local(inspection.started_at)
    ended = local(inspection.ended_at or inspection.finished_at or utcnow())
    start_text = f"{vn_time_words(started)}, {_day_words(started)}"
    if ended.date() == started.date():
        return start_text, f"{vn_time_words(ended)} cùng ngày"
    return start_text, f"{vn_time_words(ended)}, {_day_words(ended)}"


def document_data(
    inspection: Inspection,
    *,
    number: str,
    verify_code: str,
    verify_url: str,
    issued_at: datetime,
    supersedes: Minutes | None = None,
    draft: bool = False,
) -> dict:
    """Return the plain data the minutes template renders.

    The body carries the visit's own times; the date line carries the visit's date, or
    for a correction the date it was issued. ``draft`` renders the preview shown before
    signing: marked "DỰ THẢO", with no number and no seal.
    """
    settings = org.get_settings()
    summary = results.summary(inspection, "vi")
    items = inspection.checklist_version.items
    items_by_id = {i.id: i for i in items}
    unit_rows = {r.item_id: r for r in inspection.unit_results}
    person_checks = results.person_checks(items)
    kind_text = "đột xuất" if inspection.kind is InspectionKind.SURPRISE else "thường xuyên"
    issuing_body_text = settings.issuing_body[:1] + settings.issuing_body[1:].lower()
    signed = signatures_of(inspection)
    started_text, ended_text = visit_times(inspection)

    def signer(role):
        signature = signed.get(role)
        if signature is None:
            return None
        return {
            "name": signature.signer_name,
            "position": signature.signer_position,
            "refused": signature.refused,
            "src": f"{render.BASE}blob/{signature.image_sha256}" if signature.image_sha256 else "",
        }

    unit_items = []
    for item in results.unit_checks(items):
        row = unit_rows.get(item.id)
        number_value = row.number_value if row else None
        unit_items.append(
            {
                "label": item.label_vi,
                "outcome": OUTCOME_TEXT.get(row.outcome, "") if row else "",
                "failed": bool(row and row.outcome is Outcome.FAIL),
                "note": row.note if row else "",
                "number": _number_text(item, number_value) if number_value is not None else "",
            }
        )
    people = []
    for person in inspection.people:
        rows = {r.item_id: r for r in person.items}
        outcomes = []
        for item in person_checks:
            row = rows.get(item.id)
            outcome = row.outcome if row else None
            outcomes.append(
                {
                    "text": OUTCOME_SHORT.get(outcome, ""),
                    "failed": outcome is Outcome.FAIL,
                    "label": item.short_label_vi or item.label_vi,
                }
            )
        people.append(
            {
                "name": person.full_name,
                "position": person.position,
                "attendance": ATTENDANCE_TEXT.get(person.attendance, ""),
                "attendance_failed": person.attendance
                in (Attendance.LATE, Attendance.ABSENT_UNEXCUSED),
                "outcomes": outcomes,
                "notes": _person_notes(person, person_checks),
            }
        )
    people_by_id = {p.id: p for p in inspection.people}
    photos = [
        {
            "index": n,
            "caption": _photo_caption(photo, items_by_id, people_by_id, person_checks, unit_rows),
            "src": f"{render.BASE}blob/{photo.blob_sha256}",
        }
        for n, photo in enumerate(summary["photos"], 1)
    ]
    headcount = {status.value: summary["headcount"].get(status, 0) for status in Attendance}
    headcount["total"] = summary["headcount"]["total"]
    refusal = signed.get(SignerRole.UNIT_REP)
    unit_reps = [signer(SignerRole.UNIT_REP)] if refusal else []
    dated = local(issued_at) if supersedes else local(inspection.started_at)
    return {
        "draft": draft,
        "org": {
            "parent_body": settings.parent_body,
            "issuing_body": settings.issuing_body,
            "issuing_body_text": issuing_body_text,
            "issuing_abbr": settings.issuing_abbr,
            "office_text": settings.office_name or settings.org_name,
            "legal_basis": settings.legal_basis,
        },
        "number": number,
        "date_line": vn_date_words(dated, settings.place_name),
        "summary_line": f"Kiểm tra {kind_text} việc thực hiện kỷ luật, kỷ cương hành chính "
        f"tại {inspection.unit.name}",
        "supersedes": {
            "number": supersedes.display_number,
            "date": format_date_vn(supersedes.created_at),
        }
        if supersedes
        else None,
        "kind_text": kind_text,
        "unit": {"name": inspection.unit.name, "address": inspection.unit.address},
        "started": started_text,
        "ended": ended_text,
        "team": [
            {
                "name": m.user.full_name,
                "position": m.user.position,
                "role_text": TEAM_ROLE_TEXT[m.role],
            }
            for m in sorted(inspection.team, key=lambda m: list(TeamRole).index(m.role))
        ],
        "unit_reps": unit_reps,
        "headcount": headcount,
        "names": {s.value: summary["names"][s] for s in Attendance},
        "unit_items": unit_items,
        "person_columns": [i.short_label_vi or i.code for i in person_checks],
        "people": people,
        "photos": photos,
        "findings": _lines(inspection.findings),
        "assessment": _lines(inspection.assessment),
        "requests": _lines(inspection.requests),
        "remediation_due": format_date_vn(inspection.remediation_due)
        if inspection.remediation_due
        else "",
        "unit_comments": _lines(inspection.unit_comments),
        "refusal": refusal.refusal_reason if refusal and refusal.refused else "",
        "copies": "02",
        "signatures": {role.value: signer(role) for role in SignerRole},
        "seal": None if draft else _seal(settings, issued_at),
        "verify_code": verify_code,
        "verify_url": verify_url,
        "qr_src": _qr_data_uri(verify_url) if verify_url else "",
    }


def _seal(settings, issued_at: datetime) -> dict:
    """The seal image at its real size, or the facts of the digital signature in a box."""
    signed_at = local(issued_at).replace(microsecond=0).isoformat()
    if settings.seal_sha256 and settings.seal_diameter_mm:
        return {
            "src": f"{render.BASE}blob/{settings.seal_sha256}",
            "diameter_mm": float(settings.seal_diameter_mm),
            "issuing_body": settings.issuing_body,
            "signed_at": signed_at,
        }
    return {"src": "", "issuing_body": settings.issuing_body, "signed_at": signed_at}


def preview(inspection: Inspection) -> dict:
    """What the minutes would say if issued now (for the sign page and the draft PDF)."""
    return document_data(
        inspection, number="", verify_code="", verify_url="", issued_at=utcnow(), draft=True
    )


def draft_pdf(inspection: Inspection) -> bytes:
    """The draft minutes, marked DỰ THẢO: not numbered, not signed, not stored."""
    return render.html_to_pdf(render.render_html(preview(inspection)))


# ---- finalizing ----


def finalize(
    actor: audit.Actor,
    inspection: Inspection,
    *,
    signer,
    base_url: str,
    supersedes: Minutes | None = None,
    locale: str = "vi",
    version: int | None = None,
    issued_at: datetime | None = None,
) -> Minutes:
    """Issue the minutes: number, render, sign, store, and freeze the visit, all or nothing.

    ``version`` is the visit version the phone shows: when the server's differs, the phone
    has not seen everything that would be issued (Conflict). Raises Conflict (409) naming
    what is missing or who must sign again. The caller commits once; if anything here
    fails the transaction rolls back and the number is not used.
    """
    visits.ensure_editable(inspection)
    if version is not None and version != inspection.version:
        raise results.version_conflict(
            inspection,
            _l(
                "The visit changed since this phone last saw it (version %(current)d):"
                " reload the page and check what will be issued.",
                current=inspection.version,
            ),
        )
    if supersedes is None and inspection.amends_minutes_id is not None:
        supersedes = db.session.get(Minutes, inspection.amends_minutes_id)
    if supersedes is not None and superseded_by(supersedes) is not None:
        raise Conflict(str(_l("These minutes were already superseded.")))
    missing = missing_for_finalize(inspection, locale)
    if missing:
        raise Conflict(
            str(_l("The minutes cannot be issued yet: %(n)d things are missing.", n=len(missing))),
            missing,
        )
    settings = org.get_settings()
    now = issued_at or utcnow()  # given only when recording history (the demo's 2018)
    year = now.astimezone(LOCAL_TZ).year
    number = next_number(settings.issuing_abbr, year)
    code = secrets.token_urlsafe(9)
    verify_url = f"{base_url.rstrip('/')}/verify/{code}"
    display = display_number(number, settings.issuing_abbr)
    html = render.render_html(
        document_data(
            inspection,
            number=display,
            verify_code=code,
            verify_url=verify_url,
            issued_at=now,
            supersedes=supersedes,
        )
    )
    pdf = signing.sign(
        render.html_to_pdf(html),
        signer,
        reason=f"Biên bản số {display}",
        location=settings.place_name,
        signing_time=now.replace(microsecond=0),
    )
    blob = blobs.put(pdf, "application/pdf")
    minutes = Minutes(
        inspection_id=inspection.id,
        number=number,
        year=year,
        issuing_abbr=settings.issuing_abbr,
        verify_code=code,
        pdf_sha256=blob.sha256,
        supersedes_id=supersedes.id if supersedes else None,
        created_at=now,
        created_by_id=actor.user_id,
    )
    db.session.add(minutes)
    if supersedes is not None:
        # The replaced visit becomes history: it leaves every figure, list and export.
        supersedes.inspection.superseded_at = now
        stats.forget(supersedes.inspection_id)
    inspection.status = InspectionStatus.FINALIZED
    inspection.ended_at = inspection.ended_at or now
    inspection.finished_at = now
    db.session.flush()
    stats.materialize(inspection.id)
    audit.record(actor, "minutes_issued", minutes, number=display, sha256=blob.sha256)
    log.info("minutes %s issued for inspection %s", display, inspection.id)
    return minutes


# ---- reading ----


def can_read(user: User, inspection: Inspection) -> bool:
    """The team, the inspected unit, the office and the administrator read minutes."""
    if user.role in (Role.ADMIN, Role.OFFICE):
        return True
    if user.role is Role.UNIT:
        return user.unit_id == inspection.unit_id
    return visits.can_edit(user, inspection)


def readable(user: User, minutes_id: int) -> Minutes:
    minutes = db.session.get(Minutes, minutes_id)
    if minutes is None or not can_read(user, minutes.inspection):
        raise NotFound(str(_l("Not found.")))
    return minutes


def current_for(inspection_id: int) -> Minutes | None:
    """Return the visit's minutes in force (the newest; earlier ones are superseded)."""
    return db.session.scalar(
        select(Minutes).filter_by(inspection_id=inspection_id).order_by(Minutes.id.desc()).limit(1)
    )


def superseded_by(minutes: Minutes) -> Minutes | None:
    return db.session.scalar(select(Minutes).filter_by(supersedes_id=minutes.id))


def correction_of(inspection: Inspection) -> Inspection | None:
    """The issued correction that replaced this visit's minutes, if any."""
    if inspection.superseded_at is None:
        return None
    return db.session.scalar(
        select(Inspection)
        .join(Minutes, Minutes.id == Inspection.amends_minutes_id)
        .where(Minutes.inspection_id == inspection.id, Inspection.counts)
    )


def replacements(minutes_ids: list[int]) -> dict[int, Minutes]:
    """The minutes that replaced each of ``minutes_ids`` (those replaced), in one query."""
    if not minutes_ids:
        return {}
    rows = db.session.scalars(select(Minutes).where(Minutes.supersedes_id.in_(minutes_ids)))
    return {m.supersedes_id: m for m in rows}


def filename(minutes: Minutes) -> str:
    return f"Bien-ban-{minutes.number:02d}-BB-{minutes.year}.pdf"


def by_code(code: str) -> Minutes | None:
    return db.session.scalar(select(Minutes).filter_by(verify_code=code))


_BYTE_RANGE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)


def _issued_prefix(data: bytes) -> Minutes | None:
    """Issued minutes this file begins with: a genuine file with bytes added after it.

    Each signature's /ByteRange ends where the file ended when it was signed; the bytes
    up to there are looked up among the stored PDFs. At most four ranges are tried.
    """
    for match in itertools.islice(_BYTE_RANGE.finditer(data), 4):
        _a, _b, offset, length = (int(g) for g in match.groups())
        end = offset + length
        if 0 < end < len(data):
            digest = hashlib.sha256(data[:end]).hexdigest()
            found = db.session.scalar(select(Minutes).filter_by(pdf_sha256=digest))
            if found is not None:
                return found
    return None


def verify(data: bytes, trusted, base_url: str = "") -> dict:
    """Say whether an uploaded file is genuine minutes: byte-identical and signed intact.

    A genuine file that was later replaced by a correction is still genuine, and the
    answer names the minutes that replaced it. Issued minutes with bytes added after
    signing are named as altered, not as unknown.
    """
    # Identified by SHA-256 first, and everything read from the database before the file
    # is parsed: the read ends before the (bounded) parse, so no writer waits on it.
    sha256 = hashlib.sha256(data).hexdigest()
    minutes = db.session.scalar(select(Minutes).filter_by(pdf_sha256=sha256))
    altered = _issued_prefix(data) if minutes is None and data.startswith(b"%PDF-") else None
    known = minutes or altered
    number = known.display_number if known else None
    inspection_id = known.inspection_id if known else None
    replaced = superseded_by(known) if known is not None else None
    superseded = (
        {
            "number": replaced.display_number,
            "issued_at": replaced.created_at.isoformat(),
            "verify_url": f"{base_url.rstrip('/')}/verify/{replaced.verify_code}",
        }
        if replaced
        else None
    )
    db.session.rollback()  # verifying changes nothing: end the read transaction now
    if not data.startswith(b"%PDF-"):
        check = signing.SignatureCheck(False, False, "", "not a PDF")
    else:
        check = signing.check_bounded(data, trusted)
    valid = minutes is not None and check.valid
    if valid:
        reason = str(
            _l(
                "The file is identical to minutes issued by this office"
                " and its signature is intact."
            )
        )
    elif altered is not None:
        reason = str(
            _l(
                "This is minutes No. %(number)s as issued by this office, with content added"
                " after it was signed: the added part is not genuine. Ask for the issued file.",
                number=number,
            )
        )
    elif minutes is None and check.intact:
        reason = str(
            _l("The signature is intact, but this file is not one of the minutes issued here.")
        )
    elif minutes is None:
        reason = str(
            _l(
                "This file does not match any minutes issued here:"
                " it was changed or is not genuine."
            )
        )
    else:
        reason = str(_l("The file matches issued minutes but its signature does not validate."))
    return {
        "valid": valid,
        "number": number,
        "inspection_id": inspection_id,
        "sha256": sha256,
        "signature_intact": check.intact,
        "altered": altered is not None,
        "reason": reason,
        "superseded_by": superseded,
        "minutes": known,  # the two objects are for the page; the API leaves them out
        "replaced_by": replaced,
    }


# ---- corrections ----


def start_amendment(actor: audit.Actor, user: User, inspection: Inspection) -> Inspection:
    """Open a corrected copy of a finalized visit; its minutes will supersede the current ones.

    The finalized visit and its minutes stay as they are. The copy keeps the answers,
    people, texts and photos, and needs fresh signatures.
    """
    current = current_for(inspection.id)
    if inspection.status is not InspectionStatus.FINALIZED or current is None:
        raise Conflict(str(_l("Only issued minutes can be corrected.")))
    if superseded_by(current) is not None:
        raise Conflict(str(_l("These minutes were already superseded.")))
    open_copy = db.session.scalar(
        select(Inspection).where(
            Inspection.amends_minutes_id == current.id,
            Inspection.status.in_(visits.EDITABLE),
        )
    )
    if open_copy is not None:
        return open_copy
    copy = Inspection(
        unit_id=inspection.unit_id,
        kind=inspection.kind,
        status=InspectionStatus.DRAFT,
        planned_date=inspection.planned_date,
        started_at=inspection.started_at,
        ended_at=inspection.ended_at,
        client_started_at=inspection.client_started_at,
        latitude=inspection.latitude,
        longitude=inspection.longitude,
        location_accuracy_m=inspection.location_accuracy_m,
        checklist_version_id=inspection.checklist_version_id,
        created_by_id=user.id,
        client_id=f"amend-{current.id}-{secrets.token_hex(4)}",
        amends_minutes_id=current.id,
        **{name: getattr(inspection, name) for name in (*results.TEXT_FIELDS, "remediation_due")},
    )
    copy.team = [TeamMember(user_id=m.user_id, role=m.role) for m in inspection.team]
    copy.unit_results = [
        UnitItemResult(
            item_id=r.item_id, outcome=r.outcome, number_value=r.number_value, note=r.note
        )
        for r in inspection.unit_results
    ]
    people = {}
    for person in inspection.people:
        people[person.id] = PersonResult(
            staff_id=person.staff_id,
            full_name=person.full_name,
            position=person.position,
            client_id=person.client_id,
            attendance=person.attendance,
            note=person.note,
            items=[
                PersonItemResult(item_id=r.item_id, outcome=r.outcome, note=r.note)
                for r in person.items
            ],
        )
        copy.people.append(people[person.id])
    db.session.add(copy)
    db.session.flush()
    for photo in results.photos_of(inspection.id):
        db.session.add(
            Photo(
                inspection_id=copy.id,
                blob_sha256=photo.blob_sha256,
                thumb_sha256=photo.thumb_sha256,
                item_id=photo.item_id,
                person_result_id=people[photo.person_result_id].id
                if photo.person_result_id in people
                else None,
                width=photo.width,
                height=photo.height,
                captured_at=photo.captured_at,
                uploaded_at=photo.uploaded_at,
                uploaded_by_id=photo.uploaded_by_id,
            )
        )
    db.session.flush()
    audit.record(actor, "amendment_started", copy, amends=current.display_number)
    return copy
