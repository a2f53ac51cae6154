"""Corrections: a copy of an issued visit whose minutes will replace the current ones."""

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    Inspection,
    InspectionStatus,
    User,
    VisitChecklist,
)
from inspection.services import audit, minutes, policy, results
from inspection.services.errors import Conflict


def start_amendment(actor: audit.Actor, user: User, inspection: Inspection) -> Inspection:
    """Open a corrected copy of a finalized visit; its minutes will supersede the current ones.

    The finalized visit and its minutes stay as they are. The copy keeps the answers,
    people, texts and photos, and needs fresh signatures.
    """
    current = minutes.current_for(inspection.id)
    if inspection.status is not InspectionStatus.FINALIZED or current is None:
        raise Conflict(str(_l("Only issued minutes can be corrected.")))
    if minutes.superseded_by(current) is not None:
        raise Conflict(str(_l("These minutes were already superseded.")))
    open_copy = db.session.scalar(
        select(Inspection).where(
            Inspection.amends_minutes_id == current.id,
            Inspection.status.in_(policy.EDITABLE),
        )
    )
    if open_copy is not None:
        return open_copy
    copy = copy_row(
        inspection,
        status=InspectionStatus.DRAFT,
        finished_at=None,
        superseded_at=None,
        created_by_id=user.id,
        client_id=f"amend-{current.id}-{secrets.token_hex(4)}",
        amends_minutes_id=current.id,
    )
    copy.team = [copy_row(member) for member in inspection.team]
    # The same checklist versions: a correction changes answers, not what was asked.
    copy.checklist_links = [
        VisitChecklist(version=link.version, position=link.position)
        for link in inspection.checklist_links
    ]
    copy.unit_results = [copy_row(result) for result in inspection.unit_results]
    people = {}
    for person in inspection.people:
        people[person.id] = copy_row(person, items=[copy_row(r) for r in person.items])
        copy.people.append(people[person.id])
    db.session.add(copy)
    db.session.flush()
    for photo in results.photos_of(inspection):
        twin = people.get(photo.person_result_id)
        db.session.add(
            copy_row(
                photo,
                inspection_id=copy.id,
                person_result_id=twin.id if twin else None,
                client_id=None,  # the phone's id names the original's upload
            )
        )
    db.session.flush()
    audit.record(actor, "amendment_started", copy, amends=current.display_number)
    return copy


# Set afresh on every row, never copied: when it was made and who changed it last.
FRESH = frozenset({"created_at", "updated_at", "updated_by_id", "version"})


def copy_row(row, **values):
    """Return a new row of ``row``'s model with every column copied, so a column added
    later is copied too, except the primary key, the parent's key (the new parent sets
    it), ``FRESH`` bookkeeping, and ``values``, which are set instead."""
    mapper = sa_inspect(type(row))
    parent_keys = {
        column.key
        for relationship in mapper.relationships
        if relationship.direction.name == "MANYTOONE" and relationship.back_populates
        for column in relationship.local_columns
    }
    copied = {
        attr.key: getattr(row, attr.key)
        for attr in mapper.column_attrs
        if not any(column.primary_key for column in attr.columns)
        and attr.key not in FRESH | parent_keys
    }
    return type(row)(**{**copied, **values})
