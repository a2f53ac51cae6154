"""What the minutes say: the data the template lays out, the draft, the words for dates."""

from datetime import date, datetime

import segno

from inspection.i18n import format_date_vn, format_vn_decimal, local
from inspection.models import (
    AnswerType,
    Attendance,
    Inspection,
    InspectionKind,
    Minutes,
    Outcome,
    SignerRole,
    TeamRole,
    utcnow,
)
from inspection.pdf import render
from inspection.services import org, results, signatures

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


def _unit_item(item, row) -> dict:
    """A unit item's line in the minutes: a typed answer (number, text, choice) stands
    in the result column; an outcome's number goes with the note."""
    data = {"label": item.label_vi, "note": row.note if row else "", "failed": False}
    if item.answer_type is AnswerType.OUTCOME:
        number_value = row.number_value if row else None
        data.update(
            outcome=OUTCOME_TEXT.get(row.outcome, "") if row else "",
            failed=bool(row and row.outcome is Outcome.FAIL),
            number=_number_text(item, number_value) if number_value is not None else "",
        )
    elif item.answer_type is AnswerType.NUMBER:
        value = row.number_value if row else None
        shown = format_vn_decimal(value.normalize()) if value is not None else ""
        data.update(outcome=f"{shown} {item.number_unit}".strip() if shown else "", number="")
    else:
        data.update(outcome=(row.text_value or "") if row else "", number="")
    return data


def arrival_text(moment) -> str:
    """'đến lúc 08 giờ 05': a late person's arrival as the minutes write it."""
    return f"đến lúc {moment.hour:02d} giờ {moment.minute:02d}"


def _late_names(inspection) -> list[str]:
    return [
        f"{p.full_name}, {arrival_text(p.arrived_at)}" if p.arrived_at else p.full_name
        for p in inspection.people
        if p.attendance is Attendance.LATE
    ]


def _person_notes(person, person_checks) -> list[str]:
    """Return the person's notes, each item's named ('Đeo thẻ: không đeo thẻ khi tiếp công dân')."""
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
    """Return what the photo proves: the finding's note and whom or what it is about."""
    about = []
    if photo.person_result_id in people_by_id:
        person = people_by_id[photo.person_result_id]
        about.append(person.full_name)
        about += _person_notes(person, person_checks)
    item = items.get(photo.item_id)  # None: no item, or one no longer asked
    if item is not None:
        row = unit_rows.get(item.id)
        if row is not None and row.note.strip():
            about.append(row.note.strip())  # a unit item's finding, in the team's words
        elif not any(n.startswith(f"{item.short_label_vi or item.label_vi}:") for n in about):
            about.append(item.short_label_vi or item.label_vi)
    taken = local(photo.captured_at or photo.uploaded_at)
    when = f"chụp lúc {taken.hour:02d} giờ {taken.minute:02d} ngày {taken:%d/%m/%Y}"
    return f"{' – '.join(a.rstrip('.') for a in about) or 'Toàn cảnh'}; {when}"


def visit_times(inspection: Inspection) -> tuple[str, str]:
    """Return the visit's start and end as the minutes word them ('… cùng ngày' on one date)."""
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
    items = results.asked_items(inspection)
    items_by_id = {i.id: i for i in items}
    unit_rows = {r.item_id: r for r in inspection.unit_results}
    person_checks = results.person_checks(items)
    kind_text = "đột xuất" if inspection.kind is InspectionKind.SURPRISE else "thường xuyên"
    issuing_body_text = settings.issuing_body[:1] + settings.issuing_body[1:].lower()
    signed = signatures.signatures_of(inspection)
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

    unit_items = [_unit_item(item, unit_rows.get(item.id)) for item in results.unit_checks(items)]
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
                "arrived": arrival_text(person.arrived_at) if person.arrived_at else "",
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
        "names": {
            **{s.value: summary["names"][s] for s in Attendance},
            Attendance.LATE.value: _late_names(inspection),
        },
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
    """Return the seal image at its real size, or the facts of the digital signature in a box."""
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
    """Return what the minutes would say if issued now (for the sign page and the draft PDF)."""
    return document_data(
        inspection, number="", verify_code="", verify_url="", issued_at=utcnow(), draft=True
    )


def draft_pdf(inspection: Inspection) -> bytes:
    """Return the draft minutes, marked DỰ THẢO: not numbered, not signed, not stored."""
    return render.html_to_pdf(render.render_html(preview(inspection)))
