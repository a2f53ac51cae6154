"""Who may do what: the one place access to each aggregate is decided.

Views and services both ask here. What a user may not see is a 404 to them (they must not
learn it exists); what they may see but not change now is a 409 from the service.

- Visits: the office and the administrator read all; a unit reads its own issued visits;
  an inspector reads the visits whose team they are on (or that they started). The team
  fills, signs and finalizes a visit while it is a draft or submitted, and opens a
  correction of its issued minutes. Only the lead sets the time the visit ended.
- Minutes: the team, the inspected unit, the office and the administrator.
- Review and remediation: the office and the administrator review and decide; a unit
  sees and answers its own requests.
- Reference data: a unit account sees only its own unit.
"""

from sqlalchemy import Select, or_, select

from inspection.models import (
    Inspection,
    InspectionStatus,
    Remediation,
    Role,
    TeamMember,
    TeamRole,
    User,
)

# A visit can change while it is being filled or signed; issued minutes freeze it.
EDITABLE = (InspectionStatus.DRAFT, InspectionStatus.SUBMITTED)
REVIEWERS = (Role.ADMIN, Role.OFFICE)


def readable_visits(user: User) -> Select:
    """Return a SELECT of the visits ``user`` may read (the rest are 404 to them)."""
    query = select(Inspection)
    if user.role in REVIEWERS:
        return query
    if user.role is Role.UNIT:
        return query.where(
            Inspection.unit_id == user.unit_id, Inspection.status == InspectionStatus.FINALIZED
        )
    mine = select(TeamMember.inspection_id).where(TeamMember.user_id == user.id)
    return query.where(or_(Inspection.id.in_(mine), Inspection.created_by_id == user.id))


def on_team(user: User, inspection: Inspection) -> bool:
    """Return whether ``user`` is on the visit's team (or started it)."""
    if user.role is not Role.INSPECTOR:
        return False
    # Who started it first: the team is not loaded for the lead's own saves.
    return user.id == inspection.created_by_id or any(m.user_id == user.id for m in inspection.team)


def may_fill(user: User, inspection: Inspection) -> bool:
    """Return whether ``user`` may change the visit now: answer, add people and photos,
    sign and finalize."""
    return on_team(user, inspection) and inspection.status in EDITABLE


def is_lead(user_id: int | None, inspection: Inspection) -> bool:
    """Return whether the user is the visit's team lead (who sets when it ended)."""
    return any(m.user_id == user_id and m.role is TeamRole.LEAD for m in inspection.team)


def may_read_minutes(user: User, inspection: Inspection) -> bool:
    """Return whether ``user`` may download the visit's minutes."""
    if user.role in REVIEWERS:
        return True
    if user.role is Role.UNIT:
        return user.unit_id == inspection.unit_id
    return on_team(user, inspection)


def may_acknowledge(user: User, inspection: Inspection) -> bool:
    """Return whether ``user`` acknowledges the visit's minutes: its unit's account."""
    return user.role is Role.UNIT and user.unit_id == inspection.unit_id


def readable_remediations(user: User) -> Select:
    """Return a SELECT of the remediation requests ``user`` may see: the office all, a unit
    its own, nobody else any."""
    query = select(Remediation).join(Remediation.inspection)
    if user.role in REVIEWERS:
        return query
    if user.role is Role.UNIT:
        return query.where(Inspection.unit_id == user.unit_id)
    return query.where(False)


def may_see_unit(user: User, unit_id: int) -> bool:
    """Return whether ``user`` may read a unit's reference data (its roster)."""
    return user.role is not Role.UNIT or user.unit_id == unit_id
