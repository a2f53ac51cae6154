"""Render the minutes (biên bản) to PDF with WeasyPrint.

The template gets plain data only. WeasyPrint fetches through MinutesFetcher, which serves
the app's own static files and stored blobs and refuses everything else: no ``file:``
URLs, no network, whatever a free-text field might contain.
"""

import logging
import mimetypes
import re
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from inspection.services import blobs

log = logging.getLogger(__name__)

# A host that cannot exist: every resource URL in the minutes is resolved against it.
BASE = "https://minutes.invalid/"


class RefusedURL(ValueError):
    pass


class MinutesFetcher(URLFetcher):
    """Serve the app's static files, stored blobs and data: URLs; refuse the rest."""

    def __init__(self, static_folder: str, files: dict | None = None):
        super().__init__(allowed_protocols={"https", "data"}, allow_redirects=False)
        self.static = Path(static_folder).resolve()
        self.files = files or {}

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith(BASE + "static/"):
            path = (self.static / url[len(BASE + "static/") :]).resolve()
            if self.static not in path.parents or not path.is_file():
                raise RefusedURL(url)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
        if url.startswith(BASE + "blob/"):
            sha256 = url[len(BASE + "blob/") :]
            found = self.files.get(sha256) or blobs.read(sha256)
            if found is None:
                raise RefusedURL(url)
            data, content_type = found
            return URLFetcherResponse(url, data, {"Content-Type": content_type})
        log.warning("refused to fetch %s while rendering minutes", url[:200])
        raise RefusedURL(url)


def render_html(data: dict) -> str:
    return render_template("minutes/minutes.html", **data)


_BLOB_URL = re.compile(re.escape(BASE) + r"blob/([0-9a-f]{64})")


def files_of(html: str) -> dict[str, tuple[bytes, str]]:
    """The stored files the HTML shows (signatures, photos, the seal), read now: the
    render that follows then reads nothing from the database."""
    return {
        sha256: found for sha256 in set(_BLOB_URL.findall(html)) if (found := blobs.read(sha256))
    }


def html_to_pdf(html: str, files: dict | None = None) -> bytes:
    """Turn the minutes' HTML into PDF bytes (fonts embedded, subset); ``files`` are the
    stored files it shows when already read (``files_of``)."""
    fetcher = MinutesFetcher(current_app.static_folder, files)
    return HTML(string=html, base_url=BASE, url_fetcher=fetcher).write_pdf()
