"""The visit API: idempotent start, partial saves, 409/422 rules, photos, access."""

import fcntl
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from PIL import Image
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Blob,
    Inspection,
    InspectionStatus,
    PersonItemResult,
    Signature,
    StaffMember,
)
from inspection.services import images
from tests.visit_helpers import (
    bearer,
    complete_answers,
    jpeg,
    photo,
    png,
    record,
    save,
    signature_data_url,
    start,
    unit_id,
    visit_checklist,
)


@pytest.fixture
def lead(token):
    return token("truongdoan")


@pytest.fixture
def visit(client, lead, app):
    return start(client, lead, app)


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_same_client_id_twice_gives_the_same_visit(client, lead, app):
    body = {"client_id": str(uuid.uuid4()), "unit_id": unit_id(app), "kind": "surprise"}
    first = client.post("/api/v1/inspections", json=body, headers=bearer(lead))
    again = client.post("/api/v1/inspections", json=body, headers=bearer(lead))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert _count(app, Inspection) == 1
    assert first.json["status"] == "draft" and first.json["version"] == 1
    assert first.json["team"] == [
        {
            "user_id": first.json["team"][0]["user_id"],
            "full_name": "Nguyễn Văn Hùng",
            "role": "lead",
        }
    ]
    assert first.json["started_at"]


def test_concurrent_duplicate_starts_make_one_visit(app, token):
    secret = token()
    body = {"client_id": "dup-key", "unit_id": unit_id(app), "kind": "surprise"}
    statuses = []

    def post():
        response = app.test_client().post("/api/v1/inspections", json=body, headers=bearer(secret))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 200, 201]
    assert _count(app, Inspection) == 1


def test_start_copies_the_active_roster_and_records_time_and_place(client, lead, app):
    with app.app_context():
        person = db.session.scalar(
            select(StaffMember).filter_by(unit_id=unit_id(app)).order_by(StaffMember.id)
        )
        person.active = False
        db.session.commit()
    visit = start(
        client,
        lead,
        app,
        client_started_at="2018-10-05T08:01:00+07:00",
        location={"latitude": 21.2871, "longitude": 105.6515, "accuracy": 12.4},
    )
    full = record(client, lead, visit["id"])
    assert len(full["people"]) == 29
    with app.app_context():
        row = db.session.get(Inspection, visit["id"])
        assert row.client_started_at.isoformat() == "2018-10-05T01:01:00+00:00"
        assert (float(row.latitude), float(row.longitude), row.location_accuracy_m) == (
            21.2871,
            105.6515,
            12,
        )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"unit_id": 99999}, "unit_id"),
        ({"kind": "weekly"}, "kind"),
        ({"client_id": ""}, "client_id"),
        ({"team": [{"user_id": 1, "role": "boss"}]}, "team"),
    ],
)
def test_start_refuses_bad_input(client, lead, app, body, field):
    payload = {"client_id": str(uuid.uuid4()), "unit_id": unit_id(app), "kind": "surprise", **body}
    response = client.post("/api/v1/inspections", json=payload, headers=bearer(lead))
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert _count(app, Inspection) == 0


def test_team_must_be_active_inspectors_with_one_lead(client, lead, app):
    with app.app_context():
        from tests.factories import demo_user

        ids = {u: demo_user(u).id for u in ("truongdoan", "thuky", "noivu")}
    base = {"client_id": str(uuid.uuid4()), "unit_id": unit_id(app), "kind": "surprise"}
    two_leads = [
        {"user_id": ids["truongdoan"], "role": "lead"},
        {"user_id": ids["thuky"], "role": "lead"},
    ]
    office = [{"user_id": ids["noivu"], "role": "lead"}]
    for team in (two_leads, office):
        response = client.post(
            "/api/v1/inspections", json={**base, "team": team}, headers=bearer(lead)
        )
        assert response.status_code == 422, team
    good = [{"user_id": ids["thuky"], "role": "lead"}]
    response = client.post("/api/v1/inspections", json={**base, "team": good}, headers=bearer(lead))
    roles = {m["full_name"]: m["role"] for m in response.json["team"]}
    assert roles == {"Phạm Thị Lan": "lead", "Nguyễn Văn Hùng": "member"}


def test_only_inspectors_start_visits(client, token, app):
    body = {"client_id": "x", "unit_id": unit_id(app)}
    for user in ("noivu", "donvi1", "admin"):
        response = client.post("/api/v1/inspections", json=body, headers=bearer(token(user)))
        assert response.status_code == 403


def test_partial_save_changes_only_what_is_listed(client, lead, visit):
    people = record(client, lead, visit["id"])["people"]
    first = save(
        client,
        lead,
        visit["id"],
        {
            "version": 1,
            "unit_items": [{"code": "SMOKE-SIGN", "outcome": "fail", "note": "Không có biển"}],
            "people": [
                {
                    "staff_id": people[0]["staff_id"],
                    "attendance": "late",
                    "items": [{"code": "BADGE-WORN", "outcome": "fail"}],
                    "note": "Đến 7h45",
                }
            ],
            "findings": "Phòng một cửa đông người",
            "remediation_due": "2018-11-10",
        },
    )
    assert first.status_code == 200 and first.json == {"version": 2}
    second = save(
        client,
        lead,
        visit["id"],
        {
            "version": 2,
            "unit_items": [{"code": "ATTITUDE", "outcome": "pass"}],
            "people": [{"staff_id": people[1]["staff_id"], "attendance": "present"}],
        },
    )
    assert second.json == {"version": 3}
    full = record(client, lead, visit["id"])
    units = {u["code"]: u for u in full["unit_items"]}
    assert units["SMOKE-SIGN"] == {
        "code": "SMOKE-SIGN",
        "outcome": "fail",
        "note": "Không có biển",
        "number": None,
        "text": None,
    }
    assert units["ATTITUDE"]["outcome"] == "pass"
    p0 = full["people"][0]
    assert p0["attendance"] == "late" and p0["note"] == "Đến 7h45"
    items = {i["code"]: i["outcome"] for i in p0["items"]}
    assert items == {"ATT-PRESENT": "fail", "BADGE-WORN": "fail"}  # lateness fails attendance
    assert full["people"][1]["attendance"] == "present"
    assert full["findings"] == "Phòng một cửa đông người"
    assert full["remediation_due"] == "2018-11-10"


def test_number_items_and_clearing_an_answer(client, lead, visit):
    save(
        client,
        lead,
        visit["id"],
        {
            "version": 1,
            "unit_items": [{"code": "OSS-OVERDUE", "outcome": "pass", "number": "97.5"}],
        },
    )
    save(
        client,
        lead,
        visit["id"],
        {"version": 2, "unit_items": [{"code": "OSS-OVERDUE", "outcome": None}]},
    )
    row = record(client, lead, visit["id"])["unit_items"][0]
    assert row["outcome"] is None and row["number"] == 97.5


def test_stale_version_is_409_and_changes_nothing(client, lead, visit):
    assert save(client, lead, visit["id"], {"version": 1, "findings": "A"}).status_code == 200
    stale = save(client, lead, visit["id"], {"version": 1, "findings": "B"})
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["fields"]["version"] == "2"
    assert record(client, lead, visit["id"])["findings"] == "A"


@pytest.mark.parametrize(
    "change,key",
    [
        ({"unit_items": [{"code": "NOPE", "outcome": "pass"}]}, "unit_items[0].code"),
        ({"unit_items": [{"code": "BADGE-WORN", "outcome": "pass"}]}, "unit_items[0].code"),
        ({"unit_items": [{"code": "ATTITUDE", "outcome": "good"}]}, "unit_items[0].outcome"),
        ({"unit_items": [{"code": "OSS-OVERDUE", "number": "lots"}]}, "unit_items[0].number"),
        ({"people": [{"staff_id": "STAFF", "attendance": "asleep"}]}, "people[0].attendance"),
        (
            {
                "people": [
                    {"staff_id": "STAFF", "items": [{"code": "ATT-PRESENT", "outcome": "pass"}]}
                ]
            },
            "people[0].items[0].outcome",  # derived: pass contradicts no attendance yet
        ),
        ({"people": [{"staff_id": "OTHER", "attendance": "present"}]}, "people[0]"),
        ({"people": [{"person_id": [1], "attendance": "present"}]}, "people[0]"),
        ({"people": [{"person_id": 2**40, "attendance": "present"}]}, "people[0]"),
        ({"remediation_due": "10/11/2018"}, "remediation_due"),
        ({"findings": 42}, "findings"),
        ({"colour": "red"}, "colour"),
        ({"unit_items": "SMOKE-SIGN"}, "unit_items"),
    ],
)
def test_invalid_saves_are_422_per_field_and_save_nothing(client, lead, visit, app, change, key):
    staff = record(client, lead, visit["id"])["people"][0]["staff_id"]
    with app.app_context():
        other = db.session.scalar(select(StaffMember.id).filter_by(unit_id=unit_id(app, "XHS")))
    for entry in change.get("people", []):
        if "staff_id" in entry:
            entry["staff_id"] = {"STAFF": staff, "OTHER": other}[entry["staff_id"]]
    good = {"unit_items": [{"code": "SMOKE-NONE", "outcome": "pass"}]}
    body = {"version": 1, **good, **change}
    if "unit_items" in change and isinstance(change["unit_items"], list):
        body["unit_items"] = good["unit_items"] + change["unit_items"]
        key = key.replace("unit_items[0]", "unit_items[1]")
    response = save(client, lead, visit["id"], body)
    assert response.status_code == 422, response.json
    assert key in response.json["error"]["fields"], response.json
    full = record(client, lead, visit["id"])
    assert full["version"] == 1 and full["unit_items"] == []


def test_malformed_save_is_400(client, lead, visit):
    response = client.put(
        f"/api/v1/inspections/{visit['id']}/results",
        data="{",
        headers={**bearer(lead), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert save(client, lead, visit["id"], {"findings": "x"}).status_code == 422  # no version


def test_visits_are_invisible_outside_the_team(client, token, visit, app):
    outsider, unit_user, office = token("thanhvien"), token("donvi1"), token("noivu")
    path = f"/api/v1/inspections/{visit['id']}"
    assert client.get(path, headers=bearer(outsider)).status_code == 404
    assert save(client, outsider, visit["id"], {"version": 1}).status_code == 404
    assert (
        client.get(path, headers=bearer(unit_user)).status_code == 404
    )  # a draft, even its own unit
    assert client.get("/api/v1/inspections", headers=bearer(outsider)).json["items"] == []
    assert client.get(path, headers=bearer(office)).status_code == 200
    assert save(client, office, visit["id"], {"version": 1}).status_code == 403


def test_team_members_fill_together(client, token, app):
    lead = token()
    with app.app_context():
        from tests.factories import demo_user

        member_id = demo_user("thanhvien").id
        lead_id = demo_user("truongdoan").id
    visit = start(
        client,
        lead,
        app,
        team=[{"user_id": lead_id, "role": "lead"}, {"user_id": member_id, "role": "member"}],
    )
    member = token("thanhvien")
    assert save(client, member, visit["id"], {"version": 1, "findings": "x"}).status_code == 200
    listed = client.get("/api/v1/inspections?status=draft", headers=bearer(member)).json["items"]
    assert [i["id"] for i in listed] == [visit["id"]]


def test_two_members_saving_at_once_never_lose_an_answer_silently(client, token, app):
    """Both start from version 1; one wins, the other gets 409 and resends on the new version."""
    lead = token()
    with app.app_context():
        from tests.factories import demo_user

        team = [
            {"user_id": demo_user("truongdoan").id, "role": "lead"},
            {"user_id": demo_user("thuky").id, "role": "secretary"},
        ]
    visit = start(client, lead, app, team=team)
    secretary = token("thuky")
    people = record(client, lead, visit["id"])["people"]
    changes = {
        lead: {"people": [{"person_id": people[0]["person_id"], "attendance": "late"}]},
        secretary: {
            "people": [{"person_id": people[1]["person_id"], "attendance": "absent_unexcused"}]
        },
    }
    responses = {}

    def send(secret):
        responses[secret] = app.test_client().put(
            f"/api/v1/inspections/{visit['id']}/results",
            json={"version": 1, **changes[secret]},
            headers=bearer(secret),
        )

    threads = [threading.Thread(target=send, args=(s,)) for s in (lead, secretary)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in responses.values())
    assert statuses == [200, 409]
    loser = next(s for s, r in responses.items() if r.status_code == 409)
    current = record(client, loser, visit["id"])
    assert (
        save(
            client, loser, visit["id"], {"version": current["version"], **changes[loser]}
        ).status_code
        == 200
    )
    final = {p["person_id"]: p["attendance"] for p in record(client, lead, visit["id"])["people"]}
    assert final[people[0]["person_id"]] == "late"
    assert final[people[1]["person_id"]] == "absent_unexcused"


def test_many_concurrent_saves_on_one_version_one_wins(client, lead, visit, app):
    results = []

    def send(n):
        response = app.test_client().put(
            f"/api/v1/inspections/{visit['id']}/results",
            json={"version": 1, "findings": f"writer {n}"},
            headers=bearer(lead),
        )
        results.append((response.status_code, n))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for status, n in results if status == 200]
    assert len(winners) == 1
    assert sorted(status for status, _ in results) == [200] + [409] * 7
    full = record(client, lead, visit["id"])
    assert full["findings"] == f"writer {winners[0]}" and full["version"] == 2


@contextmanager
def another_first(request: Callable[[], int]) -> Iterator[list[int]]:
    """Within the block, the first flush of a request (everything read, nothing written)
    waits for another ``request`` to run and commit; the list gets its status."""
    started, between = [], []

    @event.listens_for(Session, "before_flush")
    def run_the_other_first(session, _context, _instances):
        if not started:
            started.append(session)
            thread = threading.Thread(target=lambda: between.append(request()))
            thread.start()
            thread.join(timeout=30)

    try:
        yield between
    finally:
        event.remove(Session, "before_flush", run_the_other_first)


def another_save_first(app, secret, inspection_id: int, body: dict):
    return another_first(lambda: save(app.test_client(), secret, inspection_id, body).status_code)


def sign(client, secret, inspection_id: int, role: str = "lead", seed: int = 1):
    return client.put(
        f"/api/v1/inspections/{inspection_id}/signatures/{role}",
        json={"name": "Nguyễn Văn Hùng", "image": signature_data_url(seed)},
        headers=bearer(secret),
    )


def test_a_save_that_read_before_another_committed_is_refused_not_lost(
    client, lead, visit, app, caplog
):
    """A save reads without the write lock (SQLite: ``writes_late``; PostgreSQL: read
    committed) and takes it at its first write; another save committed in between makes
    it a 409, never a 500 (both insert the same person's attendance rows), and what the
    other save stored is kept. The refused save leaves no audit event, in the table or
    the log (its event is written in the same flush as its answers)."""
    caplog.set_level("INFO", logger="inspection.services.audit")
    person = record(client, lead, visit["id"])["people"][0]["staff_id"]
    body = {"version": 1, "people": [{"staff_id": person, "attendance": "absent_unexcused"}]}
    other = {"version": 1, "people": [{"staff_id": person, "attendance": "late"}]}
    with another_save_first(app, lead, visit["id"], other) as between:
        response = save(client, lead, visit["id"], body)
    assert between == [200], response.json
    assert response.status_code == 409, response.json
    full = record(client, lead, visit["id"])
    assert full["version"] == 2
    assert [p["attendance"] for p in full["people"] if p["staff_id"] == person] == ["late"]
    with app.app_context():
        saved = db.session.scalars(
            select(AuditEvent.detail).filter_by(action="results_saved", object_id=str(visit["id"]))
        ).all()
    assert saved == [{"version": 2, "unit_items": 0, "people": 1}]
    assert sum("audit results_saved" in r.getMessage() for r in caplog.records) == 1
    # Neither left the writers' queue held: the next save goes through.
    again = {"version": 2, "people": [{"staff_id": person, "attendance": "absent_unexcused"}]}
    assert save(client, lead, visit["id"], again).status_code == 200
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///") + "-writers"
        with open(path, "ab") as queue:
            fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises when still held


def test_a_signature_given_while_another_saved_is_a_conflict_not_an_error(client, lead, visit, app):
    """Any write that read the visit before another request changed it is refused by the
    visit's version (checked by its UPDATE) as a 409 the phone understands, never a 500:
    here a signature (its reads take no lock: PostgreSQL's read committed, SQLite's
    ``writes_late``) and a save in between."""
    person = record(client, lead, visit["id"])["people"][0]["staff_id"]
    other = {"version": 1, "people": [{"staff_id": person, "attendance": "late"}]}
    with another_save_first(app, lead, visit["id"], other) as between:
        response = sign(client, lead, visit["id"])
    assert between == [200]
    assert response.status_code == 409, response.json
    assert response.json["error"]["code"] == "conflict"
    full = record(client, lead, visit["id"])
    assert full["version"] == 2 and full["ended_at"] is None  # the signature set nothing
    with app.app_context():
        assert not db.session.scalars(select(Signature).filter_by(inspection_id=visit["id"])).all()
    assert [p["attendance"] for p in full["people"] if p["staff_id"] == person] == ["late"]


def test_two_signatures_of_one_role_at_once_keep_one_and_refuse_the_other(client, lead, visit, app):
    """Two phones sign for the lead at once: the one that wrote second read before the
    first committed, and the visit's version refuses it (409), never a duplicate row's
    500; the first signature is the one kept."""
    other = app.test_client()
    with another_first(lambda: sign(other, lead, visit["id"], seed=2).status_code) as between:
        response = sign(client, lead, visit["id"], seed=1)
    assert between == [200]
    assert response.status_code == 409, response.json
    with app.app_context():
        kept = db.session.scalars(select(Signature).filter_by(inspection_id=visit["id"])).all()
        assert len(kept) == 1 and kept[0].role.value == "lead"


def test_finalized_visits_refuse_changes(client, lead, visit, app):
    with app.app_context():
        db.session.get(Inspection, visit["id"]).status = InspectionStatus.FINALIZED
        db.session.commit()
    response = save(client, lead, visit["id"], {"version": 1, "findings": "late edit"})
    assert response.status_code == 409
    assert photo(client, lead, visit["id"], png()).status_code == 409


def test_photo_is_validated_reencoded_and_content_addressed(client, lead, visit, app, token):
    data = jpeg(4000, 3000, exif_time="2018:10:05 08:15:30")
    response = photo(client, lead, visit["id"], data, item_code="SMOKE-NONE")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["item_code"] == "SMOKE-NONE"
    assert body["captured_at"] == "2018-10-05T01:15:30+00:00"
    stored = client.get(body["url"], headers=bearer(lead))
    assert stored.status_code == 200 and stored.headers["ETag"] == f'"{body["sha256"]}"'
    assert (
        client.get(
            body["url"], headers={**bearer(lead), "If-None-Match": f'"{body["sha256"]}"'}
        ).status_code
        == 304
    )
    assert client.get(body["thumb_url"], headers=bearer(lead)).content_type == "image/jpeg"
    assert client.get(body["url"], headers=bearer(token("thanhvien"))).status_code == 404
    with app.app_context():
        blob = db.session.get(Blob, body["sha256"])
        import hashlib
        import io

        assert hashlib.sha256(blob.data).hexdigest() == body["sha256"]
        image = Image.open(io.BytesIO(blob.data))
        assert image.format == "JPEG" and max(image.size) == 1600
        assert not image.getexif()  # metadata (and any GPS position) is stripped
    again = photo(client, lead, visit["id"], data, item_code="SMOKE-NONE")
    assert again.json["sha256"] == body["sha256"]
    assert _count(app, Blob) == 2  # the photo and its thumbnail, stored once


def test_a_turned_12_megapixel_photo_is_kept_upright_at_1600_with_its_thumbnail():
    """A phone's 4000x3000 photo taken upright (EXIF orientation 6) is decoded at half
    scale, turned and fitted: what is kept shows what the inspector saw."""
    image = Image.new("RGB", (4000, 3000), (200, 20, 20))
    image.paste((20, 20, 200), (2000, 0, 4000, 3000))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to show: the left half goes on top
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    kept = images.process_photo(buffer.getvalue(), 10 * 1024 * 1024)
    assert (kept.width, kept.height) == (1200, 1600)
    stored = Image.open(io.BytesIO(kept.jpeg))
    assert stored.size == (1200, 1600) and not stored.getexif()
    top, bottom = stored.getpixel((600, 100)), stored.getpixel((600, 1500))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
    assert Image.open(io.BytesIO(kept.thumbnail)).size == (240, 320)
    small = images.process_photo(jpeg(800, 600), 10 * 1024 * 1024)
    assert (small.width, small.height) == (800, 600)  # not enlarged


def test_photo_of_a_person_by_staff_id(client, lead, visit):
    staff_id = record(client, lead, visit["id"])["people"][3]["staff_id"]
    response = photo(client, lead, visit["id"], png(), staff_id=staff_id)
    assert response.status_code == 201
    assert response.json["person_id"] == record(client, lead, visit["id"])["people"][3]["person_id"]


@pytest.mark.parametrize(
    "data,filename,status",
    [
        (b"%PDF-1.4\n1 0 obj<<>>endobj\n" * 100, "bien-ban.jpg", 415),
        (b"GIF89a-not-really", "anh.gif", 415),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 5000, "broken.jpg", 415),
    ],
)
def test_photo_that_is_not_an_image_is_415(client, lead, visit, data, filename, status):
    response = photo(client, lead, visit["id"], data, filename=filename)
    assert response.status_code == status
    assert response.json["error"]["message"] == "Tệp này không phải là ảnh."


def test_photo_too_large_is_413(client, lead, visit, app):
    big = b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024)
    response = photo(client, lead, visit["id"], big)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    app.config["PHOTO_MAX_BYTES"] = 50_000
    response = photo(client, lead, visit["id"], jpeg(2000, 2000, color=None) + b"\x00" * 60_000)
    assert response.status_code == 413
    assert "MB" in response.json["error"]["message"]


def test_decompression_bomb_is_413(client, lead, visit):
    import io

    buffer = io.BytesIO()
    Image.new("1", (10000, 10000)).save(buffer, "PNG")  # 100 megapixels, a few KB
    response = photo(client, lead, visit["id"], buffer.getvalue(), filename="bomb.png")
    assert response.status_code == 413


def test_photo_with_unknown_item_or_foreign_person_is_422(client, lead, visit, app):
    assert photo(client, lead, visit["id"], png(), item_code="NOPE").status_code == 422
    with app.app_context():
        other = db.session.scalar(select(StaffMember.id).filter_by(unit_id=unit_id(app, "XHS")))
    response = photo(client, lead, visit["id"], png(), staff_id=other)
    assert response.status_code == 422 and "staff_id" in response.json["error"]["fields"]


def test_add_a_person_once(client, lead, visit):
    path = f"/api/v1/inspections/{visit['id']}/people"
    body = {"full_name": "Trịnh Văn Khách", "position": "Bảo vệ thuê ngoài", "client_id": "p-1"}
    first = client.post(path, json=body, headers=bearer(lead))
    again = client.post(path, json=body, headers=bearer(lead))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["person_id"] == again.json["person_id"]
    people = record(client, lead, visit["id"])["people"]
    assert len(people) == 31 and people[-1]["staff_id"] is None
    blank = client.post(path, json={"full_name": " "}, headers=bearer(lead))
    assert blank.status_code == 422


def test_submit_names_what_is_missing_then_accepts_a_complete_visit(client, lead, visit):
    submit = f"/api/v1/inspections/{visit['id']}/submit"
    missing = client.post(submit, headers=bearer(lead))
    assert missing.status_code == 422
    # the required unit items (a conditional one is not asked yet) + people
    assert len(missing.json["error"]["fields"]) == 7 + 4 + 30
    full = record(client, lead, visit["id"])
    checklist = visit_checklist(client, lead, full["id"])
    answers = complete_answers(full, checklist)
    answers["people"][0] = {"person_id": answers["people"][0]["person_id"], "attendance": "on_duty"}
    assert save(client, lead, visit["id"], answers).status_code == 200
    done = client.post(submit, headers=bearer(lead))
    assert done.status_code == 200 and done.json["status"] == "submitted"


def test_attendance_drives_the_attendance_item(client, lead, visit, app):
    person = record(client, lead, visit["id"])["people"][0]["person_id"]
    expected = {
        "present": "pass",
        "late": "fail",
        "absent_unexcused": "fail",
        "absent_excused": "na",
        "on_duty": "na",
    }
    version = 1
    for attendance, outcome in expected.items():
        response = save(
            client,
            lead,
            visit["id"],
            {"version": version, "people": [{"person_id": person, "attendance": attendance}]},
        )
        version = response.json["version"]
        with app.app_context():
            rows = db.session.scalars(
                select(PersonItemResult).filter_by(person_result_id=person)
            ).all()
            assert [r.outcome.value for r in rows] == [outcome]
