"""The inspected unit's portal: its minutes, acknowledgements and remediation answers."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.auth import ConfirmForm
from forms.review import ResponseForm
from inspection.boundary import attempt
from inspection.i18n import local_today
from inspection.models import RemediationStatus, Role
from inspection.services import minutes, review, visits
from inspection.views.access import actor, require

bp = Blueprint("unit", __name__, url_prefix="/unit")
unit_only = require(Role.UNIT)


@bp.get("/")
@unit_only
def index():
    issued = visits.unit_minutes(current_user.unit_id)
    replaced = minutes.replacements([m.id for m in issued])
    requests = review.list_remediations(current_user)
    return render_template(
        "unit/home.html",
        unit=current_user.unit,
        minutes=issued,
        replaced=replaced,
        requests=requests,
        standing=_where_things_stand(issued, replaced, requests),
        confirm=ConfirmForm(),
        today=local_today(),
    )


def _where_things_stand(issued, replaced, requests) -> dict:
    """Return what the unit has to do now, and what waits on the office."""
    to_answer = [
        r for r in requests if r.status in (RemediationStatus.OPEN, RemediationStatus.REOPENED)
    ]
    return {
        "to_acknowledge": sum(1 for m in issued if m.id not in replaced and not m.acknowledged_at),
        "to_answer": len(to_answer),
        "first_due": min((r.due_date for r in to_answer), default=None),
        "with_office": sum(1 for r in requests if r.status is RemediationStatus.ANSWERED),
    }


@bp.post("/minutes/<int:minutes_id>/acknowledge")
@unit_only
def acknowledge(minutes_id: int):
    row = minutes.readable(current_user, minutes_id)
    if ConfirmForm().validate_on_submit():
        review.acknowledge(actor(), current_user, row)
        flash(_("Receipt acknowledged."), "success")
    return redirect(url_for("unit.index"))


@bp.route("/remediations/<int:remediation_id>", methods=["GET", "POST"])
@unit_only
def remediation(remediation_id: int):
    row = review.get_remediation(current_user, remediation_id)
    form = ResponseForm()
    if form.validate_on_submit():
        files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
        with attempt(form) as outcome:
            review.respond(
                actor(),
                current_user,
                row,
                text=form.response.data,
                files=files,
                max_bytes=current_app.config["PHOTO_MAX_BYTES"],
            )
        if outcome.ok:
            flash(_("Your answer was sent to the office."), "success")
            return redirect(url_for("unit.remediation", remediation_id=row.id))
    return render_template("unit/remediation.html", row=row, form=form, today=local_today())
