"""Administrator pages: organisation settings, units and rosters, users, checklists."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select

from forms.admin import (
    ChecklistImportForm,
    ChecklistItemForm,
    ChecklistTemplateForm,
    NewChecklistForm,
    SealForm,
    SettingsForm,
    StaffForm,
    UnitForm,
    UserForm,
    WebhookForm,
)
from forms.auth import ConfirmForm
from forms.roster import RosterImportForm
from inspection.boundary import attempt
from inspection.extensions import db
from inspection.models import (
    ChecklistTemplate,
    ChecklistVersion,
    Outbox,
    Role,
    StaffMember,
    Unit,
    User,
    Webhook,
)
from inspection.responses import content_disposition
from inspection.services import accounts as accounts_service
from inspection.services import (
    blobs,
    checklist,
    checklist_sheet,
    notifications,
    org,
    second_factor,
)
from inspection.services import webhooks as webhooks_service
from inspection.services.roster_import import RosterImportError, import_roster
from inspection.views.access import actor, get_or_404, require

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = require(Role.ADMIN)


def _form_page(form, title: str, back: str, **extra):
    return render_template("admin/form_page.html", form=form, title=title, back=back, **extra)


@bp.get("/")
@admin_only
def index():
    counts = {
        "units": db.session.scalar(select(func.count(Unit.id))),
        "staff": db.session.scalar(select(func.count(StaffMember.id)).filter_by(active=True)),
        "users": db.session.scalar(select(func.count(User.id))),
    }
    return render_template("admin/index.html", counts=counts, settings=org.get_settings())


@bp.route("/settings", methods=["GET", "POST"])
@admin_only
def settings():
    current = org.get_settings()
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        org.save_settings(
            actor(),
            require_second_factor=form.require_second_factor.data,
            **{k: form[k].data or "" for k in org.SETTINGS_FIELDS},
        )
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.settings"))
    return _form_page(form, _("Organisation settings"), url_for("admin.index"))


@bp.route("/settings/seal", methods=["GET", "POST"])
@admin_only
def seal():
    """Show and change the organisation's seal, printed on the minutes over the lead's signature."""
    form = SealForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            org.save_seal(actor(), form.image.data.read(), form.diameter_mm.data)
        if outcome.ok:
            flash(_("Seal saved."), "success")
            return redirect(url_for("admin.seal"))
    return render_template(
        "admin/seal.html", form=form, settings=org.get_settings(), remove=ConfirmForm()
    )


@bp.post("/settings/seal/remove")
@admin_only
def remove_seal():
    if ConfirmForm().validate_on_submit():
        org.save_seal(actor(), None)
        flash(_("Seal removed: the minutes show the digital signature's facts instead."), "success")
    return redirect(url_for("admin.seal"))


@bp.get("/settings/seal.png")
@admin_only
def seal_image():
    settings = org.get_settings()
    found = blobs.read(settings.seal_sha256) if settings and settings.seal_sha256 else None
    if found is None:
        abort(404)
    return Response(found[0], mimetype=found[1])


@bp.get("/units")
@admin_only
def units():
    rows = db.session.execute(
        select(Unit, func.count(StaffMember.id))
        .outerjoin(StaffMember, (StaffMember.unit_id == Unit.id) & StaffMember.active)
        .group_by(Unit.id)
        .order_by(Unit.name)
    ).all()
    return render_template("admin/units.html", rows=rows)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@admin_only
def unit_form(unit_id: int | None = None):
    unit = get_or_404(Unit, unit_id) if unit_id else None
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            unit = org.save_unit(
                actor(),
                unit,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                address=form.address.data or "",
                active=form.active.data,
                has_one_stop=form.has_one_stop.data,
            )
        if outcome.ok:
            flash(_("Unit saved."), "success")
            return redirect(url_for("admin.unit", unit_id=unit.id))
    title = _("Edit unit") if unit else _("New unit")
    return _form_page(form, title, url_for("admin.units"))


@bp.get("/units/<int:unit_id>")
@admin_only
def unit(unit_id: int):
    unit = get_or_404(Unit, unit_id)
    staff = org.roster(unit.id, active_only=False)
    return render_template("admin/unit.html", unit=unit, staff=staff)


@bp.route("/units/<int:unit_id>/staff/new", methods=["GET", "POST"])
@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@admin_only
def staff_form(unit_id: int | None = None, staff_id: int | None = None):
    staff = get_or_404(StaffMember, staff_id) if staff_id else None
    unit = staff.unit if staff else get_or_404(Unit, unit_id)
    form = StaffForm(obj=staff)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            org.save_staff(
                actor(),
                staff,
                unit_id=unit.id,
                full_name=form.full_name.data,
                position=form.position.data or "",
                category=form.category.data,
                badge_no=form.badge_no.data,
                active=form.active.data,
            )
        if outcome.ok:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.unit", unit_id=unit.id))
    title = _("Edit staff member") if staff else _("Add a staff member")
    return _form_page(form, f"{title} · {unit.name}", url_for("admin.unit", unit_id=unit.id))


@bp.route("/units/<int:unit_id>/import", methods=["GET", "POST"])
@admin_only
def import_staff(unit_id: int):
    unit = get_or_404(Unit, unit_id)
    form = RosterImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_roster(
                actor(),
                unit,
                upload.filename or "",
                upload.read(),
                current_app.config["ROSTER_IMPORT_MAX_ROWS"],
            )
        except RosterImportError as exc:
            db.session.rollback()  # not one row of a file with errors
            report = exc.report
            flash(_("Nothing was imported: correct the rows below and upload again."), "error")
        else:
            flash(
                _(
                    "Imported: %(created)d added, %(updated)d updated.",
                    created=report.created,
                    updated=report.updated,
                ),
                "success",
            )
            return redirect(url_for("admin.unit", unit_id=unit.id))
    return render_template("admin/import.html", unit=unit, form=form, report=report)


@bp.get("/messages")
@admin_only
def messages():
    """The messages not sent: failed ones to retry, and those waiting for an attempt."""
    return render_template(
        "admin/messages.html",
        rows=notifications.unsent(),
        sent=notifications.sent_count(),
        confirm=ConfirmForm(),
    )


@bp.post("/messages/<int:outbox_id>/retry")
@admin_only
def retry_message(outbox_id: int):
    if ConfirmForm().validate_on_submit():
        notifications.retry(actor(), get_or_404(Outbox, outbox_id))
        flash(_("The message will be sent again in a moment."), "success")
    return redirect(url_for("admin.messages"))


@bp.route("/webhooks", methods=["GET", "POST"])
@admin_only
def webhooks():
    """The endpoints that receive events; a new one's secret is shown once, here."""
    form, secret = WebhookForm(), None
    if form.validate_on_submit():
        with attempt(form) as outcome:
            _row, secret = webhooks_service.register(
                actor(),
                url=form.url.data,
                events=form.events.data,
                description=form.description.data,
            )
        if outcome.ok:
            flash(_("Webhook registered. Copy its secret now: it is not shown again."), "success")
            form = WebhookForm(formdata=None)
    return render_template(
        "admin/webhooks.html",
        form=form,
        secret=secret,
        rows=webhooks_service.listed(),
        confirm=ConfirmForm(),
    )


@bp.get("/webhooks/<int:webhook_id>")
@admin_only
def webhook(webhook_id: int):
    """One endpoint and its delivery log: each event, its attempts, status codes, times."""
    row = get_or_404(Webhook, webhook_id)
    return render_template(
        "admin/webhook.html",
        row=row,
        deliveries=webhooks_service.deliveries(row),
        confirm=ConfirmForm(),
    )


@bp.post("/webhooks/<int:webhook_id>/ping")
@admin_only
def ping_webhook(webhook_id: int):
    row = get_or_404(Webhook, webhook_id)
    if ConfirmForm().validate_on_submit():
        webhooks_service.ping(actor(), row)
        flash(_("A test event is on its way; its delivery shows below."), "success")
    return redirect(url_for("admin.webhook", webhook_id=row.id))


@bp.post("/webhooks/<int:webhook_id>/delete")
@admin_only
def delete_webhook(webhook_id: int):
    row = get_or_404(Webhook, webhook_id)
    if ConfirmForm().validate_on_submit():
        webhooks_service.remove(actor(), row)
        flash(_("Webhook deleted."), "success")
    return redirect(url_for("admin.webhooks"))


@bp.get("/users")
@admin_only
def users():
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def user_form(user_id: int | None = None):
    user = get_or_404(User, user_id) if user_id else None
    form = UserForm(obj=user, units=org.list_units())
    if user:
        form.username.render_kw = {**(form.username.render_kw or {}), "readonly": True}
    if request.method == "POST" and form.role.data == Role.UNIT and not form.unit_value:
        form.unit_id.errors = [_("A unit account must belong to a unit.")]
    if form.validate_on_submit() and not form.unit_id.errors:
        with attempt(form) as outcome:
            if user:
                accounts_service.update_user(
                    actor(),
                    user,
                    full_name=form.full_name.data,
                    role=form.role.data,
                    unit_id=form.unit_value,
                    position=form.position.data or "",
                    active=form.active.data,
                    new_password=form.password.data or "",
                    email=form.email.data or "",
                )
            else:
                accounts_service.create_user(
                    actor(),
                    username=form.username.data,
                    full_name=form.full_name.data,
                    password=form.password.data or "",
                    role=form.role.data,
                    unit_id=form.unit_value,
                    position=form.position.data or "",
                    email=form.email.data or "",
                )
        if outcome.ok:
            flash(_("Account saved."), "success")
            return redirect(url_for("admin.users"))
    title = _("Edit account") if user else _("New account")
    return render_template(
        "admin/user_form.html",
        form=form,
        title=title,
        back=url_for("admin.users"),
        user=user,
        confirm=ConfirmForm(),
    )


@bp.post("/users/<int:user_id>/second-factor/reset")
@admin_only
def reset_second_factor(user_id: int):
    """After a lost phone: the account logs in with its password alone, and enrols again
    (at its next login when the organisation requires it)."""
    user = get_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        second_factor.turn_off(actor(), user, by_admin=True)
        flash(_("Two-step verification was reset; the account's sessions were ended."), "success")
    return redirect(url_for("admin.user_form", user_id=user.id))


@bp.get("/checklists")
@admin_only
def checklists():
    return render_template("admin/checklists.html", templates=checklist.templates())


@bp.route("/checklists/new", methods=["GET", "POST"])
@admin_only
def new_checklist():
    """A new checklist: its names, the units it is for, and its items from a spreadsheet."""
    form = NewChecklistForm()
    report = None
    if form.validate_on_submit():
        try:
            with attempt(form) as outcome:
                template = checklist_sheet.import_template(
                    actor(),
                    form.file.data.read(),
                    code=form.code.data,
                    name=form.name.data,
                    name_en=form.name_en.data or "",
                    applies_to=form.applies_text(),
                )
        except checklist_sheet.SheetImportError as exc:
            db.session.rollback()  # not one row of a file with problems
            report = exc.report
            flash(_("Nothing was imported: correct the rows below and upload again."), "error")
        else:
            if outcome.ok:
                flash(_("Checklist created."), "success")
                return redirect(url_for("admin.checklist_version", template_id=template.id))
    return render_template("admin/checklist_import.html", form=form, report=report, template=None)


@bp.route("/checklists/<int:template_id>/settings", methods=["GET", "POST"])
@admin_only
def checklist_settings(template_id: int):
    template = get_or_404(ChecklistTemplate, template_id)
    form = ChecklistTemplateForm(obj=template)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            checklist.save_template(
                actor(),
                template,
                name=form.name.data,
                name_en=form.name_en.data or "",
                applies_to=form.applies_text(),
                active=form.active.data,
            )
        if outcome.ok:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.checklist_version", template_id=template.id))
    return _form_page(
        form,
        template.name,
        url_for("admin.checklist_version", template_id=template.id),
        intro=_("Visits already made keep the checklists they asked; the next visits follow."),
    )


@bp.get("/checklists/<int:template_id>/v<int:number>.xlsx")
@admin_only
def export_checklist(template_id: int, number: int):
    """A version as a spreadsheet, to edit and import as the next version."""
    version = db.session.scalar(
        select(ChecklistVersion).filter_by(template_id=template_id, number=number)
    )
    if version is None:
        abort(404)
    response = Response(
        checklist_sheet.export_version(version),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", checklist_sheet.filename(version)
    )
    return response


@bp.route("/checklists/<int:template_id>/import", methods=["GET", "POST"])
@admin_only
def import_checklist(template_id: int):
    """A spreadsheet becomes the checklist's next version: every row, or none."""
    template = get_or_404(ChecklistTemplate, template_id)
    form = ChecklistImportForm()
    report = None
    if form.validate_on_submit():
        try:
            version = checklist_sheet.import_version(
                actor(), template, form.file.data.read(), form.note.data or ""
            )
        except checklist_sheet.SheetImportError as exc:
            db.session.rollback()
            report = exc.report
            flash(_("Nothing was imported: correct the rows below and upload again."), "error")
        else:
            flash(_("Version %(n)d created.", n=version.number), "success")
            return redirect(url_for("admin.checklist_version", template_id=template.id))
    return render_template(
        "admin/checklist_import.html", form=form, report=report, template=template
    )


@bp.get("/checklists/<int:template_id>")
@bp.get("/checklists/<int:template_id>/v<int:number>")
@admin_only
def checklist_version(template_id: int, number: int | None = None):
    template = get_or_404(ChecklistTemplate, template_id)
    latest = checklist.latest_version(template)
    version = latest
    if number is not None:
        version = db.session.scalar(
            select(ChecklistVersion).filter_by(template_id=template.id, number=number)
        )
    if version is None:
        return redirect(url_for("admin.checklists"))
    return render_template(
        "admin/checklist.html",
        template=template,
        version=version,
        is_latest=version.id == latest.id,
        confirm=ConfirmForm(),
    )


@bp.route("/checklists/<int:template_id>/items/new", methods=["GET", "POST"])
@bp.route("/checklists/<int:template_id>/items/<code>/edit", methods=["GET", "POST"])
@admin_only
def checklist_item(template_id: int, code: str | None = None):
    template = get_or_404(ChecklistTemplate, template_id)
    latest = checklist.latest_version(template)
    item = next((i for i in latest.items if i.code == code), None) if code else None
    if code and item is None:
        return redirect(url_for("admin.checklist_version", template_id=template.id))
    form = ChecklistItemForm(obj=item)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            version = checklist.revise(
                actor(), template, item=form.item(), replaces=code, note=form.note.data or ""
            )
        if outcome.ok:
            flash(_("Version %(n)d created.", n=version.number), "success")
            return redirect(url_for("admin.checklist_version", template_id=template.id))
    title = _("Edit item %(code)s", code=code) if code else _("New checklist item")
    return _form_page(
        form,
        title,
        url_for("admin.checklist_version", template_id=template.id),
        intro=_("Saving creates a new version; visits already made keep the version they used."),
    )


@bp.post("/checklists/<int:template_id>/items/<code>/remove")
@admin_only
def remove_checklist_item(template_id: int, code: str):
    template = get_or_404(ChecklistTemplate, template_id)
    if ConfirmForm().validate_on_submit():
        with attempt() as outcome:
            version = checklist.revise(
                actor(), template, remove=code, note=_("Removed %(code)s", code=code)
            )
        if outcome.ok:
            flash(_("Version %(n)d created.", n=version.number), "success")
    return redirect(url_for("admin.checklist_version", template_id=template.id))
