"""The job queue (Huey): messages go out after the commit that recorded them, and a
periodic sweep sends what is due (retries, and anything a crash left behind).

It runs with Huey's SQLite storage beside the app (instance/queue.sqlite) and no other
server; QUEUE_URL=redis://… shares one queue between several instances. The worker is
`flask --app app worker`, which `make run` starts too.
"""

import logging
from pathlib import Path

from flask import Flask
from huey import RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

from inspection.extensions import db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    url = app.config.get("QUEUE_URL") or ""
    if url.startswith("redis://"):
        huey = RedisHuey("inspection", url=url)
    else:
        path = Path(url or f"{app.instance_path}/queue.sqlite")
        path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no instance/ yet
        huey = SqliteHuey("inspection", filename=str(path))

    @huey.task()
    def deliver(outbox_id: int) -> None:
        from inspection.services import notifications

        with app.app_context():
            notifications.deliver(outbox_id)

    @huey.periodic_task(crontab(minute="*"))
    def sweep() -> None:
        from inspection.services import notifications

        with app.app_context():
            sent = notifications.sweep()
            if sent:
                log.info("queue sweep: %d messages sent", sent)

    @huey.periodic_task(crontab(minute="7"))
    def remind() -> None:
        """Every hour: deadlines 3 days ahead and those passed (each reminded once)."""
        from inspection.services import notifications

        with app.app_context():
            made = notifications.remind()
            db.session.commit()  # the reminders go out after it
            if made:
                log.info("queue: %d reminders queued", made)

    @huey.periodic_task(crontab(minute="37", hour="19"))  # 02:37 in Hà Nội
    def extend_ltv() -> None:
        """Every night, with a TSA configured: renew the timestamps that end within the
        coming 180 days (`flask minutes extend-ltv` does the same by hand)."""
        from inspection.pdf import signing
        from inspection.services import minutes
        from inspection.services.audit import SYSTEM

        with app.app_context():
            options = signing.Options.of(app.config)
            if not options.tsa_url:
                return
            trusted = signing.trust_for_extension(app.config)
            for step in minutes.extend_due(SYSTEM, days=180, options=options, trusted=trusted):
                if step.error and not step.again:
                    log.warning("minutes %s not extended: %s", step.minutes.id, step.error)

    app.extensions["queue"] = {
        "huey": huey,
        "deliver": deliver,
        "sweep": sweep,
        "remind": remind,
        "extend_ltv": extend_ltv,
    }


def _new_outbox_ids(session: Session) -> list:
    return session.info.setdefault("outbox_new", [])


@event.listens_for(Session, "after_flush")
def _collect(session, _context) -> None:
    from inspection.models import Outbox

    _new_outbox_ids(session).extend(o.id for o in session.new if isinstance(o, Outbox))


@event.listens_for(Session, "after_commit")
def _dispatch(session) -> None:
    """Hand the committed messages to the worker; if the queue is out of reach, the sweep
    sends them within a minute anyway."""
    ids = session.info.pop("outbox_new", [])
    if not ids:
        return
    from flask import current_app

    queue = current_app.extensions.get("queue") if current_app else None
    if queue is None or not current_app.config.get("QUEUE_DISPATCH", True):
        return
    for outbox_id in ids:
        try:
            queue["deliver"](outbox_id)
        except Exception:  # the row is committed: the sweep delivers it later
            log.exception("outbox %s: not queued; the sweep will send it", outbox_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, _previous) -> None:
    if not session.in_transaction():
        session.info.pop("outbox_new", None)


def consumer(app: Flask, workers: int = 2):
    """The worker's consumer: polls at least every second, so a message leaves within it.

    Before it starts, messages a killed worker on this machine was sending are freed, and
    a sweep is queued: a restart sends what a crash left at once, not a minute later.
    SIGTERM (what systemd and supervisors send to stop) lets the tasks under way finish,
    so a mail handed to the SMTP server is recorded as sent; SIGINT stops at once."""
    from inspection.services import notifications

    queue = app.extensions["queue"]
    with app.app_context():
        notifications.release_orphans()
    queue["sweep"]()
    return queue["huey"].create_consumer(
        workers=workers, periodic=True, max_delay=1.0, graceful_signal="TERM"
    )


__all__ = ["consumer", "db", "init_app"]
