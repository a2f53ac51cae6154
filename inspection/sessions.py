"""Who is logged in: a browser session checked against the server, or an API token."""

from flask import Flask, g, redirect, request, session, url_for
from flask_login import AnonymousUserMixin

from inspection.boundary import json_error, unauthorized_message, wants_json
from inspection.extensions import db, login_manager
from inspection.models import User
from inspection.services import accounts


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


def _unauthorized():
    if wants_json():
        return json_error(401, "unauthorized", unauthorized_message())
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)
