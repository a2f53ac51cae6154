"""Telling people what needs them: emails to accounts and events to webhooks.

A message is recorded in the outbox in the transaction of the change that causes it (a
rolled-back finalize leaves none), then delivered after the commit by the worker, at
least once, with its outbox id naming it everywhere it goes. Reminders of deadlines are
made by a schedule in the queue (inspection/queue.py), each at most once.
"""

import logging
import os
import socket
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from inspection.extensions import db
from inspection.i18n import format_date_vn, local_today
from inspection.models import (
    Channel,
    DeliveryAttempt,
    Inspection,
    Minutes,
    Outbox,
    OutboxStatus,
    Remediation,
    RemediationStatus,
    Review,
    ReviewDecision,
    Role,
    User,
    utcnow,
)
from inspection.services import audit, mailer, webhooks

log = logging.getLogger(__name__)

# Seconds before each retry; after the last the message is FAILED, for an administrator.
BACKOFF = (60, 300, 1800, 7200, 21600, 43200)
# A reminder comes this many days before a deadline (and once more when it has passed).
REMIND_DAYS_BEFORE = 3

# The kinds of email an account may turn off on its account page, for the roles that get them.
KINDS = {
    "minutes": (_l("Minutes issued or replaced for my unit"), (Role.UNIT,)),
    "remediation": (_l("Fixes the office requires of my unit"), (Role.UNIT,)),
    "reminders": (_l("Reminders before and after a deadline for fixes"), (Role.UNIT,)),
    "unit_replies": (
        _l("A unit acknowledged its minutes or reported its fixes"),
        (Role.OFFICE,),
    ),
    "signatures": (_l("A change voided a signature on my team's visit"), (Role.INSPECTOR,)),
}
KIND_OF = {
    "minutes.issued": "minutes",
    "minutes.superseded": "minutes",
    "remediation.required": "remediation",
    "remediation.reopened": "remediation",
    "reminder.due_soon": "reminders",
    "reminder.overdue": "reminders",
    "minutes.acknowledged": "unit_replies",
    "remediation.answered": "unit_replies",
    "signatures.voided": "signatures",
}


def kinds_for(user: User) -> list[tuple[str, str]]:
    """The kinds of email ``user``'s role receives, with their labels."""
    return [(kind, str(label)) for kind, (label, roles) in KINDS.items() if user.role in roles]


def set_preferences(actor: audit.Actor, user: User, *, language: str, off: list[str]) -> None:
    """Set the account's email language and the kinds it turned off."""
    if language in current_app.config["LANGUAGES"]:
        user.language = language
    user.mail_off = " ".join(k for k in KINDS if k in off)
    db.session.flush()
    audit.record(actor, "mail_preferences", user, language=user.language, off=user.mail_off)


# ---- composing ----


@dataclass
class Mail:
    subject: str
    paragraphs: list[str]
    link: tuple[str, str] | None = None  # (label, url)


def _base() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or (
        request.url_root if has_request_context() else "http://127.0.0.1:5000"
    )
    return base.rstrip("/")


@contextmanager
def silenced():
    """Record history without telling anyone (the demo's 2018 visits)."""
    db.session.info["silenced"] = True
    try:
        yield
    finally:
        db.session.info.pop("silenced", None)


def _email(user: User, event: str, compose: Callable[[], Mail], dedupe_key=None) -> Outbox | None:
    """Record one email to ``user``, composed in the account's language; none for an
    account without an address or that turned this kind off."""
    if (
        db.session.info.get("silenced")
        or not user.active
        or not user.email
        or KIND_OF[event] in user.mail_off.split()
    ):
        return None
    with force_locale(user.language or "vi"):
        mail = compose()
        context = {"user": user, "mail": mail, "lang": user.language or "vi"}
        row = Outbox(
            channel=Channel.EMAIL,
            event=event,
            user_id=user.id,
            address=user.email,
            subject=mail.subject[:300],
            body_text=render_template("mail/message.txt", **context),
            body_html=render_template("mail/message.html", **context),
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
        )
    db.session.add(row)
    return row


def _accounts(*criteria) -> list[User]:
    return list(db.session.scalars(select(User).where(User.active, *criteria).order_by(User.id)))


def unit_accounts(unit_id: int) -> list[User]:
    return _accounts(User.unit_id == unit_id, User.role == Role.UNIT)


def _sent(rows) -> list[Outbox]:
    return [r for r in rows if r is not None]


def minutes_issued(
    minutes: Minutes, base_url: str, supersedes: Minutes | None = None
) -> list[Outbox]:
    """Tell the inspected unit's accounts that its minutes were issued (or replaced): the
    number, the link, the deadline for the fixes; and the webhooks. Only after the visit:
    a planned one says nothing."""
    visit = minutes.inspection
    base = base_url.rstrip("/")

    def compose() -> Mail:
        facts = {
            "number": minutes.display_number,
            "unit": visit.unit.name,
            "date": format_date_vn(visit.started_at),
        }
        if supersedes is not None:
            subject = _(
                "Minutes no. %(old)s were replaced by no. %(number)s",
                old=supersedes.display_number,
                **facts,
            )
            lead = _(
                "Minutes no. %(old)s of the visit to %(unit)s were corrected: minutes"
                " no. %(number)s replace them. Only the new minutes count.",
                old=supersedes.display_number,
                **facts,
            )
        else:
            subject = _("Inspection minutes no. %(number)s – %(unit)s", **facts)
            lead = _(
                "The inspection team issued minutes no. %(number)s for %(unit)s"
                " (visit of %(date)s).",
                **facts,
            )
        paragraphs = [lead]
        if visit.remediation_due:
            paragraphs.append(
                _("Report your fixes by %(due)s.", due=format_date_vn(visit.remediation_due))
            )
        paragraphs.append(
            _("Check the file is genuine: %(url)s", url=f"{base}/verify/{minutes.verify_code}")
        )
        return Mail(
            subject, paragraphs, (_("Read, download and acknowledge the minutes"), f"{base}/unit/")
        )

    event = "minutes.superseded" if supersedes is not None else "minutes.issued"
    rows = _sent(_email(user, event, compose) for user in unit_accounts(visit.unit_id))
    data = webhooks.minutes_data(minutes, base)
    rows += webhooks.publish("minutes.issued", data)
    if supersedes is not None:
        old = webhooks.minutes_data(supersedes, base)
        old["superseded_by"] = data["minutes"]
        rows += webhooks.publish("minutes.superseded", old)
    return rows


def _request_link(review_id: int | None, remediation_id: int) -> str:
    if review_id is not None:
        return f"{_base()}/unit/requests/{review_id}"
    return f"{_base()}/unit/remediations/{remediation_id}"


def visit_reviewed(row: Review, remediations: list[Remediation]) -> list[Outbox]:
    """The office decided on a visit: the webhooks hear it, and a unit asked for fixes is told."""
    visit = row.inspection
    rows = webhooks.publish("visit.reviewed", webhooks.review_data(row, remediations))
    if row.decision is not ReviewDecision.REMEDIATION_REQUIRED or not remediations:
        return rows
    for remediation in remediations:
        rows += webhooks.publish("remediation.required", webhooks.remediation_data(remediation))
    due = remediations[0].due_date

    def compose() -> Mail:
        items = [r.request for r in remediations if r.item_id is not None]
        paragraphs = [
            _(
                "The Home Affairs office reviewed the visit of %(date)s and requires %(unit)s"
                " to fix what it found, by %(due)s.",
                date=format_date_vn(visit.started_at),
                unit=visit.unit.name,
                due=format_date_vn(due),
            ),
            row.comment,
            *(f"– {text}" for text in items),
        ]
        return Mail(
            _(
                "Fixes required by %(due)s – %(unit)s",
                due=format_date_vn(due),
                unit=visit.unit.name,
            ),
            paragraphs,
            (_("Report the fixes"), _request_link(row.id, remediations[0].id)),
        )

    return rows + _sent(
        _email(user, "remediation.required", compose) for user in unit_accounts(visit.unit_id)
    )


def remediation_answered(remediation: Remediation) -> list[Outbox]:
    """A unit reported a fix: the office's accounts and the webhooks are told."""
    visit = remediation.inspection

    def compose() -> Mail:
        return Mail(
            _("%(unit)s reported a fix", unit=visit.unit.name),
            [
                _(
                    "%(unit)s answered the request “%(request)s” (visit of %(date)s).",
                    unit=visit.unit.name,
                    request=remediation.request,
                    date=format_date_vn(visit.started_at),
                ),
                remediation.response,
            ],
            (_("Accept or reopen"), f"{_base()}/office/remediations/{remediation.id}"),
        )

    rows = webhooks.publish("remediation.answered", webhooks.remediation_data(remediation))
    return rows + _sent(
        _email(user, "remediation.answered", compose)
        for user in _accounts(User.role == Role.OFFICE)
    )


def remediation_decided(remediation: Remediation) -> list[Outbox]:
    """The office accepted a fix (closed) or reopened it (required again, the unit told)."""
    if remediation.status is RemediationStatus.ACCEPTED:
        return webhooks.publish("remediation.closed", webhooks.remediation_data(remediation))
    visit = remediation.inspection

    def compose() -> Mail:
        return Mail(
            _("A fix was reopened – %(unit)s", unit=visit.unit.name),
            [
                _(
                    "The office reopened the request “%(request)s”; report again by %(due)s.",
                    request=remediation.request,
                    due=format_date_vn(remediation.due_date),
                ),
                remediation.office_comment,
            ],
            (_("Report the fixes"), _request_link(remediation.review_id, remediation.id)),
        )

    rows = webhooks.publish("remediation.required", webhooks.remediation_data(remediation))
    return rows + _sent(
        _email(user, "remediation.reopened", compose) for user in unit_accounts(visit.unit_id)
    )


def minutes_acknowledged(minutes: Minutes) -> list[Outbox]:
    """A unit acknowledged its minutes: the office's accounts are told."""
    visit = minutes.inspection

    def compose() -> Mail:
        return Mail(
            _(
                "%(unit)s acknowledged minutes no. %(number)s",
                unit=visit.unit.name,
                number=minutes.display_number,
            ),
            [
                _(
                    "%(unit)s acknowledged receiving minutes no. %(number)s (visit of %(date)s).",
                    unit=visit.unit.name,
                    number=minutes.display_number,
                    date=format_date_vn(visit.started_at),
                )
            ],
            (_("Open the visit"), f"{_base()}/office/visits/{visit.id}"),
        )

    return _sent(
        _email(user, "minutes.acknowledged", compose)
        for user in _accounts(User.role == Role.OFFICE)
    )


def signatures_voided(inspection: Inspection, names: list[str], actor_user_id) -> list[Outbox]:
    """A change voided signatures: the visit's team (but whoever changed it) is told."""
    team = [m.user for m in inspection.team if m.user_id != actor_user_id]

    def compose() -> Mail:
        return Mail(
            _("Signatures voided – visit to %(unit)s", unit=inspection.unit.name),
            [
                _(
                    "A change to the visit to %(unit)s voided the signatures of %(names)s:"
                    " they must sign again before the minutes are issued.",
                    unit=inspection.unit.name,
                    names=", ".join(names),
                )
            ],
            (_("Open the visit"), f"{_base()}/inspector/visits/{inspection.id}/summary"),
        )

    return _sent(_email(user, "signatures.voided", compose) for user in team)


# ---- reminders (from the queue's schedule) ----


def remind(today: date | None = None) -> int:
    """Remind units of requests due within REMIND_DAYS_BEFORE days and of those overdue,
    each once per recipient and deadline (the dedupe key); return how many were recorded.
    The caller commits; the messages go out after it."""
    today = today or local_today()
    rows = db.session.scalars(
        select(Remediation)
        .join(Inspection, Remediation.inspection_id == Inspection.id)
        .where(
            Remediation.status.in_((RemediationStatus.OPEN, RemediationStatus.REOPENED)),
            Remediation.due_date <= today + timedelta(days=REMIND_DAYS_BEFORE),
            Inspection.superseded_at.is_(None),
        )
        .order_by(Remediation.id)
    ).all()
    requests: dict[tuple, list[Remediation]] = {}
    for row in rows:  # one reminder per request (a review's items share its deadline)
        requests.setdefault((row.review_id or -row.id, row.due_date), []).append(row)
    made = 0
    for (_key, due), items in requests.items():
        event = "reminder.overdue" if due < today else "reminder.due_soon"
        first, visit = items[0], items[0].inspection
        for user in unit_accounts(visit.unit_id):
            key = f"{event}:{first.review_id or 'r' + str(first.id)}:{due.isoformat()}:{user.id}"
            if db.session.scalar(select(Outbox.id).filter_by(dedupe_key=key)) is not None:
                continue
            compose = partial(_reminder, event, visit, items, due, today)
            row = _email(user, event, compose, key)
            made += row is not None
    db.session.flush()
    return made


def _reminder(event: str, visit: Inspection, items: list[Remediation], due: date, today) -> Mail:
    facts = {"unit": visit.unit.name, "due": format_date_vn(due), "n": len(items)}
    if event == "reminder.overdue":
        subject = _("Overdue: fixes were due on %(due)s – %(unit)s", **facts)
        lead = _(
            "The deadline of %(due)s has passed and %(n)d requested fixes are not reported.",
            **facts,
        )
    else:
        subject = _("Fixes due on %(due)s – %(unit)s", **facts)
        days = (due - today).days
        lead = (
            _("%(n)d requested fixes are due on %(due)s, in %(days)d days.", days=days, **facts)
            if days
            else _("%(n)d requested fixes are due today, %(due)s.", **facts)
        )
    return Mail(
        subject,
        [lead, *(f"– {r.request}" for r in items)],
        (_("Report the fixes"), _request_link(items[0].review_id, items[0].id)),
    )


# ---- delivering ----


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(now, limit: int, outbox_id: int | None = None) -> list[int]:
    """Take due messages for this worker in one statement: on PostgreSQL rows another
    worker is taking are skipped (SKIP LOCKED), and a row is taken by one worker only."""
    due = (
        select(Outbox.id)
        .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if outbox_id is not None:
        due = due.where(Outbox.id == outbox_id)
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    taken = db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(due.scalar_subquery()))
        .values(
            attempts=Outbox.attempts + 1,
            next_attempt_at=now + lease,
            claimed_by=worker_name(),
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = sorted(taken)
    db.session.commit()
    return ids


def release_orphans() -> int:
    """Free the messages that workers on this machine were sending when they died (a
    kill -9), so a restarted worker sends them now rather than when their lease ends."""
    host = socket.gethostname()
    rows = db.session.scalars(
        select(Outbox).where(
            Outbox.status == OutboxStatus.PENDING, Outbox.claimed_by.like(f"{host}:%")
        )
    ).all()
    freed = 0
    for row in rows:
        pid = int(row.claimed_by.rsplit(":", 1)[1])
        if pid != os.getpid() and not _alive(pid):
            row.claimed_by, row.next_attempt_at = "", utcnow()
            freed += 1
    db.session.commit()
    if freed:
        log.info("outbox: %d messages left by a stopped worker are due again", freed)
    return freed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sender(row: Outbox, config) -> Callable[[], int | None]:
    """Everything needed to hand the message over, read now, so the send itself needs no
    database: it returns a webhook's HTTP status, and raises on failure."""
    if row.channel is Channel.WEBHOOK:
        return partial(
            webhooks.post, row.address, row.webhook.secret, row.id, row.body_text, config
        )
    return partial(mailer.send, mailer.message_of(row, config["MAIL_FROM"]), config, row.id)


def _attempt(outbox_id: int, now) -> bool:
    """Send one claimed message with no transaction open (a slow mail server or endpoint
    must not hold the database), then record the attempt and its result."""
    config = current_app.config
    row = db.session.get(Outbox, outbox_id)
    attempt, send = row.attempts, _sender(row, config)
    db.session.rollback()
    started, status_code, error = time.monotonic(), None, ""
    try:
        status_code = send()
    except (mailer.MailError, webhooks.WebhookError) as exc:
        error = str(exc)[:2000]
        status_code = getattr(exc, "status_code", None)
    took = int((time.monotonic() - started) * 1000)
    row = db.session.get(Outbox, outbox_id)
    if row is None:  # its webhook was deleted meanwhile
        db.session.rollback()
        return False
    db.session.add(
        DeliveryAttempt(
            outbox_id=outbox_id,
            at=utcnow(),
            duration_ms=took,
            status_code=status_code,
            ok=not error,
            error=error,
        )
    )
    row.claimed_by = ""
    if error:
        row.last_error = error
        if attempt > len(BACKOFF):
            row.status = OutboxStatus.FAILED
        else:
            row.next_attempt_at = now + timedelta(seconds=BACKOFF[attempt - 1])
        log.warning("outbox %s: attempt %d failed: %s", outbox_id, attempt, error)
    else:
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, utcnow(), ""
        log.info("outbox %s: %s sent to %s in %d ms", outbox_id, row.event, row.address, took)
    db.session.commit()
    return not error


def deliver(outbox_id: int, now=None) -> bool:
    """Send one waiting message now if it is due; on failure schedule the next attempt.

    A worker killed between sending and recording sends it again once its claim is
    released: at least once, under the same Message-ID or webhook-id.
    """
    now = now or utcnow()
    return any(_attempt(i, now) for i in _claim(now, 1, outbox_id))


def sweep(now=None, limit: int = 200) -> int:
    """Deliver every message whose attempt is due; return how many were sent."""
    now = now or utcnow()
    sent = 0
    for _turn in range(limit):  # one claim at a time: a slow batch never outlives its lease
        claimed = _claim(now, 1)
        if not claimed:
            break
        sent += _attempt(claimed[0], now)
    return sent


# ---- the administrator's view ----


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
        row.attempts, row.claimed_by = 0, ""
        db.session.flush()
        audit.record(actor, "message_retried", row, event=row.event)
        # Handed to the worker after the commit, as a new message is (inspection/queue.py).
        db.session.info.setdefault("outbox_new", []).append(row.id)
    return row
