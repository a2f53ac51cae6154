"""The inspected unit's portal."""

from flask import Blueprint, render_template
from flask_login import current_user

from inspection.models import Role
from inspection.services import visits
from inspection.views.access import require

bp = Blueprint("unit", __name__, url_prefix="/unit")


@bp.get("/")
@require(Role.UNIT)
def index():
    minutes = visits.unit_minutes(current_user.unit_id)
    return render_template("unit/home.html", unit=current_user.unit, minutes=minutes)
