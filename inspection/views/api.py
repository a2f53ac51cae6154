"""The JSON API under /api/v1 (token auth; errors as DESIGN.md describes them)."""

from datetime import UTC, datetime
from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from inspection import addresses, i18n, schemas
from inspection.boundary import json_error, keep_writes
from inspection.extensions import csrf, limiter, writes_late
from inspection.i18n import local, local_today, select_locale
from inspection.models import Inspection, Photo, Role, StaffMember, Unit, User
from inspection.models.base import valid_id
from inspection.pdf import signing
from inspection.responses import send_minutes
from inspection.schemas import (
    AUTH,
    PUBLIC,
    Acknowledged,
    ChecklistQuery,
    Decision,
    Finalize,
    InspectionCreate,
    InspectionFull,
    InspectionList,
    InspectionQuery,
    MinutesIssued,
    PersonCreate,
    PersonCreated,
    PhotoStored,
    PhotoUpload,
    RemediationAnswer,
    RemediationList,
    RemediationQuery,
    ResultsSave,
    ReviewDone,
    ReviewRequest,
    SignatureSave,
    SignatureSaved,
    StaffList,
    Stats,
    StatsQuery,
    TokenRequest,
    UnitList,
    Verification,
    VerifyUpload,
    VisitChecklist,
    answers,
    spec,
)
from inspection.services import (
    accounts,
    amendments,
    checklist,
    org,
    policy,
    results,
    review,
    second_factor,
    signatures,
    stats,
    verification,
    visits,
    webhooks,
)
from inspection.services import minutes as minutes_service
from inspection.services.audit import Actor
from inspection.views import login_limits
from inspection.views.access import ALL_ROLES, actor, check_unit, get_or_404, require

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

STAFF_READERS = (Role.ADMIN, Role.OFFICE, Role.INSPECTOR, Role.UNIT)


@bp.before_request
def csrf_for_cookie_sessions():
    """Cookie-authenticated writes need the CSRF token; Bearer requests cannot be forged."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint == "api.create_token":
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    # Anonymous requests fall through to the view's 401.
    if not _bearer() and current_user.is_authenticated:
        csrf.protect()


def loads(name: str, getter):
    """Load what the URL's ``<name>_id`` names, checking access, before the body is read:
    someone else's visit is a 404 whatever the body says. The view gets ``name``."""

    def decorate(view):
        @wraps(view)
        def wrapped(**kwargs):
            kwargs[name] = getter(current_user, kwargs.pop(f"{name}_id"))
            return view(**kwargs)

        return wrapped

    return decorate


editable_visit = loads("inspection", visits.get_editable)
visible_visit = loads("inspection", visits.get_visible)
loaded_remediation = loads("remediation", review.get_remediation)


def _bearer() -> bool:
    """Return whether a Bearer token authenticated this request (a junk header does not count)."""
    current_user._get_current_object()  # make Flask-Login load the user now
    return g.get("bearer_user") is not None


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "unit_id": user.unit_id,
        "email": user.email,
        "second_factor": user.has_second_factor,
    }


@bp.post("/tokens")
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_IP", "20/minute"))
@spec.validate(
    json=TokenRequest,
    resp=answers(201, schemas.Token, 400, 413, 401, 403, 422, 429),
    tags=["accounts"],
    operation_id="create_token",
    security=PUBLIC,
)
def create_token(json: TokenRequest):
    """Exchange a username and password (and the second factor) for a token."""
    login_limits.check()  # the same failure counts as the web login
    user = accounts.authenticate(json.username, json.password, actor())
    if user is None:
        login_limits.failed()
        keep_writes()  # the failed-login audit event
        return json_error(401, "unauthorized", _("Wrong username or password."))
    if refused := _second_step_refusal(user, json.otp):
        return refused
    login_limits.succeeded()
    accounts.logged_in(actor(), user, via="api")
    secret, token = accounts.issue_token(
        actor(), user, current_app.config["API_TOKEN_LIFETIME"], name=json.name
    )
    return jsonify(token=secret, expires_at=token.expires_at.isoformat(), user=user_json(user)), 201


def _second_step_refusal(user: User, code: str | None):
    """Return the error answer when ``user``'s second factor is missing or wrong."""
    if user.has_second_factor:
        if not code or not code.strip():
            return json_error(
                401,
                "second_factor_required",
                _("Enter the code from your authenticator app."),
                {"otp": _("Required.")},
            )
        if not second_factor.verify(Actor(user.id, request.remote_addr), user, code):
            login_limits.failed()
            keep_writes()  # the audit event
            return json_error(401, "second_factor_invalid", _("The code is wrong."))
    elif second_factor.required_for(user):
        return json_error(
            403, "second_factor_enrolment_required", str(second_factor.ENROLMENT_REQUIRED)
        )
    return None


@bp.get("/me")
@require(*ALL_ROLES)
@spec.validate(resp=answers(200, schemas.User, *AUTH), tags=["accounts"], operation_id="get_me")
def me():
    """Return the token's user."""
    body = user_json(current_user)
    if not _bearer():
        # A phone syncing from a page cached hours ago needs a token of this session.
        body["csrf_token"] = generate_csrf()
    return jsonify(body)


@bp.get("/units")
@require(*ALL_ROLES)
@spec.validate(resp=answers(200, UnitList, *AUTH), tags=["reference"], operation_id="list_units")
def units():
    """List the active units (a unit user sees only its own)."""
    own = current_user.unit_id if current_user.role is Role.UNIT else None
    items = org.list_units(active_only=own is None, unit_id=own)
    return jsonify(
        items=[
            {
                "id": u.id,
                "code": u.code,
                "name": u.name,
                "kind": u.kind.value,
                "has_one_stop": u.has_one_stop,
            }
            for u in items
        ]
    )


@bp.get("/units/<int:unit_id>/staff")
@require(*STAFF_READERS)
@spec.validate(
    resp=answers(200, StaffList, *AUTH, 404), tags=["reference"], operation_id="list_unit_staff"
)
def unit_staff(unit_id: int):
    """List a unit's active roster."""
    check_unit(unit_id)
    unit = get_or_404(Unit, unit_id)
    return jsonify(items=[staff_json(s) for s in org.roster(unit.id)])


def staff_json(staff: StaffMember) -> dict:
    return {
        "id": staff.id,
        "full_name": staff.full_name,
        "position": staff.position,
        "category": staff.category.value,
        "badge_no": staff.badge_no,
    }


@bp.get("/checklists/current")
@require(*ALL_ROLES)
@spec.validate(
    query=ChecklistQuery,
    resp=answers(200, schemas.Checklist, *AUTH, 404, 422),
    tags=["reference"],
    operation_id="get_current_checklist",
)
def current_checklist(query: ChecklistQuery):
    """Return the newest checklist versions with their items: with ``unit_id``, exactly
    what a visit started now at that unit asks; without, every active template's."""
    locale = select_locale()
    if query.unit_id is None:
        versions = [
            v for t in checklist.templates() if t.active and (v := checklist.latest_version(t))
        ]
        items = [i for v in versions for i in v.items]
    else:
        if not valid_id(query.unit_id):
            abort(404)
        check_unit(query.unit_id)
        unit = get_or_404(Unit, query.unit_id)
        versions = checklist.versions_for(unit)
        items = checklist.items_for(unit)
    if not versions:
        abort(404)
    return jsonify(
        id=versions[0].id,
        version=versions[0].number,
        unit_id=query.unit_id,
        checklists=[version_json(v) for v in versions],
        items=[item_json(i, locale, versions) for i in items],
    )


@bp.get("/inspections/<int:inspection_id>/checklist")
@require(*ALL_ROLES)
@spec.validate(
    resp=answers(200, VisitChecklist, *AUTH, 404),
    tags=["visits"],
    operation_id="get_inspection_checklist",
)
def inspection_checklist(inspection_id: int):
    """Return the checklist versions a visit asks, with its items and which the answers
    ask so far (conditional items)."""
    inspection = visits.get_visible(current_user, inspection_id)
    locale = select_locale()
    asked = {i.id for i in results.asked_items(inspection)}
    versions = inspection.checklists
    return jsonify(
        checklists=[version_json(v) for v in versions],
        items=[
            {**item_json(i, locale, versions), "asked": i.id in asked} for i in inspection.items
        ],
    )


def version_json(version) -> dict:
    return {
        "id": version.id,
        "template": version.template.code,
        "name": version.template.display_name(select_locale()),
        "version": version.number,
    }


def item_json(item, locale: str, versions) -> dict:
    """An item of one of ``versions`` (which say its template)."""
    condition = item.condition
    return {
        "code": item.code,
        "template": next(v.template.code for v in versions if v.id == item.version_id),
        "category": item.category.value,
        "scope": item.scope.value,
        "label": item.label(locale),
        "legal_basis": item.legal_basis,
        "required": item.required,
        "answer_type": item.answer_type.value,
        "choices": item.choice_list,
        "number_label": item.number_label(locale),
        "number_unit": item.number_unit,
        "number_min": float(item.number_min) if item.number_min is not None else None,
        "number_max": float(item.number_max) if item.number_max is not None else None,
        "applies_to": item.applies_to.split(),
        "ask_when": {"code": condition[0], "answers": sorted(condition[1])} if condition else None,
        # Answered through the person's attendance, never on its own.
        "derived_from": "attendance" if results.is_derived(item) else None,
    }


@bp.get("/openapi.json")
@spec.validate(
    resp=answers(200, None), tags=["meta"], operation_id="get_openapi_document", security=PUBLIC
)
def openapi():
    """Return this document: the API's shapes as OpenAPI 3.1, and the webhooks' payloads."""
    return jsonify(schemas.with_webhooks(spec.spec))


def _iso(value):
    """Return a date, or a time in UTC (as stored, also before the commit), in ISO 8601."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat() if value is not None else None


def photo_json(photo: Photo) -> dict:
    return {
        "id": photo.id,
        "sha256": photo.blob_sha256,
        "item_code": photo.item.code if photo.item_id else None,
        "person_id": photo.person_result_id,
        "captured_at": _iso(photo.captured_at),
        "url": url_for("files.photo", photo_id=photo.id),
        "thumb_url": url_for("files.thumbnail", photo_id=photo.id),
    }


def inspection_json(inspection: Inspection, full: bool = False) -> dict:
    """Return an inspection as the API shows it; ``full`` adds every answer and photo."""
    body = {
        "id": inspection.id,
        "status": inspection.status.value,
        "version": inspection.version,
        "unit_id": inspection.unit_id,
        "unit_name": inspection.unit.name,
        "kind": inspection.kind.value,
        "planned_date": _iso(inspection.planned_date),
        "started_at": _iso(inspection.started_at),
        # The lead's field on the phone: local time, as typed.
        "ended_at": local(inspection.ended_at).isoformat() if inspection.ended_at else None,
        "finished_at": _iso(inspection.finished_at),
        "checklist_version_id": inspection.checklist_version_id,
        "team": [
            {"user_id": m.user_id, "full_name": m.user.full_name, "role": m.role.value}
            for m in inspection.team
        ],
    }
    if not full:
        return body
    codes = {i.id: i.code for i in inspection.items}
    body["unit_items"] = [
        {
            "code": codes[r.item_id],
            "outcome": r.outcome.value if r.outcome else None,
            "note": r.note,
            "number": float(r.number_value) if r.number_value is not None else None,
            "text": r.text_value,
        }
        for r in inspection.unit_results
    ]
    body["people"] = [
        {
            "person_id": p.id,
            "staff_id": p.staff_id,
            "full_name": p.full_name,
            "position": p.position,
            "attendance": p.attendance.value if p.attendance else None,
            "arrived_at": p.arrived_at.strftime("%H:%M") if p.arrived_at else None,
            "note": p.note,
            "items": [
                {
                    "code": codes[r.item_id],
                    "outcome": r.outcome.value if r.outcome else None,
                    "note": r.note,
                }
                for r in p.items
            ],
        }
        for p in inspection.people
    ]
    body.update({name: getattr(inspection, name) for name in results.TEXT_FIELDS})
    body["remediation_due"] = _iso(inspection.remediation_due)
    # What a signature given now is bound to (see PUT …/signatures/{role}).
    body["content_digest"] = results.content_digest(inspection)
    body["photos"] = [photo_json(p) for p in results.photos_of(inspection)]
    return body


NOT_YOURS, IMMUTABLE = 404, 409


@bp.post("/inspections")
@require(Role.INSPECTOR)
@spec.validate(
    json=InspectionCreate,
    resp=answers({201: schemas.Inspection, 200: schemas.Inspection}, 400, 413, *AUTH, 422),
    tags=["visits"],
    operation_id="create_inspection",
)
def create_inspection(json: InspectionCreate):
    """Start a visit (idempotent per user and client_id: the same again answers 200)."""
    location = json.location
    inspection, created = visits.start_inspection(
        actor(),
        current_user,
        unit_id=json.unit_id,
        kind=json.kind,
        client_id=json.client_id,
        team=[(m.user_id, m.role) for m in json.team] if json.team is not None else None,
        client_started_at=i18n.parse_client_time(json.client_started_at),
        started_offline=json.started_offline,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        accuracy_m=location.accuracy if location else None,
        templates=json.templates,
    )
    return jsonify(inspection_json(inspection)), 201 if created else 200


@bp.get("/inspections")
@require(*ALL_ROLES)
@spec.validate(
    query=InspectionQuery,
    resp=answers(200, InspectionList, *AUTH, 422),
    tags=["visits"],
    operation_id="list_inspections",
)
def list_inspections(query: InspectionQuery):
    """List the visits the user may see."""
    if query.unit_id is not None and not valid_id(query.unit_id):
        return jsonify(items=[])
    items = visits.list_for(current_user, status=query.status, unit_id=query.unit_id)
    return jsonify(items=[inspection_json(i) for i in items])


@bp.get("/inspections/<int:inspection_id>")
@require(*ALL_ROLES)
@spec.validate(
    resp=answers(200, InspectionFull, *AUTH, NOT_YOURS),
    tags=["visits"],
    operation_id="get_inspection",
)
def get_inspection(inspection_id: int):
    """Return a visit with every answer and photo."""
    return jsonify(inspection_json(visits.get_visible(current_user, inspection_id), full=True))


@bp.put("/inspections/<int:inspection_id>/results")
@writes_late
@require(Role.INSPECTOR)
@editable_visit
@spec.validate(
    json=ResultsSave,
    resp=answers(200, schemas.Version, 400, 413, *AUTH, NOT_YOURS, 409, 422),
    tags=["visits"],
    operation_id="save_results",
)
def save_results(inspection: Inspection, json: ResultsSave):
    """Save answers (partial: only what is listed changes); answer the new version.

    409 when ``version`` is not the visit's current one, or the visit can no longer change.
    """
    version = results.save_results(actor(), inspection, json.changes())
    return jsonify(version=version)


@bp.post("/inspections/<int:inspection_id>/people")
@require(Role.INSPECTOR)
@editable_visit
@spec.validate(
    json=PersonCreate,
    resp=answers(
        {201: PersonCreated, 200: PersonCreated}, 400, 413, *AUTH, NOT_YOURS, IMMUTABLE, 422
    ),
    tags=["visits"],
    operation_id="add_person",
)
def add_person(inspection: Inspection, json: PersonCreate):
    """Add a person met on the visit who is not on the roster (idempotent by client_id)."""
    person, created = results.add_person(
        actor(),
        inspection,
        full_name=json.full_name,
        position=json.position,
        client_id=json.client_id,
    )
    return jsonify(person_id=person.id, version=inspection.version), 201 if created else 200


@bp.post("/inspections/<int:inspection_id>/photos")
@require(Role.INSPECTOR)
@editable_visit
@spec.validate(
    form=PhotoUpload,
    resp=answers({201: PhotoStored, 200: PhotoStored}, *AUTH, NOT_YOURS, IMMUTABLE, 413, 415, 422),
    tags=["visits"],
    operation_id="add_photo",
)
def add_photo(inspection: Inspection, form: PhotoUpload):
    """Attach a photo (re-encoded to JPEG, at most 1600 px, every metadata removed)."""
    upload = request.files.get("file")  # a text field named "file" is no file
    if upload is None:
        return json_error(422, "invalid", _("Some values are not valid."), {"file": _("Required.")})
    photo, created = results.add_photo(
        actor(),
        current_user,
        inspection,
        upload.read(),
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
        item_code=form.item_code or None,
        staff_id=form.staff_id,
        person_id=form.person_id,
        client_captured_at=i18n.parse_client_time(form.captured_at),
        client_id=form.client_id or None,
    )
    return jsonify({**photo_json(photo), "version": inspection.version}), 201 if created else 200


@bp.post("/inspections/<int:inspection_id>/submit")
@require(Role.INSPECTOR)
@spec.validate(
    resp=answers(200, schemas.Inspection, *AUTH, NOT_YOURS, IMMUTABLE, 422),
    tags=["visits"],
    operation_id="submit_inspection",
)
def submit_inspection(inspection_id: int):
    """Mark the checklist complete and ready for signatures, or 422 naming what is missing."""
    inspection = visits.get_editable(current_user, inspection_id)
    results.submit(actor(), inspection, select_locale())
    return jsonify(inspection_json(inspection))


@bp.put("/inspections/<int:inspection_id>/signatures/<role>")
@writes_late  # checks the content it saw, draws the image, then writes: version-checked
@require(Role.INSPECTOR)
@editable_visit
@spec.validate(
    json=SignatureSave,
    resp=answers(200, SignatureSaved, 400, 413, *AUTH, NOT_YOURS, 409, 422),
    tags=["signatures"],
    operation_id="put_signature",
    path_parameter_descriptions={"role": "lead, secretary or unit_rep"},
)
def put_signature(inspection: Inspection, role: str, json: SignatureSave):
    """Record a signature drawn on the phone, or the unit representative's refusal.

    409 when the content the signer saw (``content_digest``) is not the server's now.
    """
    signature = signatures.record_signature(
        actor(),
        inspection,
        role,
        name=json.name,
        position=json.position,
        image=json.image,
        refused=json.refused,
        reason=json.reason,
        content_version=json.content_version,
        content_digest=json.content_digest,
    )
    return jsonify(
        role=signature.role.value,
        name=signature.signer_name,
        refused=signature.refused,
        signed_at=_iso(signature.signed_at),
        content_digest=signature.content_digest,
        version=inspection.version,
    )


def minutes_json(minutes) -> dict:
    return {
        "number": minutes.display_number,
        "sha256": minutes.pdf_sha256,
        "level": minutes.files[-1].level if minutes.files else None,
        "download_url": url_for("api.minutes_pdf", inspection_id=minutes.inspection_id),
        # As printed in the minutes: the configured address, not the request's Host.
        "verify_url": f"{addresses.link_base_url().rstrip('/')}/verify/{minutes.verify_code}",
    }


@bp.post("/inspections/<int:inspection_id>/finalize")
@require(Role.INSPECTOR)
@editable_visit
@spec.validate(
    json=Finalize,
    resp=answers(201, MinutesIssued, 400, 413, *AUTH, NOT_YOURS, 409, 422),
    tags=["minutes"],
    operation_id="finalize_inspection",
)
def finalize(inspection: Inspection, json: Finalize):
    """Issue the minutes: number, render, sign and store them, and freeze the visit.

    409 naming what is missing or who must sign again, or a version the phone has not seen.
    """
    version = json.version
    issued = minutes_service.finalize(
        actor(),
        inspection,
        signer=signing.configured_signer(current_app.config),
        base_url=addresses.signed_base_url(),
        locale=select_locale(),
        version=version,
    )
    return jsonify(minutes=minutes_json(issued)), 201


@bp.get("/inspections/<int:inspection_id>/minutes.pdf")
@require(*ALL_ROLES)
@spec.validate(
    resp=answers(200, None, *AUTH, NOT_YOURS), tags=["minutes"], operation_id="download_minutes"
)
def minutes_pdf(inspection_id: int):
    """Download the stored signed PDF of the minutes in force (its SHA-256 is the ETag)."""
    minutes = minutes_service.current_for(inspection_id)
    if minutes is None:
        return json_error(404, "not_found", _("Not found."))
    return send_minutes(minutes_service.readable(current_user, minutes.id))


@bp.post("/minutes/verify")
@limiter.limit("20/minute")
@spec.validate(
    form=VerifyUpload,
    resp=answers(200, Verification, 413, 422, 429),
    tags=["minutes"],
    operation_id="verify_minutes",
    security=PUBLIC,
)
def verify_minutes(form: VerifyUpload):
    """Say whether a file is genuine minutes issued here (anyone may ask)."""
    upload = request.files.get("file")
    if upload is None:
        return json_error(422, "invalid", _("Some values are not valid."), {"file": _("Required.")})
    result = verification.verify(
        upload.read(),
        signing.configured_trust(current_app.config),
        addresses.link_base_url(),
        answer_by=verification.answer_by(),
    )
    result.pop("minutes")
    result.pop("replaced_by")
    return jsonify(result)


@bp.post("/inspections/<int:inspection_id>/amend")
@require(Role.INSPECTOR)
@spec.validate(
    resp=answers(201, schemas.Inspection, *AUTH, NOT_YOURS, 409),
    tags=["minutes"],
    operation_id="amend_inspection",
)
def amend(inspection_id: int):
    """Open a corrected copy of a finalized visit; its minutes will supersede the current."""
    inspection = visits.get_visible(current_user, inspection_id)
    if not policy.on_team(current_user, inspection):
        return json_error(404, "not_found", _("Not found."))
    copy = amendments.start_amendment(actor(), current_user, inspection)
    return jsonify(inspection_json(copy)), 201


def remediation_json(row) -> dict:
    return {
        "id": row.id,
        "inspection_id": row.inspection_id,
        "unit_id": row.inspection.unit_id,
        "item_code": row.item.code if row.item else None,
        "request": row.request,
        "review_id": row.review_id,
        "comment": row.review.comment if row.review else "",
        "due_date": row.due_date.isoformat(),
        "status": row.status.value,
        "overdue": review.is_overdue(row, local_today()),
        "response": row.response,
        "responded_at": _iso(row.responded_at),
        "office_comment": row.office_comment,
        "evidence": [
            {"id": e.id, "filename": e.filename, "url": url_for("files.evidence", evidence_id=e.id)}
            for e in row.evidence
        ],
        "follow_up_inspection_id": row.follow_up_inspection_id,
    }


@bp.post("/inspections/<int:inspection_id>/review")
@require(Role.OFFICE, Role.ADMIN)
@visible_visit
@spec.validate(
    json=ReviewRequest,
    resp=answers(201, ReviewDone, 400, 413, *AUTH, NOT_YOURS, 409, 422),
    tags=["review"],
    operation_id="review_inspection",
)
def review_inspection(inspection: Inspection, json: ReviewRequest):
    """Record the office's review of issued minutes, and the fixes it requires."""
    row = review.review(
        actor(),
        inspection,
        decision=json.decision,
        comment=json.comment,
        due=json.due,
        item_codes=json.item_codes,
        today=local_today(),
    )
    remediations = review.remediations_of(inspection.id)
    return jsonify(
        decision=row.decision.value, remediations=[remediation_json(r) for r in remediations]
    ), 201


@bp.get("/remediations")
@require(Role.OFFICE, Role.ADMIN, Role.UNIT)
@spec.validate(
    query=RemediationQuery,
    resp=answers(200, RemediationList, *AUTH, 422),
    tags=["remediation"],
    operation_id="list_remediations",
)
def list_remediations(query: RemediationQuery):
    """List remediation requests: the office sees all, a unit its own."""
    rows = review.list_remediations(current_user, query.status)
    return jsonify(items=[remediation_json(r) for r in rows])


@bp.post("/remediations/<int:remediation_id>/response")
@require(Role.UNIT)
@loaded_remediation
@spec.validate(
    form=RemediationAnswer,
    resp=answers(200, schemas.Remediation, *AUTH, 404, 409, 413, 415, 422),
    tags=["remediation"],
    operation_id="respond_remediation",
)
def respond_remediation(remediation, form: RemediationAnswer):
    """Report the fix: a text and evidence files (``file``, repeatable), as multipart."""
    files = [(f.filename or "", f.read()) for f in request.files.getlist("file") if f.filename]
    review.respond(
        actor(),
        current_user,
        remediation,
        text=form.response if form is not None else "",  # not a form: nothing was said
        files=files,
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
    )
    return jsonify(remediation_json(remediation))


@bp.post("/remediations/<int:remediation_id>/decision")
@require(Role.OFFICE, Role.ADMIN)
@loaded_remediation
@spec.validate(
    json=Decision,
    resp=answers(200, schemas.Remediation, 400, 413, *AUTH, 404, 409, 422),
    tags=["remediation"],
    operation_id="decide_remediation",
)
def decide_remediation(remediation, json: Decision):
    """Accept a unit's answer, or reopen the request with a comment."""
    review.decide(actor(), remediation, accept=json.accept, comment=json.comment)
    return jsonify(remediation_json(remediation))


@bp.post("/minutes/<int:minutes_id>/acknowledge")
@require(Role.UNIT)
@spec.validate(
    resp=answers(200, Acknowledged, *AUTH, 404),
    tags=["minutes"],
    operation_id="acknowledge_minutes",
)
def acknowledge_minutes(minutes_id: int):
    """Acknowledge receipt of the unit's minutes."""
    row = review.acknowledge(
        actor(), current_user, minutes_service.readable(current_user, minutes_id)
    )
    return jsonify(acknowledged_at=_iso(row.acknowledged_at))


@bp.get("/stats")
@require(Role.OFFICE, Role.ADMIN)
@spec.validate(
    query=StatsQuery,
    resp=answers(200, Stats, *AUTH, 422),
    tags=["figures"],
    operation_id="get_stats",
)
def get_stats(query: StatsQuery):
    """Return compliance by category and unit, and attendance, of current issued visits."""
    filters = stats.Filters(date_from=query.from_, date_to=query.to, unit_id=query.unit_id)
    figures = stats.compliance(filters)
    total = (stats.attendance(filters) or [{}])[0]
    return jsonify(
        by_category=[
            {
                "category": r["key"],
                "checked": r["checked"],
                "failed": r["failed"],
                "compliance_rate": r["compliance_rate"],
            }
            for r in figures["by_category"]
        ],
        by_unit=[
            {
                "unit_id": r["key"],
                "checked": r["checked"],
                "failed": r["failed"],
                "compliance_rate": r["compliance_rate"],
            }
            for r in figures["by_unit"]
        ],
        attendance={
            "rostered": total.get("rostered", 0),
            "present": total.get("present", 0),
            "late": total.get("late", 0),
            "absent_excused": total.get("absent_excused", 0),
            "absent_unexcused": total.get("absent_unexcused", 0),
            "on_duty": total.get("on_duty", 0),
        },
    )


# ---- webhooks ----


def webhook_json(row) -> dict:
    return {
        "id": row.id,
        "url": row.url,
        "events": row.event_list,
        "description": row.description,
        "created_at": _iso(row.created_at),
    }


def delivery_json(row) -> dict:
    return {
        "webhook_id": f"msg_{row.id}",
        "event": row.event,
        "status": row.status.value,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "next_attempt_at": _iso(row.next_attempt_at) if row.status.value == "pending" else None,
        "attempts": [
            {
                "at": _iso(a.at),
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "ok": a.ok,
                "error": a.error,
            }
            for a in row.attempts_log
        ],
    }


@bp.post("/webhooks")
@require(Role.ADMIN)
@spec.validate(
    json=schemas.WebhookCreate,
    resp=answers(201, schemas.WebhookCreated, 400, 413, *AUTH, 422),
    tags=["webhooks"],
    operation_id="create_webhook",
)
def create_webhook(json: schemas.WebhookCreate):
    """Register an endpoint for events; the answer holds its secret, shown only here."""
    row, secret = webhooks.register(
        actor(), url=json.url, events=list(json.events), description=json.description
    )
    return jsonify({**webhook_json(row), "secret": secret}), 201


@bp.get("/webhooks")
@require(Role.ADMIN)
@spec.validate(
    resp=answers(200, schemas.WebhookList, *AUTH), tags=["webhooks"], operation_id="list_webhooks"
)
def list_webhooks():
    """List the registered endpoints (their secrets are never shown again)."""
    return jsonify(items=[webhook_json(row) for row in webhooks.listed()])


@bp.get("/webhooks/<int:webhook_id>")
@require(Role.ADMIN)
@spec.validate(
    resp=answers(200, schemas.WebhookDetail, *AUTH, 404),
    tags=["webhooks"],
    operation_id="get_webhook",
)
def get_webhook(webhook_id: int):
    """One endpoint and its delivery log: status codes and times of every attempt."""
    row = webhooks.get(webhook_id)
    deliveries = [delivery_json(d) for d in webhooks.deliveries(row)]
    return jsonify({**webhook_json(row), "deliveries": deliveries})


@bp.delete("/webhooks/<int:webhook_id>")
@require(Role.ADMIN)
@spec.validate(
    # 405: an id past 2^31 matches no rule, and Werkzeug answers for the GET of that path.
    resp=answers(204, None, *AUTH, 404, 405),
    tags=["webhooks"],
    operation_id="delete_webhook",
)
def delete_webhook(webhook_id: int):
    """Delete an endpoint, with its waiting deliveries and log."""
    webhooks.remove(actor(), webhooks.get(webhook_id))
    return "", 204


@bp.post("/webhooks/<int:webhook_id>/ping")
@require(Role.ADMIN)
@spec.validate(
    resp=answers(202, schemas.PingQueued, *AUTH, 404),
    tags=["webhooks"],
    operation_id="ping_webhook",
)
def ping_webhook(webhook_id: int):
    """Send a test event (type webhook.ping) to the endpoint; see it in its log."""
    row = webhooks.ping(actor(), webhooks.get(webhook_id))
    return jsonify(webhook_id=f"msg_{row.id}"), 202
