"""Render the minutes (biên bản) to PDF with WeasyPrint.

The template gets plain data only. WeasyPrint fetches through MinutesFetcher, which serves
the app's own static files and stored blobs and refuses everything else: no ``file:``
URLs, no network, whatever a free-text field might contain.
"""

import logging
import mimetypes
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

    def __init__(self, static_folder: str):
        super().__init__(allowed_protocols={"https", "data"}, allow_redirects=False)
        self.static = Path(static_folder).resolve()

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
            found = blobs.read(url[len(BASE + "blob/") :])
            if found is None:
                raise RefusedURL(url)
            data, content_type = found
            return URLFetcherResponse(url, data, {"Content-Type": content_type})
        log.warning("refused to fetch %s while rendering minutes", url[:200])
        raise RefusedURL(url)


def render_html(data: dict) -> str:
    return render_template("minutes/minutes.html", **data)


def html_to_pdf(html: str) -> bytes:
    """Turn the minutes' HTML into PDF bytes (fonts embedded, subset)."""
    fetcher = MinutesFetcher(current_app.static_folder)
    return HTML(string=html, base_url=BASE, url_fetcher=fetcher).write_pdf()
