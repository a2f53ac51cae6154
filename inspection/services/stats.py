"""Figures across units and over time, computed by the database (aggregates, no row loops).

Only visits with issued minutes count. "checked" counts pass and fail answers (not N/A);
the compliance rate is (checked - failed) / checked.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, case, distinct, func, literal, select, union_all

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.models import (
    Attendance,
    ChecklistItem,
    Inspection,
    InspectionStatus,
    Outcome,
    PersonItemResult,
    PersonResult,
    Remediation,
    RemediationStatus,
    StaffMember,
    Unit,
    UnitItemResult,
)

UTC_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh has no daylight saving time


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    unit_kind: str | None = None
    unit_id: int | None = None


def _local_month(column):
    """The visit's month in Hà Nội time, 'YYYY-MM', on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return func.strftime("%Y-%m", column, f"+{UTC_OFFSET_HOURS} hours")
    return func.to_char(column + timedelta(hours=UTC_OFFSET_HOURS), "YYYY-MM")


def selected_visits(filters: Filters):
    """The finalized visits the filters select, as a subquery of (id, unit_id, month)."""
    query = (
        select(
            Inspection.id.label("id"),
            Inspection.unit_id.label("unit_id"),
            _local_month(Inspection.started_at).label("month"),
        )
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(Inspection.status == InspectionStatus.FINALIZED)
    )
    if filters.date_from:
        query = query.where(
            Inspection.started_at >= datetime.combine(filters.date_from, time.min, LOCAL_TZ)
        )
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, LOCAL_TZ)
        query = query.where(Inspection.started_at < end)
    if filters.unit_kind:
        query = query.where(Unit.kind == filters.unit_kind)
    if filters.unit_id:
        query = query.where(Inspection.unit_id == filters.unit_id)
    return query.subquery("v")


def _answers(visits):
    """Every pass/fail answer of the selected visits: (visit, unit, month, category, failed)."""
    unit_side = (
        select(
            visits.c.id,
            visits.c.unit_id,
            visits.c.month,
            ChecklistItem.category.label("category"),
            ChecklistItem.code.label("code"),
            UnitItemResult.outcome.label("outcome"),
        )
        .join(UnitItemResult, UnitItemResult.inspection_id == visits.c.id)
        .join(ChecklistItem, ChecklistItem.id == UnitItemResult.item_id)
        .where(UnitItemResult.outcome.in_([Outcome.PASS, Outcome.FAIL]))
    )
    person_side = (
        select(
            visits.c.id,
            visits.c.unit_id,
            visits.c.month,
            ChecklistItem.category.label("category"),
            ChecklistItem.code.label("code"),
            PersonItemResult.outcome.label("outcome"),
        )
        .join(PersonResult, PersonResult.inspection_id == visits.c.id)
        .join(PersonItemResult, PersonItemResult.person_result_id == PersonResult.id)
        .join(ChecklistItem, ChecklistItem.id == PersonItemResult.item_id)
        .where(PersonItemResult.outcome.in_([Outcome.PASS, Outcome.FAIL]))
    )
    return union_all(unit_side, person_side).subquery("a")


def visit_count(filters: Filters) -> int:
    visits = selected_visits(filters)
    return db.session.scalar(select(func.count()).select_from(visits)) or 0


def _rate(checked: int, failed: int) -> float | None:
    return round((checked - failed) / checked, 4) if checked else None


def _grouped(answers, key) -> list[dict]:
    failed = func.sum(case((answers.c.outcome == Outcome.FAIL.value, 1), else_=0))
    rows = db.session.execute(
        select(key.label("key"), func.count().label("checked"), failed.label("failed"))
        .group_by(key)
        .order_by(key)
    ).all()
    return [
        {
            "key": r.key,
            "checked": r.checked,
            "failed": int(r.failed or 0),
            "compliance_rate": _rate(r.checked, int(r.failed or 0)),
        }
        for r in rows
    ]


def compliance(filters: Filters) -> dict[str, list[dict]]:
    """Compliance by category, by unit and by month."""
    answers = _answers(selected_visits(filters))
    return {
        "by_category": _grouped(answers, answers.c.category),
        "by_unit": _grouped(answers, answers.c.unit_id),
        "by_month": _grouped(answers, answers.c.month),
    }


def attendance(filters: Filters, by: str | None = None) -> list[dict]:
    """Attendance counts, overall (by=None), per unit ('unit') or per month ('month')."""
    visits = selected_visits(filters)
    columns = [func.count(PersonResult.id).label("rostered")]
    for status in Attendance:
        columns.append(
            func.sum(case((PersonResult.attendance == status.value, 1), else_=0))
            .cast(Integer)
            .label(status.value)
        )
    key = {"unit": visits.c.unit_id, "month": visits.c.month}.get(by, literal("all"))
    rows = db.session.execute(
        select(key.label("key"), *columns)
        .select_from(visits)
        .join(PersonResult, PersonResult.inspection_id == visits.c.id)
        .group_by(key)
        .order_by(key)
    ).all()
    result = []
    for r in rows:
        row = {"key": r.key, "rostered": r.rostered}
        row.update({status.value: int(getattr(r, status.value) or 0) for status in Attendance})
        rostered = r.rostered or 1
        row["late_rate"] = round(row["late"] / rostered, 4)
        row["absent_rate"] = round((row["absent_excused"] + row["absent_unexcused"]) / rostered, 4)
        result.append(row)
    return result


def one_stop(filters: Filters) -> list[dict]:
    """The average recorded on-time rate of items that record a number, per unit."""
    visits = selected_visits(filters)
    rows = db.session.execute(
        select(
            visits.c.unit_id,
            func.avg(UnitItemResult.number_value).label("rate"),
            func.count(UnitItemResult.id).label("visits"),
        )
        .join(UnitItemResult, UnitItemResult.inspection_id == visits.c.id)
        .join(ChecklistItem, ChecklistItem.id == UnitItemResult.item_id)
        .where(UnitItemResult.number_value.is_not(None), ChecklistItem.number_label_vi.is_not(None))
        .group_by(visits.c.unit_id)
    ).all()
    return [
        {"unit_id": r.unit_id, "rate": round(float(r.rate), 2), "visits": r.visits} for r in rows
    ]


def remediation_counts(filters: Filters, today: date) -> dict:
    visits = selected_visits(filters)
    waiting = Remediation.status.in_([RemediationStatus.OPEN, RemediationStatus.REOPENED])
    row = db.session.execute(
        select(
            func.sum(case((waiting, 1), else_=0)).label("open"),
            func.sum(case(((waiting) & (Remediation.due_date < today), 1), else_=0)).label(
                "overdue"
            ),
            func.sum(case((Remediation.status == RemediationStatus.ANSWERED, 1), else_=0)).label(
                "answered"
            ),
        ).join(visits, visits.c.id == Remediation.inspection_id)
    ).one()
    return {k: int(getattr(row, k) or 0) for k in ("open", "overdue", "answered")}


def repeat_findings(filters: Filters, minimum: int = 2) -> list[dict]:
    """Staff members who failed the same item on ``minimum`` or more visits (personal data)."""
    visits = selected_visits(filters)
    times = func.count(distinct(visits.c.id))
    rows = db.session.execute(
        select(
            PersonResult.staff_id,
            StaffMember.full_name,
            StaffMember.unit_id,
            ChecklistItem.code,
            times.label("times"),
        )
        .select_from(visits)
        .join(PersonResult, PersonResult.inspection_id == visits.c.id)
        .join(StaffMember, StaffMember.id == PersonResult.staff_id)
        .join(PersonItemResult, PersonItemResult.person_result_id == PersonResult.id)
        .join(ChecklistItem, ChecklistItem.id == PersonItemResult.item_id)
        .where(PersonItemResult.outcome == Outcome.FAIL)
        .group_by(
            PersonResult.staff_id, StaffMember.full_name, StaffMember.unit_id, ChecklistItem.code
        )
        .having(times >= minimum)
        .order_by(times.desc(), StaffMember.full_name)
        .limit(200)
    ).all()
    return [r._asdict() for r in rows]


def person_history(staff_id: int) -> list[dict]:
    """Every finalized visit where this person was on the roster, with what they failed."""
    rows = db.session.execute(
        select(Inspection, PersonResult)
        .join(PersonResult, PersonResult.inspection_id == Inspection.id)
        .where(PersonResult.staff_id == staff_id, Inspection.status == InspectionStatus.FINALIZED)
        .order_by(Inspection.started_at.desc())
    ).all()
    history = []
    for inspection, person in rows:
        codes = {i.id: i for i in inspection.checklist_version.items}
        history.append(
            {
                "inspection": inspection,
                "attendance": person.attendance,
                "note": person.note,
                "failed": [
                    codes[r.item_id].short_label_vi or codes[r.item_id].code
                    for r in person.items
                    if r.outcome is Outcome.FAIL and codes[r.item_id].category.value != "attendance"
                ],
            }
        )
    return history
