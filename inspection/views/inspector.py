"""The inspector's phone pages."""

from datetime import datetime

from flask import Blueprint, render_template
from flask_login import current_user

from inspection.i18n import LOCAL_TZ
from inspection.models import Role
from inspection.services import visits
from inspection.views.access import require

bp = Blueprint("inspector", __name__, url_prefix="/inspector")


@bp.get("/")
@require(Role.INSPECTOR)
def index():
    lists = visits.inspector_home(current_user.id, datetime.now(LOCAL_TZ).date())
    return render_template("inspector/home.html", **lists)
