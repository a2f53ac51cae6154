"""Webhooks: events pushed to the endpoints an administrator registered, signed per the
Standard Webhooks specification (https://www.standardwebhooks.com/).

An event is recorded in the outbox in the transaction of the change that causes it, one
row per subscribed endpoint, and posted after the commit by the worker; the outbox id is
the ``webhook-id``, so a receiver recognises a delivery repeated after a crash. Events
come from issued minutes and the office's review only: a planned (surprise) visit is
never sent anywhere.
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    Channel,
    Minutes,
    Outbox,
    OutboxStatus,
    Remediation,
    Review,
    Webhook,
    utcnow,
)
from inspection.services import audit
from inspection.services.errors import NotFound, ServiceError

EVENTS = (
    "minutes.issued",
    "minutes.superseded",
    "remediation.required",
    "remediation.answered",
    "remediation.closed",
    "visit.reviewed",
)
PING = "webhook.ping"
MAX_WEBHOOKS = 50


class WebhookError(Exception):
    """The endpoint did not take the event; the outbox tries again later."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


# ---- registering ----


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None. A name is resolved and every address
    it has is checked: private, loopback and link-local targets are refused unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return str(_l("Give an http:// or https:// address."))
    if parts.username or parts.password:
        return str(_l("Put no user name or password in the address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return str(_l("The port in the address is not a number from 1 to 65535."))
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError):
        return str(_l("The host %(host)s cannot be found.", host=parts.hostname))
    if not allow_private and any(_private(info[4][0].split("%")[0]) for info in infos):
        return str(
            _l(
                "%(host)s is a private or local address; webhooks go to public addresses only.",
                host=parts.hostname,
            )
        )
    return None


def _has_controls(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def register(
    actor: audit.Actor, *, url: str, events: list[str], description: str = ""
) -> tuple[Webhook, str]:
    """Register an endpoint; return it and its secret, which is shown this once."""
    url, description = (url or "").strip(), (description or "").strip()
    events = list(dict.fromkeys(events or []))
    fields = {}
    if len(url) > 2000:
        fields["url"] = str(_l("At most %(n)d characters.", n=2000))
    else:
        problem = url_problem(url, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        if problem:
            fields["url"] = problem
    unknown = [e for e in events if e not in EVENTS]
    if not events:
        fields["events"] = str(_l("Choose at least one event."))
    elif unknown:
        fields["events"] = str(_l("Unknown events: %(events)s", events=", ".join(unknown)))
    if len(description) > 200:
        fields["description"] = str(_l("At most %(n)d characters.", n=200))
    # Control characters (NUL above all, which PostgreSQL refuses) belong in neither.
    if _has_controls(url):
        fields["url"] = str(_l("Give an http:// or https:// address."))
    if _has_controls(description):
        fields["description"] = str(_l("Remove the control characters."))
    if len(listed()) >= MAX_WEBHOOKS:
        fields["url"] = str(_l("At most %(n)d webhooks.", n=MAX_WEBHOOKS))
    if fields:
        raise ServiceError(str(_l("The webhook was not registered.")), fields)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row = Webhook(
        url=url,
        events=" ".join(e for e in EVENTS if e in events),
        description=description,
        secret=secret,
        created_by_id=actor.user_id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "webhook_registered", row, url=url, events=row.event_list)
    return row, secret


def listed() -> list[Webhook]:
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def get(webhook_id: int) -> Webhook:
    row = db.session.get(Webhook, webhook_id)
    if row is None:
        raise NotFound(str(_l("Not found.")))
    return row


def remove(actor: audit.Actor, row: Webhook) -> None:
    """Delete an endpoint with its waiting deliveries and their log."""
    audit.record(actor, "webhook_deleted", row, url=row.url)
    db.session.delete(row)
    db.session.flush()


def ping(actor: audit.Actor, row: Webhook) -> Outbox:
    """Queue a test event to one endpoint; its delivery shows in the log."""
    audit.record(actor, "webhook_pinged", row)
    outbox = _queue(row, PING, {"webhook_id": row.id, "message": "ping"})
    db.session.flush()
    return outbox


def deliveries(row: Webhook, limit: int = 50) -> list[Outbox]:
    return list(
        db.session.scalars(
            select(Outbox).filter_by(webhook_id=row.id).order_by(Outbox.id.desc()).limit(limit)
        )
    )


# ---- events ----


def _queue(row: Webhook, event: str, data: dict) -> Outbox:
    now = utcnow()
    payload = {
        "type": event,
        "timestamp": now.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    outbox = Outbox(
        channel=Channel.WEBHOOK,
        event=event,
        webhook_id=row.id,
        address=row.url,
        subject=event,
        body_text=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(outbox)
    return outbox


def publish(event: str, data: dict) -> list[Outbox]:
    """Record ``event`` for every active endpoint subscribed to it."""
    assert event in EVENTS, event
    if db.session.info.get("silenced"):  # history recorded without telling anyone
        return []
    rows = db.session.scalars(select(Webhook).filter_by(active=True).order_by(Webhook.id))
    return [_queue(row, event, data) for row in rows if event in row.event_list]


def _iso(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def minutes_data(minutes: Minutes, base_url: str) -> dict:
    """What a receiver needs to fetch and check the minutes; nothing about plans."""
    visit = minutes.inspection
    base = base_url.rstrip("/")
    return {
        "minutes": {
            "id": minutes.id,
            "number": minutes.display_number,
            "issued_at": _iso(minutes.created_at),
            "sha256": minutes.pdf_sha256,
            "verify_url": f"{base}/verify/{minutes.verify_code}",
            "pdf_url": f"{base}/api/v1/inspections/{visit.id}/minutes.pdf",
            "supersedes_id": minutes.supersedes_id,
        },
        "inspection": {
            "id": visit.id,
            "kind": visit.kind.value,
            "unit": {"id": visit.unit_id, "name": visit.unit.name},
            "started_at": _iso(visit.started_at),
            "ended_at": _iso(visit.ended_at),
            "remediation_due": _iso(visit.remediation_due),
        },
    }


def remediation_data(row: Remediation) -> dict:
    visit = row.inspection
    return {
        "remediation": {
            "id": row.id,
            "review_id": row.review_id,
            "item_code": row.item.code if row.item else None,
            "request": row.request,
            "due_date": _iso(row.due_date),
            "status": row.status.value,
            "response": row.response,
            "responded_at": _iso(row.responded_at),
            "office_comment": row.office_comment,
            "closed_at": _iso(row.closed_at),
        },
        "inspection": {"id": visit.id, "unit": {"id": visit.unit_id, "name": visit.unit.name}},
    }


def review_data(row: Review, remediations: list[Remediation]) -> dict:
    visit = row.inspection
    return {
        "review": {
            "id": row.id,
            "decision": row.decision.value,
            "comment": row.comment,
            "reviewed_at": _iso(row.created_at),
            "remediation_ids": [r.id for r in remediations],
        },
        "inspection": {"id": visit.id, "unit": {"id": visit.unit_id, "name": visit.unit.name}},
    }


# ---- delivering ----


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body`` with the secret's key bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer to record, not a new (possibly private) target


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, secret: str, outbox_id: int, payload: str, config) -> int:
    """POST the event (outbox row ``outbox_id``); return the HTTP status (2xx), or raise
    WebhookError."""
    problem = url_problem(url, config["WEBHOOK_ALLOW_PRIVATE"])
    if problem:  # checked again: the name may point elsewhere since it was registered
        raise WebhookError(problem)
    body = payload.encode()
    msg_id, timestamp = f"msg_{outbox_id}", int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "kiem-tra-cong-vu-webhooks/1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, msg_id, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=config["WEBHOOK_TIMEOUT_SECONDS"]) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code} {exc.reason}", exc.code) from exc
    except (OSError, ValueError) as exc:
        raise WebhookError(f"{type(exc).__name__}: {exc}") from exc
