"""The JSON API under /api/v1 (token auth; errors as DESIGN.md describes them)."""

from datetime import UTC, date, datetime

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from forms.base import FIRST_DAY, LAST_DAY
from inspection import addresses, i18n
from inspection.boundary import json_error, keep_writes
from inspection.extensions import csrf, limiter
from inspection.i18n import local, local_today, select_locale
from inspection.models import (
    Inspection,
    InspectionStatus,
    Photo,
    RemediationStatus,
    Role,
    StaffMember,
    TeamRole,
    Unit,
    User,
)
from inspection.models.base import valid_id
from inspection.pdf import signing
from inspection.responses import send_minutes
from inspection.services import (
    accounts,
    amendments,
    checklist,
    org,
    results,
    review,
    second_factor,
    signatures,
    stats,
    verification,
    visits,
)
from inspection.services import minutes as minutes_service
from inspection.services.audit import Actor
from inspection.services.errors import ServiceError
from inspection.views import login_limits
from inspection.views.access import ALL_ROLES, actor, check_unit, get_or_404, require
from inspection.views.openapi import openapi_document

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


def _bearer() -> bool:
    """Whether a Bearer token authenticated this request (a junk header does not count)."""
    current_user._get_current_object()  # make Flask-Login load the user now
    return g.get("bearer_user") is not None


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "unit_id": user.unit_id,
        "second_factor": user.has_second_factor,
    }


class NotJson(ServiceError):
    status = 400
    code = "bad_request"


def json_body() -> dict:
    """Return the request's JSON object; 400 when the body is anything else."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise NotJson(_("Send a JSON object."))
    return body


@bp.post("/tokens")
@limiter.limit(lambda: current_app.config.get("LOGIN_RATE_IP", "20/minute"))
def create_token():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    fields = {
        name: _("Required.")
        for name, value in (("username", username), ("password", password))
        if not isinstance(value, str) or not value
    }
    if fields:
        return json_error(422, "invalid", _("Some values are not valid."), fields)
    login_limits.check()  # the same failure counts as the web login
    user = accounts.authenticate(username, password, actor())
    if user is None:
        login_limits.failed()
        keep_writes()  # the failed-login audit event
        return json_error(401, "unauthorized", _("Wrong username or password."))
    if refused := _second_step_refusal(user, body.get("otp")):
        return refused
    login_limits.succeeded()
    accounts.logged_in(actor(), user, via="api")
    name = body.get("name") if isinstance(body.get("name"), str) else "API"
    secret, token = accounts.issue_token(
        actor(), user, current_app.config["API_TOKEN_LIFETIME"], name=name
    )
    return jsonify(token=secret, expires_at=token.expires_at.isoformat(), user=user_json(user)), 201


def _second_step_refusal(user: User, code):
    """The error answer when ``user``'s second factor is missing or wrong, else None."""
    if user.has_second_factor:
        if not isinstance(code, str) or not code.strip():
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
def me():
    body = user_json(current_user)
    if not _bearer():
        # A phone syncing from a page cached hours ago needs a token of this session.
        body["csrf_token"] = generate_csrf()
    return jsonify(body)


@bp.get("/units")
@require(*ALL_ROLES)
def units():
    own = current_user.unit_id if current_user.role is Role.UNIT else None
    items = org.list_units(active_only=own is None, unit_id=own)
    return jsonify(
        items=[{"id": u.id, "code": u.code, "name": u.name, "kind": u.kind.value} for u in items]
    )


@bp.get("/units/<int:unit_id>/staff")
@require(*STAFF_READERS)
def unit_staff(unit_id: int):
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
def current_checklist():
    version = checklist.current_version()
    locale = select_locale()
    return jsonify(
        id=version.id,
        version=version.number,
        items=[
            {
                "code": item.code,
                "category": item.category.value,
                "scope": item.scope.value,
                "label": item.label(locale),
                "legal_basis": item.legal_basis,
                "required": item.required,
                "number_label": item.number_label(locale),
                "number_min": float(item.number_min) if item.number_min is not None else None,
                "number_max": float(item.number_max) if item.number_max is not None else None,
                # Answered through the person's attendance, never on its own.
                "derived_from": "attendance" if results.is_derived(item) else None,
            }
            for item in version.items
        ],
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def _iso(value):
    """A date, or a time in UTC (as stored, also before the commit), in ISO 8601."""
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
    codes = {i.id: i.code for i in inspection.checklist_version.items}
    body["unit_items"] = [
        {
            "code": codes[r.item_id],
            "outcome": r.outcome.value if r.outcome else None,
            "note": r.note,
            "number": float(r.number_value) if r.number_value is not None else None,
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
    body["photos"] = [photo_json(p) for p in results.photos_of(inspection.id)]
    return body


def _choice_arg(name: str, allowed: list[str]) -> str | None:
    """A query argument that must be one of ``allowed`` (422 otherwise); None when absent."""
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise ServiceError(
            _("Some values are not valid."),
            {name: _("One of: %(values)s.", values=", ".join(allowed))},
        )
    return value


def _team(body: dict) -> list[tuple[int, TeamRole]] | None:
    team = body.get("team")
    if team is None:
        return None
    try:
        return [(int(m["user_id"]), TeamRole(m["role"])) for m in team]
    except (TypeError, KeyError, ValueError, OverflowError) as exc:
        raise ServiceError(
            _("Some values are not valid."),
            {"team": _("A list of {user_id, role} with role lead, member or secretary.")},
        ) from exc


@bp.post("/inspections")
@require(Role.INSPECTOR)
def create_inspection():
    body = json_body()
    location = body.get("location") if isinstance(body.get("location"), dict) else {}
    inspection, created = visits.start_inspection(
        actor(),
        current_user,
        unit_id=body.get("unit_id"),
        kind=body.get("kind", "surprise"),
        client_id=str(body.get("client_id") or ""),
        team=_team(body),
        client_started_at=i18n.parse_client_time(body.get("client_started_at")),
        started_offline=body.get("started_offline") is True,
        latitude=location.get("latitude"),
        longitude=location.get("longitude"),
        accuracy_m=location.get("accuracy"),
    )
    return jsonify(inspection_json(inspection)), 201 if created else 200


@bp.get("/inspections")
@require(*ALL_ROLES)
def list_inspections():
    unit_id = request.args.get("unit_id", type=int)
    status = _choice_arg("status", [s.value for s in InspectionStatus])
    if unit_id is not None and not valid_id(unit_id):
        return jsonify(items=[])
    items = visits.list_for(current_user, status=status, unit_id=unit_id)
    return jsonify(items=[inspection_json(i) for i in items])


@bp.get("/inspections/<int:inspection_id>")
@require(*ALL_ROLES)
def get_inspection(inspection_id: int):
    return jsonify(inspection_json(visits.get_visible(current_user, inspection_id), full=True))


@bp.put("/inspections/<int:inspection_id>/results")
@require(Role.INSPECTOR)
def save_results(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    body = json_body()
    version = results.save_results(actor(), inspection, body)
    return jsonify(version=version)


@bp.post("/inspections/<int:inspection_id>/people")
@require(Role.INSPECTOR)
def add_person(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    body = json_body()
    person, created = results.add_person(
        actor(),
        inspection,
        full_name=body.get("full_name") or "",
        position=body.get("position") or "",
        client_id=str(body.get("client_id") or ""),
    )
    return jsonify(person_id=person.id, version=inspection.version), 201 if created else 200


@bp.post("/inspections/<int:inspection_id>/photos")
@require(Role.INSPECTOR)
def add_photo(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    upload = request.files.get("file")
    if upload is None:
        return json_error(422, "invalid", _("Some values are not valid."), {"file": _("Required.")})
    photo, created = results.add_photo(
        actor(),
        current_user,
        inspection,
        upload.read(),
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
        item_code=request.form.get("item_code") or None,
        staff_id=request.form.get("staff_id", type=int),
        person_id=request.form.get("person_id", type=int),
        client_captured_at=i18n.parse_client_time(request.form.get("captured_at")),
        client_id=request.form.get("client_id") or None,
    )
    return jsonify({**photo_json(photo), "version": inspection.version}), 201 if created else 200


@bp.post("/inspections/<int:inspection_id>/submit")
@require(Role.INSPECTOR)
def submit_inspection(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    results.submit(actor(), inspection, select_locale())
    return jsonify(inspection_json(inspection))


@bp.put("/inspections/<int:inspection_id>/signatures/<role>")
@require(Role.INSPECTOR)
def put_signature(inspection_id: int, role: str):
    inspection = visits.get_editable(current_user, inspection_id)
    body = json_body()
    signature = signatures.record_signature(
        actor(),
        inspection,
        role,
        name=body.get("name") or "",
        position=body.get("position") or "",
        image=body.get("image"),
        refused=body.get("refused") is True,
        reason=body.get("reason") or "",
        content_version=body.get("content_version"),
        content_digest=body.get("content_digest"),
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
        "download_url": url_for("api.minutes_pdf", inspection_id=minutes.inspection_id),
        "verify_url": url_for("verify.by_code", code=minutes.verify_code, _external=True),
    }


@bp.post("/inspections/<int:inspection_id>/finalize")
@require(Role.INSPECTOR)
def finalize(inspection_id: int):
    inspection = visits.get_editable(current_user, inspection_id)
    body = request.get_json(silent=True) if request.content_length else {}
    version = body.get("version") if isinstance(body, dict) else None
    if version is not None and not valid_id(version):
        raise ServiceError(
            _("Some values are not valid."), {"version": _("Must be a whole number.")}
        )
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
def minutes_pdf(inspection_id: int):
    minutes = minutes_service.current_for(inspection_id)
    if minutes is None:
        return json_error(404, "not_found", _("Not found."))
    return send_minutes(minutes_service.readable(current_user, minutes.id))


@bp.post("/minutes/verify")
@limiter.limit("20/minute")
def verify_minutes():
    upload = request.files.get("file")
    if upload is None:
        return json_error(422, "invalid", _("Some values are not valid."), {"file": _("Required.")})
    result = verification.verify(
        upload.read(),
        signing.configured_trust(current_app.config),
        addresses.link_base_url(),
    )
    result.pop("minutes")
    result.pop("replaced_by")
    return jsonify(result)


@bp.post("/inspections/<int:inspection_id>/amend")
@require(Role.INSPECTOR)
def amend(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    if not visits.can_edit(current_user, inspection):
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
def review_inspection(inspection_id: int):
    inspection = visits.get_visible(current_user, inspection_id)
    body = json_body()
    due = body.get("due")
    try:
        due = date.fromisoformat(due) if due else None
    except (TypeError, ValueError):
        return json_error(422, "invalid", _("Some values are not valid."), {"due": "YYYY-MM-DD"})
    codes = body.get("item_codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return json_error(422, "invalid", _("Some values are not valid."), {"item_codes": "[...]"})
    row = review.review(
        actor(),
        inspection,
        decision=str(body.get("decision") or ""),
        comment=body.get("comment") if isinstance(body.get("comment"), str) else "",
        due=due,
        item_codes=codes,
        today=local_today(),
    )
    remediations = review.remediations_of(inspection.id)
    return jsonify(
        decision=row.decision.value, remediations=[remediation_json(r) for r in remediations]
    ), 201


@bp.get("/remediations")
@require(Role.OFFICE, Role.ADMIN, Role.UNIT)
def list_remediations():
    status = _choice_arg("status", [*(s.value for s in RemediationStatus), "overdue"])
    rows = review.list_remediations(current_user, status)
    return jsonify(items=[remediation_json(r) for r in rows])


@bp.post("/remediations/<int:remediation_id>/response")
@require(Role.UNIT)
def respond_remediation(remediation_id: int):
    row = review.get_remediation(current_user, remediation_id)
    files = [(f.filename or "", f.read()) for f in request.files.getlist("file") if f.filename]
    review.respond(
        actor(),
        current_user,
        row,
        text=request.form.get("response", ""),
        files=files,
        max_bytes=current_app.config["PHOTO_MAX_BYTES"],
    )
    return jsonify(remediation_json(row))


@bp.post("/remediations/<int:remediation_id>/decision")
@require(Role.OFFICE, Role.ADMIN)
def decide_remediation(remediation_id: int):
    row = review.get_remediation(current_user, remediation_id)
    body = json_body()
    if not isinstance(body.get("accept"), bool):
        return json_error(422, "invalid", _("Some values are not valid."), {"accept": "true|false"})
    review.decide(actor(), row, accept=body["accept"], comment=str(body.get("comment") or ""))
    return jsonify(remediation_json(row))


@bp.post("/minutes/<int:minutes_id>/acknowledge")
@require(Role.UNIT)
def acknowledge_minutes(minutes_id: int):
    row = review.acknowledge(
        actor(), current_user, minutes_service.readable(current_user, minutes_id)
    )
    return jsonify(acknowledged_at=_iso(row.acknowledged_at))


@bp.get("/stats")
@require(Role.OFFICE, Role.ADMIN)
def get_stats():
    try:
        filters = stats.Filters(
            date_from=date.fromisoformat(request.args["from"])
            if request.args.get("from")
            else None,
            date_to=date.fromisoformat(request.args["to"]) if request.args.get("to") else None,
            unit_id=int(request.args["unit_id"]) if request.args.get("unit_id") else None,
        )
    except ValueError:
        return json_error(422, "invalid", _("Some values are not valid."), {"from": "YYYY-MM-DD"})
    for day in (filters.date_from, filters.date_to):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            return json_error(
                422, "invalid", _("Some values are not valid."), {"from": "2000-01-01..2100-12-31"}
            )
    if filters.unit_id is not None and not valid_id(filters.unit_id):
        return json_error(
            422, "invalid", _("Some values are not valid."), {"unit_id": _("Not found.")}
        )
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
            "away_on_duty": total.get("on_duty", 0),
        },
    )
