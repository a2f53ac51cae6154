"""Reading visits for the role home pages (the phone flow adds the writing side)."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.models import Inspection, InspectionStatus, Minutes, TeamMember


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, LOCAL_TZ)
    return start, start + timedelta(days=1)


def inspector_home(user_id: int, today: date) -> dict[str, list[Inspection]]:
    """Return today's visits assigned to the inspector and their unfinished drafts."""
    mine = select(TeamMember.inspection_id).filter_by(user_id=user_id)
    base = (
        select(Inspection)
        .where(or_(Inspection.id.in_(mine), Inspection.created_by_id == user_id))
        .options(selectinload(Inspection.unit))
    )
    start, end = _local_day_bounds(today)
    today_visits = db.session.scalars(
        base.where(
            Inspection.status == InspectionStatus.PLANNED, Inspection.planned_date == today
        ).order_by(Inspection.id)
    ).all()
    drafts = db.session.scalars(
        base.where(Inspection.status.in_([InspectionStatus.DRAFT, InspectionStatus.SUBMITTED]))
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
    return {"today": today_visits, "drafts": drafts, "done_today": done_today}


def unit_minutes(unit_id: int) -> list[Minutes]:
    """Return the minutes issued to a unit, newest first."""
    return db.session.scalars(
        select(Minutes)
        .join(Inspection)
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
