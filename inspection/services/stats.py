"""Figures across units and over time, computed by the database (aggregates, no row loops).

Only visits with issued minutes count. "checked" counts pass and fail answers (not N/A);
the compliance rate is (checked - failed) / checked. The dashboard reads the per-visit
counts written when minutes are issued (models/stats.py), not the millions of answers.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, delete, distinct, func, literal, select, text

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ, UTC_OFFSET_HOURS, local_midnight
from inspection.models import (
    ChecklistItem,
    Inspection,
    InspectionStatus,
    Outcome,
    PersonFailure,
    PersonResult,
    Remediation,
    RemediationStatus,
    StaffMember,
    Unit,
    UnitItemResult,
    VisitAttendanceStat,
    VisitCategoryStat,
)


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    unit_kind: str | None = None
    unit_id: int | None = None


def _where(query, filters: Filters, started_at, unit_id):
    """Narrow ``query`` to the filters' period (Hà Nội days), kind of unit and unit."""
    if filters.date_from:
        query = query.where(started_at >= local_midnight(filters.date_from))
    if filters.date_to:
        end = local_midnight(filters.date_to + timedelta(days=1))
        query = query.where(started_at < end)
    if filters.unit_kind:
        query = query.where(unit_id.in_(select(Unit.id).where(Unit.kind == filters.unit_kind)))
    if filters.unit_id:
        query = query.where(unit_id == filters.unit_id)
    return query


def selected_visits(filters: Filters):
    """Return the visits that count (Inspection.counts) the filters select, as (id, unit_id)."""
    query = select(Inspection.id.label("id"), Inspection.unit_id.label("unit_id")).where(
        Inspection.counts
    )
    return _where(query, filters, Inspection.started_at, Inspection.unit_id).subquery("v")


def _filtered(table, filters: Filters):
    """Return rows of a per-visit figures table that the filters select."""
    return _where(select(table), filters, table.started_at, table.unit_id).subquery("f")


def visit_count(filters: Filters) -> int:
    """Finalized visits in the filters (every visit answers unit items, so has a row here)."""
    rows = _filtered(VisitCategoryStat, filters)
    return db.session.scalar(select(func.count(distinct(rows.c.inspection_id)))) or 0


def latest_year() -> int | None:
    """Return the latest year with a visit that counts (the figures pages open on it): figures
    go by the visit's date, so a 2018 visit corrected in 2026 still belongs to 2018."""
    latest = db.session.scalar(select(func.max(Inspection.started_at)).where(Inspection.counts))
    return latest.astimezone(LOCAL_TZ).year if latest else None


def _rate(checked: int, failed: int) -> float | None:
    return round((checked - failed) / checked, 4) if checked else None


def _rows(totals: dict) -> list[dict]:
    return [
        {"key": key, "checked": c, "failed": f, "compliance_rate": _rate(c, f)}
        for key, (c, f) in sorted(totals.items(), key=lambda kv: str(kv[0]))
    ]


def compliance(filters: Filters) -> dict[str, list[dict]]:
    """Compliance by category, by unit and by month (two scans of the per-visit figures)."""
    rows = _filtered(VisitCategoryStat, filters)
    by_category, by_unit = {}, {}
    # One pass grouped by (unit, category) gives both breakdowns: at most units x categories.
    for unit_id, category, checked, failed in db.session.execute(
        select(
            rows.c.unit_id, rows.c.category, func.sum(rows.c.checked), func.sum(rows.c.failed)
        ).group_by(rows.c.unit_id, rows.c.category)
    ):
        for totals, key in ((by_category, category), (by_unit, unit_id)):
            c, f = totals.get(key, (0, 0))
            totals[key] = (c + int(checked), f + int(failed))
    month = rows.c.month
    by_month = {
        key: (int(c), int(f))
        for key, c, f in db.session.execute(
            select(month, func.sum(rows.c.checked), func.sum(rows.c.failed)).group_by(month)
        )
    }
    return {
        "by_category": _rows(by_category),
        "by_unit": _rows(by_unit),
        "by_month": _rows(by_month),
    }


ATTENDANCE_COLUMNS = ("present", "late", "absent_excused", "absent_unexcused", "on_duty")


def attendance(filters: Filters, by: str | None = None) -> list[dict]:
    """Attendance counts, overall (by=None), per unit ('unit') or per month ('month')."""
    rows = _filtered(VisitAttendanceStat, filters)
    key = {"unit": rows.c.unit_id, "month": rows.c.month}.get(by, literal("all"))
    grouped = db.session.execute(
        select(
            key.label("key"),
            func.sum(rows.c.rostered).label("rostered"),
            *[func.sum(rows.c[name]).label(name) for name in ATTENDANCE_COLUMNS],
        )
        .group_by(key)
        .order_by(key)
    ).all()
    result = []
    for r in grouped:
        row = {"key": r.key, "rostered": int(r.rostered or 0)}
        row.update({name: int(getattr(r, name) or 0) for name in ATTENDANCE_COLUMNS})
        rostered = row["rostered"] or 1
        row["late_rate"] = round(row["late"] / rostered, 4)
        row["absent_rate"] = round((row["absent_excused"] + row["absent_unexcused"]) / rostered, 4)
        result.append(row)
    return result


def one_stop(filters: Filters) -> list[dict]:
    """Return each unit's on-time rate as its latest visit in the period recorded it.

    The desk reports a running figure ("97,5% since 1 January"), so the latest reading
    is the unit's rate; averaging readings of one running figure would be wrong.
    """
    visits = selected_visits(filters)
    readings = (
        select(
            visits.c.unit_id,
            UnitItemResult.number_value.label("rate"),
            func.row_number()
            .over(partition_by=visits.c.unit_id, order_by=Inspection.started_at.desc())
            .label("n"),
            func.count().over(partition_by=visits.c.unit_id).label("visits"),
        )
        .join(UnitItemResult, UnitItemResult.inspection_id == visits.c.id)
        .join(Inspection, Inspection.id == visits.c.id)
        .join(ChecklistItem, ChecklistItem.id == UnitItemResult.item_id)
        .where(UnitItemResult.number_value.is_not(None), ChecklistItem.number_label_vi.is_not(None))
        .subquery("r")
    )
    rows = db.session.execute(
        select(readings.c.unit_id, readings.c.rate, readings.c.visits).where(readings.c.n == 1)
    ).all()
    return [
        {"unit_id": r.unit_id, "rate": round(float(r.rate), 2), "visits": r.visits} for r in rows
    ]


def remediation_counts(filters: Filters, today: date) -> dict:
    """Open, overdue and answered requests of the filters' visits.

    A request stays the unit's to fix when a correction replaces the visit's minutes, so
    requests of superseded visits count here (under the visit's own date and unit).
    """
    visits = _where(
        select(Inspection.id.label("id")).where(Inspection.status == InspectionStatus.FINALIZED),
        filters,
        Inspection.started_at,
        Inspection.unit_id,
    ).subquery("v")
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
    rows = _filtered(PersonFailure, filters)
    # One row per visit, person and item, so counting rows counts visits.
    repeated = (
        select(rows.c.staff_id, rows.c.item_code, func.count().label("times"))
        .group_by(rows.c.staff_id, rows.c.item_code)
        .having(func.count() >= minimum)
        .subquery("r")
    )
    found = db.session.execute(
        select(
            repeated.c.staff_id,
            StaffMember.full_name,
            StaffMember.unit_id,
            repeated.c.item_code.label("code"),
            repeated.c.times,
        )
        .join(StaffMember, StaffMember.id == repeated.c.staff_id)
        .order_by(repeated.c.times.desc(), StaffMember.full_name)
        .limit(200)
    ).all()
    return [r._asdict() for r in found]


def person_history(staff_id: int) -> list[dict]:
    """Return every visit that counts where this person was on the roster, with what they failed."""
    rows = db.session.execute(
        select(Inspection, PersonResult)
        .join(PersonResult, PersonResult.inspection_id == Inspection.id)
        .where(PersonResult.staff_id == staff_id, Inspection.counts)
        .order_by(Inspection.started_at.desc())
    ).all()
    history = []
    for inspection, person in rows:
        codes = {i.id: i for i in inspection.items}
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


# The same statements as migration 0006; {only} narrows them to one visit.
REBUILD_SQL = (
    """
    INSERT INTO visit_category_stat (inspection_id, category, unit_id, started_at, month,
                                     checked, failed)
    SELECT a.inspection_id, a.category, i.unit_id, i.started_at, {month}, COUNT(*),
           SUM(CASE WHEN a.outcome = 'fail' THEN 1 ELSE 0 END)
    FROM (
        SELECT u.inspection_id AS inspection_id, c.category AS category, u.outcome AS outcome
        FROM unit_item_result u JOIN checklist_item c ON c.id = u.item_id
        WHERE u.outcome IN ('pass', 'fail')
        UNION ALL
        SELECT p.inspection_id, c.category, r.outcome
        FROM person_item_result r
        JOIN person_result p ON p.id = r.person_result_id
        JOIN checklist_item c ON c.id = r.item_id
        WHERE r.outcome IN ('pass', 'fail')
    ) a
    JOIN inspection i ON i.id = a.inspection_id
    WHERE i.status = 'finalized' AND i.superseded_at IS NULL {only}
    GROUP BY a.inspection_id, a.category, i.unit_id, i.started_at
    """,
    """
    INSERT INTO visit_attendance_stat (inspection_id, unit_id, started_at, month, rostered,
                                       present, late, absent_excused, absent_unexcused, on_duty)
    SELECT i.id, i.unit_id, i.started_at, {month}, COUNT(p.id),
           SUM(CASE WHEN p.attendance = 'present' THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.attendance = 'late' THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.attendance = 'absent_excused' THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.attendance = 'absent_unexcused' THEN 1 ELSE 0 END),
           SUM(CASE WHEN p.attendance = 'on_duty' THEN 1 ELSE 0 END)
    FROM inspection i JOIN person_result p ON p.inspection_id = i.id
    WHERE i.status = 'finalized' AND i.superseded_at IS NULL {only}
    GROUP BY i.id, i.unit_id, i.started_at
    """,
    """
    INSERT INTO person_failure (inspection_id, unit_id, started_at, staff_id, item_code)
    SELECT i.id, i.unit_id, i.started_at, p.staff_id, c.code
    FROM inspection i
    JOIN person_result p ON p.inspection_id = i.id
    JOIN person_item_result r ON r.person_result_id = p.id
    JOIN checklist_item c ON c.id = r.item_id
    WHERE i.status = 'finalized' AND i.superseded_at IS NULL
      AND r.outcome = 'fail' AND p.staff_id IS NOT NULL {only}
    """,
)


def month_sql(dialect: str) -> str:
    """SQL for the Hà Nội month (YYYY-MM) of inspection i's start."""
    if dialect == "sqlite":
        return f"strftime('%Y-%m', i.started_at, '+{UTC_OFFSET_HOURS} hours')"
    return f"to_char(i.started_at + interval '{UTC_OFFSET_HOURS} hours', 'YYYY-MM')"


def materialize(inspection_id: int) -> None:
    """Write the figures of a visit that has just been finalized."""
    month = month_sql(db.engine.dialect.name)
    for statement in REBUILD_SQL:
        db.session.execute(
            text(statement.format(only="AND i.id = :id", month=month)), {"id": inspection_id}
        )


def forget(inspection_id: int) -> None:
    """Take a superseded visit out of the figures: its correction's figures replace them."""
    for table in (VisitCategoryStat, VisitAttendanceStat, PersonFailure):
        db.session.execute(delete(table).where(table.inspection_id == inspection_id))


def rebuild() -> None:
    """Recompute the figures of every finalized visit (after a bulk load or a repair)."""
    for table in (VisitCategoryStat, VisitAttendanceStat, PersonFailure):
        db.session.execute(delete(table))
    month = month_sql(db.engine.dialect.name)
    for statement in REBUILD_SQL:
        db.session.execute(text(statement.format(only="", month=month)))
