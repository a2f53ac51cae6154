"""Sign what you see, on a 360x740 phone: a change after signing voids the signatures, and
the minutes cannot be issued while the phone holds changes it has not sent."""

import re
import time

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus, Minutes
from tests.e2e.conftest import no_horizontal_scroll
from tests.e2e.test_sign_phone import _sign
from tests.e2e.test_visit_phone import _start_visit, _wait_ready, _wait_saved


def _to_sign_page(page, live_server):
    _start_visit(page, live_server, "Phòng Nội vụ")
    _wait_ready(page)
    page.get_by_role("button", name="Tất cả có mặt").tap()
    page.locator("#roster").get_by_role("button", name="Tất cả đạt").tap()
    page.locator("#unit-h + button").tap()
    page.locator("[name=assessment]").fill("Cơ bản chấp hành tốt.")
    page.locator("[name=assessment]").dispatch_event("change")
    _wait_saved(page)
    page.locator(".savebar").get_by_role("button", name="Tổng hợp").tap()
    page.wait_for_url(re.compile(r"/summary$"))
    page.get_by_role("button", name="Chuyển sang ký biên bản").tap()
    page.wait_for_url(re.compile(r"/sign$"))


def _until(app, condition, timeout=15):
    """Wait until the visit on the server meets ``condition`` (the phone saves on its own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            if condition(db.session.scalar(select(Inspection))):
                return
            db.session.remove()
        time.sleep(0.2)
    raise AssertionError("the server never got the change")


def _wait_issuable(page):
    page.wait_for_function(
        "() => { const b = document.querySelector('#issue-form button'); return b && !b.disabled; }"
    )


def _issue_button(page):
    return page.get_by_role("button", name="Phát hành biên bản đã ký")


def test_a_change_after_signing_voids_it_and_queued_changes_hold_the_issue(
    phone, live_server, app, gate
):
    page = phone
    _to_sign_page(page, live_server)
    # What the minutes will say is on the page, readable at 360 px.
    preview = page.locator("#preview").inner_text()
    assert "Cơ bản chấp hành tốt." in preview and "Nguyễn Văn Hùng" in preview
    assert no_horizontal_scroll(page)
    assert page.locator("#ended_at").input_value()  # the end time, now by default
    _sign(page, "lead", "ok")
    _sign(page, "unit_rep", "ok", "Trần Văn Bình", "Trưởng phòng")
    _wait_issuable(page)

    # The answers change after the signatures (back on the checklist): both are void.
    page.locator("a.back").tap()
    page.wait_for_url(re.compile(r"/summary$"))
    page.goto(page.url.replace("/summary", ""))
    _wait_ready(page)
    page.locator("[name=assessment]").fill("Còn 01 người đi muộn.")
    page.locator("[name=assessment]").dispatch_event("change")
    _wait_saved(page)
    _until(app, lambda visit: visit.assessment == "Còn 01 người đi muộn.")  # on the server
    page.goto(page.url + "/sign")
    assert page.locator("#sign-lead [data-void]").count() == 1
    assert page.locator("#sign-unit_rep [data-void]").count() == 1
    assert _issue_button(page).count() == 0
    assert "phải ký lại" in page.locator("#issue").inner_text()
    assert "Còn 01 người đi muộn." in page.locator("#preview").inner_text()

    _sign(page, "lead", "ok")
    _sign(page, "unit_rep", "ok", "Trần Văn Bình", "Trưởng phòng")
    _wait_issuable(page)

    # Text the phone cannot send yet (the server does not answer): issuing waits for it.
    gate.unavailable = r"/api/.*"
    page.goto(page.url.replace("/sign", ""))
    _wait_ready(page)
    page.locator("[name=requests]").fill("Chấn chỉnh việc đeo thẻ.")
    page.locator("[name=requests]").dispatch_event("change")
    page.wait_for_function("() => document.documentElement.dataset.waiting === '1'")
    page.goto(page.url + "/sign")
    page.wait_for_function(
        "() => { const b = document.querySelector('#issue-form button'); return b && b.disabled; }"
    )
    assert "1 thay đổi" in page.locator("#issue-waiting").inner_text()
    assert not page.locator("#preview-stale").is_hidden()
    with app.app_context():
        assert db.session.scalar(select(Minutes)) is None
    gate.unavailable = None
    page.evaluate("Offline.sync()")
    # Once sent, the change voided the signatures given before it: sign again, then issue.
    page.wait_for_selector("#sign-lead [data-void]")
    _sign(page, "lead", "ok")
    _sign(page, "unit_rep", "ok", "Trần Văn Bình", "Trưởng phòng")
    _wait_issuable(page)
    _issue_button(page).tap()
    page.wait_for_url(re.compile(r"/summary$"))
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.status is InspectionStatus.FINALIZED
        assert visit.assessment == "Còn 01 người đi muộn."
        assert visit.requests == "Chấn chỉnh việc đeo thẻ."
        assert visit.ended_at is not None
