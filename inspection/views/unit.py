"""The inspected unit's portal: its minutes, acknowledgements and remediation answers."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from forms.auth import ConfirmForm
from forms.review import ResponseForm, make_request_form
from inspection.boundary import attempt
from inspection.i18n import local_today
from inspection.models import Role
from inspection.services import minutes, review, visits
from inspection.views.access import actor, require

bp = Blueprint("unit", __name__, url_prefix="/unit")
unit_only = require(Role.UNIT)


@bp.get("/")
@unit_only
def index():
    issued = visits.unit_minutes(current_user.unit_id)
    replaced = minutes.replacements([m.id for m in issued])
    requests = review.grouped(review.list_remediations(current_user))
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
    """Return what the unit has to do now (requests with items to answer, and by when),
    and what waits on the office."""
    waiting = [item for req in requests for item in req.waiting]
    return {
        "to_acknowledge": sum(1 for m in issued if m.id not in replaced and not m.acknowledged_at),
        "to_answer": sum(1 for req in requests if req.waiting),
        "items_to_answer": len(waiting),
        "first_due": min((r.due_date for r in waiting), default=None),
        "with_office": sum(len(req.with_office) for req in requests),
    }


@bp.post("/minutes/<int:minutes_id>/acknowledge")
@unit_only
def acknowledge(minutes_id: int):
    row = minutes.readable(current_user, minutes_id)
    if ConfirmForm().validate_on_submit():
        review.acknowledge(actor(), current_user, row)
        flash(_("Receipt acknowledged."), "success")
    return redirect(url_for("unit.index"))


@bp.route("/requests/<int:review_id>", methods=["GET", "POST"])
@unit_only
def request_page(review_id: int):
    """A whole request: the office's words once, each item answered on its own; the
    answers typed on the page are sent together, so none is lost to another's send."""
    rows = [r for r in review.list_remediations(current_user) if r.review_id == review_id]
    if not rows:
        abort(404)
    req = review.grouped(rows)[0]
    form = make_request_form(req.waiting)()
    if form.validate_on_submit():
        answered = form.answered()
        if not answered:
            flash(_("Write what was fixed for at least one item."), "error")
        for item, text, files_field in answered:
            uploads = request.files.getlist(files_field.name)
            files = [(f.filename or "", f.read()) for f in uploads if f.filename]
            rename = {"response": f"r{item.id}_response", "file": files_field.name}
            with attempt(form, rename=rename) as outcome:
                review.respond(
                    actor(),
                    current_user,
                    item,
                    text=text,
                    files=files,
                    max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                )
            if not outcome.ok:  # undone, with the others of this post: the page says why
                if not outcome.error.fields:  # a refused file, say: under its item too
                    at = files_field if files else form[f"r{item.id}_response"]
                    at.errors = [*at.errors, outcome.error.message]
                break
        else:
            if answered:
                flash(
                    ngettext(
                        "%(num)d answer was sent to the office.",
                        "%(num)d answers were sent to the office.",
                        len(answered),
                    ),
                    "success",
                )
                return redirect(url_for("unit.request_page", review_id=review_id))
    return render_template("unit/request.html", req=req, form=form, today=local_today())


@bp.route("/remediations/<int:remediation_id>", methods=["GET", "POST"])
@unit_only
def remediation(remediation_id: int):
    row = review.get_remediation(current_user, remediation_id)
    form = ResponseForm()
    if form.validate_on_submit():
        uploads = request.files.getlist(form.files.name)
        files = [(f.filename or "", f.read()) for f in uploads if f.filename]
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
    return render_template(
        "unit/remediation.html",
        row=row,
        req=review.request_of(row),
        form=form,
        today=local_today(),
    )
