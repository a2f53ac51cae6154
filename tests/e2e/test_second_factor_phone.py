"""An office reviewer turns on two-step verification on a 360x740 phone and logs in with it."""

import re
import time

import pyotp

from tests.e2e.conftest import no_horizontal_scroll, small_tap_targets


def _login(phone, live_server, username="noivu"):
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Tên đăng nhập").fill(username)
    phone.get_by_label("Mật khẩu").fill("kiemtra2018")
    phone.get_by_role("button", name="Đăng nhập").click()


def test_enrol_then_log_in_with_a_code_and_a_recovery_code(phone, live_server):
    _login(phone, live_server)
    phone.wait_for_url(f"{live_server}/office/")
    phone.goto(f"{live_server}/account")
    phone.get_by_role("link", name="Thiết lập xác minh hai bước").click()
    phone.wait_for_url(f"{live_server}/account/second-factor")
    qr = phone.get_by_role("img", name="Mã QR cho ứng dụng xác thực")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert no_horizontal_scroll(phone) and small_tap_targets(phone) == []

    phone.get_by_text("Không quét được? Nhập khóa này").click()
    secret = phone.locator("code.key").inner_text().replace(" ", "")  # typed by hand
    totp = pyotp.TOTP(secret)
    phone.get_by_label("Mã").fill("000000")
    phone.get_by_role("button", name="Bật").click()
    assert phone.get_by_role("alert").inner_text().startswith("Mã không đúng.")
    phone.get_by_label("Mã").fill(totp.now())
    phone.get_by_role("button", name="Bật").click()
    assert phone.get_by_role("heading", name="Mã khôi phục").is_visible()
    codes = phone.locator("ol.codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", c) for c in codes)
    assert no_horizontal_scroll(phone) and small_tap_targets(phone) == []
    phone.get_by_role("link", name="Tôi đã lưu lại, tiếp tục").click()

    phone.goto(f"{live_server}/account")
    phone.get_by_role("button", name="Đăng xuất", exact=True).click()
    _login(phone, live_server)
    phone.wait_for_url(f"{live_server}/login/second-step")
    assert phone.get_by_role("heading", name="Xác minh hai bước").is_visible()
    assert no_horizontal_scroll(phone) and small_tap_targets(phone) == []
    phone.get_by_label("Mã").fill(totp.at(time.time() + totp.interval))  # the next code
    phone.get_by_role("button", name="Tiếp tục").click()
    phone.wait_for_url(f"{live_server}/office/")

    phone.goto(f"{live_server}/account")
    assert phone.get_by_text("Còn 10 mã khôi phục.").is_visible()
    phone.get_by_role("button", name="Đăng xuất", exact=True).click()
    _login(phone, live_server)
    phone.wait_for_url(f"{live_server}/login/second-step")
    phone.get_by_label("Mã").fill(codes[0])
    phone.get_by_role("button", name="Tiếp tục").click()
    phone.wait_for_url(f"{live_server}/office/")
    phone.goto(f"{live_server}/account")
    assert phone.get_by_text("Còn 9 mã khôi phục.").is_visible()
