"""The annual plan, scheduled visits, and drawing a unit for a surprise visit.

Planned visits (scheduled or surprise) are readable only by the office and their team
until they start: every query that units and other inspectors reach filters them out.
"""

import logging
import random
import secrets
import uuid
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, case, func, literal_column, select

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ, UTC_OFFSET_HOURS
from inspection.models import (
    Inspection,
    InspectionKind,
    InspectionStatus,
    Remediation,
    RemediationStatus,
    TeamMember,
    TeamRole,
    Unit,
    User,
    VisitPlan,
)
from inspection.services import audit, checklist, visits
from inspection.services.errors import ServiceError

log = logging.getLogger(__name__)
QUARTERS = ("q1", "q2", "q3", "q4")
NEVER_VISITED_DAYS = 730  # weight of a unit with no visit on record
OPEN_REMEDIATION_DAYS = 180  # each open request weighs like half a year without a visit


def _quarter(column):
    if db.engine.dialect.name == "sqlite":
        month = func.cast(func.strftime("%m", column, f"+{UTC_OFFSET_HOURS} hours"), Integer)
    else:
        shifted = column + literal_column(f"interval '{UTC_OFFSET_HOURS} hours'")
        month = func.cast(func.extract("month", shifted), Integer)
    return (month - 1) // 3 + 1


def plan_rows(year: int) -> list[dict]:
    """Return each active unit with its planned and finished visits per quarter of ``year``."""
    start = datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)
    quarter = _quarter(Inspection.started_at)
    done = {
        row.unit_id: row
        for row in db.session.execute(
            select(
                Inspection.unit_id,
                *[func.sum(case((quarter == n, 1), else_=0)).label(f"d{n}") for n in range(1, 5)],
            )
            .where(
                Inspection.counts,
                Inspection.started_at >= start,
                Inspection.started_at < end,
            )
            .group_by(Inspection.unit_id)
        )
    }
    plans = {p.unit_id: p for p in db.session.scalars(select(VisitPlan).filter_by(year=year))}
    rows = []
    for unit in db.session.scalars(select(Unit).filter_by(active=True).order_by(Unit.name)):
        plan, finished = plans.get(unit.id), done.get(unit.id)
        rows.append(
            {
                "unit": unit,
                "planned": [getattr(plan, q) if plan else 0 for q in QUARTERS],
                "done": [
                    int(getattr(finished, f"d{n}") or 0) if finished else 0 for n in range(1, 5)
                ],
            }
        )
    return rows


def save_plan(actor: audit.Actor, year: int, counts: dict[int, list[int]]) -> None:
    """Set the planned number of visits per unit and quarter."""
    if not 2000 <= year <= 2100 or any(
        len(c) != 4 or any(not 0 <= n <= 99 for n in c) for c in counts.values()
    ):
        raise ServiceError(str(_l("The plan was not saved.")), {"plan": str(_l("0 to 99 visits."))})
    existing = {p.unit_id: p for p in db.session.scalars(select(VisitPlan).filter_by(year=year))}
    for unit_id, quarters in counts.items():
        plan = existing.get(unit_id) or VisitPlan(year=year, unit_id=unit_id)
        for name, value in zip(QUARTERS, quarters, strict=True):
            setattr(plan, name, value)
        plan.updated_by_id = actor.user_id
        db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan_saved", object_type="visit_plan", year=year, units=len(counts))


def schedule_visit(
    actor: audit.Actor,
    creator: User,
    *,
    unit_id: int,
    kind: InspectionKind | str,
    planned_date: date,
    team: list[tuple[int, TeamRole]],
    today: date,
) -> Inspection:
    """Plan a visit with its date and team; it starts when a team member begins it."""
    fields = {}
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit.active:
        fields["unit_id"] = str(_l("No such active unit."))
    if planned_date is None or planned_date < today:
        fields["planned_date"] = str(_l("Choose today or a later date."))
    if fields:
        raise ServiceError(str(_l("The visit was not planned.")), fields)
    team = visits.check_team(team)
    inspection = Inspection(
        unit_id=unit.id,
        kind=InspectionKind(kind),
        status=InspectionStatus.PLANNED,
        planned_date=planned_date,
        created_by_id=creator.id,
        client_id=f"plan-{uuid.uuid4()}",
    )
    checklist.assign(inspection, unit)  # until it starts, which takes the newest versions
    inspection.team = [TeamMember(user_id=uid, role=role) for uid, role in team]
    db.session.add(inspection)
    db.session.flush()
    audit.record(actor, "visit_planned", inspection, kind=inspection.kind.value)
    return inspection


def planned_visits() -> list[Inspection]:
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.status == InspectionStatus.PLANNED)
            .order_by(Inspection.planned_date)
        )
    )


def draw_weights(today: date) -> list[tuple[Unit, float]]:
    """Return each active unit's weight: days since its last visit, plus half a year per
    open request."""
    last = visits.last_visits()
    open_requests = dict(
        db.session.execute(
            select(Inspection.unit_id, func.count(Remediation.id))
            .join(Remediation, Remediation.inspection_id == Inspection.id)
            .where(Remediation.status.in_([RemediationStatus.OPEN, RemediationStatus.REOPENED]))
            .group_by(Inspection.unit_id)
        ).all()
    )
    weights = []
    for unit in db.session.scalars(select(Unit).filter_by(active=True).order_by(Unit.id)):
        seen = last.get(unit.id)
        days = (
            NEVER_VISITED_DAYS
            if seen is None
            else max((datetime.combine(today, time.max, LOCAL_TZ) - seen).days, 1)
        )
        weights.append((unit, float(days + OPEN_REMEDIATION_DAYS * open_requests.get(unit.id, 0))))
    return weights


def draw_surprise(actor: audit.Actor, today: date, rng: random.Random | None = None) -> Unit:
    """Pick a unit for a surprise visit by weighted chance; the draw is audited."""
    weights = draw_weights(today)
    if not weights:
        raise ServiceError(str(_l("There is no active unit to draw.")))
    rng = rng or random.Random(secrets.randbits(64))
    unit = rng.choices([u for u, _ in weights], weights=[w for _, w in weights], k=1)[0]
    audit.record(
        actor,
        "surprise_drawn",
        unit,
        weight=next(w for u, w in weights if u.id == unit.id),
        total=sum(w for _, w in weights),
    )
    return unit
