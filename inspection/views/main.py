"""The landing redirect and the health check."""

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from inspection.extensions import db, limiter
from inspection.models import Role

bp = Blueprint("main", __name__)

HOME = {
    Role.ADMIN: "admin.index",
    Role.OFFICE: "office.index",
    Role.INSPECTOR: "inspector.index",
    Role.UNIT: "unit.index",
}


def home_url(user) -> str:
    return url_for(HOME[user.role])


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url(current_user))


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", db="error"), 503
    return jsonify(status="ok", db="ok")
