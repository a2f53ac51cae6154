"""The Home Affairs office's pages."""

from flask import Blueprint, render_template

from inspection.models import Role
from inspection.services import visits
from inspection.views.access import require

bp = Blueprint("office", __name__, url_prefix="/office")


@bp.get("/")
@require(Role.OFFICE, Role.ADMIN)
def index():
    return render_template("office/home.html", visits=visits.recent_visits())
