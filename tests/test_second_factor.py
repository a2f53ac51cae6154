"""Two-step verification (TOTP, RFC 6238): enrolment, logins, recovery codes, the API's
tokens, the organisation's requirement, an administrator's reset, and the audit trail."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import AuditEvent, OrgSettings, RecoveryCode, User
from tests.conftest import PASSWORD


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        db.session.expunge(user)
        return user


def _secret(app, username: str) -> str:
    return _user(app, username).totp_secret


def _code(secret: str, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + offset_steps * totp.interval)


def _fresh_code(app, username="noivu") -> str:
    """The phone's current code, as if the last accepted one were a minute old (a code is
    accepted once, and tests log in again within the same 30 s)."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=username))
        if user.totp_last_step is not None:
            user.totp_last_step -= 2
        db.session.commit()
        return _code(user.totp_secret)


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _enrol(client, app, username="noivu") -> tuple[str, list[str]]:
    """Log in, turn two-step verification on from the account page, log out."""
    assert (
        client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    )
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "data:image/svg+xml" in page  # the QR code
    secret = _secret(app, username)
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    done = client.post("/account/second-factor", data={"code": _code(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    client.post("/logout")
    return secret, codes


def _password_step(client, username="noivu", password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def _require(app, on: bool = True) -> None:
    with app.app_context():
        db.session.get(OrgSettings, 1).require_second_factor = on
        db.session.commit()


def test_enrolment_needs_a_right_code_and_gives_ten_codes_stored_hashed(client, app):
    client.post("/login", data={"username": "noivu", "password": PASSWORD})
    client.get("/account/second-factor")
    first = _secret(app, "noivu")
    wrong = client.post("/account/second-factor", data={"code": "000000"})
    assert "Mã không đúng." in wrong.get_data(as_text=True)
    assert not _user(app, "noivu").has_second_factor
    client.get("/account/second-factor")
    assert _secret(app, "noivu") == first  # the same QR code until it is confirmed
    client.post("/logout")
    secret, codes = _enrol(client, app)
    assert secret == first
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert "second_factor_enrolled" in _actions(app)
    assert "recovery_codes_issued" in _actions(app)


def test_password_alone_no_longer_logs_in(client, app):
    _enrol(client, app)
    response = _password_step(client)
    assert response.status_code == 302 and response.location == "/login/second-step"
    assert client.get("/office/").status_code == 302  # not logged in yet
    page = client.get("/login/second-step").get_data(as_text=True)
    assert "Xác minh hai bước" in page and 'autocomplete="one-time-code"' in page
    assert "Mã không đúng." in client.post("/login/second-step", data={"code": "123456"}).text
    assert client.get("/office/").status_code == 302
    done = client.post("/login/second-step", data={"code": _fresh_code(app)})
    assert done.status_code == 302 and done.location == "/office/"
    assert client.get("/office/").status_code == 200
    actions = _actions(app)
    assert actions[-3:] == ["second_factor_failed", "second_factor_used", "login"]


def test_a_code_is_good_once_and_a_neighbouring_step_is_accepted(client, app):
    secret, _ = _enrol(client, app)
    code = _code(secret, offset_steps=1)  # the phone's clock a little ahead of the server
    _password_step(client)
    assert client.post("/login/second-step", data={"code": code}).status_code == 302
    client.post("/logout")
    _password_step(client)
    replay = client.post("/login/second-step", data={"code": code})
    assert replay.status_code == 200 and "Mã không đúng." in replay.text
    assert client.get("/office/").status_code == 302


def test_a_recovery_code_works_once(client, app):
    _, codes = _enrol(client, app)
    _password_step(client)
    spaced = codes[0].upper().replace("-", " ")  # typed from paper
    assert client.post("/login/second-step", data={"code": spaced}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "Còn 9 mã khôi phục." in page
    client.post("/logout")
    _password_step(client)
    assert client.post("/login/second-step", data={"code": codes[0]}).status_code == 200
    assert "recovery_code_used" in _actions(app)


def test_the_second_step_expires(client, app):
    _enrol(client, app)
    _password_step(client)
    with client.session_transaction() as session:
        session["pending_login"] = {**session["pending_login"], "at": time.time() - 301}
    response = client.post("/login/second-step", data={"code": _fresh_code(app)})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/office/").status_code == 302


def test_a_second_step_for_one_account_cannot_be_pointed_at_another(client, app):
    _enrol(client, app)
    _password_step(client)
    with client.session_transaction() as session:
        session["pending_login"] = {
            **session["pending_login"],
            "user": _user(app, "admin").get_id(),
        }
    # The cookie is signed: a browser cannot edit it; the test client can. The server then
    # asks for the admin's own second factor, and the admin has none: back to the password.
    response = client.post("/login/second-step", data={"code": "000000"})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/admin/").status_code == 302


def test_api_token_needs_the_code_for_an_enrolled_account(client, app):
    _, codes = _enrol(client, app)
    body = {"username": "noivu", "password": PASSWORD}
    missing = client.post("/api/v1/tokens", json=body)
    assert missing.status_code == 401
    assert missing.json["error"]["code"] == "second_factor_required"
    assert "otp" in missing.json["error"]["fields"]
    wrong = client.post("/api/v1/tokens", json={**body, "otp": "999999"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "second_factor_invalid"
    code = _fresh_code(app)
    ok = client.post("/api/v1/tokens", json={**body, "otp": code})
    assert ok.status_code == 201 and ok.json["user"]["second_factor"] is True
    again = client.post("/api/v1/tokens", json={**body, "otp": code})
    assert again.status_code == 401  # that code is spent
    recovered = client.post("/api/v1/tokens", json={**body, "otp": codes[3]})
    assert recovered.status_code == 201
    bearer = {"Authorization": f"Bearer {ok.json['token']}"}
    assert client.get("/api/v1/me", headers=bearer).json["second_factor"] is True


class TestLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_ACCOUNT": "3/15minutes"}

    def test_wrong_codes_count_against_the_account_on_both_doors(self, client, app):
        _enrol(client, app)
        _password_step(client)
        for _ in range(2):
            assert client.post("/login/second-step", data={"code": "111111"}).status_code == 200
        body = {"username": "noivu", "password": PASSWORD, "otp": "222222"}
        assert client.post("/api/v1/tokens", json=body).status_code == 401
        # Three failures: now even the right code is refused, on the web and the API.
        assert client.post("/login/second-step", data={"code": _fresh_code(app)}).status_code == 429
        body["otp"] = _fresh_code(app)
        assert client.post("/api/v1/tokens", json=body).status_code == 429


def test_required_by_the_organisation_enrols_at_login(client, app):
    _require(app)
    response = _password_step(client)
    assert response.location == "/login/second-step"
    page = client.get("/login/second-step").get_data(as_text=True)
    assert "Thiết lập xác minh hai bước" in page and "data:image/svg+xml" in page
    assert client.get("/office/").status_code == 302  # nothing before enrolment
    secret = _secret(app, "noivu")
    done = client.post("/login/second-step", data={"code": _code(secret)})
    assert done.status_code == 200 and len(re.findall(r"<code>", done.text)) == 10
    assert client.get("/office/").status_code == 200
    # Required: the owner cannot turn it off.
    client.post("/account/second-factor/off", data={"password": PASSWORD})
    assert _user(app, "noivu").has_second_factor


def test_required_applies_to_office_and_admin_only(client, app):
    _require(app)
    assert _password_step(client, "truongdoan").location == "/inspector/"
    token = client.post("/api/v1/tokens", json={"username": "donvi1", "password": PASSWORD})
    assert token.status_code == 201


def test_required_refuses_a_token_before_enrolment(client, app):
    _require(app)
    body = {"username": "noivu", "password": PASSWORD}
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "second_factor_enrolment_required"


def test_turning_the_requirement_on_sends_live_sessions_to_enrol(client, app):
    _password_step(client)
    token = client.post("/api/v1/tokens", json={"username": "noivu", "password": PASSWORD}).json[
        "token"
    ]
    assert client.get("/office/").status_code == 200
    _require(app)
    response = client.get("/office/")
    assert response.status_code == 302 and response.location == "/account/second-factor"
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert client.get("/account/second-factor").status_code == 200


def test_owner_turns_it_off_with_the_password(client, app):
    _enrol(client, app)
    _password_step(client)
    client.post("/login/second-step", data={"code": _fresh_code(app)})
    client.post("/account/second-factor/off", data={"password": "sai-mat-khau"})
    assert _user(app, "noivu").has_second_factor
    client.post("/account/second-factor/off", data={"password": PASSWORD})
    assert not _user(app, "noivu").has_second_factor
    client.post("/logout")
    assert _password_step(client).location == "/office/"
    assert "second_factor_removed" in _actions(app)


def test_new_recovery_codes_replace_the_old_ones(client, app):
    _, old = _enrol(client, app)
    _password_step(client)
    client.post("/login/second-step", data={"code": _fresh_code(app)})
    page = client.post("/account/second-factor/recovery-codes", data={"password": PASSWORD})
    new = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", page.text)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    _password_step(client)
    assert client.post("/login/second-step", data={"code": old[1]}).status_code == 200
    assert client.post("/login/second-step", data={"code": new[1]}).status_code == 302


def test_admin_resets_a_lost_phone(client, app):
    _enrol(client, app)
    office = app.test_client()
    office.post("/login", data={"username": "noivu", "password": PASSWORD})
    office.post("/login/second-step", data={"code": _fresh_code(app)})
    assert office.get("/office/").status_code == 200
    noivu = _user(app, "noivu").id
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    page = client.get(f"/admin/users/{noivu}/edit").get_data(as_text=True)
    assert "Đặt lại xác minh hai bước" in page
    client.post(f"/admin/users/{noivu}/second-factor/reset")
    assert not _user(app, "noivu").has_second_factor
    assert office.get("/office/").status_code == 302  # the old session ended
    assert _password_step(office).location == "/office/"
    assert "second_factor_reset" in _actions(app)
    assert "Không bật." in client.get(f"/admin/users/{noivu}/edit").text


def test_admin_sets_the_requirement_in_the_settings(client, app):
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    form = client.get("/admin/settings").text
    assert 'name="require_second_factor"' in form
    values = {
        "org_name": "Huyện Bình Xuyên",
        "parent_body": "UBND HUYỆN BÌNH XUYÊN",
        "issuing_body": "ĐOÀN KIỂM TRA CÔNG VỤ",
        "issuing_abbr": "ĐKTCV",
        "place_name": "Bình Xuyên",
        "require_second_factor": "y",
    }
    assert client.post("/admin/settings", data=values).status_code == 302
    with app.app_context():
        assert db.session.get(OrgSettings, 1).require_second_factor
    # The administrator's own session must now enrol before anything else.
    assert client.get("/admin/").location == "/account/second-factor"


def test_demo_accounts_have_no_second_factor(app):
    with app.app_context():
        assert not any(u.has_second_factor for u in db.session.scalars(select(User)))
        assert not db.session.get(OrgSettings, 1).require_second_factor


def test_a_session_sent_to_enrol_can_still_log_out(client, app):
    client.post("/login", data={"username": "noivu", "password": PASSWORD})
    _require(app)
    page = client.get("/account/second-factor").text
    assert 'action="/logout"' in page
    assert client.post("/logout").status_code == 302
    assert client.get("/office/").location.startswith("/login")


class TestLockoutWait:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_ACCOUNT": "3/15minutes"}

    def test_a_locked_account_is_told_how_long_to_wait(self, client):
        for _ in range(3):
            _password_step(client, password="sai-mat-khau")
        locked = _password_step(client)
        assert locked.status_code == 429
        assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
        assert "Hãy thử lại sau 15 phút." in locked.text
        token = client.post("/api/v1/tokens", json={"username": "noivu", "password": PASSWORD})
        assert token.status_code == 429 and int(token.headers["Retry-After"]) > 14 * 60


def test_log_in_as_someone_else_ends_the_half_finished_login(client, app):
    _require(app)
    _password_step(client)
    assert client.get("/login/second-step").status_code == 200  # the enrolment, pending
    client.get("/login")  # "log in as someone else"
    response = client.get("/login/second-step")
    assert response.status_code == 302 and response.location == "/login"
