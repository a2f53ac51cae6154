"""Checklists that fit each unit, on a 360x740 phone in Chromium: a school asks no one-stop
item, a conditional item appears once its trigger fails, a late person gets an arrival
time, and a checklist downloaded, edited and uploaded by the administrator is what the
next visit asks."""

import re

import openpyxl

from inspection.extensions import db
from inspection.models import Inspection
from tests.e2e.conftest import no_horizontal_scroll
from tests.e2e.test_visit_phone import _login, _open_new_visit, _wait_ready, _wait_saved


def _visit(app, url) -> Inspection:
    inspection_id = int(re.search(r"/visits/(\d+)", url).group(1))
    db.session.remove()
    return db.session.get(Inspection, inspection_id)


def test_a_school_visit_asks_no_one_stop_item(phone, live_server, app):
    _login(phone, live_server)
    phone.goto(f"{live_server}/inspector/start")
    phone.locator("#unit-list label", has_text="Trường Trung học cơ sở Hương Canh").tap()
    # The start page ticks the school's checklists and says so.
    assert phone.locator("#templates-summary").inner_text() == (
        "Kỷ luật, kỷ cương hành chính và văn hóa công sở, Trường học"
    )
    phone.get_by_role("button", name="Bắt đầu kiểm tra ngay").tap()
    phone.wait_for_url(re.compile(r"/inspector/visits/\d+$"))
    _wait_ready(phone)
    page_text = phone.locator("#checklist").inner_text()
    assert "bộ phận một cửa" not in page_text.lower()
    assert phone.locator("h3.template-h", has_text="Trường học").count() == 1
    assert no_horizontal_scroll(phone)
    # A choice asks its follow-up; the number takes its unit.
    fix = phone.locator(".item", has_text="Ban giám hiệu đã nhắc nhở")
    assert fix.is_hidden()
    total = phone.locator("#progress").inner_text().split("/")[1]
    phone.locator(".item", has_text="Sổ trực ban").get_by_text("Ghi chép chưa đầy đủ").tap()
    assert fix.is_visible()
    assert phone.locator("#progress").inner_text().split("/")[1] == str(int(total) + 1)
    fix.get_by_text("Vi phạm").tap()
    number = phone.locator(".item", has_text="Số tiết học").locator("input[inputmode=decimal]")
    number.fill("3")
    number.blur()
    _wait_saved(phone)
    with app.app_context():
        visit = _visit(app, phone.url)
        answers = {r.item.code: r for r in visit.unit_results}
        assert answers["SCH-DUTY"].text_value == "Ghi chép chưa đầy đủ"
        assert answers["SCH-DUTY-FIX"].outcome.value == "fail"
        assert answers["SCH-COVER"].number_value == 3
        assert not any(i.code.startswith("OSS-") for i in visit.items)
    # The choice back to "full": the follow-up hides, and its answer goes on the server too.
    phone.locator(".item", has_text="Sổ trực ban").get_by_text("Ghi chép đầy đủ").tap()
    assert fix.is_hidden()
    _wait_saved(phone)
    with app.app_context():
        answers = {r.item.code: r for r in _visit(app, phone.url).unit_results}
        assert answers["SCH-DUTY-FIX"].outcome is None


def test_the_apology_item_appears_only_after_overdue_cases_fail(phone, live_server, app):
    _login(phone, live_server)
    _open_new_visit(phone, live_server, "Trung tâm Hành chính công huyện")
    _wait_ready(phone)
    apology = phone.locator(".item", has_text="văn bản xin lỗi")
    assert apology.is_hidden()
    overdue = phone.locator(".item", has_text="Không có hồ sơ quá hạn giải quyết")
    overdue.get_by_text("Vi phạm").tap()
    assert apology.is_visible()
    apology.get_by_text("Đạt").tap()
    # A late person: the arrival time field shows, and what is typed is saved.
    card = phone.locator(".person").nth(2)
    assert card.locator(".arrival").is_hidden()
    card.get_by_text("Muộn", exact=True).tap()
    card.locator(".arrival input").fill("08:05")
    card.locator(".arrival input").blur()
    _wait_saved(phone)
    with app.app_context():
        visit = _visit(app, phone.url)
        answers = {r.item.code: r.outcome for r in visit.unit_results}
        assert answers["OSS-OVERDUE"].value == "fail" and answers["OSS-APOLOGY"].value == "pass"
        late = [p for p in visit.people if p.arrived_at]
        assert [p.arrived_at.strftime("%H:%M") for p in late] == ["08:05"]
    # Marked present again: no arrival time any more.
    card.get_by_text("Có mặt", exact=True).tap()
    assert card.locator(".arrival").is_hidden()
    _wait_saved(phone)
    with app.app_context():
        assert not [p for p in _visit(app, phone.url).people if p.arrived_at]


def test_a_checklist_edited_in_a_spreadsheet_is_what_the_next_visit_asks(
    phone, live_server, app, tmp_path
):
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Tên đăng nhập").fill("admin")
    phone.get_by_label("Mật khẩu").fill("kiemtra2018")
    phone.get_by_role("button", name="Đăng nhập").click()
    phone.goto(f"{live_server}/admin/checklists")
    phone.get_by_role("link", name="Bộ phận một cửa").tap()
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Tải về dạng bảng tính").tap()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "mot-cua-v1.xlsx"
    book = openpyxl.load_workbook(saved)
    sheet = book.active
    sheet.append(
        ["OSS-SEATS", "Bộ phận một cửa", "Đơn vị", "Có ghế ngồi chờ cho người dân", "Ghế chờ"]
    )
    sheet.append(["OSS-BAD", "Không rõ", "Đơn vị", ""])
    book.save(saved)
    phone.get_by_role("link", name="Nhập bảng tính thành phiên bản mới").tap()
    phone.set_input_files("input[type=file]", str(saved))
    phone.get_by_role("button", name="Nhập").tap()
    phone.wait_for_selector(".problems li")
    problems = phone.locator(".problems li")
    assert problems.count() == 2  # the unknown category and the empty label, both on row 9
    assert all(t.startswith("Dòng 9") for t in problems.all_inner_texts())
    assert no_horizontal_scroll(phone)
    sheet.delete_rows(sheet.max_row)
    book.save(saved)
    phone.set_input_files("input[type=file]", str(saved))
    phone.get_by_label("Lý do thay đổi").fill("Thêm tiêu chí ghế chờ")
    phone.get_by_role("button", name="Nhập").tap()
    phone.get_by_text("Đã tạo phiên bản 2.").wait_for()
    assert phone.get_by_text("OSS-SEATS").is_visible()
    phone.context.clear_cookies()  # the inspector's turn
    _login(phone, live_server)
    _open_new_visit(phone, live_server, "Ủy ban nhân dân xã Hương Sơn")
    _wait_ready(phone)
    assert phone.locator("#checklist legend", has_text="Có ghế ngồi chờ cho người dân").is_visible()
    assert "Bộ phận một cửa v2" in phone.locator("#checklist").inner_text()
