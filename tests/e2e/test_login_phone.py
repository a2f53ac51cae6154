"""A team lead logs in on a 360x740 phone screen."""

from tests.e2e.conftest import no_horizontal_scroll, small_tap_targets


def test_login_page_in_vietnamese_then_inspector_home(phone, live_server):
    phone.goto(f"{live_server}/login")
    assert phone.locator("html").get_attribute("lang") == "vi"
    assert phone.get_by_role("heading", name="Đăng nhập").is_visible()
    assert no_horizontal_scroll(phone)
    assert small_tap_targets(phone) == []

    phone.get_by_label("Tên đăng nhập").fill("truongdoan")
    phone.get_by_label("Mật khẩu").fill("kiemtra2018")
    phone.get_by_role("button", name="Đăng nhập").click()
    phone.wait_for_url(f"{live_server}/inspector/")
    assert phone.get_by_role("heading", name="Cuộc kiểm tra của tôi").is_visible()
    assert phone.get_by_text("Nguyễn Văn Hùng").is_visible()
    assert no_horizontal_scroll(phone)


def test_wrong_password_shows_a_vietnamese_message(phone, live_server):
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Tên đăng nhập").fill("truongdoan")
    phone.get_by_label("Mật khẩu").fill("sai-mat-khau")
    phone.get_by_role("button", name="Đăng nhập").click()
    assert phone.get_by_role("alert").inner_text() == "Sai tên đăng nhập hoặc mật khẩu."
    assert phone.get_by_label("Tên đăng nhập").input_value() == "truongdoan"
