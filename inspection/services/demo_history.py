"""The demo's 2018: a year of visits to the 12 Bình Xuyên units, issued through the real
finalize path, so a newcomer's dashboard tells the story at once.

Discipline improves over the year, as the seed article reports; the one-stop desk of the
public administration centre had handled more than 1,300 dossiers by 15/9/2018, 97.5%
on or before time. Reviews leave requests in every state; one visit is corrected (its
minutes are replaced) and one unit's representative refuses to sign.
"""

import base64
import io
import logging
import random
from datetime import datetime, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.models import (
    Attendance,
    Inspection,
    InspectionKind,
    Remediation,
    Signature,
    TeamRole,
    Unit,
    User,
)
from inspection.services import (
    amendments,
    audit,
    minutes,
    notifications,
    planning,
    results,
    review,
    signatures,
    visits,
)

log = logging.getLogger(__name__)

YEAR = 2018
CLIENT_PREFIX = "demo-2018-"
# (unit code, month, day, kind): two rounds, the first planned, the second mostly surprise.
VISITS = [
    ("TTHCC", 3, 12, "scheduled"),
    ("XHS", 3, 20, "scheduled"),
    ("PNV", 3, 27, "scheduled"),
    ("TTHC", 4, 10, "scheduled"),
    ("XTH", 4, 17, "scheduled"),
    ("THCSHC", 4, 24, "scheduled"),
    ("XQL", 5, 15, "surprise"),
    ("PTCKH", 5, 22, "scheduled"),
    ("PTNMT", 6, 12, "scheduled"),
    ("TTGK", 6, 19, "surprise"),
    ("THBH", 7, 10, "scheduled"),
    ("TTVH", 7, 24, "surprise"),
    ("TTHCC", 9, 17, "surprise"),
    ("XHS", 10, 9, "surprise"),
    ("TTHC", 10, 23, "surprise"),
    ("XTH", 11, 6, "surprise"),
    ("PNV", 11, 20, "surprise"),
    ("THCSHC", 12, 4, "surprise"),
]
REFUSED = ("XQL", 5)  # the representative refuses to sign
CORRECTED = ("PTNMT", 6)  # a note was wrong: the minutes are corrected two days later
ONE_STOP = ("TTHCC", 9)  # the article's figures
# What the units with an account (donvi1, donvi2) are asked to fix: their answers go
# through every state of a request.
FOUND = {
    ("TTHCC", 3): ("SMOKE-SIGN", "Chưa treo biển cấm hút thuốc lá tại sảnh tiếp dân"),
    ("XHS", 3): ("PREM-SIGNS", "Thiếu biển tên phòng làm việc tầng 2"),
    ("TTHCC", 9): ("ADV-NONE", "Tờ rơi quảng cáo dán tại bảng tin"),
    ("XHS", 10): ("SMOKE-NONE", "Còn gạt tàn thuốc lá tại phòng tiếp dân"),
}


def _signature(seed: int) -> str:
    """Return a drawn signature, as a signature pad sends it."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + i * 26, 100 + rng.randint(-60, 60)) for i in range(20)]
    ImageDraw.Draw(image).line(points, fill=(10, 20, 120, 255), width=5, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=LOCAL_TZ)


def _answers(inspection: Inspection, rng: random.Random, month: int) -> dict:
    """Answers whose violations fall over the year: 12% of checks in March, 2% in December."""
    rate = 0.12 - 0.01 * (month - 3)
    items = inspection.items
    unit_items, answers = [], {}
    for item in results.unit_checks(items):
        if item.condition and answers.get(item.condition[0]) not in item.condition[1]:
            continue  # asked only after an answer this visit did not give
        entry = _unit_answer(item, rng, rng.random() < rate * 1.5)
        answers[item.code] = entry.get("outcome") or entry.get("text") or ""
        unit_items.append(entry)
    checks = results.person_checks(items)
    people = []
    for person in inspection.people:
        roll = rng.random()
        if roll < rate / 4:
            attendance = Attendance.ABSENT_UNEXCUSED
        elif roll < rate / 4 + 0.03:
            attendance = Attendance.ABSENT_EXCUSED
        elif roll < rate / 4 + 0.06:
            attendance = Attendance.ON_DUTY
        elif roll < rate / 4 + 0.06 + rate:
            attendance = Attendance.LATE
        else:
            attendance = Attendance.PRESENT
        entry = {"person_id": person.id, "attendance": attendance.value, "items": []}
        if attendance is Attendance.LATE:
            entry["arrived_at"] = f"07:{rng.randint(35, 59)}"
        if attendance in results.AT_POST:
            for item in checks:
                failed = rng.random() < rate / 2
                sub = {"code": item.code, "outcome": "fail" if failed else "pass"}
                if failed:
                    sub["note"] = {
                        "badge": "Không đeo thẻ công chức",
                        "uniform": "Trang phục chưa đúng quy định",
                    }.get(item.category.value, "Chưa đạt")
                entry["items"].append(sub)
        people.append(entry)
    return {"version": inspection.version, "unit_items": unit_items, "people": people}


def _unit_answer(item, rng: random.Random, failed: bool) -> dict:
    """A unit item's answer as its type takes it; a failure has a note."""
    entry = {"code": item.code}
    if item.answer_type.value == "number":
        low, high = results.number_bounds(item)
        spread = 150 if high >= 1000 else 3  # dossiers a month, or lessons left uncovered
        entry["number"] = str(rng.randint(int(low), min(int(high), int(low) + spread)))
    elif item.answer_type.value == "choice":
        entry["text"] = item.choice_list[-1 if failed else 0]
    elif item.answer_type.value == "text":
        entry["text"] = "Có, cập nhật hằng tuần"
    else:
        entry["outcome"] = "fail" if failed else "pass"
        if failed:
            entry["note"] = "Chưa thực hiện đầy đủ, đã nhắc nhở tại buổi kiểm tra"
        if item.number_label_vi:
            entry["number"] = str(round(Decimal(rng.uniform(93, 99.5)), 1))
    return entry


def _visit(actor, users, unit, month, day, kind, rng, signer, base_url, number):
    lead, secretary, member = users["truongdoan"], users["thuky"], users["thanhvien"]
    team = [
        (lead.id, TeamRole.LEAD),
        (secretary.id, TeamRole.SECRETARY),
        (member.id, TeamRole.MEMBER),
    ]
    inspection, _created = visits.start_inspection(
        actor,
        lead,
        unit_id=unit.id,
        kind=InspectionKind(kind),
        client_id=f"{CLIENT_PREFIX}{number:02d}",
        team=team,
    )
    started = _at(month, day, 8, 15 + rng.randint(0, 30))
    inspection.started_at = inspection.client_started_at = started
    db.session.flush()
    answers = _answers(inspection, rng, month)
    texts = {
        "assessment": "Đơn vị cơ bản chấp hành tốt kỷ luật, kỷ cương hành chính."
        if month >= 9
        else "Đơn vị chấp hành tương đối tốt; còn một số cán bộ đi muộn, không đeo thẻ.",
        "requests": "Chấn chỉnh việc đeo thẻ công chức và giờ giấc làm việc.",
        "remediation_due": (started.date() + timedelta(days=30)).isoformat(),
        "unit_comments": "Đơn vị tiếp thu và cam kết khắc phục.",
    }
    if (unit.code, month) in FOUND:
        code, note = FOUND[unit.code, month]
        for entry in answers["unit_items"]:
            if entry["code"] == code:
                entry.update(outcome="fail", note=note)
    if (unit.code, month) == ONE_STOP:
        for entry in answers["unit_items"]:
            if entry["code"] == "OSS-OVERDUE":
                entry.update(outcome="pass", number="97.5")
        texts["findings"] = (
            "Từ ngày 01/01/2018 đến ngày 15/9/2018, Bộ phận một cửa đã tiếp nhận 1.312 hồ sơ,"
            " giải quyết trước và đúng hạn đạt 97,5%."
        )
    results.save_results(actor, inspection, {**answers, **texts})
    inspection.ended_at = started + timedelta(hours=1, minutes=rng.randint(10, 50))
    db.session.flush()
    refuse = (unit.code, month) == REFUSED
    signatures.record_signature(actor, inspection, "lead", name=lead.full_name, image=_signature(1))
    signatures.record_signature(
        actor, inspection, "secretary", name=secretary.full_name, image=_signature(2)
    )
    head = unit.staff[0]  # the unit's head signs for it
    signatures.record_signature(
        actor,
        inspection,
        "unit_rep",
        name=head.full_name,
        position=head.position,
        image=None if refuse else _signature(3 + number),
        refused=refuse,
        reason="Không nhất trí với kết luận về giờ giấc làm việc" if refuse else "",
    )
    _signed_at(inspection, inspection.ended_at)
    minutes.finalize(  # the story's past: nobody is told today
        actor,
        inspection,
        signer=signer,
        base_url=base_url,
        issued_at=inspection.ended_at,
    )
    return inspection


def _correct(actor, users, inspection, signer, base_url):
    """Have the lead correct a note two days later; the new minutes replace the first."""
    copy = amendments.start_amendment(actor, users["truongdoan"], inspection)
    results.save_results(
        actor,
        copy,
        {
            "version": copy.version,
            "assessment": copy.assessment + " (Đính chính: sửa ghi chú về trang phục.)",
        },
    )
    for role, user, seed in (("lead", users["truongdoan"], 1), ("secretary", users["thuky"], 2)):
        signatures.record_signature(actor, copy, role, name=user.full_name, image=_signature(seed))
    head = copy.unit.staff[0]
    signatures.record_signature(
        actor, copy, "unit_rep", name=head.full_name, position=head.position, image=_signature(9)
    )
    issued = inspection.ended_at + timedelta(days=2)
    _signed_at(copy, issued)
    return minutes.finalize(actor, copy, signer=signer, base_url=base_url, issued_at=issued)


def _signed_at(inspection: Inspection, moment) -> None:
    """The story's signatures are given when it says, not on the day the demo is seeded."""
    for signature in db.session.scalars(select(Signature).filter_by(inspection_id=inspection.id)):
        signature.signed_at = moment
    db.session.flush()


def _reviews(users, issued: list[Inspection]) -> None:
    """Have the office review every visit; requests end up in each state."""
    office = audit.Actor(user_id=users["noivu"].id, ip=None)
    for inspection in issued:
        if not inspection.counts:
            continue
        # Requests for what the unit itself must fix; a person's lapse is a reminder.
        failed = [f["code"] for f in results.summary(inspection)["failed_unit"]]
        day = (inspection.ended_at + timedelta(days=3)).astimezone(LOCAL_TZ).date()
        if failed:
            row = review.review(
                office,
                inspection,
                decision="remediation_required",
                comment="Khắc phục các tồn tại và báo cáo bằng văn bản.",
                due=day + timedelta(days=30),
                item_codes=failed[:1],
                today=day,
            )
        else:
            comment = "Nhắc nhở cá nhân vi phạm; đơn vị tự chấn chỉnh."
            row = review.review(office, inspection, decision="accepted", comment=comment, today=day)
        reviewed_at = datetime.combine(day, datetime.min.time(), LOCAL_TZ).replace(hour=10)
        row.created_at = reviewed_at
        for remediation in review.remediations_of(inspection.id):
            remediation.created_at = reviewed_at
    db.session.flush()
    accounts = {u.unit_id: u for u in users.values() if u.unit_id}
    answered = []
    for inspection in issued:
        unit_user = accounts.get(inspection.unit_id)
        if unit_user is None or not inspection.counts:
            continue
        for remediation in review.remediations_of(inspection.id)[:1]:
            unit_actor = audit.Actor(user_id=unit_user.id, ip=None)
            review.respond(
                unit_actor,
                unit_user,
                remediation,
                text="Đơn vị đã chấn chỉnh, nhắc nhở cán bộ và treo biển theo quy định.",
                files=[],
                max_bytes=10 * 1024 * 1024,
            )
            # Dated in the story: answered two weeks after the visit, reviewed days later.
            remediation.responded_at = inspection.ended_at + timedelta(days=14)
            answered.append(remediation)
    # The earliest answer is accepted, the next reopened; the later ones wait for the office.
    review.decide(office, answered[0], accept=True, comment="Đã khắc phục.")
    answered[0].closed_at = answered[0].responded_at + timedelta(days=3)
    review.decide(office, answered[1], accept=False, comment="Chưa có ảnh chụp biển sau khi treo.")


def seed_history(*, signer, base_url: str) -> int:
    """Write the demo's 2018 history once; return how many minutes were issued.

    The team lead of the demo (truongdoan) fills and issues every visit.
    """
    if db.session.scalar(
        select(Inspection.id).where(Inspection.client_id.like(f"{CLIENT_PREFIX}%")).limit(1)
    ):
        return 0
    users = {u.username: u for u in db.session.scalars(select(User))}
    actor = audit.Actor(user_id=users["truongdoan"].id, ip=None)
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    rng = random.Random(YEAR)
    issued = []
    with notifications.silenced():  # the demo's past tells nobody
        _history(users, actor, units, rng, issued, signer, base_url)
    count = db.session.scalar(select(db.func.count(Remediation.id)))
    log.info("demo history: %d minutes issued, %d items to fix", len(issued), count)
    return len(issued)


def _history(users, actor, units, rng, issued, signer, base_url) -> None:
    for number, (code, month, day, kind) in enumerate(VISITS, 1):
        inspection = _visit(
            actor, users, units[code], month, day, kind, rng, signer, base_url, number
        )
        issued.append(inspection)
        if (code, month) == CORRECTED:
            correction = _correct(actor, users, inspection, signer, base_url)
            issued.append(correction.inspection)
    _reviews(users, issued)
    planning.save_plan(
        audit.Actor(user_id=users["noivu"].id, ip=None),
        YEAR,
        {
            units[code].id: [1, 1, 0, 1] if code in ("TTHCC", "XHS") else [0, 1, 1, 0]
            for code in units
        },
    )
