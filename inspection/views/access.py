"""The one access check every view goes through."""

from functools import wraps

from flask import abort, request, url_for
from flask_login import current_user

from inspection.extensions import db, login_manager
from inspection.models import Role
from inspection.services import policy
from inspection.services.audit import Actor

ALL_ROLES = tuple(Role)


def require(*roles: Role):
    """Let only logged-in users with one of ``roles`` through.

    Anonymous users are sent to the login page (401 JSON under /api/); others get 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def check_unit(unit_id: int) -> None:
    """404 when a unit user asks for another unit's data: it must not learn it exists."""
    if not policy.may_see_unit(current_user, unit_id):
        abort(404)


def actor() -> Actor:
    """Return who is acting and from where, for services and the audit log."""
    user_id = current_user.id if current_user.is_authenticated else None
    return Actor(user_id=user_id, ip=request.remote_addr)


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


HOME = {
    Role.ADMIN: "admin.index",
    Role.OFFICE: "office.index",
    Role.INSPECTOR: "inspector.index",
    Role.UNIT: "unit.index",
}


def home_url(user) -> str:
    """Return where ``user``'s role starts: its own home page."""
    return url_for(HOME[user.role])
