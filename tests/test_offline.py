"""The server's side of the offline app: worker, manifest, kept pages, idempotent uploads."""

import io
import json
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, InspectionKind, Photo, StaffMember, TeamRole, Unit
from inspection.services import planning, visits
from inspection.services.audit import Actor
from tests.factories import demo_user
from tests.visit_helpers import bearer, jpeg, record, start, unit_id


@pytest.fixture
def inspector(client, auth):
    auth.login("truongdoan")
    return client


def _worker_config(client) -> dict:
    response = client.get("/sw.js")
    first = response.get_data(as_text=True).split("\n", 1)[0]
    return json.loads(first.removeprefix("const CONFIG = ").removesuffix(";"))


def test_worker_is_served_uncached_with_the_hashed_shell(client, app):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    config = _worker_config(client)
    assert config["offline_url"] == "/inspector/offline"
    shell = config["shell"]
    for name in ("css/app.css", "js/offline.js", "js/checklist.js", "js/signature.js"):
        assert any(re.fullmatch(rf"/static/{name}\?v=[0-9a-f]{{12}}", url) for url in shell), name
    for url in shell:  # every file of the shell is there, and long-cached at that address
        kept = client.get(url)
        assert kept.status_code == 200, url
        assert "immutable" in kept.headers["Cache-Control"]


def test_a_new_release_changes_the_worker_and_nothing_else_does(client, app):
    version = _worker_config(client)["version"]
    assert _worker_config(client)["version"] == version
    app.config["APP_RELEASE"] = "2026-12-01"
    assert _worker_config(client)["version"] != version


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["short_name"] == "Kiểm tra"
    assert manifest["name"] == "Kiểm tra công vụ"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/inspector/" and manifest["scope"] == "/"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).headers["Content-Type"] == "image/png"


def test_only_inspector_pages_link_the_manifest_and_the_sync_state(client, auth, app):
    auth.login("noivu")
    page = client.get("/office/").get_data(as_text=True)
    assert 'rel="manifest"' not in page and "offline.js" not in page
    phone = app.test_client()
    phone.post("/login", data={"username": "truongdoan", "password": "kiemtra2018"})
    page = phone.get("/inspector/").get_data(as_text=True)
    assert 'rel="manifest"' in page and "js/offline.js" in page and 'id="sync-state"' in page


def test_home_lists_the_pages_to_keep(inspector, app):
    target = unit_id(app, "TTHCC")
    with app.app_context():
        lead = demo_user("truongdoan")
        visit, _ = visits.start_inspection(
            Actor(user_id=lead.id),
            lead,
            unit_id=target,
            kind=InspectionKind.SURPRISE,
            client_id="keep-1",
        )
        db.session.commit()
        visit_id = visit.id
    app.config["OFFLINE_UNITS"] = 3
    page = inspector.get("/inspector/").get_data(as_text=True)
    kept = json.loads(re.search(r'id="offline-pages">(.*?)</script>', page).group(1))
    assert kept[:3] == ["/inspector/", "/inspector/start", "/inspector/outbox"]
    for tail in ("", "/sign", "/summary"):
        assert f"/inspector/visits/{visit_id}{tail}" in kept
    blanks = [url for url in kept if re.fullmatch(r"/inspector/units/\d+/new", url)]
    assert len(blanks) == 3  # OFFLINE_UNITS
    assert len([url for url in kept if url.endswith("/new/sign")]) == 3


def test_units_with_planned_visits_are_kept_first(app):
    with app.app_context():
        lead = demo_user("truongdoan")
        office = demo_user("noivu")
        # The unit last by name would not be kept with a limit of 2, unless planned.
        last = db.session.scalar(select(Unit).filter_by(active=True).order_by(Unit.name.desc()))
        today = date(2026, 11, 28)
        planning.schedule_visit(
            Actor(user_id=office.id),
            office,
            unit_id=last.id,
            kind=InspectionKind.SCHEDULED,
            planned_date=today + timedelta(days=3),
            team=[(lead.id, TeamRole.LEAD)],
            today=today,
        )
        db.session.commit()
        kept = visits.offline_units(lead, today, 2)
        assert len(kept) == 2 and kept[0].id == last.id
        assert visits.offline_units(lead, today + timedelta(days=4), 2)[0].id != last.id


def test_blank_checklist_names_people_by_staff_id(inspector, app):
    target = unit_id(app, "PNV")
    response = inspector.get(f"/inspector/units/{target}/new")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-mode="staff"' in page and 'data-id=""' in page
    with app.app_context():
        staff = db.session.scalars(select(StaffMember).filter_by(unit_id=target, active=True)).all()
        assert db.session.scalar(select(func.count(Inspection.id))) == 0  # nothing started
    names = set(re.findall(r'name="(p_\d+_att)"', page))
    assert names == {f"p_{s.id}_att" for s in staff}
    assert 'id="add-person"' not in page  # needs the server


def test_blank_pages_of_an_unknown_or_closed_unit_are_not_found(inspector, app):
    assert inspector.get("/inspector/units/999999/new").status_code == 404
    assert inspector.get("/inspector/units/999999/new/sign").status_code == 404
    with app.app_context():
        unit = db.session.get(Unit, unit_id(app, "PNV"))
        unit.active = False
        db.session.commit()
        closed = unit.id
    assert inspector.get(f"/inspector/units/{closed}/new").status_code == 404


def test_blank_signature_page_prefills_the_lead(inspector, app):
    page = inspector.get(f"/inspector/units/{unit_id(app, 'PNV')}/new/sign").get_data(as_text=True)
    assert 'value="Nguyễn Văn Hùng"' in page
    assert 'data-role="unit_rep"' in page and 'id="issue"' in page


def test_outbox_and_offline_pages(inspector):
    outbox = inspector.get("/inspector/outbox")
    assert outbox.status_code == 200
    found = re.search(r'id="outbox-config">(.*?)</script>', outbox.get_data(as_text=True), re.S)
    config = json.loads(found.group(1))
    assert config["values"]["late"] == "Đi muộn" and config["values"]["pass"] == "Đạt"
    offline = inspector.get("/inspector/offline").get_data(as_text=True)
    assert "Không có kết nối" in offline


def test_me_gives_a_cookie_session_its_csrf_token_not_a_bearer(inspector, token):
    assert inspector.get("/api/v1/me").json["csrf_token"]
    fresh = inspector.application.test_client()
    assert "csrf_token" not in fresh.get("/api/v1/me", headers=bearer(token())).json


def _upload(client, secret, visit_id, **fields):
    data = {"file": (io.BytesIO(jpeg(800, 600)), "p.jpg"), **fields}
    return client.post(
        f"/api/v1/inspections/{visit_id}/photos",
        data=data,
        headers=bearer(secret),
        content_type="multipart/form-data",
    )


def test_a_photo_sent_twice_with_its_client_id_is_stored_once(client, token, app):
    secret = token()
    visit = start(client, secret, app)
    key = str(uuid.uuid4())
    first = _upload(client, secret, visit["id"], item_code="SMOKE-SIGN", client_id=key)
    assert first.status_code == 201
    again = _upload(client, secret, visit["id"], item_code="SMOKE-SIGN", client_id=key)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.json["version"] == record(client, secret, visit["id"])["version"]
    other = _upload(client, secret, visit["id"], client_id=str(uuid.uuid4()))
    assert other.status_code == 201 and other.json["id"] != first.json["id"]
    plain = _upload(client, secret, visit["id"])
    assert plain.status_code == 201  # without a key every upload is a new photo
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 3
    long_key = _upload(client, secret, visit["id"], client_id="x" * 65)
    assert long_key.status_code == 422 and "client_id" in long_key.json["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 3


def test_the_same_photo_key_in_another_visit_is_another_photo(client, token, app):
    secret = token()
    one = start(client, secret, app)
    two = start(client, secret, app, code="PNV")
    assert _upload(client, secret, one["id"], client_id="same").status_code == 201
    assert _upload(client, secret, two["id"], client_id="same").status_code == 201


def test_answers_saved_by_staff_id_after_an_offline_start(client, token, app):
    """What the phone does after a visit started offline: create by client_id, save by staff."""
    secret = token()
    key = str(uuid.uuid4())
    body = {"client_id": key, "unit_id": unit_id(app, "PNV"), "kind": "surprise"}
    created = client.post("/api/v1/inspections", json=body, headers=bearer(secret))
    again = client.post("/api/v1/inspections", json=body, headers=bearer(secret))
    assert created.status_code == 201 and again.status_code == 200
    assert again.json["id"] == created.json["id"]
    visit = record(client, secret, created.json["id"])
    staff_id = visit["people"][0]["staff_id"]
    answer = {"staff_id": staff_id, "attendance": "late"}
    saved = client.put(
        f"/api/v1/inspections/{visit['id']}/results",
        json={"version": visit["version"], "people": [answer]},
        headers=bearer(secret),
    )
    assert saved.status_code == 200
    person = record(client, secret, visit["id"])["people"][0]
    assert person["attendance"] == "late"
