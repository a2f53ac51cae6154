"""The inspector's phone pages: start a visit, fill the checklist, review the summary."""

import uuid
from itertools import chain

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from forms.auth import ConfirmForm
from forms.checklist import (
    AddPersonForm,
    PhotoForm,
    StartForm,
    check_rows,
    form_changes,
    form_data,
    make_checklist_form,
    segmented,
)
from forms.signature import SignatureForm
from inspection import addresses, field_names, i18n
from inspection.boundary import attempt
from inspection.extensions import db, writes_late
from inspection.i18n import local_today
from inspection.labels import label
from inspection.models import Attendance, InspectionKind, Minutes, Outcome, Role, SignerRole
from inspection.models.checklist import applies
from inspection.pdf import signing
from inspection.responses import content_disposition
from inspection.services import (
    amendments,
    checklist,
    document,
    minutes,
    org,
    policy,
    results,
    signatures,
    visits,
)
from inspection.services.errors import Conflict
from inspection.views.access import actor, require

bp = Blueprint("inspector", __name__, url_prefix="/inspector")
inspector_only = require(Role.INSPECTOR)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _locale() -> str:
    return get_locale().language


@bp.get("/")
@inspector_only
def index():
    lists = visits.inspector_home(current_user, local_today())
    return render_template(
        "inspector/home.html",
        confirm=ConfirmForm(),
        offline_pages=_offline_pages(lists["drafts"]),
        **lists,
    )


def _offline_pages(drafts) -> list[str]:
    """Return the pages the phone keeps for offline work, most needed first."""
    pages = [url_for("inspector.index"), url_for("inspector.start"), url_for("inspector.outbox")]
    for inspection in drafts:  # an inspector's visible drafts are the ones they fill
        pages += [
            url_for("inspector.visit", inspection_id=inspection.id),
            url_for("inspector.sign", inspection_id=inspection.id),
            url_for("inspector.summary", inspection_id=inspection.id),
        ]
    limit = current_app.config["OFFLINE_UNITS"]
    for unit in visits.offline_units(current_user, local_today(), limit):
        pages += [
            url_for("inspector.draft_visit", unit_id=unit.id),
            url_for("inspector.draft_sign", unit_id=unit.id),
        ]
    return pages


@bp.get("/offline")
@inspector_only
def offline_page():
    """Return what the phone shows for a page it did not keep, with no connection."""
    return render_template("inspector/offline.html")


@bp.get("/outbox")
@inspector_only
def outbox():
    """Return what waits on this phone (drawn by outbox.js from the phone's own storage)."""
    answers = {member.value: label(member) for member in (*Attendance, *Outcome)}
    return render_template("inspector/outbox.html", answers=answers)


@bp.route("/start", methods=["GET", "POST"])
@inspector_only
def start():
    units = org.list_units(active_only=True)
    team = visits.inspectors()
    templates = [t for t in checklist.templates() if t.active]
    form = StartForm(units=units, inspectors=team, templates=templates, locale=_locale())
    if request.method == "GET":
        form.client_id.data = str(uuid.uuid4())
        form.lead.data = current_user.id
        form.secretary.data = visits.last_secretary(current_user)  # the usual secretary
    if form.validate_on_submit():
        chosen = visits.team_of(form.lead.data, form.secretary.data, form.members.data)
        with attempt(form) as outcome:
            inspection, _created = visits.start_inspection(
                actor(),
                current_user,
                unit_id=form.unit_id.data,
                kind=InspectionKind(form.kind.data),
                client_id=form.client_id.data,
                team=chosen,
                client_started_at=i18n.parse_client_time(form.client_time.data),
                latitude=_float(form.latitude.data),
                longitude=_float(form.longitude.data),
                accuracy_m=_float(form.accuracy.data),
                templates=form.chosen_templates(),
            )
        if outcome.ok:
            return redirect(url_for("inspector.visit", inspection_id=inspection.id))
    applying = {
        u.id: " ".join(t.code for t in templates if applies(t.applies_to, u.kind, u.has_one_stop))
        for u in units
    }
    return render_template(
        "inspector/start.html",
        form=form,
        units=units,
        team=team,
        facts=visits.unit_facts(),
        applying=applying,
    )


@bp.post("/visits/<int:inspection_id>/begin")
@inspector_only
def begin(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    if ConfirmForm().validate_on_submit() and policy.on_team(current_user, inspection):
        visits.begin_planned(actor(), current_user, inspection)
    return redirect(url_for("inspector.visit", inspection_id=inspection.id))


def _script_config(inspection) -> dict:
    """Return what checklist.js needs: item codes, the summary address, its messages."""
    items = inspection.items
    return {
        "codes": {str(i.id): i.code for i in items},
        "ids": {i.code: i.id for i in items},
        "summary_url": url_for("inspector.summary", inspection_id=inspection.id)
        if inspection.id
        else None,
        "sign_url": url_for("inspector.draft_sign", unit_id=inspection.unit.id)
        if not inspection.id
        else url_for("inspector.sign", inspection_id=inspection.id),
        "locale": "en-GB" if _locale() == "en" else "vi-VN",
        "messages": {
            "saved_at": _("All saved at {time}"),
            "saved": _("All saved"),
            "waiting": _("{n} changes waiting"),
            "offline": _("Offline: kept on this phone, sent when the connection is back"),
            "not_saved": _("Not saved"),
            "conflict": _(
                "Another team member saved this visit meanwhile; their answers are shown."
            ),
            "conflict_fields": _("Check these, which you had both changed:"),
            "invalid": _("Some answers were refused: see below."),
            "yours": _("Yours"),
            "theirs": _("On the server"),
            "keep_mine": _("Keep mine"),
            "take_theirs": _("Take the server's"),
            "discard": _("Discard my change"),
            "empty_value": _("(empty)"),
            "logged_out": _(
                "You are logged out or no longer on this visit's team. Your answers stay on"
                " this phone: log in again to send them."
            ),
            "unsent": _("Some answers are not saved yet; they stay on this phone."),
            "photo": _("Photo"),
            "photo_failed": _("The photo was not saved."),
        },
    }


def _render_visit(inspection, form, status=200):
    """Return the checklist page of a visit; a ``DraftVisit`` gives a unit's blank checklist."""
    items = inspection.items
    unit_items = results.unit_checks(items)
    if inspection.id is None:  # nothing stored yet: no photos, nothing answered
        stored = {"draft": True, "photos": []}
        asked = results.unit_checks(results.asked(items, {}))
        total = sum(i.required for i in asked) + len(inspection.people)
        stored["progress"] = {"answered": 0, "total": total}
    else:
        stored = {
            "photos": results.photos_of(inspection),
            "progress": results.summary(inspection, _locale()),
            "add_person": AddPersonForm(formdata=None, client_id=str(uuid.uuid4())),
            "photo_form": PhotoForm(formdata=None),
        }
    photos_of_person = {}
    for photo in stored["photos"]:
        photos_of_person.setdefault(photo.person_result_id, []).append(photo)
    return (
        render_template(
            "inspector/visit.html",
            photos_of_person=photos_of_person,
            field=field_names,
            inspection=inspection,
            form=form,
            unit_items=unit_items,
            # The items are per-process copies: their templates come from the visit.
            templates={v.id: v.template for v in inspection.checklists},
            asked={i.id for i in results.asked_items(inspection)},
            # Each person's checks: (item id, short label), worked out once for every card.
            person_checks=[(i.id, i.short_label(_locale())) for i in results.person_checks(items)],
            locale=_locale(),
            script_config=_script_config(inspection),
            segmented=segmented,
            check_rows=check_rows,
            # A plain string: segmented() escapes the name put in it.
            attendance_of=_("Attendance of %(name)s"),
            **stored,
        ),
        status,
    )


@bp.get("/units/<int:unit_id>/new")
@inspector_only
def draft_visit(unit_id: int):
    """Return the blank checklist of a unit: the phone fills it for a visit it started offline.

    Its people are named by staff id; the phone creates the visit through the API when
    it can (``?client=<client_id>`` names the visit on the phone).
    """
    draft = visits.offline_draft(unit_id)
    form_class = make_checklist_form(draft.items, draft.people, _locale())
    return _render_visit(draft, form_class(formdata=None, data={"version": 0}))


@bp.route("/visits/<int:inspection_id>", methods=["GET", "POST"])
@writes_late
@inspector_only
def visit(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    if not policy.may_fill(current_user, inspection):
        return redirect(url_for("inspector.summary", inspection_id=inspection.id))
    form_class = make_checklist_form(inspection.items, inspection.people, _locale())
    if request.method == "GET":
        return _render_visit(inspection, form_class(data=form_data(inspection)))
    form = form_class()
    if not form.validate_on_submit():
        flash(_("Some answers were not saved: see the marked fields."), "error")
        return _render_visit(inspection, form, 422)
    with attempt(form) as outcome:
        results.save_results(actor(), inspection, form_changes(form, inspection, set(request.form)))
    if isinstance(outcome.error, Conflict):  # changed meanwhile: show what is stored now
        fresh = visits.get_visible(current_user, inspection_id)
        return _render_visit(fresh, form_class(data=form_data(fresh)), 409)
    if not outcome.ok:
        return _render_visit(inspection, form, outcome.error.status)
    flash(_("Saved."), "success")
    if request.form.get("next") == "summary":
        return redirect(url_for("inspector.summary", inspection_id=inspection.id))
    return redirect(url_for("inspector.visit", inspection_id=inspection.id))


@bp.post("/visits/<int:inspection_id>/people")
@inspector_only
def add_person(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    form = AddPersonForm()
    if form.validate_on_submit():
        person, _created = results.add_person(
            actor(),
            inspection,
            full_name=form.full_name.data,
            position=form.position.data or "",
            client_id=form.client_id.data or "",
        )
        return redirect(
            url_for("inspector.visit", inspection_id=inspection.id, _anchor=f"p-{person.id}")
        )
    problems = " ".join(chain.from_iterable(form.errors.values()))
    flash(_("The person was not added.") + " " + problems, "error")
    return redirect(url_for("inspector.visit", inspection_id=inspection.id, _anchor="add-person"))


@bp.post("/visits/<int:inspection_id>/photos")
@inspector_only
def add_photo(inspection_id: int):
    """Attach a photo without JavaScript; the page's script uses the API instead."""
    inspection = visits.get_editable(current_user, inspection_id)
    form = PhotoForm()
    upload = request.files.get("file")
    anchor = "photos"
    if form.validate_on_submit() and upload and upload.filename:
        kind, _sep, ident = (form.target.data or "").partition(":")
        with attempt() as outcome:
            results.add_photo(
                actor(),
                current_user,
                inspection,
                upload.read(),
                max_bytes=current_app.config["PHOTO_MAX_BYTES"],
                item_code=ident if kind == "item" else None,
                person_id=int(ident) if kind == "person" and ident.isdigit() else None,
            )
        if outcome.ok:
            flash(_("Photo saved."), "success")
    else:
        flash(_("Choose a photo."), "error")
    return redirect(url_for("inspector.visit", inspection_id=inspection.id, _anchor=anchor))


@bp.get("/visits/<int:inspection_id>/summary")
@inspector_only
def summary(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    current = minutes.current_for(inspection.id)
    return render_template(
        "inspector/summary.html",
        inspection=inspection,
        minutes=current,
        superseded_by=minutes.superseded_by(current) if current else None,
        amends=db.session.get(Minutes, inspection.amends_minutes_id)
        if inspection.amends_minutes_id
        else None,
        summary=results.summary(inspection, _locale()),
        can_edit=policy.may_fill(current_user, inspection),
        confirm=ConfirmForm(),
    )


@bp.post("/visits/<int:inspection_id>/submit")
@inspector_only
def submit(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    if ConfirmForm().validate_on_submit():
        with attempt() as outcome:
            results.submit(actor(), inspection, _locale())
        if outcome.ok:
            flash(_("The checklist is complete and ready for signatures."), "success")
            return redirect(url_for("inspector.sign", inspection_id=inspection.id))
    return redirect(url_for("inspector.summary", inspection_id=inspection.id))


def _signature_forms(inspection, posted_role=None):
    defaults = signatures.signing_defaults(inspection)
    forms = {}
    for role in SignerRole:
        if role.value == posted_role:
            forms[role] = SignatureForm(prefix=role.value)
        else:
            forms[role] = SignatureForm(formdata=None, prefix=role.value, data=defaults[role])
    return forms


def _render_sign(inspection, forms, status=200):
    stale = signatures.must_sign_again(inspection)  # one pass over the visit's content
    return (
        render_template(
            "inspector/sign.html",
            inspection=inspection,
            forms=forms,
            signed=signatures.signatures_of(inspection),
            void={s.role for s in stale},
            missing=signatures.missing_for_finalize(inspection, _locale(), stale),
            preview=document.preview(inspection),
            content_map=results.content_fields(inspection),
            is_lead=policy.is_lead(current_user.id, inspection),
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.get("/visits/<int:inspection_id>/sign")
@inspector_only
def sign(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    return _render_sign(inspection, _signature_forms(inspection))


@bp.get("/units/<int:unit_id>/new/sign")
@inspector_only
def draft_sign(unit_id: int):
    """Signature pads for a visit started offline; the phone sends them after the visit."""
    draft = visits.offline_draft(unit_id)
    defaults = {role: {"name": "", "position": ""} for role in SignerRole}
    defaults[SignerRole.LEAD] = {"name": current_user.full_name, "position": current_user.position}
    forms = {
        role: SignatureForm(formdata=None, prefix=role.value, data=defaults[role])
        for role in SignerRole
    }
    return render_template(
        "inspector/sign.html",
        inspection=draft,
        draft=True,
        forms=forms,
        signed={},
        void=set(),
        missing={},
        preview=None,
        content_map=results.content_fields(draft),
        draft_labels=_draft_labels(draft),
        is_lead=True,
    )


def _draft_labels(draft) -> dict:
    """Return names of what a blank checklist holds: the phone draws the minutes' text from them."""
    items = draft.items
    return {
        "people": {str(p.id): p.full_name for p in draft.people},
        "items": {str(i.id): i.short_label("vi") for i in items},
        "attendance": [[a.value, label(a)] for a in Attendance],  # in the roster's order
    }


@bp.get("/visits/<int:inspection_id>/draft.pdf")
@inspector_only
def draft_pdf(inspection_id: int):
    """Return the minutes as they would be issued now, marked DỰ THẢO: no number, no signature."""
    inspection = visits.get_editable(current_user, inspection_id)
    response = Response(document.draft_pdf(inspection), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition("inline", "du-thao-bien-ban.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/visits/<int:inspection_id>/sign/<role>")
@inspector_only
def save_signature(inspection_id: int, role: str):
    inspection = visits.get_editable(current_user, inspection_id)
    forms = _signature_forms(inspection, posted_role=role)
    form = forms.get(SignerRole(role)) if role in set(SignerRole) else None
    if form is None:
        return redirect(url_for("inspector.sign", inspection_id=inspection.id))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            signatures.record_signature(
                actor(),
                inspection,
                role,
                name=form.name.data,
                position=form.position.data or "",
                image=form.image.data,
                refused=form.refused.data,
                reason=form.reason.data or "",
            )
        if outcome.ok:
            flash(_("Signature saved."), "success")
            return redirect(url_for("inspector.sign", inspection_id=inspection.id))
    return _render_sign(inspection, forms, 422)


@bp.post("/visits/<int:inspection_id>/finalize")
@inspector_only
def finalize(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("inspector.sign", inspection_id=inspection.id))
    with attempt() as outcome:
        issued = minutes.finalize(
            actor(),
            inspection,
            signer=signing.configured_signer(current_app.config),
            base_url=addresses.signed_base_url(),
            locale=_locale(),
            version=request.form.get("version", type=int),
        )
    if not outcome.ok:
        return redirect(url_for("inspector.sign", inspection_id=inspection.id))
    flash(_("Minutes No. %(number)s issued and signed.", number=issued.display_number), "success")
    return redirect(url_for("inspector.summary", inspection_id=inspection.id))


@bp.post("/visits/<int:inspection_id>/amend")
@inspector_only
def amend(inspection_id: int):
    """Open a correction of issued minutes: a copy of the visit, to sign and issue again."""
    inspection = visits.get_visible(current_user, inspection_id)
    if not policy.on_team(current_user, inspection) or not ConfirmForm().validate_on_submit():
        return redirect(url_for("inspector.summary", inspection_id=inspection.id))
    with attempt() as outcome:
        copy = amendments.start_amendment(actor(), current_user, inspection)
    if not outcome.ok:
        return redirect(url_for("inspector.summary", inspection_id=inspection.id))
    flash(
        _("Correct the answers, sign again and issue: the new minutes will replace the old."),
        "success",
    )
    return redirect(url_for("inspector.visit", inspection_id=copy.id))
