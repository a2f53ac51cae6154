"""Logging in and out, roles' home pages, sessions, passwords, rate limits, languages."""

import pytest

from inspection.extensions import db
from inspection.models import AuditEvent
from tests import factories
from tests.conftest import PASSWORD

HOMES = {
    "admin": "/admin/",
    "noivu": "/office/",
    "truongdoan": "/inspector/",
    "thanhvien": "/inspector/",
    "thuky": "/inspector/",
    "donvi1": "/unit/",
    "donvi2": "/unit/",
}


def test_login_page_is_vietnamese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page
    assert "Tên đăng nhập" in page


@pytest.mark.parametrize("username,home", HOMES.items())
def test_every_demo_account_reaches_its_home(client, auth, username, home):
    response = auth.login(username)
    assert response.status_code == 302
    assert response.location == home
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(client, auth, app):
    wrong = auth.login("truongdoan", "sai-mat-khau").get_data(as_text=True)
    unknown = auth.login("khongtontai", "sai-mat-khau").get_data(as_text=True)
    assert "Sai tên đăng nhập hoặc mật khẩu." in wrong
    assert wrong.replace("truongdoan", "X") == unknown.replace("khongtontai", "X")
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).all()]
    assert actions.count("login_failed") == 2


def test_logout_ends_the_session(client, auth):
    auth.login()
    assert client.get("/inspector/").status_code == 200
    auth.logout()
    response = client.get("/inspector/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_next_parameter_is_followed_only_within_the_site(client):
    data = {"username": "admin", "password": PASSWORD}
    assert client.post("/login?next=/admin/units", data=data).location == "/admin/units"
    client.post("/logout")
    evil = client.post("/login?next=https://evil.example/", data=data)
    assert evil.location == "/admin/"
    client.post("/logout")
    assert client.post("/login?next=//evil.example/", data=data).location == "/admin/"


def test_disabled_account_cannot_log_in(client, auth, app):
    with app.app_context():
        factories.demo_user("thanhvien").active = False
        db.session.commit()
    assert auth.login("thanhvien").status_code == 200


def test_logout_everywhere_ends_other_sessions(app, auth, client):
    auth.login()
    other = app.test_client()
    other.post("/login", data={"username": "truongdoan", "password": PASSWORD})
    assert other.get("/inspector/").status_code == 200
    client.post("/account/logout-everywhere")
    assert other.get("/inspector/").status_code == 302


def test_a_cookie_copied_before_logout_is_refused_after_it(app, auth, client):
    auth.login()
    assert client.get("/inspector/").status_code == 200
    cookie = client.get_cookie("session").value  # what a thief copied
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    page = thief.get("/inspector/")
    assert page.status_code == 302 and "/login" in page.location
    assert thief.get("/api/v1/me").status_code == 401
    # Logging in again starts a new session that works.
    assert auth.login().status_code == 302
    assert client.get("/inspector/").status_code == 200


def test_password_change_keeps_this_session_and_ends_the_others(app, auth, client):
    auth.login()
    other = app.test_client()
    other.post("/login", data={"username": "truongdoan", "password": PASSWORD})
    new = "Mat-khau-moi-2026"
    changed = client.post(
        "/account", data={"current_password": PASSWORD, "new_password": new, "confirm": new}
    )
    assert changed.status_code == 302
    assert client.get("/inspector/").status_code == 200
    assert other.get("/inspector/").status_code == 302


def test_password_change_enforces_the_policy(client, auth):
    auth.login()
    weak = client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": "12345", "confirm": "12345"},
    )
    assert "Ít nhất 10 ký tự" in weak.get_data(as_text=True)
    wrong = client.post(
        "/account",
        data={
            "current_password": "nope",
            "new_password": "mat-khau-moi-2026",
            "confirm": "mat-khau-moi-2026",
        },
    )
    assert "Mật khẩu hiện tại không đúng." in wrong.get_data(as_text=True)
    ok = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "mat-khau-moi-2026",
            "confirm": "mat-khau-moi-2026",
        },
    )
    assert ok.status_code == 302
    assert client.get("/inspector/").status_code == 200  # this session survives
    auth.logout()
    assert auth.login("truongdoan", "mat-khau-moi-2026").status_code == 302


def test_language_switch_to_english_and_back(client):
    client.get("/login")
    client.get("/lang/en", headers={"Referer": "http://localhost/login"})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    client.get("/lang/vi")
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)


def test_language_switch_does_not_redirect_off_site(client):
    response = client.get("/lang/en", headers={"Referer": "https://evil.example/x"})
    assert response.location == "/"


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_ACCOUNT": "3/15minutes"}

    def test_repeated_failures_on_one_account_get_429_in_vietnamese(self, client, auth):
        for _ in range(3):
            assert auth.login("truongdoan", "sai").status_code == 200
        response = auth.login("truongdoan", "sai")
        assert response.status_code == 429
        assert "Quá nhiều lần thử" in response.get_data(as_text=True)
        # Another account from the same address is still allowed.
        assert auth.login("thuky").status_code == 302

    def _token(self, client, password):
        body = {"username": "truongdoan", "password": password}
        return client.post("/api/v1/tokens", json=body).status_code

    def test_web_failures_also_close_the_api(self, client, auth):
        for _ in range(3):
            assert auth.login("truongdoan", "sai").status_code == 200
        assert self._token(client, "sai") == 429
        assert self._token(client, PASSWORD) == 429  # no token through the other door

    def test_api_failures_also_close_the_web(self, client, auth):
        for _ in range(3):
            assert self._token(client, "sai") == 401
        assert self._token(client, PASSWORD) == 429
        assert auth.login("truongdoan").status_code == 429

    def test_successes_do_not_count_and_the_owner_clears_failures(self, client, auth):
        for _ in range(6):
            assert self._token(client, PASSWORD) == 201  # logging in often locks nobody out
        for _ in range(2):
            assert auth.login("truongdoan", "sai").status_code == 200
        assert self._token(client, PASSWORD) == 201  # the owner's success clears the two
        for _ in range(2):
            assert self._token(client, "sai") == 401
        assert auth.login("truongdoan").status_code == 302


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_login_without_token_is_refused(self, auth):
        assert auth.login().status_code == 400
