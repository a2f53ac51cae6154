"""The request boundary: what a request may carry, the one transaction it owns, and how a
refusal reaches the user.

- A request is one transaction. It is committed once, after the view, when the answer is a
  success (below 400); an error answer or an exception rolls it back. Views do not commit;
  the few that must keep a record of a refusal (a failed login's audit event) say so with
  ``keep_writes()``.
- A ``ServiceError`` becomes the JSON error envelope on the API (DESIGN.md) and an error
  page elsewhere; a page that shows it on its form uses ``attempt(form)`` instead.
- JSON bodies are bounded, ids in URLs fit the database's INTEGER.
"""

import json
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, flash, g, jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from inspection.extensions import db
from inspection.services.errors import BadInput, Conflict, ServiceError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You do not have access to this page."),
        404: _("Not found."),
        405: _("This action is not allowed here."),
        409: _("This record was changed or can no longer be edited."),
        413: _("The file is too large."),
        415: _("This file type is not accepted."),
        422: _("Some values are not valid."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Your saved work is safe; please try again."),
    }


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = _messages().get(status, exc.description)
    wait = getattr(exc, "retry_after", None)
    if status == 429 and isinstance(wait, int) and wait > 120:  # a login lockout
        message = _(
            "Too many attempts. Try again in %(minutes)d minutes.",
            minutes=math.ceil(wait / 60),
        )
    if wants_json():
        body, status = json_error(status, ERROR_CODES.get(status, "error"), message)
    else:
        body = make_response(render_template("error.html", status=status, message=message))
    # Keep the exception's own headers (Allow on a 405, Retry-After on a 429).
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            body.headers[name] = value
    return body, status


def handle_service_error(exc: ServiceError):
    if wants_json():
        return json_error(exc.status, exc.code, exc.message, exc.fields)
    return render_template("error.html", status=exc.status, message=exc.message), exc.status


def handle_stale_data(_exc: StaleDataError):
    """A write based on a version of the visit that another request changed meanwhile
    (its ``version``, checked by the UPDATE): a 409 like any other change based on an old
    version, never a 500. Services that expect it say more (results.save_results)."""
    db.session.rollback()
    return handle_service_error(Conflict(_("Someone else saved this visit in the meantime.")))


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    message = _messages()[500]
    if wants_json():
        return json_error(500, "internal", message)
    return render_template("error.html", status=500, message=message), 500


def unauthorized_message() -> str:
    return _messages()[401]


def keep_writes() -> None:
    """Commit this request's writes although its answer is an error (an audit record of
    the refusal, a counted failure)."""
    g.keep_writes = True


def _end_transaction(response):
    """Commit a successful request's writes once; roll back anything else."""
    if response.status_code < 400 or g.get("keep_writes"):
        db.session.commit()
    else:
        db.session.rollback()
    return response


@dataclass
class Attempt:
    ok: bool = True
    error: ServiceError | None = None


@contextmanager
def attempt(form=None, rename: dict[str, str] | None = None) -> Iterator[Attempt]:
    """Run a page's service call; on a ``ServiceError`` undo its writes and show why.

    The message is flashed once, with the reasons of fields the form does not show; the
    others go under their fields (``rename`` maps a service's field name to the form's)::

        with attempt(form) as outcome:
            planning.save_plan(actor(), year, counts)
        if outcome.ok:
            return redirect(...)
    """
    outcome = Attempt()
    try:
        yield outcome
    except ServiceError as exc:
        db.session.rollback()
        outcome.ok, outcome.error = False, exc
        unshown = []
        for name, message in exc.fields.items():
            name = (rename or {}).get(name, name)
            if form is not None and name in form:
                form[name].errors = [*form[name].errors, message]
            else:
                unshown.append(message)
        flash(" ".join([exc.message, *unshown]), "error")


MAX_JSON_BYTES = 2 * 1024 * 1024  # a whole 40-person save is a few tens of kilobytes


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class StrictJSONProvider(DefaultJSONProvider):
    """JSON bodies a server can hold: bounded in size and depth, no NaN or Infinity, no
    lone surrogates or NUL characters (text that cannot be stored). Anything else is a
    400, never a 500."""

    # Keys in the order they were built: a refused multipart form's field names, echoed in
    # a validation error, may mix text and None, which sorting cannot compare.
    sort_keys = False

    def loads(self, s, **kwargs):
        if len(s) > MAX_JSON_BYTES:
            raise ValueError("JSON body too large")
        try:
            data = json.loads(s, parse_constant=_refuse_constant, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        stack = [data]
        while stack:  # every text must be valid UTF-8 (no lone surrogate)
            value = stack.pop()
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise ValueError("JSON text is not valid Unicode") from exc
                if "\x00" in value:  # PostgreSQL stores no NUL in text
                    raise ValueError("JSON text holds a NUL character")
            elif isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
        return data


class DatabaseInt(IntegerConverter):
    """An id in a URL: larger than the database's INTEGER is simply not found (404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse_nul() -> None:
    """A form field or query value holding a NUL character (which no one types, and
    PostgreSQL cannot store in text) is a 400 before any view runs."""
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in FORM_TYPES:
        values = [*request.args.values(), *request.form.values()]
    else:
        values = request.args.values()
    if any("\x00" in value for value in values):
        raise BadInput(_("Text may not contain the character U+0000 (NUL)."))


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = DatabaseInt
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(_end_transaction)
