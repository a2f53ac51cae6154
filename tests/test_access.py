"""Access matrix over every route: each role plus anonymous gets the expected outcome.

A new route fails ``test_every_route_is_in_the_matrix`` until it is listed here.
"""

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import StaffMember, Unit, User

ANON, ADMIN, OFFICE, INSPECTOR, UNIT = "anon", "admin", "noivu", "truongdoan", "donvi1"
LOGGED_IN = {ADMIN, OFFICE, INSPECTOR, UNIT}
EVERYONE = LOGGED_IN | {ANON}

# endpoint -> who may use it
MATRIX = {
    "static": EVERYONE,
    "main.index": EVERYONE,
    "main.healthz": EVERYONE,
    "pwa.service_worker": EVERYONE,
    "pwa.manifest": EVERYONE,
    "auth.login": EVERYONE,
    "auth.second_step": EVERYONE,
    "auth.enrol": LOGGED_IN,
    "auth.new_recovery_codes": LOGGED_IN,
    "auth.second_factor_off": LOGGED_IN,
    "auth.set_language": EVERYONE,
    "auth.logout": LOGGED_IN,
    "auth.account": LOGGED_IN,
    "auth.mail_settings": LOGGED_IN,
    "auth.revoke_token": LOGGED_IN,
    "auth.logout_everywhere": LOGGED_IN,
    "admin.index": {ADMIN},
    "admin.settings": {ADMIN},
    "admin.seal": {ADMIN},
    "admin.remove_seal": {ADMIN},
    "admin.seal_image": {ADMIN},
    "admin.units": {ADMIN},
    "admin.unit_form": {ADMIN},
    "admin.unit": {ADMIN},
    "admin.staff_form": {ADMIN},
    "admin.import_staff": {ADMIN},
    "admin.users": {ADMIN},
    "admin.user_form": {ADMIN},
    "admin.reset_second_factor": {ADMIN},
    "admin.checklists": {ADMIN},
    "admin.checklist_version": {ADMIN},
    "admin.checklist_item": {ADMIN},
    "admin.new_checklist": {ADMIN},
    "admin.messages": {ADMIN},
    "admin.retry_message": {ADMIN},
    "admin.webhooks": {ADMIN},
    "admin.webhook": {ADMIN},
    "admin.ping_webhook": {ADMIN},
    "admin.delete_webhook": {ADMIN},
    "admin.checklist_settings": {ADMIN},
    "admin.export_checklist": {ADMIN},
    "admin.import_checklist": {ADMIN},
    "admin.remove_checklist_item": {ADMIN},
    "inspector.index": {INSPECTOR},
    "inspector.start": {INSPECTOR},
    "inspector.begin": {INSPECTOR},
    "inspector.visit": {INSPECTOR},
    "inspector.add_person": {INSPECTOR},
    "inspector.add_photo": {INSPECTOR},
    "inspector.summary": {INSPECTOR},
    "inspector.submit": {INSPECTOR},
    "inspector.sign": {INSPECTOR},
    "inspector.draft_pdf": {INSPECTOR},
    "inspector.save_signature": {INSPECTOR},
    "inspector.finalize": {INSPECTOR},
    "inspector.amend": {INSPECTOR},
    "inspector.draft_visit": {INSPECTOR},
    "inspector.draft_sign": {INSPECTOR},
    "inspector.outbox": {INSPECTOR},
    "inspector.offline_page": {INSPECTOR},
    "files.minutes_pdf": LOGGED_IN,
    "verify.by_code": EVERYONE,
    "verify.certificate": EVERYONE,
    "verify.upload": EVERYONE,
    "files.photo": LOGGED_IN,
    "files.thumbnail": LOGGED_IN,
    "unit.index": {UNIT},
    "unit.acknowledge": {UNIT},
    "unit.remediation": {UNIT},
    "unit.request_page": {UNIT},
    "office.index": {OFFICE, ADMIN},
    "office.visit": {OFFICE, ADMIN},
    "office.remediations": {OFFICE, ADMIN},
    "office.remediation": {OFFICE, ADMIN},
    "office.dashboard": {OFFICE, ADMIN},
    "office.audit_log": {ADMIN, OFFICE},
    "office.audit_export": {ADMIN, OFFICE},
    "office.person": {OFFICE},
    "office.export": {OFFICE, ADMIN},
    "office.plan": {OFFICE, ADMIN},
    "office.schedule": {OFFICE, ADMIN},
    "office.draw": {OFFICE, ADMIN},
    "office.report": {OFFICE, ADMIN},
    "office.report_pdf": {OFFICE, ADMIN},
    "files.evidence": LOGGED_IN,
    "api.create_token": EVERYONE,
    "api.openapi": EVERYONE,
    "api.me": LOGGED_IN,
    "api.units": LOGGED_IN,
    "api.unit_staff": LOGGED_IN,
    "api.current_checklist": LOGGED_IN,
    "api.create_inspection": {INSPECTOR},
    "api.list_inspections": LOGGED_IN,
    "api.get_inspection": LOGGED_IN,
    "api.inspection_checklist": LOGGED_IN,
    "api.save_results": {INSPECTOR},
    "api.add_person": {INSPECTOR},
    "api.add_photo": {INSPECTOR},
    "api.submit_inspection": {INSPECTOR},
    "api.put_signature": {INSPECTOR},
    "api.finalize": {INSPECTOR},
    "api.amend": {INSPECTOR},
    "api.review_inspection": {OFFICE, ADMIN},
    "api.list_remediations": {OFFICE, ADMIN, UNIT},
    "api.respond_remediation": {UNIT},
    "api.decide_remediation": {OFFICE, ADMIN},
    "api.acknowledge_minutes": {UNIT},
    "api.get_stats": {OFFICE, ADMIN},
    "api.minutes_pdf": LOGGED_IN,
    "api.verify_minutes": EVERYONE,
    "api.create_webhook": {ADMIN},
    "api.list_webhooks": {ADMIN},
    "api.get_webhook": {ADMIN},
    "api.delete_webhook": {ADMIN},
    "api.ping_webhook": {ADMIN},
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(MATRIX)


@pytest.fixture(scope="module")
def cases(template_dbs):
    """Every (rule, method) with URL values filled from the demo data."""
    from app import create_app
    from tests.conftest import _config

    app = create_app(_config(template_dbs["demo"]))
    with app.app_context():
        own_unit = db.session.scalar(select(User).filter_by(username=UNIT)).unit_id
        values = {
            "unit_id": own_unit,
            "staff_id": db.session.scalar(
                select(StaffMember.id).filter_by(unit_id=own_unit).limit(1)
            ),
            "user_id": 1,
            "template_id": 1,
            "number": 1,
            "code": "SMOKE-SIGN",
            "token_id": 1,
            "filename": "css/app.css",
            "inspection_id": 1,
            "photo_id": 1,
            "minutes_id": 1,
            "remediation_id": 1,
            "review_id": 1,
            "outbox_id": 1,
            "webhook_id": 1,
            "evidence_id": 1,
            "role": "lead",
            "kind": "visits",
            "dataset": "visits",
            "fmt": "csv",
        }
        db.session.remove()
        db.engine.dispose()
    result = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for arg in rule.arguments - set(rule.defaults or {}):
            path = path.replace(f"<{arg}>", str(values[arg]))
            path = path.replace(f"<int:{arg}>", str(values[arg]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            result.append((rule.endpoint, method, path))
    return result


def _client_as(app, who):
    client = app.test_client()
    if who != ANON:
        response = client.post("/login", data={"username": who, "password": "kiemtra2018"})
        assert response.status_code == 302
    return client


@pytest.mark.parametrize("who", sorted(EVERYONE))
def test_access_matrix(app, cases, who):
    client = _client_as(app, who)
    failures = []
    for endpoint, method, path in cases:
        if endpoint in ("auth.logout", "auth.logout_everywhere"):
            continue  # they end the session the rest of the loop needs; tested below
        response = client.open(path, method=method, json={} if path.startswith("/api/") else None)
        status = response.status_code
        allowed = who in MATRIX[endpoint]
        api = path.startswith("/api/")
        if allowed:
            ok = status not in (401, 403) and status < 500
        elif who == ANON:
            ok = status == 401 if api else (status == 302 and "/login" in response.location)
        else:
            ok = status == 403
        if not ok:
            failures.append(f"{method} {path} as {who}: {status}")
    assert failures == []


@pytest.mark.parametrize("endpoint", ["auth.logout", "auth.logout_everywhere"])
def test_logout_routes_need_a_session(app, cases, endpoint):
    path = next(p for e, _, p in cases if e == endpoint)
    response = app.test_client().post(path)
    assert response.status_code == 302 and "/login" in response.location
    client = _client_as(app, INSPECTOR)
    assert client.post(path).status_code == 302
    assert client.get("/inspector/").status_code == 302  # logged out


def test_unit_user_gets_404_for_another_units_data(app, token):
    bearer = {"Authorization": f"Bearer {token(UNIT)}"}
    client = app.test_client()
    with app.app_context():
        own = db.session.scalar(select(User).filter_by(username=UNIT)).unit_id
        others = db.session.scalars(select(Unit.id).where(Unit.id != own)).all()
    assert client.get(f"/api/v1/units/{own}/staff", headers=bearer).status_code == 200
    for unit_id in others:
        response = client.get(f"/api/v1/units/{unit_id}/staff", headers=bearer)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    units = client.get("/api/v1/units", headers=bearer).json["items"]
    assert [u["id"] for u in units] == [own]


def test_tokens_grant_only_the_api(app, token):
    bearer = {"Authorization": f"Bearer {token(ADMIN)}"}
    response = app.test_client().get("/admin/", headers=bearer)
    assert response.status_code == 302 and "/login" in response.location
