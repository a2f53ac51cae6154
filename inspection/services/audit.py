"""Recording audit events. Events are only ever inserted, never updated or deleted."""

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import event, select

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ, local_midnight
from inspection.labels import action_label, audit_details, object_label
from inspection.models import AuditEvent, User

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
    row = stage(actor, action, obj, object_type=object_type, **detail)
    announce(row)
    return row


def stage(
    actor: Actor, action: str, obj=None, *, object_type: str | None = None, **detail
) -> AuditEvent:
    """Add an audit event as ``record`` does, without logging it yet: for a change whose
    flush may still be refused, which then calls ``announce``."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = str(getattr(obj, "id", None) or getattr(obj, "sha256", ""))
    else:
        object_id = None
    row = AuditEvent(
        user_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip=actor.ip,
        detail=detail,
    )
    db.session.add(row)
    return row


def announce(row: AuditEvent) -> None:
    """Log an audit event (its row is the record; the log follows the request)."""
    log.info("audit %s %s:%s by user %s", row.action, row.object_type, row.object_id, row.user_id)


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log page and its export select; empty fields select everything."""

    action: str | None = None
    username: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def actions() -> list[str]:
    """Return the actions on record, for the filter's choices."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by("action")))


def object_types() -> list[str]:
    query = select(AuditEvent.object_type).where(AuditEvent.object_type.is_not(None))
    return list(db.session.scalars(query.distinct().order_by("object_type")))


def _select(filters: AuditFilters, *columns):
    query = select(*(columns or [AuditEvent]), User.username)
    query = query.outerjoin(User, User.id == AuditEvent.user_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.username:
        query = query.where(User.username == filters.username)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.date_from:
        query = query.where(AuditEvent.created_at >= local_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(
            AuditEvent.created_at < local_midnight(filters.date_to + timedelta(days=1))
        )
    return query.order_by(AuditEvent.id.desc())


def search(filters: AuditFilters, page: int = 1, per_page: int = 100) -> tuple[list, bool]:
    """Return one page of events, newest first, and whether an older page exists."""
    rows = db.session.execute(
        _select(filters).offset((page - 1) * per_page).limit(per_page + 1)
    ).all()
    return rows[:per_page], len(rows) > per_page


# In words first; the last two columns keep the recorded codes for other tools.
CSV_COLUMNS = ["Mã sự kiện", "Thời gian", "Tài khoản", "Hành động", "Đối tượng", "Số đối tượng",
               "Địa chỉ IP", "Chi tiết", "Mã hành động", "Dữ liệu gốc (JSON)"]  # fmt: skip


BATCH = 2000  # events read at once for the CSV


def rows(filters: AuditFilters, names: dict) -> Iterator[list]:
    """Return the selected events as rows of CSV_COLUMNS, newest first, read in batches.

    ``names`` tells what ids and codes in the details stand for (labels.audit_details).
    """
    # Plain columns, not events: nothing piles up in the session over a long log.
    stmt = _select(filters, *AuditEvent.__table__.c)
    for row in db.session.connection().execute(stmt).yield_per(BATCH):
        username = row.username
        local = row.created_at.astimezone(LOCAL_TZ)
        details = "; ".join(f"{k}: {v}" for k, v in audit_details(row.detail or {}, names))
        raw = json.dumps(row.detail or {}, ensure_ascii=False, sort_keys=True)
        yield [row.id, f"{local:%d/%m/%Y %H:%M:%S}", username or "", action_label(row.action),
               object_label(row.object_type), row.object_id or "", row.ip or "", details,
               row.action, raw]  # fmt: skip


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper, _connection, target) -> None:
    """No code path may change or remove an event (the database refuses it too)."""
    raise RuntimeError(f"audit event {target.id} is append-only")
