"""The Home Affairs office: the review inbox, remediation tracking."""

import dataclasses
import tempfile
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from forms.audit import AuditFilters
from forms.auth import ConfirmForm
from forms.dashboard import DashboardFilters
from forms.planning import ScheduleForm, make_plan_form
from forms.review import DecisionForm, FollowUpForm, ReviewForm
from inspection.boundary import attempt
from inspection.extensions import db
from inspection.i18n import format_date_vn, local_today, month_label
from inspection.labels import audit_details, label
from inspection.models import Minutes, RemediationStatus, Role, StaffMember
from inspection.pdf import render
from inspection.responses import content_disposition
from inspection.services import (
    audit,
    checklist,
    exports,
    minutes,
    org,
    planning,
    results,
    review,
    signatures,
    stats,
    visits,
)
from inspection.views.access import actor, get_or_404, require

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
    failed = (
        review.failed_items(inspection, get_locale().language)
        if inspection.status == "finalized"
        else []
    )
    form = ReviewForm(failed=failed)
    if request.method == "GET":
        form.due.data = inspection.remediation_due  # the deadline the minutes gave the unit
    done = review.review_of(inspection.id)
    if form.validate_on_submit() and done is None:
        with attempt(form) as outcome:
            review.review(
                actor(),
                inspection,
                decision=form.decision.data,
                comment=form.comment.data or "",
                due=form.due.data,
                item_codes=form.item_codes.data or [],
                today=local_today(),
            )
        if outcome.ok:
            flash(_("Review saved."), "success")
            given = inspection.remediation_due
            if form.due.data and given and form.due.data < given:
                flash(
                    _(
                        "The deadline is earlier than the one the minutes gave the unit"
                        " (%(date)s): make sure the unit is told.",
                        date=format_date_vn(given),
                    ),
                    "error",
                )
            return redirect(url_for("office.visit", inspection_id=inspection.id))
    return render_template(
        "office/visit.html",
        inspection=inspection,
        summary=results.summary(inspection, get_locale().language),
        minutes=minutes.current_for(inspection.id),
        correction=minutes.correction_of(inspection),
        amends=db.session.get(Minutes, inspection.amends_minutes_id)
        if inspection.amends_minutes_id
        else None,
        done=done,
        form=form,
        remediations=review.remediations_of(inspection.id),
        signed=signatures.signatures_of(inspection),
        noted=[p for p in inspection.people if p.note or p.arrived_at],
    )


@bp.get("/remediations")
@office_only
def remediations():
    status = request.args.get("status") or None
    if status not in (None, "overdue", *RemediationStatus):
        abort(400)
    return render_template(
        "office/remediations.html",
        rows=review.list_remediations(current_user, status),
        status=status,
        today=local_today(),
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
            with attempt(link) as outcome:
                review.link_follow_up(actor(), row, link.follow_up.data or None)
            if outcome.ok:
                flash(_("Saved."), "success")
        return redirect(url_for("office.remediation", remediation_id=row.id))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            review.decide(
                actor(), row, accept=bool(form.accept.data), comment=form.comment.data or ""
            )
        if outcome.ok:
            flash(_("Decision saved."), "success")
            return redirect(url_for("office.remediation", remediation_id=row.id))
    return render_template(
        "office/remediation.html",
        row=row,
        req=review.request_of(row),
        form=form,
        link=link,
        today=local_today(),
    )


def filters_from(
    args, units, default_year: bool = False, *, for_file: bool = False
) -> tuple[DashboardFilters, stats.Filters]:
    """Return the filters of a figures page; ``default_year`` opens it on the latest year
    with issued minutes when nothing is chosen (a newcomer sees the demo's 2018 at once).

    A refused filter (kind=foo, a date in 9999, an unknown unit) is a 400: a page shows
    the form with the refused field marked; a file (export, report) is not made.
    """
    form = DashboardFilters(args, units=units)
    if default_year and not any(args.get(k) for k in ("date_from", "date_to", "kind", "unit")):
        year = stats.latest_year()
        if year is not None:
            form.date_from.data, form.date_to.data = date(year, 1, 1), date(year, 12, 31)
    if not form.validate() and for_file:
        abort(400)

    def valid(field):  # a page with a refused filter shows it marked, and filters on the rest
        return None if field.errors else field.data or None

    return form, stats.Filters(
        date_from=valid(form.date_from),
        date_to=valid(form.date_to),
        unit_kind=valid(form.kind),
        unit_id=valid(form.unit),
    )


def refused(form) -> int:
    """Return the status of a page whose filter form ``form`` is: 400 when it refused one."""
    return 400 if form.errors else 200


def _percent(value, scale: int = 100) -> str:
    """98,8% in Vietnamese, 98.8% in English (one decimal); — when there is no figure."""
    return "—" if value is None else format_decimal(value * scale, "#,##0.0") + "%"


def _compliance_rows(rows, name) -> list[dict]:
    return [
        {
            "label": name(r["key"]),
            "value": r["compliance_rate"],
            "text": _percent(r["compliance_rate"]),
            "bad": r["compliance_rate"] is not None and r["compliance_rate"] < 0.9,
            "extra": f"{r['failed']}/{r['checked']}",
            "extra_head": _("failed / checked"),
        }
        for r in rows
    ]


@bp.get("/dashboard")
@office_only
def dashboard():
    units = org.list_units()
    names = {u.id: u.name for u in units}
    form, filters = filters_from(request.args, units, default_year=True)
    return render_template(
        "office/dashboard.html",
        form=form,
        # The filters in force (the default year included), for the report and export links.
        query={
            name: str(form[name].data)
            for name in ("date_from", "date_to", "kind", "unit")
            if form[name].data
        },
        **_dashboard_figures(filters, names),
        item_names=checklist.item_names(get_locale().language),
        names=names,
        percent=_percent,
    ), refused(form)


def _dashboard_figures(filters: stats.Filters, names: dict[int, str]) -> dict:
    """Return the dashboard's charts and tables as rows of label, value and text."""
    figures = stats.compliance(filters)
    attendance_units = stats.attendance(filters, by="unit")
    attendance_months = stats.attendance(filters, by="month")
    return {
        "by_category": _compliance_rows(figures["by_category"], label),
        "by_unit": _compliance_rows(figures["by_unit"], lambda k: names.get(k, k)),
        "trend": [
            {
                **month_label(r["key"]),
                "value": r["compliance_rate"],
                "text": _percent(r["compliance_rate"]),
            }
            for r in figures["by_month"]
        ],
        "late_trend": [
            {**month_label(r["key"]), "value": r["late_rate"], "text": _percent(r["late_rate"])}
            for r in attendance_months
        ],
        "attendance": (stats.attendance(filters) or [None])[0],
        "attendance_units": [
            {
                "label": names.get(r["key"], r["key"]),
                "value": r["late_rate"] + r["absent_rate"],
                "text": f"{_percent(r['late_rate'])} / {_percent(r['absent_rate'])}",
                "bad": r["absent_unexcused"] > 0,
            }
            for r in attendance_units
        ],
        "one_stop": [
            {
                "label": names.get(r["unit_id"]),
                "value": r["rate"] / 100,
                "text": _percent(r["rate"], scale=1),
            }
            for r in stats.one_stop(filters)
        ],
        "remediation": stats.remediation_counts(filters, local_today()),
        "repeat": stats.repeat_findings(filters) if current_user.role is Role.OFFICE else None,
    }


def _report(pdf: bool):
    units = org.list_units()
    names = {u.id: u.name for u in units}
    _form, filters = filters_from(request.args, units, default_year=True, for_file=True)
    figures = stats.compliance(filters)
    settings = org.get_settings()
    period = " – ".join(format_date_vn(d) for d in (filters.date_from, filters.date_to) if d) or _(
        "all periods"
    )
    return render_template(
        "office/report.html",
        pdf=pdf,
        css_href="static/css/report.css" if pdf else url_for("static", filename="css/report.css"),
        title=_("Report on public-service discipline inspections"),
        org_name=settings.org_name if settings else "",
        period=period,
        visits=stats.visit_count(filters),
        by_category=_compliance_rows(figures["by_category"], label),
        by_unit=_compliance_rows(figures["by_unit"], lambda k: names.get(k, k)),
        attendance=(stats.attendance(filters) or [None])[0],
        remediation=stats.remediation_counts(filters, local_today()),
    )


@bp.get("/report")
@office_only
def report():
    """Return a printable report of the filtered period (the browser's print stylesheet)."""
    return _report(pdf=False)


@bp.get("/report.pdf")
@office_only
def report_pdf():
    """Return the same report as a PDF, through the minutes' WeasyPrint path."""
    response = make_response(render.html_to_pdf(_report(pdf=True)))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", "bao-cao-kiem-tra.pdf"
    )
    return response


@bp.get("/people/<int:staff_id>")
@require(Role.OFFICE)
def person(staff_id: int):
    """Return a person's history across visits (personal data: the office only)."""
    staff = get_or_404(StaffMember, staff_id)
    return render_template(
        "office/person.html", staff=staff, history=stats.person_history(staff.id)
    )


def _streamed_csv(lines, *args) -> Response:
    """Return a CSV response from ``lines(*args)``, run in an app context of its own after the
    view returned, so the rows stream from the database instead of piling up in memory."""
    app = current_app._get_current_object()

    def stream():
        with app.app_context():
            # A WSGI body is bytes: gunicorn refuses str ("… is not a byte").
            for line in lines(*args):
                yield line.encode("utf-8")

    response = Response(stream(), mimetype="text/csv")
    # Flask-Compress would buffer the whole export to compress it: keep it streaming.
    response.direct_passthrough = True
    return response


# <dataset>, not <kind>: "kind" is the dashboard filter of unit kinds in the query string.
@bp.get("/export/<dataset>.<fmt>")
@office_only
def export(dataset: str, fmt: str):
    """Visits or results of the filtered period as CSV (streamed) or XLSX."""
    if dataset not in exports.COLUMNS or fmt not in ("csv", "xlsx"):
        abort(404)
    _form, filters = filters_from(request.args, org.list_units(), for_file=True)
    audit.record(
        actor(), "export", object_type="export", kind=dataset, format=fmt, filters=_plain(filters)
    )
    name = f"{exports.FILE_NAMES[dataset]}-{local_today():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = _streamed_csv(exports.csv_lines, dataset, filters)
    else:
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
        with current_app.app_context():  # a session of its own: the export lets go of rows
            exports.xlsx_file(dataset, filters, spool)
        spool.seek(0)
        response = send_file(
            spool,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    return response


@bp.route("/plan", methods=["GET", "POST"])
@office_only
def plan():
    """Return the annual plan by unit and quarter, with what was done, and the planned visits."""
    year = request.args.get("year", type=int) or local_today().year
    if not 2000 <= year <= 2100:
        abort(404)
    rows = planning.plan_rows(year)
    form = make_plan_form([r["unit"] for r in rows])(
        data={
            f"u{r['unit'].id}_q{n + 1}": count for r in rows for n, count in enumerate(r["planned"])
        }
    )
    if form.validate_on_submit():
        counts = {
            r["unit"].id: [form[f"u{r['unit'].id}_q{n}"].data or 0 for n in range(1, 5)]
            for r in rows
        }
        with attempt(form) as outcome:
            planning.save_plan(actor(), year, counts)
        if outcome.ok:
            flash(_("Plan saved."), "success")
            return redirect(url_for("office.plan", year=year))
    return render_template(
        "office/plan.html",
        year=year,
        rows=rows,
        form=form,
        planned=planning.planned_visits(),
        confirm=ConfirmForm(),
    )


@bp.route("/plan/visits/new", methods=["GET", "POST"])
@office_only
def schedule():
    form = ScheduleForm(units=org.list_units(active_only=True), inspectors=visits.inspectors())
    if request.method == "GET" and request.args.get("unit_id", type=int):
        form.unit_id.data = request.args.get("unit_id", type=int)
        form.kind.data = request.args.get("kind") or form.kind.data
    if form.validate_on_submit():
        team = visits.team_of(form.lead.data, form.secretary.data, form.members.data)
        with attempt(form) as outcome:
            planning.schedule_visit(
                actor(),
                current_user,
                unit_id=form.unit_id.data,
                kind=form.kind.data,
                planned_date=form.planned_date.data,
                team=team,
                today=local_today(),
            )
        if outcome.ok:
            flash(_("Visit planned."), "success")
            return redirect(url_for("office.plan"))
    return render_template("office/schedule.html", form=form)


@bp.post("/plan/draw")
@office_only
def draw():
    """Draw a unit for a surprise visit: longest unvisited and open requests weigh more."""
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("office.plan"))
    unit = planning.draw_surprise(actor(), local_today())
    flash(
        _(
            "Drawn for a surprise visit: %(unit)s. Plan it now; only the team will see it.",
            unit=unit.name,
        ),
        "success",
    )
    return redirect(url_for("office.schedule", unit_id=unit.id, kind="surprise"))


def _plain(filters) -> dict:
    """Return filters as the audit log records them: the fields that were set, as text."""
    return {k: str(v) for k, v in dataclasses.asdict(filters).items() if v is not None}


def _audit_filters(args, *, for_file: bool = False) -> tuple[AuditFilters, audit.AuditFilters]:
    form = AuditFilters(args, actions=audit.actions(), object_types=audit.object_types())
    if not form.validate() and for_file:
        abort(400)
    values = {
        name: None if field.errors else (field.data or None) for name, field in form._fields.items()
    }
    return form, audit.AuditFilters(**values)


MAX_AUDIT_PAGE = 100_000


@bp.get("/audit")
@office_only
def audit_log():
    """Return every recorded event, newest first, filtered; read-only."""
    form, filters = _audit_filters(request.args)
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_AUDIT_PAGE or not request.args.get("page", "1").isdigit():
        abort(400)
    events, more = audit.search(filters, page)
    args = {k: v for k, v in request.args.items() if k != "page"}
    names = {
        "unit_id": {u.id: u.name for u in org.list_units()},
        "items": checklist.item_names(get_locale().language),
    }
    return render_template(
        "office/audit.html",
        form=form,
        events=events,
        page=page,
        more=more,
        args=args,
        details=lambda detail: audit_details(detail, names),
    ), refused(form)


@bp.get("/audit.csv")
@office_only
def audit_export():
    """Return the filtered audit log as CSV (streamed); the export itself is audited."""
    _form, filters = _audit_filters(request.args, for_file=True)
    audit.record(actor(), "export", object_type="export", kind="audit", filters=_plain(filters))
    response = _streamed_csv(exports.audit_csv_lines, filters)
    name = f"nhat-ky-{local_today():%Y%m%d}.csv"
    response.headers["Content-Disposition"] = content_disposition("attachment", name)
    return response
