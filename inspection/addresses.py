"""Where this server is reached: the address signed into minutes, and the one for links."""

from flask import current_app, request
from flask_babel import gettext as _

from inspection.services.errors import Conflict


def signed_base_url() -> str:
    """Return the address printed in signed minutes for verification: the configured one,
    never a request header (a forged Host would be signed into the document)."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if not configured:
        raise Conflict(
            _(
                "The server's public address (PUBLIC_BASE_URL) is not set, so the minutes"
                " cannot say where to verify them. Ask the administrator to set it."
            )
        )
    return configured


def link_base_url() -> str:
    """Return the address for a link on a page (not signed content): the request's own
    address will do when none is configured."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.url_root
