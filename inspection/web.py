"""Request plumbing shared by every blueprint: who is logged in, errors, headers."""

import hashlib
import json
import logging
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import (
    Flask,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    session,
)
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from inspection.extensions import db, login_manager
from inspection.models import User
from inspection.services import accounts
from inspection.services.errors import ServiceError

log = logging.getLogger(__name__)


class Anonymous(AnonymousUserMixin):
    role = None
    unit_id = None


@login_manager.user_loader
def load_user(user_id: str, *, check_session: bool = True) -> User | None:
    """Load the session's user; a bumped session epoch logs old sessions out.

    ``check_session=False`` is for a login still at its second step: no session yet.
    """
    try:
        uid, epoch = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_epoch != epoch or not user.active:
        return None
    # The session must still be live on the server: a logout ends it (a copied cookie too).
    if check_session and not accounts.session_is_live(session.get("sid"), user.id):
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(req) -> User | None:
    """Authenticate API requests (and the files they link to) with a bearer token."""
    if req.blueprint not in ("api", "files"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = accounts.user_for_token(header[len("Bearer ") :].strip())
    # Only a token that authenticated the request exempts it from CSRF (api._bearer).
    g.bearer_user = user
    return user


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


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    message = _messages()[500]
    if wants_json():
        return json_error(500, "internal", message)
    return render_template("error.html", status=500, message=message), 500


# Characters a header's ASCII fallback name may not carry: quotes, backslashes, controls.
_UNSAFE_FALLBACK = re.compile(r'["\\\x00-\x1f\x7f;*=]')


def content_disposition(disposition: str, filename: str) -> str:
    """A Content-Disposition header value that any filename survives (RFC 6266, 5987).

    ``filename*`` carries the name in UTF-8, percent-encoded (Vietnamese, quotes and bidi
    controls included); ``filename`` is an ASCII fallback without diacritics or quotes.
    """
    fallback = unicodedata.normalize("NFKD", filename).replace("đ", "d").replace("Đ", "D")
    fallback = fallback.encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_FALLBACK.sub("_", fallback).strip() or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def security_headers(response):
    """Set the headers every response carries."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self';"
        " object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Permissions-Policy", "camera=(self), geolocation=(self), microphone=()"
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    if (current_app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    # No software or version: the development server would announce "Werkzeug/…".
    response.headers["Server"] = "kiem-tra"
    if request.blueprint and response.mimetype in ("text/html", "application/json"):
        # Pages and API answers carry personal data: keep them out of shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class StaticVersions:
    """Content hashes of static files, for URLs that can be cached for a year.

    ``url_for("static", filename=…)`` gets ``?v=<hash of the content>``; a request carrying
    the current hash is served with ``Cache-Control: immutable``, so a phone downloads
    the CSS and JS once per release, and a new release changes the URL.
    """

    def __init__(self, app: Flask):
        self.folder = Path(app.static_folder)
        self.cache: dict[str, tuple[float, str]] = {}

    def digest(self, filename: str) -> str | None:
        path = self.folder / filename
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = self.cache.get(filename)
        if cached is None or cached[0] != mtime:
            cached = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
            self.cache[filename] = cached
        return cached[1]

    def add_version(self, endpoint: str, values: dict) -> None:
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        if digest := self.digest(values["filename"]):
            values["v"] = digest

    def cache_headers(self, response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            version = request.args.get("v")
            if version and version == self.digest(filename):
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            else:
                response.headers["Cache-Control"] = "no-cache"  # revalidate by ETag
        return response


MAX_JSON_BYTES = 2 * 1024 * 1024  # a whole 40-person save is a few tens of kilobytes


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class StrictJSONProvider(DefaultJSONProvider):
    """JSON bodies a server can hold: bounded in size and depth, no NaN or Infinity, no
    lone surrogates (text that cannot be stored). Anything else is a 400, never a 500."""

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


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = DatabaseInt
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        if wants_json():
            return json_error(401, "unauthorized", _messages()[401])
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(Exception, handle_unexpected)
    app.after_request(security_headers)
    versions = StaticVersions(app)
    app.url_defaults(versions.add_version)
    app.after_request(versions.cache_headers)
