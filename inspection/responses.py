"""What responses carry: security headers on every one, cache headers for static files,
and stored files (photos, minutes, evidence) sent with names that any filename survives."""

import hashlib
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Flask, abort, current_app, make_response, request

from inspection.services import audit, blobs
from inspection.services import minutes as minutes_service
from inspection.views.access import actor

# Characters a header's ASCII fallback name may not carry: quotes, backslashes, controls.
_UNSAFE_FALLBACK = re.compile(r'["\\\x00-\x1f\x7f;*=]')


def content_disposition(disposition: str, filename: str) -> str:
    """Return a Content-Disposition header value that any filename survives (RFC 6266, 5987).

    ``filename*`` carries the name in UTF-8, percent-encoded (Vietnamese, quotes and bidi
    controls included); ``filename`` is an ASCII fallback without diacritics or quotes.
    """
    fallback = unicodedata.normalize("NFKD", filename).replace("đ", "d").replace("Đ", "D")
    fallback = fallback.encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_FALLBACK.sub("_", fallback).strip() or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def send_blob(sha256: str, filename: str, disposition: str = "inline"):
    """Answer with a stored blob; a matching If-None-Match gets 304."""
    if request.if_none_match.contains(sha256):
        response = make_response("", 304)
    else:
        found = blobs.read(sha256)
        if found is None:
            abort(404)
        data, content_type = found
        response = make_response(data)
        response.content_type = content_type
    response.set_etag(sha256)
    # Private: personal data must not sit in shared caches; immutable: the bytes never change.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = content_disposition(disposition, filename)
    return response


def send_minutes(minutes):
    """Serve the stored, signed PDF (never re-rendered) and record the download."""
    audit.record(actor(), "minutes_downloaded", minutes)
    return send_blob(minutes.pdf_sha256, minutes_service.filename(minutes), "attachment")


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


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
    versions = StaticVersions(app)
    app.url_defaults(versions.add_version)
    app.after_request(versions.cache_headers)
