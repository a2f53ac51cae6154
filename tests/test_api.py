"""The JSON API base: tokens, me, units, staff, current checklist, errors, OpenAPI."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import ApiToken, Unit, User, utcnow
from tests.conftest import PASSWORD


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_token_is_issued_and_stored_hashed(client, app):
    response = client.post("/api/v1/tokens", json={"username": "truongdoan", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"token", "expires_at", "user"}
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "truongdoan",
        "full_name": "Nguyễn Văn Hùng",
        "role": "inspector",
        "unit_id": None,
        "email": "truongdoan@binhxuyen.example",
        "second_factor": False,
    }
    with app.app_context():
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert body["token"] not in stored and len(stored) == 1 and len(stored[0]) == 64


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"username": "truongdoan", "password": "sai"}, 401, "unauthorized"),
        ({"username": "ai-do", "password": "sai"}, 401, "unauthorized"),
        ({"username": "truongdoan"}, 422, "invalid"),
        ({"username": 5, "password": []}, 422, "invalid"),
        ([1, 2], 400, "bad_request"),
    ],
)
def test_token_errors(client, payload, status, code):
    response = client.post("/api/v1/tokens", json=payload)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/tokens", data="{nope", content_type="application/json")
    assert response.status_code == 400


def test_me_with_and_without_token(client, token):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer("garbage")).status_code == 401
    response = client.get("/api/v1/me", headers=bearer(token("donvi1")))
    assert response.json["username"] == "donvi1" and response.json["unit_id"]


def test_expired_and_revoked_tokens_are_refused(client, token, app):
    secret = token()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401

    secret = token()
    page_client = app.test_client()
    page_client.post("/login", data={"username": "truongdoan", "password": PASSWORD})
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
    page = page_client.get("/account").get_data(as_text=True)
    assert f"/account/tokens/{token_id}/revoke" in page
    page_client.post(f"/account/tokens/{token_id}/revoke")
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_users_cannot_revoke_each_others_tokens(client, token, app):
    token("truongdoan")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    other = app.test_client()
    other.post("/login", data={"username": "thanhvien", "password": PASSWORD})
    assert other.post(f"/account/tokens/{token_id}/revoke").status_code == 404


def test_tokens_of_a_disabled_user_stop_working(client, token, app):
    secret = token("thanhvien")
    with app.app_context():
        db.session.scalar(select(User).filter_by(username="thanhvien")).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_units_and_staff(client, token, app):
    headers = bearer(token())
    units = client.get("/api/v1/units", headers=headers).json["items"]
    assert len(units) == 12
    assert set(units[0]) == {"id", "code", "name", "kind", "has_one_stop"}
    centre = next(u for u in units if u["code"] == "TTHCC")
    staff = client.get(f"/api/v1/units/{centre['id']}/staff", headers=headers).json["items"]
    assert len(staff) == 30
    assert set(staff[0]) == {"id", "full_name", "position", "category", "badge_no"}
    assert client.get("/api/v1/units/99999/staff", headers=headers).status_code == 404


def test_inactive_units_are_not_offered(client, token, app):
    with app.app_context():
        db.session.scalar(select(Unit).filter_by(code="TTVH")).active = False
        db.session.commit()
    codes = [u["code"] for u in client.get("/api/v1/units", headers=bearer(token())).json["items"]]
    assert "TTVH" not in codes and len(codes) == 11


def test_current_checklist_in_both_languages(client, token):
    headers = bearer(token())
    body = client.get("/api/v1/checklists/current", headers=headers).json
    assert body["version"] == 1 and len(body["items"]) == 12 + 6 + 6  # every template
    item = body["items"][0]
    assert {"code", "category", "scope", "label", "legal_basis"} <= set(item)
    assert item["label"].startswith("Có mặt")
    english = client.get(
        "/api/v1/checklists/current", headers={**headers, "Accept-Language": "en"}
    ).json
    assert english["items"][0]["label"].startswith("At their post")


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    assert client.delete("/api/v1/me").json["error"]["code"] == "method_not_allowed"


def test_openapi_document_describes_every_api_route(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes


class TestCsrfOnCookieSessions:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_bearer_requests_need_no_csrf_token(self, client, token):
        secret = client.post(
            "/api/v1/tokens", json={"username": "truongdoan", "password": PASSWORD}
        )
        assert secret.status_code == 201
        me = client.get("/api/v1/me", headers=bearer(secret.json["token"]))
        assert me.status_code == 200

    def test_a_junk_bearer_header_does_not_lift_csrf_from_a_cookie_session(self, client, app):
        import re

        page = client.get("/login").get_data(as_text=True)
        csrf_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        login = {"csrf_token": csrf_token, "username": "truongdoan", "password": PASSWORD}
        assert client.post("/login", data=login).status_code == 302
        body = {"client_id": "junk-bearer", "unit_id": 1, "kind": "surprise"}
        forged = client.post(
            "/api/v1/inspections", json=body, headers={"Authorization": "Bearer junk"}
        )
        assert forged.status_code == 400  # the CSRF check still applies
        with app.app_context():
            from sqlalchemy import select

            from inspection.extensions import db
            from inspection.models import Inspection

            assert db.session.scalar(select(Inspection).filter_by(client_id="junk-bearer")) is None
