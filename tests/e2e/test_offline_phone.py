"""Offline on a 360x740 phone: the network is cut with ``context.set_offline(True)``.

The app is installed (manifest, service worker); answers, photos and signatures wait in
IndexedDB and reach the server exactly once when the connection is back, even when the
page is killed in the middle of sending or the service worker is replaced meanwhile.
"""

import json
import re
import time

from PIL import Image
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    Attendance,
    Inspection,
    Outcome,
    Photo,
    Signature,
    StaffMember,
    Unit,
)
from inspection.services import results
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.e2e.test_sign_phone import _sign
from tests.e2e.test_visit_phone import (
    _card,
    _login,
    _open_new_visit,
    _wait_ready,
    _wait_saved,
)
from tests.visit_helpers import jpeg, save


def _kept(page, url: str) -> bool:
    return page.evaluate(
        "url => caches.open('pages').then(c => c.match(url, {ignoreSearch: true})).then(Boolean)",
        url,
    )


def _wait_kept(page, *urls, timeout=30):
    """Wait until the service worker controls the page and keeps ``urls`` for offline."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    deadline = time.monotonic() + timeout
    missing = list(urls)
    while missing and time.monotonic() < deadline:
        missing = [url for url in missing if not _kept(page, url)]
        time.sleep(0.2)
    assert not missing, f"not kept for offline use: {missing}"


def _unit(app, name):
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(name=name))
        staff = db.session.scalar(
            select(func.count(StaffMember.id)).filter_by(unit_id=unit.id, active=True)
        )
        return unit.id, staff


def _reload(page):
    """Reload, then wait until the page shows what waits on the phone."""
    page.reload()
    _wait_ready(page)


def _start_kept_visit(page, base, unit_name="Phòng Nội vụ"):
    """Log in, let the worker keep the app, start a visit online; its page is kept too."""
    _login(page, base)
    _wait_kept(page, f"{base}/inspector/")
    _open_new_visit(page, base, unit_name)
    _wait_kept(page, page.url)
    _wait_ready(page)
    return page.url


def _wait_state(page, state):
    page.wait_for_function(f"() => document.documentElement.dataset.sync === '{state}'")


def _photo(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(jpeg(1200, 900))
    return str(path)


def _start_offline(page, base, unit_name):
    """Start a surprise visit with the network cut (the unit's checklist is kept)."""
    page.goto(f"{base}/inspector/start")
    page.locator("#unit-list label", has_text=unit_name).tap()
    page.get_by_role("button", name="Bắt đầu kiểm tra ngay").tap()
    page.wait_for_url(re.compile(r"/inspector/units/\d+/new\?client=[0-9a-f-]+$"))
    return page.url


def _fill_everything(page):
    page.get_by_role("button", name="Tất cả có mặt").tap()
    page.locator("#roster").get_by_role("button", name="Tất cả đạt").tap()
    page.locator("#unit-h + button").tap()


def test_installable_manifest_and_worker(phone, live_server):
    page = phone
    _login(page, live_server)
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["display"] == "standalone"
    assert manifest["short_name"] == "Kiểm tra"
    assert manifest["start_url"] == "/inspector/"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert page.evaluate("url => fetch(url).then(r => r.status)", icon["src"]) == 200
    _wait_kept(page, f"{live_server}/inspector/", f"{live_server}/inspector/start")
    assert page.evaluate("navigator.storage.persisted().then(p => typeof p)") == "boolean"
    assert page.locator("#sync-state").inner_text().startswith("Đã lưu hết")


def test_a_visit_loaded_online_is_filled_offline_reloaded_and_sent_once(
    phone, live_server, app, tmp_path
):
    page = phone
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _start_kept_visit(page, live_server)

    page.context.set_offline(True)
    _fill_everything(page)
    _card(page, 1).locator("label", has_text="Muộn").tap()
    page.locator("[name=findings]").fill("Ghi khi mất sóng")
    card = _card(page, 2)
    card.locator("summary").tap()
    card.locator("input[type=file]").set_input_files(_photo(tmp_path, "the.jpg"))
    page.wait_for_selector(f"#p-{card.get_attribute('data-person')} .photos a.queued img")
    _wait_state(page, "offline")
    assert "Mất kết nối" in page.locator("#sync-state").inner_text()

    _reload(page)  # offline: the kept page, then what waits on the phone on top
    assert _card(page, 1).get_attribute("data-att") == "late"
    assert _card(page, 0).get_attribute("data-att") == "present"
    assert page.locator("[name=findings]").input_value() == "Ghi khi mất sóng"
    # 7 unit items (a department has no one-stop desk) + 8 people: all answered
    assert page.locator("#progress").inner_text() == "15/15"
    assert page.locator(".photos a.queued img").count() == 1
    with app.app_context():
        assert db.session.scalar(select(Inspection)).findings == ""

    page.context.set_offline(False)
    _wait_saved(page)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Inspection.id))) == 1
        visit = db.session.scalar(select(Inspection))
        assert visit.findings == "Ghi khi mất sóng"
        assert [p.attendance for p in visit.people].count(Attendance.LATE) == 1
        assert all(p.attendance for p in visit.people)
        assert all(r.outcome is Outcome.PASS for r in visit.unit_results)
        assert results.summary(visit)["missing"] == []
        photos = db.session.scalars(select(Photo)).all()
        assert len(photos) == 1 and photos[0].person_result_id == visit.people[2].id


def test_a_whole_visit_started_offline_with_photos_and_signatures(
    phone, live_server, app, tmp_path
):
    """The issue's 'done when': 20 people, photos, both signatures, a reload, no network."""
    page = phone
    unit_id, staff = _unit(app, "Ủy ban nhân dân xã Tam Hợp")
    assert staff == 20
    _login(page, live_server)
    blank = f"{live_server}/inspector/units/{unit_id}/new"
    _wait_kept(page, f"{live_server}/inspector/start", blank, blank + "/sign")

    page.context.set_offline(True)
    url = _start_offline(page, live_server, "Ủy ban nhân dân xã Tam Hợp")
    assert page.locator(".person").count() == 20
    _fill_everything(page)
    _card(page, 4).locator("label", has_text="Vắng KP").tap()
    smoke = page.locator(".item[data-code=SMOKE-SIGN]")
    smoke.locator("summary").tap()
    smoke.locator("input[type=file]").set_input_files(_photo(tmp_path, "a.jpg"))
    card = _card(page, 7)
    card.locator("summary").tap()
    card.locator("input[type=file]").set_input_files(_photo(tmp_path, "b.jpg"))
    page.wait_for_function("() => document.querySelectorAll('.photos a.queued').length === 2")

    page.locator(".savebar").get_by_role("button", name="Tổng hợp").tap()
    page.wait_for_url(re.compile(r"/new/sign\?client="))
    # Offline, the phone draws the minutes' text from what it holds.
    page.locator("[data-preview-body] p").first.wait_for()
    preview = page.locator("#preview").inner_text()
    assert "Có trong danh sách: 20." in preview and "Vắng không phép: 1 (" in preview
    _sign(page, "lead", "queued")
    _sign(page, "unit_rep", "queued", "Lê Thị Hoa", "Chủ tịch UBND xã")
    assert page.evaluate("document.documentElement.dataset.waiting") != "0"

    page.goto(url)  # back to the checklist, still offline, then a reload
    _reload(page)
    assert _card(page, 4).get_attribute("data-att") == "absent_unexcused"
    assert page.locator(".photos a.queued").count() == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(Inspection.id))) == 0

    page.context.set_offline(False)
    # Sent: the page links to the visit's page on the server.
    page.locator("#open-on-server").tap()
    page.wait_for_url(re.compile(r"/inspector/visits/\d+$"))
    _wait_saved(page)
    with app.app_context():
        visits = db.session.scalars(select(Inspection)).all()
        assert len(visits) == 1
        visit = visits[0]
        assert visit.unit_id == unit_id and len(visit.people) == 20
        statuses = [p.attendance for p in visit.people]
        assert statuses.count(Attendance.ABSENT_UNEXCUSED) == 1
        assert statuses.count(Attendance.PRESENT) == 19
        assert results.summary(visit)["missing"] == []
        assert db.session.scalar(select(func.count(Photo.id))) == 2
        signed = {s.role.value: s for s in db.session.scalars(select(Signature))}
        assert set(signed) == {"lead", "unit_rep"}
        assert signed["unit_rep"].signer_name == "Lê Thị Hoa"
        assert signed["lead"].image_sha256 and signed["unit_rep"].image_sha256

    # The office sees it, once, with the phone's answers.
    office = page.context.browser.new_context(**PHONE)
    office_page = office.new_page()
    office_page.goto(f"{live_server}/login")
    office_page.get_by_label("Tên đăng nhập").fill("noivu")
    office_page.get_by_label("Mật khẩu").fill("kiemtra2018")
    office_page.get_by_role("button", name="Đăng nhập").click()
    office_page.goto(f"{live_server}/office/visits/{visit.id}")
    text = office_page.locator("main").inner_text()
    office.close()
    assert "Ủy ban nhân dân xã Tam Hợp" in text and "Vắng không phép: 1" in text

    # The signatures given offline were bound to what the phone held, which the server
    # now holds too: they count, and the minutes are issued.
    page.goto(f"{live_server}/inspector/visits/{visit.id}/sign")
    assert page.locator("[data-void]").count() == 0
    page.wait_for_function(
        "() => { const b = document.querySelector('#issue-form button'); return b && !b.disabled; }"
    )
    page.get_by_role("button", name="Phát hành biên bản đã ký").tap()
    page.wait_for_url(re.compile(r"/summary$"))
    with app.app_context():
        assert db.session.get(Inspection, visit.id).status.value == "finalized"


def test_killing_the_page_in_the_middle_of_a_sync_loses_and_duplicates_nothing(
    phone, live_server, app, gate, tmp_path
):
    page = phone
    unit_id, _staff = _unit(app, "Phòng Nội vụ")
    _login(page, live_server)
    _wait_kept(page, f"{live_server}/inspector/units/{unit_id}/new")
    context = page.context
    context.set_offline(True)
    url = _start_offline(page, live_server, "Phòng Nội vụ")
    _fill_everything(page)
    card = _card(page, 0)
    card.locator("summary").tap()
    card.locator("input[type=file]").set_input_files(_photo(tmp_path, "c.jpg"))
    page.wait_for_selector(".photos a.queued")
    _wait_state(page, "offline")

    # The server does the work, the reply never reaches the phone: the page dies first.
    for method, path in (
        ("POST", r"/api/v1/inspections"),
        ("PUT", r"/api/v1/inspections/\d+/results"),
        ("POST", r"/api/v1/inspections/\d+/photos"),
    ):
        gate.hold(method, path)
    context.set_offline(False)
    assert gate.held.wait(20), "nothing was sent"
    page.close()
    gate.release.set()
    gate.rules.clear()

    with app.app_context():
        assert db.session.scalar(select(func.count(Inspection.id))) == 1

    page = context.new_page()
    page.goto(url)
    _wait_saved(page)
    assert page.evaluate("document.documentElement.dataset.attention") == "0"
    with app.app_context():
        assert db.session.scalar(select(func.count(Inspection.id))) == 1
        visit = db.session.scalar(select(Inspection))
        assert all(p.attendance is Attendance.PRESENT for p in visit.people)
        assert results.summary(visit)["missing"] == []
        assert db.session.scalar(select(func.count(Photo.id))) == 1
    print(f"\nreplies cut: {gate.held_paths}")


def test_a_new_service_worker_keeps_what_is_queued(phone, live_server, app, gate):
    page = phone
    url = _start_kept_visit(page, live_server)

    gate.unavailable = r"/api/.*"  # the server cannot take answers: they wait
    _card(page, 3).locator("label", has_text="Vắng CP").tap()
    page.locator("[name=requests]").fill("Chấn chỉnh giờ giấc")
    page.locator("[name=requests]").dispatch_event("change")
    page.wait_for_function("() => document.documentElement.dataset.waiting === '2'")
    old = page.evaluate("fetch('/sw.js').then(r => r.text()).then(t => t.slice(0, 40))")

    # A new release: the worker's bytes change, the phone installs it.
    app.config["APP_RELEASE"] = "release-2"
    page.evaluate(
        """() => new Promise(resolve => {
             navigator.serviceWorker.addEventListener('controllerchange', resolve);
             navigator.serviceWorker.getRegistration().then(r => r.update());
           })"""
    )
    assert page.evaluate("fetch('/sw.js').then(r => r.text()).then(t => t.slice(0, 40))") != old
    assert page.evaluate("document.documentElement.dataset.waiting") == "2"
    assert _kept(page, url)

    page.context.set_offline(True)
    _reload(page)  # the visit comes from the new worker's kept pages
    assert _card(page, 3).get_attribute("data-att") == "absent_excused"
    assert page.locator("[name=requests]").input_value() == "Chấn chỉnh giờ giấc"

    gate.unavailable = None
    page.context.set_offline(False)
    _wait_saved(page)
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.requests == "Chấn chỉnh giờ giấc"
        assert visit.people[3].attendance is Attendance.ABSENT_EXCUSED


def test_a_conflict_during_sync_is_shown_and_resolved_not_dropped(phone, live_server, app, token):
    page = phone
    _start_kept_visit(page, live_server)

    page.context.set_offline(True)
    _card(page, 0).locator("label", has_text="Công tác").tap()
    _card(page, 1).locator("label", has_text="Có mặt").tap()
    _wait_state(page, "offline")

    # Meanwhile the team's other phone (an API token) marks the first person late.
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        person_id, version = visit.people[0].id, visit.version
        visit_id = visit.id
    body = {"version": version, "people": [{"person_id": person_id, "attendance": "late"}]}
    assert save(app.test_client(), token(), visit_id, body).status_code == 200

    page.context.set_offline(False)
    _wait_state(page, "attention")
    problem = page.locator("#conflicts .problem")
    assert "Của bạn: Đi công tác" in problem.inner_text()
    assert "Trên máy chủ: Đi muộn" in problem.inner_text()
    assert _card(page, 0).get_attribute("data-att") == "late"
    assert "cần bạn xử lý" in page.locator("#sync-state").inner_text()

    # The outbox lists it too, with the same choice.
    page.locator("#sync-state").tap()
    page.wait_for_url(re.compile(r"/inspector/outbox$"))
    entry = page.locator(".outbox-visit .problem")
    assert "Của bạn: Đi công tác · Trên máy chủ: Đi muộn" in entry.inner_text()
    entry.get_by_role("button", name="Giữ của tôi").tap()
    _wait_state(page, "saved")
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.people[0].attendance is Attendance.ON_DUTY
        assert visit.people[1].attendance is Attendance.PRESENT


def test_answers_left_by_the_previous_release_are_moved_over_and_sent(
    phone, live_server, app, token
):
    """Storage format 1 (a localStorage key per visit) is migrated to IndexedDB (format 2)."""
    from tests.factories import demo_user
    from tests.visit_helpers import start

    with app.app_context():
        user_id = demo_user("truongdoan").id
    client = app.test_client()
    visit = start(client, token(), app, code="PNV")
    visit_id = visit["id"]
    with app.app_context():
        person = db.session.get(Inspection, visit_id).people[2].id

    page = phone
    page.goto(f"{live_server}/login")  # the phone as the old release left it
    legacy = [[f"p_{person}_att", {"value": "absent_excused", "base": ""}]]
    page.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [f"inspection-{visit_id}-user-{user_id}-pending", json.dumps(legacy)],
    )
    _login(page, live_server)
    page.goto(f"{live_server}/inspector/visits/{visit_id}")
    _wait_ready(page)
    assert _card(page, 2).get_attribute("data-att") == "absent_excused"
    _wait_saved(page)
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('inspection-'))") == []
    with app.app_context():
        person = db.session.get(Inspection, visit_id).people[2]
        assert person.attendance is Attendance.ABSENT_EXCUSED


def test_a_phone_out_of_space_says_so_and_keeps_what_it_had(
    playwright_driver, live_server, app, tmp_path
):
    # A profile on disk, like a phone's browser: there the quota is enforced on writing.
    # (Chromium's estimate() reports usage + 10 GiB whatever the room: the limit shows
    # when a write is refused, and that is what the phone must say.)
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE
    )
    try:
        page = context.new_page()
        # Room for the app and a visit's answers (~1.5 MB here), not for a 3 MB photo.
        cdp = context.new_cdp_session(page)
        room = {"origin": live_server, "quotaSize": 2_500_000}
        cdp.send("Storage.overrideQuotaForOrigin", room)
        _start_kept_visit(page, live_server)
        context.set_offline(True)
        _card(page, 0).locator("label", has_text="Có mặt").tap()
        _wait_state(page, "offline")

        big = tmp_path / "big.jpg"
        Image.effect_noise((2400, 1800), 100).convert("RGB").save(big, quality=95)
        assert big.stat().st_size > 3_000_000
        card = _card(page, 1)
        card.locator("summary").tap()
        card.locator("input[type=file]").set_input_files(str(big))
        warning = page.locator("#storage-warning")
        warning.wait_for()
        assert "Điện thoại đã hết dung lượng" in warning.inner_text()
        assert "Chưa lưu được ảnh" in page.locator("#sync-error").inner_text()
        assert page.locator(".photos a.queued").count() == 0

        # What was kept before is still there and goes out when the signal is back.
        context.set_offline(False)
        _wait_saved(page)
        with app.app_context():
            visit = db.session.scalar(select(Inspection))
            assert visit.people[0].attendance is Attendance.PRESENT
            assert db.session.scalar(select(func.count(Photo.id))) == 0
    finally:
        context.close()
