"""The office reviews a visit seeing the whole record and asks for three fixes in one
request; the unit answers them item by item; the office decides each. In Chromium at
360x740 against the real server."""

import re
from datetime import timedelta

from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import local_today
from inspection.models import Remediation, RemediationStatus, Review
from tests.e2e.conftest import no_horizontal_scroll
from tests.test_minutes import finalize, sign
from tests.visit_helpers import (
    complete_answers,
    jpeg,
    photo,
    record,
    save,
    start,
    visit_checklist,
)

FAILING = {
    "SMOKE-SIGN": "Chưa treo biển cấm hút thuốc lá ở sảnh",
    "ALC-RULE": "Quy chế chưa có nội dung cấm rượu, bia",
    "PREM-SIGNS": "Thiếu biển tên phòng tầng 2",
}


def _issued_visit(client, token, app) -> int:
    lead = token("truongdoan")
    visit = start(client, lead, app, code="TTHCC")
    full = record(client, lead, visit["id"])
    answers = complete_answers(full, visit_checklist(client, lead, visit["id"]))
    for item in answers["unit_items"]:
        if item["code"] in FAILING:
            item.update(outcome="fail", note=FAILING[item["code"]])
    answers["people"][4].update(attendance="late", arrived_at="08:20")
    answers["people"][5]["note"] = "Không có mặt tại bàn tiếp dân lúc 9 giờ"
    answers.update(
        findings="Bộ phận một cửa bố trí đủ công chức.",
        assessment="Cơ bản chấp hành tốt.",
        requests="Khắc phục các tồn tại nêu trên.",
    )
    assert save(client, lead, visit["id"], answers).status_code == 200
    shot = photo(client, lead, visit["id"], jpeg(), item_code="SMOKE-SIGN")
    assert shot.status_code == 201
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, visit["id"], role).status_code == 200
    assert finalize(client, lead, visit["id"]).status_code == 201
    return visit["id"]


def _login(page, base, username):
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("kiemtra2018")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_three_fixes_in_one_request_answered_item_by_item(phone, live_server, app, client, token):
    visit_id = _issued_visit(client, token, app)
    _login(phone, live_server, "noivu")
    phone.goto(f"{live_server}/office/visits/{visit_id}")
    # The whole record: photos, notes, texts, signatures, minutes and their code.
    assert phone.locator("#photos img").count() == 1
    assert "Không có mặt tại bàn tiếp dân lúc 9 giờ" in phone.locator("#person-notes").inner_text()
    assert "đến lúc 08:20" in phone.locator("#person-notes").inner_text()
    texts = phone.locator("#texts").inner_text()
    assert "Bộ phận một cửa bố trí đủ công chức." in texts and "Cơ bản chấp hành tốt." in texts
    assert "Nguyễn Văn Hùng" in phone.locator("#signatures").inner_text()
    assert re.search(r"mã xác minh\s+[\w-]{12}", phone.locator("#minutes").inner_text())
    assert no_horizontal_scroll(phone)

    phone.get_by_text("Cần khắc phục", exact=True).tap()
    for code in FAILING:
        phone.locator(f"label[for=item-{code}]").tap()
    phone.get_by_label("Nhận xét, hoặc nội dung đơn vị phải khắc phục").fill(
        "Khắc phục và báo cáo bằng văn bản kèm ảnh."
    )
    due = local_today() + timedelta(days=10)
    phone.locator("#due").fill(due.isoformat())
    phone.get_by_role("button", name="Lưu kết quả xem xét").tap()
    phone.get_by_text("Đã lưu kết quả xem xét.").wait_for()
    with app.app_context():
        db.session.remove()
        [done] = db.session.scalars(select(Review).filter_by(inspection_id=visit_id)).all()
        items = db.session.scalars(select(Remediation).filter_by(review_id=done.id)).all()
        assert len(items) == 3 and done.comment == "Khắc phục và báo cáo bằng văn bản kèm ảnh."
        assert not any(done.comment in r.request for r in items)  # said once, not copied

    _login(phone, live_server, "donvi1")
    standing = phone.locator("#standing").inner_text()
    assert "1 yêu cầu cần báo cáo khắc phục (3 nội dung)" in standing
    phone.locator("#requests a").first.tap()
    phone.wait_for_url(re.compile(r"/unit/requests/\d+$"))
    assert phone.locator("#request-comment").inner_text() == done.comment
    assert phone.locator(".request-item").count() == 3
    assert no_horizontal_scroll(phone)
    first, second = phone.locator(".request-item").nth(0), phone.locator(".request-item").nth(1)
    first.locator("textarea").fill("Đã treo biển cấm hút thuốc lá ở sảnh.")
    second.locator("textarea").fill("Đã bổ sung quy chế.")
    # A file that is no photo nor PDF: nothing is sent, and what was typed stays.
    second.locator("input[type=file]").set_input_files(
        files=[{"name": "quy-che.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo"}]
    )
    phone.get_by_role("button", name="Gửi Phòng Nội vụ").tap()
    phone.wait_for_selector(".request-item .error")
    assert first.locator("textarea").input_value() == "Đã treo biển cấm hút thuốc lá ở sảnh."
    assert second.locator("textarea").input_value() == "Đã bổ sung quy chế."
    with app.app_context():
        db.session.remove()
        rows = db.session.scalars(select(Remediation).filter_by(review_id=done.id))
        assert all(r.status is RemediationStatus.OPEN for r in rows)
    # Both answers in one send; the third item waits for later.
    second.locator("input[type=file]").set_input_files(
        files=[{"name": "quy-che.jpg", "mimeType": "image/jpeg", "buffer": jpeg(800, 600)}]
    )
    phone.get_by_role("button", name="Gửi Phòng Nội vụ").tap()
    phone.get_by_text("Đã gửi 2 báo cáo tới Phòng Nội vụ.").wait_for()
    assert phone.locator(".request-item textarea").count() == 1  # the third is still to answer
    assert phone.locator(".request-item img.evidence").count() == 1
    with app.app_context():
        db.session.remove()
        statuses = [
            r.status
            for r in db.session.scalars(
                select(Remediation).filter_by(review_id=done.id).order_by(Remediation.id)
            )
        ]
        assert statuses == [
            RemediationStatus.ANSWERED,
            RemediationStatus.ANSWERED,
            RemediationStatus.OPEN,
        ]

    # The office decides each item on its own.
    _login(phone, live_server, "noivu")
    phone.goto(f"{live_server}/office/remediations/{items[0].id}")
    assert (
        "Khắc phục và báo cáo bằng văn bản kèm ảnh."
        in phone.locator("#request-comment").inner_text()
    )
    assert phone.locator("#siblings li").count() == 2
    phone.get_by_role("button", name="Chấp nhận kết quả khắc phục").tap()
    phone.get_by_text("Đã lưu quyết định.").wait_for()
    with app.app_context():
        db.session.remove()
        states = {
            r.id: r.status
            for r in db.session.scalars(select(Remediation).filter_by(review_id=done.id))
        }
        assert states[items[0].id] is RemediationStatus.ACCEPTED
        assert states[items[1].id] is RemediationStatus.ANSWERED
