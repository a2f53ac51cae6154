"""Structured logs: one JSON object per line on stderr, each request logged once.

Every line written while a request is served carries its request id (taken from a
proxy's ``X-Request-ID`` when it looks sane, generated otherwise, and sent back in the
response), so a support call can be traced from nginx through to the audit log.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "request_id", "ip")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("inspection.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if "request_id" not in entry and has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: int = logging.INFO) -> None:
    """Send every logger's records to stderr as JSON lines (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic", "weasyprint", "fontTools", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _start() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    # The user the request already loaded, if any: logging must not load one (static files).
    user = g.get("_login_user")
    # Read from the identity map, never loaded: an export may have let go of the user.
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    user_id = state.identity[0] if state is not None and state.identity else None
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(
                (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1
            ),
            "user_id": user_id,
            "request_id": g.get("request_id"),
            "ip": request.remote_addr,
        },
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
