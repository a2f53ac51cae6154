"""Attacks tried against the app: other units' ids, hostile text, headers, logs, audit trail."""

import csv
import io
import json
import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Minutes,
    Photo,
    Remediation,
    RemediationEvidence,
    RemediationStatus,
    StaffMember,
)
from tests.test_access import MATRIX, UNIT
from tests.test_minutes import finalize, ready_visit
from tests.test_review import respond, review
from tests.visit_helpers import bearer, jpeg, photo, unit_id

HOSTILE = "<script>alert(1)</script> '; DROP TABLE unit; --"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ID_ARGUMENTS = {"inspection_id", "minutes_id", "photo_id", "remediation_id", "evidence_id"}


@pytest.fixture
def loop(client, token, app):
    """TTHCC's finalized visit with a photo, a remediation request and an evidence file.

    Hostile text sits in a staff name, the findings, a note, the review comment and the
    unit's answer.
    """
    lead, office, unit = token("truongdoan"), token("noivu"), token("donvi1")
    with app.app_context():
        person = db.session.scalar(select(StaffMember).where(StaffMember.badge_no == "TTHCC-001"))
        person.full_name = HOSTILE
        db.session.commit()
    inspection_id = ready_visit(
        client, lead, app, extra={"findings": HOSTILE, "unit_comments": HOSTILE}
    )
    assert photo(client, lead, inspection_id, jpeg(800, 600), note=HOSTILE).status_code == 201
    assert finalize(client, lead, inspection_id).status_code == 201
    response = review(
        client,
        office,
        inspection_id,
        decision="remediation_required",
        comment=HOSTILE,
        due="2030-01-01",
        item_codes=["SMOKE-NONE"],
    )
    assert response.status_code == 201, response.json
    remediation_id = response.json["remediations"][0]["id"]
    answered = respond(client, unit, remediation_id, HOSTILE, files=[("a.jpg", jpeg(300, 200))])
    assert answered.status_code == 200, answered.json
    return inspection_id


def _max_ids(app) -> int:
    with app.app_context():
        return max(
            db.session.scalar(select(func.max(model.id))) or 0
            for model in (Minutes, Photo, Remediation, RemediationEvidence)
        )


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        if set(rule.arguments) & ID_ARGUMENTS and set(rule.arguments) <= ID_ARGUMENTS | {"role"}:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


@pytest.mark.parametrize("outsider, acts_as", [("donvi2", UNIT), ("thanhvien", "truongdoan")])
def test_other_units_and_other_teams_get_404_for_every_id(app, loop, token, outsider, acts_as):
    """Every route taking an id, every id from 1 past the largest: never theirs, never there."""
    secret = token(outsider)
    web = app.test_client()
    assert (
        web.post("/login", data={"username": outsider, "password": "kiemtra2018"}).status_code
        == 302
    )
    api = app.test_client()
    failures = []
    for rule, method in _id_routes(app):
        allowed = acts_as in MATRIX[rule.endpoint]
        for n in range(1, _max_ids(app) + 3):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", str(n)).replace(f"<{arg}>", "lead")
            if path.startswith("/api/"):
                response = api.open(path, method=method, json={}, headers=bearer(secret))
            else:
                response = web.open(path, method=method)
            expected = {404} if allowed else {403}
            if response.status_code not in expected:
                failures.append(f"{method} {path}: {response.status_code}")
    assert failures == []
    with app.app_context():  # and nothing they sent changed anything
        remediation = db.session.scalar(select(Remediation))
        assert remediation.status is RemediationStatus.ANSWERED
        assert db.session.scalar(select(Minutes)).acknowledged_at is None


def _page_texts(client, app, inspection_id):
    with app.app_context():
        remediation_id = db.session.scalar(select(Remediation.id))
        staff_id = db.session.scalar(
            select(StaffMember.id).where(StaffMember.badge_no == "TTHCC-001")
        )
    pages = {
        "truongdoan": [
            f"/inspector/visits/{inspection_id}",
            f"/inspector/visits/{inspection_id}/summary",
        ],
        "noivu": [
            f"/office/visits/{inspection_id}",
            f"/office/remediations/{remediation_id}",
            "/office/remediations",
            f"/office/people/{staff_id}",
            "/office/audit",
            "/office/dashboard?date_from=2000-01-01",
        ],
        "donvi1": ["/unit/", f"/unit/remediations/{remediation_id}"],
        "admin": [f"/admin/units/{unit_id(app)}"],
    }
    for username, paths in pages.items():
        client.post("/logout")
        assert (
            client.post(
                "/login", data={"username": username, "password": "kiemtra2018"}
            ).status_code
            == 302
        )
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, path
            yield path, response.get_data(as_text=True)


def test_hostile_text_shows_as_text_in_pages_and_exports(client, app, loop):
    seen = 0
    for path, html in _page_texts(client, app, loop):
        assert "<script>alert(1)" not in html, path
        if ESCAPED in html:
            seen += 1
    assert seen >= 6  # the hostile text is on most pages, escaped
    client.post("/logout")
    client.post("/login", data={"username": "noivu", "password": "kiemtra2018"})
    body = client.get("/office/export/person_results.csv?date_from=2000-01-01")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert any(row[4] == HOSTILE for row in rows)  # the name, as text, in its own cell
    with app.app_context():  # the SQL in the text ran nowhere
        assert db.session.scalar(text("SELECT count(*) FROM unit")) > 0


def test_unknown_pages_and_crashes_get_a_friendly_page_without_internals(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    client = app.test_client()
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Không tìm thấy" in missing.get_data(as_text=True)
    crash = client.get("/boom")
    body = crash.get_data(as_text=True)
    assert crash.status_code == 500
    assert "Traceback" not in body and "secret internals" not in body
    assert "đã lưu" in body  # "your saved work is safe", in Vietnamese


def test_every_response_carries_the_security_headers(client, auth):
    auth.login()
    for path in ("/login", "/inspector/", "/static/css/app.css", "/api/v1/me", "/no-such"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=(self)" in headers["Permissions-Policy"]
        assert "geolocation=(self)" in headers["Permissions-Policy"]


def test_no_inline_scripts_or_handlers_in_templates():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    for path in root.rglob("*.html"):
        if "minutes" in path.parts:
            continue  # rendered by WeasyPrint, never by a browser
        source = path.read_text()
        for marker in (" onclick=", " onsubmit=", " onchange=", " oninput=", "javascript:"):
            assert marker not in source, f"{path}: {marker}"
        for chunk in source.split("<script")[1:]:
            head = chunk.split(">", 1)[0]
            assert "src=" in head or 'type="application/json"' in head, f"{path}: inline script"


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True, "TRUSTED_PROXIES": 1}])
def test_cookies_behind_an_https_proxy(client, app):
    response = client.post(
        "/login",
        data={"username": "truongdoan", "password": "kiemtra2018"},
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    with app.app_context():
        login = db.session.scalar(select(AuditEvent).filter_by(action="login"))
        assert login.ip == "203.0.113.9"  # the phone's address, not nginx's


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client, app):
    client.post(
        "/login",
        data={"username": "truongdoan", "password": "kiemtra2018"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).filter_by(action="login")).ip == "127.0.0.1"


def test_request_logs_are_json_lines_with_the_request_id(client, auth, caplog):
    from inspection.logs import JsonFormatter

    auth.login()
    with caplog.at_level(logging.INFO, logger="inspection.request"):
        response = client.get("/inspector/", headers={"X-Request-ID": "abc-123"})
        client.get("/inspector/", headers={"X-Request-ID": "bad id; with spaces"})
    assert response.headers["X-Request-ID"] == "abc-123"
    first, second = [r for r in caplog.records if r.name == "inspection.request"][-2:]
    entry = json.loads(JsonFormatter().format(first))
    assert entry["method"] == "GET" and entry["path"] == "/inspector/" and entry["status"] == 200
    assert entry["request_id"] == "abc-123" and isinstance(entry["duration_ms"], float)
    assert entry["user_id"] == 3  # truongdoan, the demo's third account
    assert len(second.request_id) == 32  # a bad incoming id is replaced, not logged


def test_audit_events_cannot_be_changed_or_deleted(ctx):
    event = db.session.scalar(select(AuditEvent).limit(1))
    if event is None:
        from inspection.services import audit

        event = audit.record(audit.SYSTEM, "test")
        db.session.commit()
    event.action = "changed"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) >= 1


def test_the_audit_log_page_filters_and_exports(client, auth, app):
    client.post("/login", data={"username": "truongdoan", "password": "wrong-password"})
    auth.login("noivu")
    page = client.get("/office/audit?action=login_failed").get_data(as_text=True)
    assert "login_failed" in page and "truongdoan" in page
    assert "logout" not in page.split("<ol", 1)[1]
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/office/audit.csv?username=noivu")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[0][:4] == ["Mã sự kiện", "Thời gian", "Tài khoản", "Hành động"]
    assert [row[3] for row in rows[1:]] == ["Xuất dữ liệu", "Đăng nhập"]  # newest first
    assert [row[8] for row in rows[1:]] == ["export", "login"]  # the codes, for other tools
    assert rows[1][7] == "Bộ lọc: Tên đăng nhập: noivu; Loại: Nhật ký hệ thống"
    refused = client.get("/office/audit?date_from=not-a-date&action=nope")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    with app.app_context():
        exports = db.session.scalars(select(AuditEvent).filter_by(action="export")).all()
        assert [e.detail["kind"] for e in exports] == ["audit"]


def test_static_files_have_content_hashed_urls_cached_for_a_year(client):
    import re

    html = client.get("/login").get_data(as_text=True)
    [href] = re.findall(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', html)
    response = client.get(href)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Security-Policy"]  # static files keep the headers too
    stale = client.get("/static/css/app.css?v=000000000000")  # an old release's URL
    assert stale.headers["Cache-Control"] == "no-cache" and stale.headers["ETag"]


def test_photos_keep_no_comment_or_text_metadata(client, token, app):
    import io as _io

    from PIL import Image, PngImagePlugin

    from tests.visit_helpers import bearer, photo, start

    lead = token("truongdoan")
    visit = start(client, lead, app)
    jpeg = _io.BytesIO()
    Image.new("RGB", (800, 600), (90, 20, 20)).save(jpeg, "JPEG", comment=b"secret-comment-GPS")
    png = _io.BytesIO()
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret-png-text")
    Image.new("RGB", (800, 600), (20, 90, 20)).save(png, "PNG", pnginfo=text)
    for data, name, secret in (
        (jpeg.getvalue(), "a.jpg", b"secret-comment"),
        (png.getvalue(), "b.png", b"secret-png"),
    ):
        stored = photo(client, lead, visit["id"], data, filename=name)
        assert stored.status_code == 201, stored.json
        for url in (stored.json["url"], stored.json["thumb_url"]):
            body = client.get(url, headers=bearer(lead)).data
            assert secret not in body and b"\xff\xfe" not in body[:2000], url  # no COM segment
            assert Image.open(_io.BytesIO(body)).info.get("comment") is None


def test_hygiene_headers_and_bidi_controls(client, token, app):
    from tests.visit_helpers import record, save, start

    response = client.get("/login")
    assert response.headers["Server"] == "kiem-tra"
    assert "Strict-Transport-Security" not in response.headers  # not over plain http
    lead = token("truongdoan")
    visit = start(client, lead, app)
    body = {"version": 1, "findings": "Ghi chú \u202eđảo ngược\u202c xong"}
    assert save(client, lead, visit["id"], body).status_code == 200
    assert record(client, lead, visit["id"])["findings"] == "Ghi chú đảo ngược xong"


def test_hsts_when_the_public_address_is_https(make_app):
    app = make_app(PUBLIC_BASE_URL="https://kiemtra.example.gov.vn")
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
