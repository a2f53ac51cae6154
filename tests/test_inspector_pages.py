"""The inspector's pages work as plain forms, without JavaScript."""

import io
import re

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus, Photo, Unit
from tests.visit_helpers import jpeg, unit_id


@pytest.fixture
def inspector(client, auth):
    auth.login("truongdoan")
    return client


def _start(client, app, code="TTHCC", client_id="form-1"):
    with app.app_context():
        from tests.factories import demo_user

        lead = demo_user("truongdoan").id
    return client.post(
        "/inspector/start",
        data={
            "unit_id": str(unit_id(app, code)),
            "kind": "surprise",
            "lead": str(lead),
            "secretary": "0",
            "client_id": client_id,
            "client_time": "2018-10-05T07:55:00+07:00",
            "latitude": "21.3",
            "longitude": "105.65",
            "accuracy": "20",
        },
    )


def test_home_offers_a_surprise_visit(inspector):
    page = inspector.get("/inspector/").get_data(as_text=True)
    assert "Bắt đầu kiểm tra đột xuất" in page and 'href="/inspector/start"' in page


def test_start_page_lists_active_units(inspector, app):
    with app.app_context():
        db.session.scalar(select(Unit).filter_by(code="TTVH")).active = False
        db.session.commit()
    page = inspector.get("/inspector/start").get_data(as_text=True)
    assert "Trung tâm Hành chính công huyện" in page
    assert "Trung tâm Văn hóa" not in page
    assert re.search(r'name="client_id"[^>]*value="[0-9a-f-]{36}"', page)


def test_start_by_form_is_idempotent(inspector, app):
    first = _start(inspector, app)
    again = _start(inspector, app)
    assert first.status_code == again.status_code == 302
    assert first.location == again.location
    with app.app_context():
        assert db.session.scalar(select(func.count(Inspection.id))) == 1
        visit = db.session.scalar(select(Inspection))
        assert visit.client_started_at is not None and float(visit.latitude) == 21.3


def test_checklist_page_shows_every_person_and_item(inspector, app):
    location = _start(inspector, app).location
    page = inspector.get(location).get_data(as_text=True)
    assert page.count('class="person card"') == 30
    assert page.count('class="item card"') == 7 + 6  # the general items, the one-stop desk's
    assert 'capture="environment"' in page
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn (%)" in page


def test_bad_input_is_refused_with_a_message_and_keeps_what_was_typed(inspector, app):
    location = _start(inspector, app).location
    page = inspector.get(location).get_data(as_text=True)
    unit_field = re.search(r'name="(u_\d+)"', page).group(1)
    person_field = re.search(r'name="(p_\d+_att)"', page).group(1)
    response = inspector.post(
        location,
        data={
            "version": "1",
            unit_field: "excellent",
            f"{unit_field}_note": "Ghi chú đang gõ dở",
            person_field: "late",
            "findings": "Nhận xét quan trọng",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Một số câu trả lời chưa được lưu" in text
    assert "Ghi chú đang gõ dở" in text and "Nhận xét quan trọng" in text
    assert re.search(rf'checked[^>]*name="{person_field}"[^>]*value="late"', text)
    with app.app_context():
        assert db.session.scalar(select(Inspection)).findings == ""


def test_form_save_and_conflict(inspector, app):
    location = _start(inspector, app).location
    page = inspector.get(location).get_data(as_text=True)
    person_field = re.search(r'name="(p_\d+_att)"', page).group(1)
    ok = inspector.post(
        location, data={"version": "1", person_field: "absent_excused", "findings": "Đã lưu"}
    )
    assert ok.status_code == 302
    stale = inspector.post(location, data={"version": "1", "findings": "Ghi đè"})
    assert stale.status_code == 409
    assert "Người khác vừa lưu" in stale.get_data(as_text=True)
    assert "Đã lưu" in stale.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Inspection)).findings == "Đã lưu"


def test_add_person_and_photo_without_script(inspector, app):
    location = _start(inspector, app).location
    response = inspector.post(
        f"{location}/people",
        data={"full_name": "Lưu Văn Ngoài", "position": "Lái xe hợp đồng", "client_id": "x1"},
    )
    assert response.status_code == 302 and "#p-" in response.location
    assert "Lưu Văn Ngoài" in inspector.get(location).get_data(as_text=True)
    upload = inspector.post(
        f"{location}/photos",
        data={"target": "item:SMOKE-SIGN", "file": (io.BytesIO(jpeg(800, 600)), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    bad = inspector.post(
        f"{location}/photos",
        data={"target": "item:SMOKE-SIGN", "file": (io.BytesIO(b"%PDF-1.7 hello"), "a.jpg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Tệp này không phải là ảnh." in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 1
    page = inspector.get(location).get_data(as_text=True)
    assert re.search(r'src="/photos/\d+/thumb.jpg"', page)


def test_summary_headcount_and_missing(inspector, app):
    location = _start(inspector, app).location
    page = inspector.get(location).get_data(as_text=True)
    people = re.findall(r'name="(p_\d+)_att"', page)
    people = list(dict.fromkeys(people))
    data = {"version": "1"}
    for n, person in enumerate(people):
        data[f"{person}_att"] = "late" if n < 2 else ("absent_unexcused" if n == 2 else "present")
    inspector.post(location, data=data)
    summary = inspector.get(f"{location}/summary").get_data(as_text=True)
    assert "Quân số" in summary
    assert re.search(r"Đi muộn</th><td>2", summary)
    assert re.search(r"Vắng không phép</th><td>1", summary)
    assert "Còn thiếu:" in summary
    submit = inspector.post(f"{location}/submit", follow_redirects=True)
    assert "Còn " in submit.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Inspection)).status is InspectionStatus.DRAFT


def test_other_inspectors_cannot_open_the_visit(inspector, app):
    location = _start(inspector, app).location
    other = app.test_client()
    other.post("/login", data={"username": "thanhvien", "password": "kiemtra2018"})
    assert other.get(location).status_code == 404
    assert other.get(f"{location}/summary").status_code == 404


def test_the_checklist_explains_its_short_answers_on_the_page(client, auth, app, token):
    """Issue 17: phones show no hover titles, so Đạt / Vi phạm / KAD are explained in view."""
    from tests.visit_helpers import start

    visit = start(client, token("truongdoan"), app)
    auth.login("truongdoan")
    page = client.get(f"/inspector/visits/{visit['id']}").get_data(as_text=True)
    legend = page.split('id="outcome-legend"')[1].split("</p>")[0]
    assert "KAD</strong>: Không áp dụng" in legend and "Vi phạm</strong>" in legend


def test_the_start_page_shows_headcount_last_visit_and_the_usual_secretary(
    client, auth, app, token
):
    """Issue 17: each unit says how many people it has and when it was last visited; the
    secretary is the one this lead chose last time."""
    import re

    from inspection.i18n import local_today
    from tests import factories
    from tests.test_minutes import finalize, ready_visit
    from tests.visit_helpers import start

    def label(page):
        found = re.search(r'Trung tâm Hành chính công huyện <span class="muted">([^<]*)<', page)
        return found.group(1)

    auth.login("truongdoan")
    assert label(client.get("/inspector/start").text).endswith("30 người · chưa kiểm tra lần nào")
    lead = token("truongdoan")
    assert finalize(client, lead, ready_visit(client, lead, app)).status_code == 201
    with app.app_context():
        me, thuky = factories.demo_user("truongdoan").id, factories.demo_user("thuky").id
    team = [{"user_id": me, "role": "lead"}, {"user_id": thuky, "role": "secretary"}]
    start(client, lead, app, code="PNV", team=team)
    page = client.get("/inspector/start").text
    assert label(page).endswith(f"lần trước {local_today():%d/%m/%Y}")
    radios = re.findall(r'<input[^>]*name="secretary"[^>]*>', page)
    chosen = [r for r in radios if "checked" in r]
    assert len(chosen) == 1 and f'value="{thuky}"' in chosen[0]
