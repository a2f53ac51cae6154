"""Starting visits, who may see and fill them, and the lists on the home pages."""

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ, local
from inspection.models import (
    Inspection,
    InspectionKind,
    InspectionStatus,
    Minutes,
    PersonResult,
    Role,
    StaffMember,
    TeamMember,
    TeamRole,
    Unit,
    User,
    utcnow,
)
from inspection.models.base import valid_id
from inspection.models.checklist import items_of
from inspection.services import audit, checklist, policy
from inspection.services.errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)


def get_visible(user: User, inspection_id: int) -> Inspection:
    """Return the inspection if ``user`` may read it, else raise NotFound."""
    inspection = db.session.scalar(
        policy.readable_visits(user)
        .where(Inspection.id == inspection_id)
        # In the same query (the list pages load them by selectin, one query for many).
        .options(joinedload(Inspection.checklist_links))
    )
    if inspection is None:
        raise NotFound(str(_l("Not found.")))
    return inspection


def get_editable(user: User, inspection_id: int) -> Inspection:
    """Return an inspection ``user`` may fill now; NotFound or Conflict otherwise."""
    inspection = get_visible(user, inspection_id)
    if not policy.on_team(user, inspection):
        raise NotFound(str(_l("Not found.")))
    ensure_editable(inspection)
    return inspection


def ensure_editable(inspection: Inspection) -> None:
    if inspection.status not in policy.EDITABLE:
        raise Conflict(
            str(_l("This visit's minutes are issued: it can no longer be changed."))
            if inspection.status is InspectionStatus.FINALIZED
            else str(_l("This visit has not started or was cancelled."))
        )


def inspectors() -> list[User]:
    """Return the active inspectors, for picking a team."""
    return list(
        db.session.scalars(
            select(User).filter_by(role=Role.INSPECTOR, active=True).order_by(User.full_name)
        )
    )


def check_team(team: list[tuple[int, TeamRole]]) -> list[tuple[int, TeamRole]]:
    ids = [user_id for user_id, _ in team]
    if len(ids) != len(set(ids)):
        raise ServiceError(
            str(_l("The team is not valid.")), {"team": str(_l("A person is listed twice."))}
        )
    if [role for _, role in team].count(TeamRole.LEAD) != 1:
        raise ServiceError(
            str(_l("The team is not valid.")), {"team": str(_l("Choose exactly one team lead."))}
        )
    valid = {u.id for u in inspectors()}
    if not set(ids) <= valid:
        raise ServiceError(
            str(_l("The team is not valid.")),
            {"team": str(_l("Team members must be active inspectors."))},
        )
    return team


def last_visits() -> dict[int, datetime]:
    """Return when each unit's last visit that counts started, by unit id."""
    return dict(
        db.session.execute(
            select(Inspection.unit_id, func.max(Inspection.started_at))
            .where(Inspection.counts)
            .group_by(Inspection.unit_id)
        ).all()
    )


def unit_facts() -> dict[int, tuple[int, date | None]]:
    """Return each unit's headcount (its active roster) and the day of its last visit that
    counts, for choosing where to go."""
    headcount = dict(
        db.session.execute(
            select(StaffMember.unit_id, func.count(StaffMember.id))
            .where(StaffMember.active)
            .group_by(StaffMember.unit_id)
        ).all()
    )
    last = last_visits()
    units = set(headcount) | set(last)
    return {
        unit: (headcount.get(unit, 0), local(last[unit]).date() if last.get(unit) else None)
        for unit in units
    }


def last_secretary(lead: User) -> int:
    """Return the secretary on the last visit ``lead`` led (0 when none): the usual one."""
    led = (
        select(TeamMember.inspection_id)
        .where(TeamMember.user_id == lead.id, TeamMember.role == TeamRole.LEAD)
        .order_by(TeamMember.inspection_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    secretary = db.session.scalar(
        select(TeamMember.user_id).where(
            TeamMember.inspection_id == led, TeamMember.role == TeamRole.SECRETARY
        )
    )
    return secretary or 0


def team_of(lead: int, secretary: int | None, members: list[int]) -> list[tuple[int, TeamRole]]:
    """Return the team as (user id, role) pairs from a form's lead, secretary and members."""
    team = [(lead, TeamRole.LEAD)]
    if secretary and secretary != lead:
        team.append((secretary, TeamRole.SECRETARY))
    taken = {user_id for user_id, _ in team}
    return team + [(m, TeamRole.MEMBER) for m in dict.fromkeys(members or []) if m not in taken]


def default_team(creator: User, team: list[tuple[int, TeamRole]] | None):
    """Return ``team`` with the creator in it; by default the creator alone, as lead."""
    team = list(team or [(creator.id, TeamRole.LEAD)])
    if creator.id not in {user_id for user_id, _ in team}:
        team.append((creator.id, TeamRole.MEMBER))
    return team


def _active_roster(unit_id: int):
    return db.session.scalars(
        select(StaffMember).filter_by(unit_id=unit_id, active=True).order_by(StaffMember.id)
    )


def _snapshot_roster(inspection: Inspection) -> None:
    """Copy the unit's active roster onto the visit (names as they are today)."""
    for person in _active_roster(inspection.unit_id):
        inspection.people.append(
            PersonResult(staff_id=person.id, full_name=person.full_name, position=person.position)
        )


def start_inspection(
    actor: audit.Actor,
    creator: User,
    *,
    unit_id: int,
    kind: InspectionKind | str,
    client_id: str,
    team: list[tuple[int, TeamRole]] | None = None,
    client_started_at: datetime | None = None,
    started_offline: bool = False,
    latitude: float | None = None,
    longitude: float | None = None,
    accuracy_m: float | None = None,
    templates: list[str] | None = None,
) -> tuple[Inspection, bool]:
    """Start a visit now; return it and whether it was created.

    The visit asks the newest versions of the checklists that apply to the unit, or of
    ``templates`` (codes) when the lead chose. The same creator sending the same
    ``client_id`` again gets the first visit back. A
    visit ``started_offline`` began when the phone says (within the last three days),
    not when the phone found a signal to send it.
    """
    existing = db.session.scalar(
        select(Inspection).filter_by(created_by_id=creator.id, client_id=client_id)
    )
    if existing is not None:
        return existing, False
    fields = {}
    unit = db.session.get(Unit, unit_id) if valid_id(unit_id) else None
    if unit is None or not unit.active:
        fields["unit_id"] = str(_l("No such active unit."))
    try:
        kind = InspectionKind(kind)
    except ValueError:
        fields["kind"] = str(_l("Unknown kind of visit."))
    if not client_id or len(client_id) > 64:
        fields["client_id"] = str(_l("A client_id of at most 64 characters is required."))
    if fields:
        raise ServiceError(str(_l("The visit was not started.")), fields)
    team = check_team(default_team(creator, team))
    inspection = Inspection(
        unit_id=unit.id,
        kind=kind,
        status=InspectionStatus.DRAFT,
        started_at=_start_time(client_started_at if started_offline else None),
        client_started_at=client_started_at,
        created_by_id=creator.id,
        client_id=client_id,
    )
    checklist.assign(inspection, unit, templates)
    _set_location(inspection, latitude, longitude, accuracy_m)
    inspection.team = [TeamMember(user_id=uid, role=role) for uid, role in team]
    _snapshot_roster(inspection)
    try:
        with db.session.begin_nested():
            # Added inside the savepoint: a failed insert is expunged with it.
            db.session.add(inspection)
            db.session.flush()
    except IntegrityError:
        # The same request raced itself (a double tap on a slow link): return the winner.
        winner = db.session.scalar(
            select(Inspection).filter_by(created_by_id=creator.id, client_id=client_id)
        )
        if winner is None:
            raise
        return winner, False
    audit.record(actor, "inspection_started", inspection, unit_id=unit.id, kind=kind.value)
    log.info("inspection %s started at unit %s by user %s", inspection.id, unit.code, creator.id)
    return inspection, True


OFFLINE_START_LIMIT = timedelta(days=3)


def _start_time(phone_time: datetime | None) -> datetime:
    """Now, or the phone's time of a start made offline when it is plausible."""
    now = utcnow()
    if phone_time is not None:
        try:
            if now - OFFLINE_START_LIMIT <= phone_time <= now:
                return phone_time.astimezone(UTC)
        except (OverflowError, ValueError):
            pass
    return now


def _set_location(inspection, latitude, longitude, accuracy_m) -> None:
    """Keep the phone's position only when it is complete and plausible."""
    lat, lon, accuracy = _finite(latitude), _finite(longitude), _finite(accuracy_m)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return
    inspection.latitude = round(Decimal(str(lat)), 6)
    inspection.longitude = round(Decimal(str(lon)), 6)
    if accuracy is not None and 0 <= accuracy < 1e6:
        inspection.location_accuracy_m = round(accuracy)


def _finite(value) -> float | None:
    """Return a number the phone sent, or None for anything else ("NaN", "abc", a list)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def begin_planned(
    actor: audit.Actor,
    user: User,
    inspection: Inspection,
    client_started_at=None,
    latitude=None,
    longitude=None,
    accuracy_m=None,
) -> Inspection:
    """Start a planned visit the user is on the team of."""
    if inspection.status is not InspectionStatus.PLANNED:
        return inspection
    inspection.status = InspectionStatus.DRAFT
    inspection.started_at = utcnow()
    inspection.client_started_at = client_started_at
    checklist.assign(inspection, inspection.unit)  # the newest versions, on the day
    _set_location(inspection, latitude, longitude, accuracy_m)
    _snapshot_roster(inspection)
    db.session.flush()
    audit.record(actor, "inspection_started", inspection, unit_id=inspection.unit_id)
    return inspection


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, LOCAL_TZ)
    return start, start + timedelta(days=1)


COMING_DAYS = 14  # how far ahead the inspector's home lists planned visits


def inspector_home(user: User, today: date) -> dict[str, list[Inspection]]:
    """Return the inspector's planned visits of today and of the coming two weeks, the
    unfinished drafts and today's finished ones."""
    base = policy.readable_visits(user).options(selectinload(Inspection.unit))
    start, end = _local_day_bounds(today)
    today_visits = db.session.scalars(
        base.where(
            Inspection.status == InspectionStatus.PLANNED, Inspection.planned_date == today
        ).order_by(Inspection.id)
    ).all()
    coming = db.session.scalars(
        base.where(
            Inspection.status == InspectionStatus.PLANNED,
            Inspection.planned_date > today,
            Inspection.planned_date <= today + timedelta(days=COMING_DAYS),
        ).order_by(Inspection.planned_date, Inspection.id)
    ).all()
    drafts = db.session.scalars(
        base.where(Inspection.status.in_(policy.EDITABLE))
        .order_by(Inspection.updated_at.desc())
        .limit(20)
    ).all()
    done_today = db.session.scalars(
        base.where(
            Inspection.status == InspectionStatus.FINALIZED,
            Inspection.finished_at >= start,
            Inspection.finished_at < end,
        ).order_by(Inspection.finished_at.desc())
    ).all()
    return {"today": today_visits, "coming": coming, "drafts": drafts, "done_today": done_today}


def list_for(user: User, *, status: str | None = None, unit_id: int | None = None, limit=200):
    """Return the inspections ``user`` may see, newest first, optionally filtered."""
    query = policy.readable_visits(user).options(
        selectinload(Inspection.unit), selectinload(Inspection.team)
    )
    if status:
        query = query.where(Inspection.status == status)
    if unit_id:
        query = query.where(Inspection.unit_id == unit_id)
    return db.session.scalars(
        query.order_by(Inspection.started_at.desc().nulls_last(), Inspection.id.desc()).limit(limit)
    ).all()


def unit_minutes(unit_id: int) -> list[Minutes]:
    """Return the minutes issued to a unit, newest first."""
    return db.session.scalars(
        select(Minutes)
        .join(Minutes.inspection)
        .where(Inspection.unit_id == unit_id)
        .options(selectinload(Minutes.inspection))
        .order_by(Minutes.created_at.desc())
    ).all()


def recent_visits(limit: int = 30) -> list[Inspection]:
    """Return the latest started visits of every unit, for the office."""
    return db.session.scalars(
        select(Inspection)
        .where(Inspection.status != InspectionStatus.PLANNED)
        .options(selectinload(Inspection.unit))
        .order_by(Inspection.started_at.desc())
        .limit(limit)
    ).all()


@dataclass
class DraftPerson:
    """A roster line of a visit not started yet; its id is the staff member's."""

    id: int
    staff_id: int
    full_name: str
    position: str


@dataclass
class DraftVisit:
    """What a visit started now at ``unit`` would hold, for a phone to start it offline.

    The phone fills this blank checklist, then creates the visit with the API (its
    ``client_id`` makes that happen once) and saves the answers by ``staff_id``.
    """

    unit: Unit
    checklists: list
    people: list[DraftPerson] = field(default_factory=list)
    id: None = None

    @property
    def items(self) -> list:
        return items_of(self.checklists, self.unit.kind, self.unit.has_one_stop)


def offline_draft(unit_id: int) -> DraftVisit:
    unit = db.session.get(Unit, unit_id) if valid_id(unit_id) else None
    if unit is None or not unit.active:
        raise NotFound(str(_l("Not found.")))
    people = [
        DraftPerson(id=s.id, staff_id=s.id, full_name=s.full_name, position=s.position)
        for s in _active_roster(unit.id)
    ]
    return DraftVisit(unit=unit, checklists=checklist.versions_for(unit), people=people)


def offline_units(user: User, today: date, limit: int) -> list[Unit]:
    """Return the units whose blank checklists the phone keeps: planned ones first."""
    planned = db.session.scalars(
        policy.readable_visits(user)
        .where(Inspection.status == InspectionStatus.PLANNED, Inspection.planned_date >= today)
        .order_by(Inspection.planned_date)
        .options(selectinload(Inspection.unit))
    ).all()
    units = {i.unit.id: i.unit for i in planned if i.unit.active}
    for unit in db.session.scalars(select(Unit).filter_by(active=True).order_by(Unit.name)):
        if len(units) >= limit:
            break
        units.setdefault(unit.id, unit)
    return list(units.values())[:limit]
