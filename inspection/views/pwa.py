"""The installable app: its manifest and the service worker that keeps it usable offline.

The worker's script is ``static/js/sw.js`` with the app shell (the hashed URLs of the
static files the inspector's pages use) written in front of it, so a release that
changes any of those files changes the worker's bytes and phones update it.
"""

import hashlib
import json

from flask import Blueprint, current_app, jsonify, url_for
from flask_babel import gettext as _

from inspection.extensions import limiter

bp = Blueprint("pwa", __name__)

# What every inspector page needs, kept on the phone by the service worker.
SHELL_FILES = (
    "css/app.css",
    "js/common.js",
    "js/offline.js",
    "js/checklist.js",
    "js/signature.js",
    "js/start.js",
    "js/outbox.js",
    "icon.svg",
    "icons/icon-192.png",
)
THEME = "#9b1c1c"


def shell_urls() -> list[str]:
    return [url_for("static", filename=name) for name in SHELL_FILES]


def worker_script() -> str:
    """Return the service worker's source: its configuration, then static/js/sw.js."""
    with current_app.open_resource("static/js/sw.js", "r") as source:
        body = source.read()
    shell = shell_urls()
    release = current_app.config.get("APP_RELEASE", "")
    version = hashlib.sha256(json.dumps([shell, release, body]).encode()).hexdigest()[:12]
    config = {
        "version": version,
        "shell": shell,
        "offline_url": url_for("inspector.offline_page"),
    }
    return f"const CONFIG = {json.dumps(config)};\n{body}"


@bp.get("/sw.js")
@limiter.exempt
def service_worker():
    response = current_app.response_class(worker_script(), mimetype="text/javascript")
    # The browser checks for a new worker on every visit; it must never be cached.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
@limiter.exempt
def manifest():
    icons = [
        {"src": url_for("static", filename="icons/icon-192.png"), "sizes": "192x192"},
        {"src": url_for("static", filename="icons/icon-512.png"), "sizes": "512x512"},
    ]
    for icon in icons:
        icon["type"] = "image/png"
    icons.append(
        {
            "src": url_for("static", filename="icons/maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        }
    )
    response = jsonify(
        {
            "name": _("Public-service inspection"),
            "short_name": _("Inspection"),
            "description": _("Checklists, photos and signatures for inspection visits."),
            "lang": "vi",
            "id": "/inspector/",
            "start_url": url_for("inspector.index"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME,
            "background_color": "#ffffff",
            "icons": icons,
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response
