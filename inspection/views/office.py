"""The Home Affairs office: the review inbox, remediation tracking."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.review import DecisionForm, FollowUpForm, ReviewForm
from inspection.extensions import db
from inspection.models import Role
from inspection.services import minutes, results, review, visits
from inspection.services.errors import ServiceError
from inspection.views.access import actor, require

bp = Blueprint("office", __name__, url_prefix="/office")
office_only = require(Role.OFFICE, Role.ADMIN)


@bp.get("/")
@office_only
def index():
    return render_template(
        "office/home.html",
        inbox=review.inbox(),
        overdue=review.list_remediations(current_user, "overdue"),
        answered=review.list_remediations(current_user, "answered"),
        visits=visits.recent_visits(),
    )


@bp.route("/visits/<int:inspection_id>", methods=["GET", "POST"])
@office_only
def visit(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    failed = review.failed_items(inspection) if inspection.status == "finalized" else []
    form = ReviewForm(failed=failed)
    done = review.review_of(inspection.id)
    if form.validate_on_submit() and done is None:
        try:
            review.review(
                actor(),
                inspection,
                decision=form.decision.data,
                comment=form.comment.data or "",
                due=form.due.data,
                item_codes=form.item_codes.data or [],
                today=date.today(),
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            for name, message in exc.fields.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash(_("Review saved."), "success")
            return redirect(url_for("office.visit", inspection_id=inspection.id))
    return render_template(
        "office/visit.html",
        inspection=inspection,
        summary=results.summary(inspection),
        minutes=minutes.current_for(inspection.id),
        done=done,
        form=form,
        remediations=[
            r for r in review.list_remediations(current_user) if r.inspection_id == inspection.id
        ],
    )


@bp.get("/remediations")
@office_only
def remediations():
    status = request.args.get("status") or None
    return render_template(
        "office/remediations.html",
        rows=review.list_remediations(current_user, status),
        status=status,
        today=date.today(),
    )


@bp.route("/remediations/<int:remediation_id>", methods=["GET", "POST"])
@office_only
def remediation(remediation_id: int):
    row = review.get_remediation(current_user, remediation_id)
    form = DecisionForm()
    link = FollowUpForm(
        visits=review.follow_up_candidates(row), follow_up=row.follow_up_inspection_id or 0
    )
    if request.method == "POST" and "follow_up" in request.form:
        if link.validate_on_submit():
            try:
                review.link_follow_up(actor(), row, link.follow_up.data or None)
            except ServiceError as exc:
                db.session.rollback()
                flash(exc.message, "error")
            else:
                db.session.commit()
                flash(_("Saved."), "success")
        return redirect(url_for("office.remediation", remediation_id=row.id))
    if form.validate_on_submit():
        try:
            review.decide(
                actor(), row, accept=bool(form.accept.data), comment=form.comment.data or ""
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message + " " + " ".join(exc.fields.values()), "error")
        else:
            db.session.commit()
            flash(_("Decision saved."), "success")
            return redirect(url_for("office.remediation", remediation_id=row.id))
    return render_template(
        "office/remediation.html", row=row, form=form, link=link, today=date.today()
    )
