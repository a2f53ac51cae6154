"""The lead and the unit's representative sign on a 360x740 screen; the minutes are issued."""

import re

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus, Minutes, Signature
from tests.e2e.conftest import no_horizontal_scroll, small_tap_targets
from tests.e2e.test_visit_phone import _start_visit, _wait_saved


def _draw(page, canvas):
    """Sign with a finger: a zigzag of touch-like pointer moves across the pad."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for n in range(1, 12):
        page.mouse.move(box["x"] + 20 + n * 25, box["y"] + (40 if n % 2 else box["height"] - 40))
    page.mouse.up()


def _sign(page, role, tag, name=None, position=None):
    """Sign for ``role`` on the sign page and wait for its ``tag`` (ok, queued)."""
    box = page.locator(f"#sign-{role}")
    if name:
        box.get_by_label("Họ và tên").fill(name)
        box.get_by_label("Chức vụ").fill(position)
    _draw(page, box.locator("canvas"))
    box.get_by_role("button", name="Lưu chữ ký này").tap()
    page.wait_for_selector(f"#sign-{role} .tag.{tag}")


def test_sign_and_issue_the_minutes_on_a_phone(phone, live_server, app):
    page = phone
    _start_visit(page, live_server, "Phòng Nội vụ")
    page.get_by_role("button", name="Tất cả có mặt").tap()
    page.locator("#roster").get_by_role("button", name="Tất cả đạt").tap()
    page.locator("#unit-h + button").tap()
    _wait_saved(page)
    page.locator(".savebar").get_by_role("button", name="Tổng hợp").tap()
    page.wait_for_url(re.compile(r"/summary$"))
    page.get_by_role("button", name="Chuyển sang ký biên bản").tap()
    page.wait_for_url(re.compile(r"/sign$"))
    assert no_horizontal_scroll(page)
    assert small_tap_targets(page) == []

    # An empty pad is refused on the phone before anything is sent.
    lead = page.locator("#sign-lead")
    lead.get_by_role("button", name="Lưu chữ ký này").tap()
    assert "Khung ký còn trống" in lead.get_by_role("alert").inner_text()

    _sign(page, "lead", "ok")
    _sign(page, "unit_rep", "ok", "Trần Văn Bình", "Trưởng phòng")

    page.get_by_role("button", name="Phát hành biên bản đã ký").tap()
    page.wait_for_url(re.compile(r"/summary$"))
    assert "Đã phát hành và ký số Biên bản số 01/BB-ĐKT." in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải biên bản PDF đã ký số").tap()
    assert download.value.suggested_filename.startswith("Bien-ban-01-BB-")

    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.status is InspectionStatus.FINALIZED
        signatures = {s.role.value: s for s in db.session.scalars(select(Signature))}
        assert set(signatures) == {"lead", "unit_rep"}
        assert signatures["unit_rep"].signer_name == "Trần Văn Bình"
        assert db.session.scalar(select(Minutes)).display_number == "01/BB-ĐKT"
