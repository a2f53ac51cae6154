"""Telling people what needs them. A message is recorded in the outbox in the transaction
of the change that causes it (a rolled-back finalize leaves none), then delivered after
the commit, at least once, with its outbox id naming it everywhere it goes."""

import logging
from datetime import timedelta

from flask import current_app, render_template
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.i18n import format_date_vn
from inspection.models import Minutes, Outbox, OutboxStatus, Role, User, utcnow
from inspection.services import audit, mailer

log = logging.getLogger(__name__)

# Seconds before each retry; after the last the message is FAILED, for an administrator.
BACKOFF = (60, 300, 1800, 7200, 21600, 43200)


def _email(user: User, event: str, subject: str, template: str, **context) -> Outbox | None:
    """Record one email to ``user`` (none for an account without an address)."""
    if not user.active or not user.email:
        return None
    row = Outbox(
        event=event,
        user_id=user.id,
        address=user.email,
        subject=subject,
        body_text=render_template(f"mail/{template}.txt", user=user, **context),
        body_html=render_template(f"mail/{template}.html", user=user, **context),
        status=OutboxStatus.PENDING,
    )
    db.session.add(row)
    return row


def unit_accounts(unit_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).filter_by(unit_id=unit_id, role=Role.UNIT, active=True).order_by(User.id)
        )
    )


def minutes_issued(
    minutes: Minutes, base_url: str, supersedes: Minutes | None = None
) -> list[Outbox]:
    """Tell the inspected unit's accounts that its minutes were issued: the number, the
    link, the deadline for the fixes. Only after the visit: a planned one says nothing."""
    inspection = minutes.inspection
    base = base_url.rstrip("/")
    context = {
        "number": minutes.display_number,
        "unit": inspection.unit.name,
        "visit_date": format_date_vn(inspection.started_at),
        "due": format_date_vn(inspection.remediation_due) if inspection.remediation_due else "",
        "link": f"{base}/unit/",
        "verify_url": f"{base}/verify/{minutes.verify_code}",
        "replaces": supersedes.display_number if supersedes else "",
    }
    subject = f"Biên bản kiểm tra số {minutes.display_number} – {inspection.unit.name}"
    rows = [
        _email(user, "minutes.issued", subject, "minutes_issued", **context)
        for user in unit_accounts(inspection.unit_id)
    ]
    return [r for r in rows if r is not None]


# How long a claimed message is left to its sender before another attempt may take it
# (a worker killed mid-send): far longer than a send (SMTP gives up after 20 s).
LEASE = timedelta(minutes=10)


def deliver(outbox_id: int, now=None) -> bool:
    """Send one waiting message now; on failure schedule the next attempt. True if sent.

    The message is claimed in a short transaction, sent with none open (a slow mail
    server must not hold the database), and its result recorded in another. A worker
    killed between sending and recording sends it again once the claim lapses: at least
    once, under the same Message-ID.
    """
    now = now or utcnow()
    config = current_app.config
    row = db.session.get(Outbox, outbox_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.PENDING or row.next_attempt_at > now:
        db.session.rollback()
        return False
    row.attempts += 1
    row.next_attempt_at = now + LEASE
    message, attempt = mailer.message_of(row, config["MAIL_FROM"]), row.attempts
    db.session.commit()
    try:
        mailer.send(message, config, outbox_id)
    except mailer.MailError as exc:
        row = db.session.get(Outbox, outbox_id)
        row.last_error = str(exc)[:2000]
        if attempt > len(BACKOFF):
            row.status = OutboxStatus.FAILED
        else:
            row.next_attempt_at = now + timedelta(seconds=BACKOFF[attempt - 1])
        db.session.commit()
        log.warning("outbox %s: attempt %d failed: %s", outbox_id, attempt, row.last_error)
        return False
    row = db.session.get(Outbox, outbox_id)
    row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, ""
    db.session.commit()
    log.info("outbox %s: %s sent to %s", outbox_id, row.event, row.address)
    return True


def unsent(limit: int = 200) -> list[Outbox]:
    """Messages not sent yet, the failed ones first, newest first."""
    return list(
        db.session.scalars(
            select(Outbox)
            .where(Outbox.status != OutboxStatus.SENT)
            .order_by(Outbox.status.desc(), Outbox.id.desc())
            .limit(limit)
        )
    )


def sent_count() -> int:
    return db.session.scalar(
        select(func.count(Outbox.id)).where(Outbox.status == OutboxStatus.SENT)
    )


def retry(actor: audit.Actor, row: Outbox) -> Outbox:
    """An administrator sends a failed (or waiting) message again, now."""
    if row.status is not OutboxStatus.SENT:
        row.status, row.next_attempt_at = OutboxStatus.PENDING, utcnow()
        row.attempts = 0
        db.session.flush()
        audit.record(actor, "message_retried", row, event=row.event)
        # Handed to the worker after the commit, as a new message is (inspection/queue.py).
        db.session.info.setdefault("outbox_new", []).append(row.id)
    return row


def sweep(now=None, limit: int = 200) -> int:
    """Deliver every message whose attempt is due; return how many were sent."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Outbox.id)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
        .order_by(Outbox.id)
        .limit(limit)
    ).all()
    return sum(deliver(outbox_id, now) for outbox_id in due)
