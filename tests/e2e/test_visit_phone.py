"""An inspector fills a surprise visit of a 30-person unit on a 360x740 phone."""

import re

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Attendance, Inspection, Outcome, Photo
from tests.e2e.conftest import PHONE, no_horizontal_scroll, small_tap_targets
from tests.visit_helpers import jpeg


class Taps:
    """Counts the inspector's taps (typing is not counted as taps)."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def __call__(self, locator):
        locator.scroll_into_view_if_needed()
        locator.tap()
        self.count += 1


def _login(page, base, username="truongdoan"):
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("kiemtra2018")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/inspector/$"))


def _open_new_visit(page, base, unit_name):
    """Start a surprise visit of ``unit_name`` from the start page (logged in, online)."""
    page.goto(f"{base}/inspector/start")
    page.locator("#unit-list label", has_text=unit_name).tap()
    page.get_by_role("button", name="Bắt đầu kiểm tra ngay").tap()
    page.wait_for_url(re.compile(r"/inspector/visits/\d+$"))


def _start_visit(page, base, unit_name):
    _login(page, base)
    _open_new_visit(page, base, unit_name)


def _wait_ready(page):
    """Wait until the checklist page shows what waits on the phone."""
    page.wait_for_selector("#checklist[data-ready]", state="attached")


def _card(page, n):
    return page.locator(".person").nth(n)


def _wait_saved(page):
    """Wait until the page says everything is saved and nothing waits on the phone."""
    page.wait_for_function(
        """() => document.getElementById('save-state').textContent.startsWith('Đã lưu hết')
                 && document.documentElement.dataset.sync === 'saved'
                 && document.documentElement.dataset.waiting === '0'"""
    )


def test_surprise_visit_of_30_people_in_under_40_taps(phone, live_server, app, tmp_path):
    page = phone
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, live_server)
    tap = Taps(page)

    tap(page.get_by_role("link", name="Bắt đầu kiểm tra đột xuất"))
    page.wait_for_url(re.compile(r"/inspector/start$"))
    assert no_horizontal_scroll(page)
    tap(page.get_by_placeholder("Gõ một phần tên…"))
    page.keyboard.type("hanh chinh")
    assert page.locator("#unit-list > li:not([hidden])").count() == 1
    tap(page.locator("#unit-list label", has_text="Trung tâm Hành chính công huyện"))
    tap(page.get_by_role("button", name="Bắt đầu kiểm tra ngay"))
    page.wait_for_url(re.compile(r"/inspector/visits/\d+$"))
    visit_url = page.url
    assert page.locator(".person").count() == 30
    assert no_horizontal_scroll(page)
    assert small_tap_targets(page) == []

    tap(page.get_by_role("button", name="Tất cả có mặt"))
    tap(page.locator("#roster").get_by_role("button", name="Tất cả đạt"))
    tap(_card(page, 2).locator("label", has_text="Muộn"))
    tap(_card(page, 7).locator("label", has_text="Muộn"))
    tap(_card(page, 12).locator("label", has_text="Vắng KP"))
    # Reload at once, without waiting for the background save: nothing may be lost.
    page.reload()
    _wait_ready(page)
    # 11 required unit items asked (7 general, 4 of the one-stop desk) + 30 people, each
    # done once marked and checked; the unit items still open
    assert page.locator("#progress").inner_text() == "30/41"
    for n, status in ((2, "late"), (7, "late"), (12, "absent_unexcused"), (0, "present")):
        assert _card(page, n).get_attribute("data-att") == status
    _wait_saved(page)

    tap(page.locator("#unit-h + button"))
    smoke = page.locator(".item[data-code=SMOKE-SIGN]")
    tap(smoke.locator("label", has_text="Vi phạm"))
    tap(page.locator(".item[data-code=PREM-SIGNS]").locator("label", has_text="Vi phạm"))
    tap(smoke.locator("summary"))
    tap(smoke.locator(".cam"))  # the camera button; the phone then takes the picture
    photo_file = tmp_path / "bien-cam-hut-thuoc.jpg"
    photo_file.write_bytes(jpeg(2400, 1800, exif_time="2018:10:05 08:20:00"))
    smoke.locator("input[type=file]").set_input_files(str(photo_file))
    tap.count += 1  # the shutter
    page.wait_for_selector(".item[data-code=SMOKE-SIGN] .photos img")
    _wait_saved(page)
    assert page.locator("#progress").inner_text() == "41/41"

    tap(page.locator(".savebar").get_by_role("button", name="Tổng hợp"))
    page.wait_for_url(re.compile(r"/summary$"))
    text = page.locator("main").inner_text()
    assert re.search(r"Đi muộn\s+2", text) and re.search(r"Vắng không phép\s+1", text)
    assert "SMOKE-SIGN" in text and "PREM-SIGNS" in text
    assert page.locator("main img").count() == 1
    assert "Đã trả lời đủ các nội dung bắt buộc." in text
    assert no_horizontal_scroll(page)
    assert tap.count < 40, tap.count
    print(f"\ntaps to the summary page: {tap.count}")
    assert errors == []

    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert f"/inspector/visits/{visit.id}" in visit_url
        people = {p.id: p for p in visit.people}
        statuses = [p.attendance for p in visit.people]
        assert statuses.count(Attendance.LATE) == 2
        assert statuses.count(Attendance.ABSENT_UNEXCUSED) == 1
        assert statuses.count(Attendance.PRESENT) == 27
        fails = {r.item.code for r in visit.unit_results if r.outcome is Outcome.FAIL}
        assert fails == {"SMOKE-SIGN", "PREM-SIGNS"}
        assert all(r.outcome is not None for r in visit.unit_results)
        assert len(visit.unit_results) == 11  # the pass/fail items asked (not the number)
        photos = db.session.scalars(select(Photo)).all()
        assert len(photos) == 1 and photos[0].item.code == "SMOKE-SIGN"
        assert len(people) == 30


def test_answers_typed_offline_survive_a_closed_tab_and_are_sent_later(phone, live_server, app):
    page = phone
    _start_visit(page, live_server, "Phòng Nội vụ")
    url = page.url
    context = page.context
    context.set_offline(True)
    _card(page, 1).locator("label", has_text="Vắng CP").tap()
    page.locator("[name=findings]").fill("Ghi khi mất sóng")
    page.locator("[name=findings]").dispatch_event("change")
    page.wait_for_function(
        "() => document.getElementById('save-state').textContent.startsWith('Mất kết nối')"
    )
    page.close()  # the tab is closed before the signal comes back
    with app.app_context():
        assert db.session.scalar(select(Inspection)).findings == ""
    context.set_offline(False)
    page = context.new_page()
    page.goto(url)
    _wait_ready(page)
    assert _card(page, 1).get_attribute("data-att") == "absent_excused"
    assert page.locator("[name=findings]").input_value() == "Ghi khi mất sóng"
    _wait_saved(page)
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.findings == "Ghi khi mất sóng"
        assert visit.people[1].attendance is Attendance.ABSENT_EXCUSED


def test_a_stale_save_shows_the_other_members_answers(phone, live_server, app, browser):
    from tests.e2e.conftest import PHONE

    page = phone
    _start_visit(page, live_server, "Phòng Nội vụ")
    url = page.url

    other_context = browser.new_context(**PHONE)
    other = other_context.new_page()
    _login(other, live_server)
    other.goto(url)
    _card(other, 0).locator("label", has_text="Muộn").tap()
    _wait_saved(other)
    other_context.close()

    # This page still holds version 1: its save is refused, then merged openly.
    _card(page, 0).locator("label", has_text="Công tác").tap()
    page.wait_for_selector("#sync-error:not([hidden])")
    assert "Thành viên khác trong đoàn vừa lưu" in page.locator("#sync-error").inner_text()
    assert _card(page, 0).get_attribute("data-att") == "late"  # theirs is shown, not overwritten
    # Both answers are offered; nothing is sent until the inspector decides.
    conflict = page.locator("#conflicts .problem")
    assert "Của bạn: Đi công tác" in conflict.inner_text()
    assert "Trên máy chủ: Đi muộn" in conflict.inner_text()
    conflict.get_by_role("button", name="Lấy bản trên máy chủ").tap()
    _card(page, 1).locator("label", has_text="Có mặt").tap()
    _wait_saved(page)
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.people[0].attendance is Attendance.LATE
        assert visit.people[1].attendance is Attendance.PRESENT


def test_without_script_the_cards_checks_are_fields_that_post(browser, live_server, app):
    """A card's check rows come inside <noscript>: with script off they are ordinary
    fields, shown and posted with the form; with script on the page builds them."""
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        _login(page, live_server)
        _open_new_visit(page, live_server, "Trung tâm Hành chính công huyện")
        # What only the script can do is not offered (`hidden` wins over .btn's display).
        for name in ("Tất cả có mặt", "Tất cả đạt"):
            assert page.get_by_role("button", name=name).first.is_hidden()
        assert page.locator("input[type=search]").is_hidden()
        card = _card(page, 0)
        card.locator("fieldset.att label", has_text="Có mặt").click()
        row = card.locator(".checks fieldset").first
        assert row.is_visible()
        row.locator("label").first.click()  # "Đạt"
        page.get_by_role("button", name="Lưu", exact=True).click()
        page.wait_for_url(re.compile(r"/inspector/visits/\d+$"))
        assert _card(page, 0).locator(".checks fieldset input:checked").count() == 1
        visit_id = int(page.url.rsplit("/", 1)[1])
    finally:
        context.close()
    with app.app_context():
        visit = db.session.get(Inspection, visit_id)
        person = visit.people[0]
        assert person.attendance is Attendance.PRESENT
        # Attendance's own item (from "present") and the check tapped on the card.
        assert sorted(r.outcome.value for r in person.items if r.outcome) == ["pass", "pass"]


def test_taps_made_while_the_cards_are_built_are_kept(phone, live_server, app):
    """The script builds the cards' check rows a few per task after the page shows: a tap
    in that moment builds the rest at once and is kept, not swallowed, nor read as the
    server's answer."""
    page = phone
    _start_visit(page, live_server, "Trung tâm Hành chính công huyện")
    url = page.url
    # Whether each tap came before the last card was built, seen before the page's own
    # listeners see it.
    page.add_init_script(
        """document.addEventListener("pointerdown", () => {
             (window.earlyTaps = window.earlyTaps || []).push(
               document.querySelectorAll(".checks > noscript").length);
           }, true);"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 20})
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Tất cả có mặt").tap()
    _card(page, 0).locator(".checks fieldset").first.locator("label").first.tap()  # "Đạt"
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    assert page.evaluate("window.earlyTaps")[0] > 0  # the rows were still being built
    _wait_ready(page)
    _wait_saved(page)
    assert page.locator("#conflicts").is_hidden()
    page.reload()
    _wait_ready(page)
    assert page.locator(".person[data-att=present]").count() == 30
    assert _card(page, 0).locator(".checks fieldset").first.locator("input:checked").count() == 1
    with app.app_context():
        visit = db.session.get(Inspection, int(url.rsplit("/", 1)[1]))
        assert {p.attendance for p in visit.people} == {Attendance.PRESENT}
        first = visit.people[0]
        assert sorted(r.outcome.value for r in first.items if r.outcome) == ["pass", "pass"]


def test_taps_made_before_the_pages_script_runs_are_saved(browser, live_server, app):
    """On a slow line the page shows before its script arrives: what is tapped meanwhile is
    sent once the script runs, not taken for the server's answer."""
    context = browser.new_context(**PHONE, service_workers="block")
    page = context.new_page()
    try:
        _start_visit(page, live_server, "Trung tâm Hành chính công huyện")
        url = page.url
        held = []
        page.route("**/static/js/checklist.js*", lambda route: held.append(route))  # later
        page.goto(url, wait_until="commit")
        _card(page, 0).locator("fieldset.att label", has_text="Vắng KP").tap()
        page.locator(".item fieldset.outcome").first.locator("label", has_text="Vi phạm").tap()
        assert held and page.locator(".checks > noscript").count() == 30  # no script yet
        held[0].continue_()
        page.unroute("**/static/js/checklist.js*")
        _wait_ready(page)
        _wait_saved(page)
        page.reload()
        _wait_ready(page)
        assert _card(page, 0).get_attribute("data-att") == "absent_unexcused"
    finally:
        context.close()
    with app.app_context():
        visit = db.session.get(Inspection, int(url.rsplit("/", 1)[1]))
        assert visit.people[0].attendance is Attendance.ABSENT_UNEXCUSED
        assert Outcome.FAIL in [r.outcome for r in visit.unit_results]
