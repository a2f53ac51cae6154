"""Recording audit events. Events are only ever inserted, never updated or deleted."""

import logging
from dataclasses import dataclass

from inspection.extensions import db
from inspection.models import AuditEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; views build it from the request."""

    user_id: int | None
    ip: str | None = None


SYSTEM = Actor(user_id=None, ip=None)


def record(
    actor: Actor, action: str, obj=None, *, object_type: str | None = None, **detail
) -> AuditEvent:
    """Add an audit event for ``action`` on ``obj`` (any model with an ``id``)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = str(getattr(obj, "id", None) or getattr(obj, "sha256", ""))
    else:
        object_id = None
    event = AuditEvent(
        user_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=actor.ip,
        detail=detail,
    )
    db.session.add(event)
    log.info("audit %s %s:%s by user %s", action, object_type, object_id, actor.user_id)
    return event
