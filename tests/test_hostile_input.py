"""Input a probe sent that once gave a 500: each must now be a 4xx with the usual envelope
or page, and nothing saved may change."""

import json
from urllib.parse import urlencode

import pytest

from tests.visit_helpers import bearer, record, save, start

DEEP = "[" * 10000 + "]" * 10000


@pytest.fixture
def lead(token):
    return token("truongdoan")


def test_token_requests_that_broke_the_parser(client):
    for body in (
        DEEP,
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "a", "password": NaN}',
        "[" + "1," * 200000 + "1]",
    ):
        response = client.post("/api/v1/tokens", data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)
        assert response.json["error"]["code"]


@pytest.mark.parametrize(
    "change",
    [
        {"unit_items": [{"code": ["SMOKE-SIGN"], "outcome": "pass"}]},
        {"people": [{"person_id": 1, "items": [{"code": {"x": 1}, "outcome": "pass"}]}]},
        {"findings": "\ud800"},
        {"assessment": "ok \udfff"},
        # PostgreSQL stores no NUL in text: a 500 there, found by trying every text field.
        {"findings": "a\u0000b"},
        {"people": [{"person_id": 1, "note": "\u0000"}]},
        {"unit_items": [{"code": "SMOKE-SIGN", "outcome": "fail", "note": "x\u0000"}]},
    ],
)
def test_saves_that_broke_the_server(client, lead, app, change):
    visit = start(client, lead, app)
    body = json.dumps({"version": 1, **change}, ensure_ascii=True)
    response = client.put(
        f"/api/v1/inspections/{visit['id']}/results",
        data=body,
        content_type="application/json",
        headers=bearer(lead),
    )
    assert response.status_code in (400, 422), response.json
    assert record(client, lead, visit["id"])["version"] == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"location": {"latitude": "NaN", "longitude": 105.7, "accuracy": "abc"}},
        {"location": {"latitude": 21.3, "longitude": 105.7, "accuracy": "abc"}},
        {"team": [{"user_id": 1e400, "role": "lead"}]},
        {"client_started_at": "9999-12-31T23:59:59-23:59"},
        {"client_started_at": "0001-01-01T00:00:00+23:59"},
    ],
)
def test_starts_that_broke_the_server(client, lead, app, extra):
    from tests.visit_helpers import unit_id

    body = {"client_id": "c-1", "unit_id": unit_id(app), "kind": "surprise", **extra}
    response = client.post("/api/v1/inspections", json=body, headers=bearer(lead))
    # Refused, not silently dropped: 1e400 is no JSON number this server reads (400), the
    # others are named per field (422).
    assert response.status_code in (400, 422), response.json
    fields = response.json["error"].get("fields", {})
    assert response.status_code == 400 or any(
        key.split(".")[0].split("[")[0] in ("location", "team", "client_started_at")
        for key in fields
    )


@pytest.mark.parametrize("name", [["Nguyễn Văn Hùng"], 12, {"a": 1}, None])
def test_signature_names_that_broke_the_server(client, lead, app, name):
    visit = start(client, lead, app)
    response = client.put(
        f"/api/v1/inspections/{visit['id']}/signatures/lead",
        json={"name": name, "image": "data:image/png;base64,AAAA"},
        headers=bearer(lead),
    )
    assert response.status_code == 422, response.json


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats?to=9999-12-31",
        "/api/v1/stats?from=0001-01-01",
        "/api/v1/stats?from=9999-12-31&to=9999-12-31",
    ],
)
def test_stats_dates_beyond_the_range(client, token, path):
    response = client.get(path, headers=bearer(token("noivu")))
    assert response.status_code == 422, response.status_code
    assert set(response.json["error"]["fields"]) <= {"from", "to"}


@pytest.mark.parametrize(
    "path",
    [
        "/office/dashboard?kind=foo",
        "/office/report?kind=foo",
        "/office/report.pdf?kind=foo",
        "/office/export/visits.xlsx?kind=foo",
        "/office/export/visits.csv?kind=foo",
        "/office/dashboard?unit=99999999999999999999",
        "/office/dashboard?date_from=0001-01-01&date_to=9999-12-31",
        "/office/remediations?status=foo",
        "/office/audit?page=99999999999999999999",
        "/office/audit?date_to=9999-12-31",
        "/office/audit?date_from=0001-01-01",
        "/office/plan?year=10000",
        "/office/plan?year=-1",
        "/office/plan?year=99999999999999999999",
    ],
)
def test_office_pages_with_hostile_queries(client, auth, path):
    """A refused filter is a 400 (a page shows its form with the field marked), an
    impossible year a 404: never a 500, and never a page that silently ignores it."""
    auth.login("noivu")
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)


def test_every_get_route_survives_hostile_query_strings(app, client, auth):
    """Every web GET route, as the office and as an inspector, with hostile values in every
    argument a page reads: no 500 anywhere."""
    hostile = {
        "page": "99999999999999999999",
        "year": "-1",
        "kind": "foo",
        "unit": "99999999999999999999",
        "unit_id": "abc",
        "status": "foo",
        "date_from": "0001-01-01",
        "date_to": "9999-12-31",
        "action": "x" * 500,
        "username": "' OR 1=1 --",
        "object_type": "<script>",
        "object_id": "99999999999999999999",
        "client": "../../etc/passwd",
    }
    routes = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/api/")
    ]
    for username in ("noivu", "truongdoan", "admin", "donvi1"):
        auth.login(username)
        for route in routes:
            # Plus bytes that are not UTF-8 (a lone surrogate's encoding), as a raw query.
            query = urlencode(hostile) + "&note=%ED%A0%80&q=%FF"
            response = client.get(route, query_string=query)
            assert response.status_code < 500, (username, route, response.status_code)
        auth.logout()


def test_saving_after_hostile_input_keeps_what_was_saved(client, lead, app):
    visit = start(client, lead, app)
    full = record(client, lead, visit["id"])
    good = {"version": 1, "findings": "Đã lưu"}
    assert save(client, lead, visit["id"], good).status_code == 200
    bad = '{"version": 2, "findings": "\\ud800"}'
    response = client.put(
        f"/api/v1/inspections/{visit['id']}/results",
        data=bad,
        content_type="application/json",
        headers=bearer(lead),
    )
    assert response.status_code in (400, 422)
    assert record(client, lead, visit["id"])["findings"] == "Đã lưu"
    assert full["id"] == visit["id"]


@pytest.mark.parametrize("due", ["0001-01-01", "9999-12-31", "2026-02-30"])
def test_a_deadline_outside_the_supported_dates_is_refused(client, lead, app, due):
    """A deadline would be printed in signed minutes ("trước ngày 01/01/1"): refused."""
    visit = start(client, lead, app)
    version = record(client, lead, visit["id"])["version"]
    response = save(client, lead, visit["id"], {"version": version, "remediation_due": due})
    assert response.status_code == 422 and "remediation_due" in response.json["error"]["fields"]
    assert record(client, lead, visit["id"])["version"] == version  # nothing saved


def test_the_api_answers_the_configured_verification_address(client, lead, app):
    from tests.test_minutes import ready_visit

    visit_id = ready_visit(client, lead, app)
    issued = client.post(
        f"/api/v1/inspections/{visit_id}/finalize",
        headers=bearer(lead),
        base_url="http://evil.example",
    )
    assert issued.status_code == 201
    assert issued.json["minutes"]["verify_url"].startswith("http://localhost/verify/")


def test_a_range_error_on_a_date_says_so(client, lead, app):
    visit = start(client, lead, app)
    version = record(client, lead, visit["id"])["version"]
    refused = save(client, lead, visit["id"], {"version": version, "remediation_due": "0001-01-01"})
    assert refused.json["error"]["fields"]["remediation_due"].startswith("Nhập ngày trong khoảng")


def test_a_number_answer_is_never_a_boolean(client, lead, app):
    visit = start(client, lead, app)
    version = record(client, lead, visit["id"])["version"]
    body = {"version": version, "unit_items": [{"code": "OSS-OVERDUE", "number": True}]}
    assert save(client, lead, visit["id"], body).status_code == 422


def test_photo_fields_that_name_nobody_are_refused(client, lead, app):
    from tests.visit_helpers import jpeg, photo

    visit = start(client, lead, app)
    for fields in ({"staff_id": "abc"}, {"person_id": "1.5"}):
        response = photo(client, lead, visit["id"], jpeg(300, 200), **fields)
        assert response.status_code == 422, response.json
    assert record(client, lead, visit["id"])["photos"] == []


def test_a_review_deadline_outside_the_supported_dates_is_refused(client, lead, token, app):
    from tests.test_minutes import finalize, ready_visit

    visit_id = ready_visit(client, lead, app)
    assert finalize(client, lead, visit_id).status_code == 201
    response = client.post(
        f"/api/v1/inspections/{visit_id}/review",
        json={"decision": "remediation_required", "comment": "x", "due": "9999-12-31"},
        headers=bearer(token("noivu")),
    )
    assert response.status_code == 422 and "due" in response.json["error"]["fields"]


def test_a_multipart_part_without_a_name_is_refused_not_a_500(client):
    """Found by schemathesis: the refused form's field names (None for a part that has no
    name) are echoed in the validation error and must still make a JSON answer."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="\xf3\xa3\x94\x96"\r\n\r\n[1]\r\n'
        b"--b\r\nContent-Disposition: form-data\r\n\r\n16\r\n--b--\r\n"
    )
    response = client.post(
        "/api/v1/minutes/verify", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 422 and "file" in response.json["error"]["fields"]


def test_a_nul_character_in_a_form_or_query_is_refused_before_anything_is_saved(
    client, auth, lead, app
):
    """No one types U+0000 and PostgreSQL cannot store it: forms and query strings that
    carry one are a 400 naming it, on pages and the API alike; nothing is saved."""
    visit = start(client, lead, app)
    auth.login("truongdoan")
    page = client.post(f"/inspector/visits/{visit['id']}", data={"findings": "a\x00b"})
    assert page.status_code == 400 and "U+0000" in page.get_data(as_text=True)
    assert record(client, lead, visit["id"])["version"] == 1
    api = client.get("/api/v1/inspections?q=a%00b", headers=bearer(lead))
    assert api.status_code == 400 and api.json["error"]["code"] == "bad_request"
    login = app.test_client().post("/login", data={"username": "a\x00", "password": "x"})
    assert login.status_code == 400
