"""The JSON API under /api/v1 (token auth; errors as DESIGN.md describes them)."""

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from inspection.extensions import csrf, db, limiter
from inspection.i18n import select_locale
from inspection.models import Role, StaffMember, Unit, User
from inspection.services import accounts, checklist, org
from inspection.views.access import ALL_ROLES, actor, check_unit, get_or_404, require
from inspection.views.openapi import openapi_document
from inspection.web import json_error

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

STAFF_READERS = (Role.ADMIN, Role.OFFICE, Role.INSPECTOR, Role.UNIT)


@bp.before_request
def csrf_for_cookie_sessions():
    """Cookie-authenticated writes need the CSRF token; Bearer requests cannot be forged."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint == "api.create_token":
        return
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        csrf.protect()


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "unit_id": user.unit_id,
    }


def json_body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


@bp.post("/tokens")
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_IP", "20/minute"))
def create_token():
    body = json_body()
    if body is None:
        return json_error(400, "bad_request", _("Send a JSON object."))
    username, password = body.get("username"), body.get("password")
    fields = {
        name: _("Required.")
        for name, value in (("username", username), ("password", password))
        if not isinstance(value, str) or not value
    }
    if fields:
        return json_error(422, "invalid", _("Some values are not valid."), fields)
    user = accounts.authenticate(username, password, actor())
    if user is None:
        db.session.commit()
        return json_error(401, "unauthorized", _("Wrong username or password."))
    name = body.get("name") if isinstance(body.get("name"), str) else "API"
    secret, token = accounts.issue_token(
        actor(), user, current_app.config["API_TOKEN_LIFETIME"], name=name
    )
    db.session.commit()
    return jsonify(token=secret, expires_at=token.expires_at.isoformat(), user=user_json(user)), 201


@bp.get("/me")
@require(*ALL_ROLES)
def me():
    return jsonify(user_json(current_user))


@bp.get("/units")
@require(*ALL_ROLES)
def units():
    own = current_user.unit_id if current_user.role is Role.UNIT else None
    items = org.list_units(active_only=own is None, unit_id=own)
    return jsonify(
        items=[{"id": u.id, "code": u.code, "name": u.name, "kind": u.kind.value} for u in items]
    )


@bp.get("/units/<int:unit_id>/staff")
@require(*STAFF_READERS)
def unit_staff(unit_id: int):
    check_unit(unit_id)
    unit = get_or_404(Unit, unit_id)
    return jsonify(items=[staff_json(s) for s in org.roster(unit.id)])


def staff_json(staff: StaffMember) -> dict:
    return {
        "id": staff.id,
        "full_name": staff.full_name,
        "position": staff.position,
        "category": staff.category.value,
        "badge_no": staff.badge_no,
    }


@bp.get("/checklists/current")
@require(*ALL_ROLES)
def current_checklist():
    version = checklist.current_version()
    locale = select_locale()
    return jsonify(
        id=version.id,
        version=version.number,
        items=[
            {
                "code": item.code,
                "category": item.category.value,
                "scope": item.scope.value,
                "label": item.label(locale),
                "legal_basis": item.legal_basis,
                "required": item.required,
                "number_label": item.number_label_en if locale == "en" else item.number_label_vi,
            }
            for item in version.items
        ],
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
