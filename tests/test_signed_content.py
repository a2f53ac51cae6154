"""Signers sign what the minutes say: signatures bound to content, true times, verification
that names replaced and altered copies, Vietnamese numbers, the derived attendance item."""

import io
import os

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import AuditEvent, Inspection
from tests.test_minutes import finalize, pdf_of, ready_visit, sign
from tests.visit_helpers import bearer, record, save, signature_data_url, start, visit_checklist


@pytest.fixture
def lead(token):
    return token("truongdoan")


def test_a_change_after_signing_voids_the_signature_and_finalize_names_who(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    full = record(client, lead, inspection_id)
    change = {"version": full["version"], "assessment": "Chưa chấp hành tốt."}
    assert save(client, lead, inspection_id, change).status_code == 200
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 409
    fields = response.json["error"]["fields"]
    assert {"signature.lead", "signature.secretary", "signature.unit_rep"} <= set(fields)
    assert "Nguyễn Văn Hùng" in fields["signature.lead"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).filter_by(action="signatures_voided"))
        assert event is not None and sorted(event.detail["roles"]) == [
            "lead",
            "secretary",
            "unit_rep",
        ]
        assert db.session.get(Inspection, inspection_id).status.value != "finalized"
    for role in ("lead", "secretary"):
        assert sign(client, lead, inspection_id, role).status_code == 200
    assert finalize(client, lead, inspection_id).status_code == 409  # unit_rep still void
    assert sign(client, lead, inspection_id, "unit_rep").status_code == 200
    assert finalize(client, lead, inspection_id).status_code == 201


def test_a_signature_counts_only_on_the_content_it_was_given_on(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    seen = record(client, lead, inspection_id)
    digest = seen["content_digest"]
    change = {"version": seen["version"], "requests": "Đeo thẻ công chức đầy đủ."}
    assert save(client, lead, inspection_id, change).status_code == 200
    # A queued signature made on the phone before that change arrives after it: void.
    response = sign(client, lead, inspection_id, "lead", content_digest=digest)
    assert response.status_code == 409
    assert "signature.lead" in response.json["error"]["fields"]
    fresh = record(client, lead, inspection_id)["content_digest"]
    assert fresh != digest
    response = sign(client, lead, inspection_id, "lead", content_digest=fresh, content_version=2)
    assert response.status_code == 200 and response.json["content_digest"] == fresh


def test_finalize_refuses_a_version_the_phone_has_not_seen(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    version = record(client, lead, inspection_id)["version"]
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/finalize",
        json={"version": version - 1},
        headers=bearer(lead),
    )
    assert response.status_code == 409 and response.json["error"]["fields"]["version"]
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/finalize",
        json={"version": version},
        headers=bearer(lead),
    )
    assert response.status_code == 201


def test_end_time_is_the_leads_never_before_the_start(client, lead, token, app):
    visit = start(client, lead, app)
    full = record(client, lead, visit["id"])
    started = full["started_at"]
    too_early = {"version": full["version"], "ended_at": "2000-01-01T08:00"}
    response = save(client, lead, visit["id"], too_early)
    assert response.status_code == 422 and "ended_at" in response.json["error"]["fields"]
    future = {"version": full["version"], "ended_at": "2999-01-01T08:00"}
    assert save(client, lead, visit["id"], future).status_code == 422
    assert started
    member = token("thanhvien")
    with app.app_context():
        from inspection.models import TeamMember, TeamRole, User

        user = db.session.scalar(select(User).filter_by(username="thanhvien"))
        db.session.add(TeamMember(inspection_id=visit["id"], user_id=user.id, role=TeamRole.MEMBER))
        db.session.commit()
    from datetime import datetime

    from inspection.i18n import LOCAL_TZ

    now = datetime.now(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
    version = record(client, lead, visit["id"])["version"]
    by_member = save(client, member, visit["id"], {"version": version, "ended_at": now})
    assert by_member.status_code == 422
    by_lead = save(client, lead, visit["id"], {"version": version, "ended_at": now})
    assert by_lead.status_code == 200, by_lead.json
    assert record(client, lead, visit["id"])["ended_at"].startswith(now)


def test_minutes_print_the_visit_times_and_a_later_day(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    with app.app_context():
        from datetime import timedelta

        visit = db.session.get(Inspection, inspection_id)
        visit.started_at = visit.started_at - timedelta(days=2)
        db.session.commit()
    # The change of start is not an answer: the signatures still hold.
    assert finalize(client, lead, inspection_id).status_code == 201
    text = pdf_text(pdf_of(client, lead, inspection_id))
    assert "cùng ngày" not in text
    assert "kết thúc vào hồi" in text


def pdf_text(data: bytes) -> str:
    from tests.clerk import pages

    with pages(data) as pdf:
        return " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)


def test_verifier_names_the_replacement_and_an_altered_copy(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    original = pdf_of(client, lead, inspection_id)
    copy = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead)).json
    for role in ("lead", "secretary", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    issued = finalize(client, lead, copy["id"]).json["minutes"]

    def check(data):
        response = client.post(
            "/api/v1/minutes/verify",
            data={"file": (io.BytesIO(data), "bb.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        return response.json

    old = check(original)
    assert old["valid"] is True and old["number"] == "01/BB-ĐKT"
    assert old["superseded_by"]["number"] == issued["number"] == "02/BB-ĐKT"
    assert old["superseded_by"]["verify_url"] == issued["verify_url"]
    page = client.post(
        "/verify",
        data={"file": (io.BytesIO(original), "bb.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'id="superseded"' in page and "02/BB-ĐKT" in page
    assert check(pdf_of(client, lead, copy["id"]))["superseded_by"] is None
    # Bytes appended after the signed file: the issued minutes, altered.
    altered = check(original + b"\n%% appended\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    assert altered["valid"] is False and altered["altered"] is True
    assert altered["number"] == "01/BB-ĐKT" and "01/BB-ĐKT" in altered["reason"]
    garbage = check(b"%PDF-1.7 nothing here")
    assert garbage["altered"] is False and garbage["number"] is None


def test_the_signing_certificate_is_offered_with_its_fingerprint(client):
    pem = client.get("/verify/certificate.pem")
    der = client.get("/verify/certificate.der")
    assert pem.status_code == 200 and pem.data.startswith(b"-----BEGIN CERTIFICATE-----")
    assert der.status_code == 200 and der.data[:1] == b"\x30"
    import hashlib

    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der.data).digest())
    assert fingerprint in client.get("/verify").get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "stored", "status"),
    [
        ("92,5", 92.5, 200),
        ("92.5", 92.5, 200),
        ("92,5,1", None, 422),
        ("925", None, 422),
        ("1.000", None, 422),  # a thousand or one? refused, not guessed
        ("١٢", None, 422),
    ],
)
def test_numbers_typed_the_vietnamese_way(client, lead, app, typed, stored, status):
    visit = start(client, lead, app)
    body = {"version": 1, "unit_items": [{"code": "OSS-OVERDUE", "number": typed}]}
    response = save(client, lead, visit["id"], body)
    assert response.status_code == status, response.json
    items = {i["code"]: i for i in record(client, lead, visit["id"])["unit_items"]}
    assert (items["OSS-OVERDUE"]["number"] if items else None) == stored
    if status == 422:
        message = response.json["error"]["fields"]["unit_items[0].number"]
        assert "100" in message or "92,5" in message


def test_the_derived_attendance_item_is_published_and_accepted_when_it_agrees(client, lead, app):
    checklist = client.get("/api/v1/checklists/current", headers=bearer(lead)).json
    derived = {i["code"]: i["derived_from"] for i in checklist["items"]}
    assert derived["ATT-PRESENT"] == "attendance" and derived["BADGE-WORN"] is None
    rate = next(i for i in checklist["items"] if i["code"] == "OSS-OVERDUE")
    assert (rate["number_min"], rate["number_max"]) == (0, 100)
    visit = start(client, lead, app)
    person = record(client, lead, visit["id"])["people"][0]["person_id"]

    def answer(attendance, outcome, version):
        entry = {"person_id": person, "attendance": attendance}
        entry["items"] = [{"code": "ATT-PRESENT", "outcome": outcome}]
        return save(client, lead, visit["id"], {"version": version, "people": [entry]})

    assert answer("present", "pass", 1).status_code == 200
    assert answer("late", "fail", 2).status_code == 200
    refused = answer("present", "fail", 3)
    assert refused.status_code == 422
    assert "people[0].items[0].outcome" in refused.json["error"]["fields"]
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    item = schemas["Checklist"]["properties"]["items"]["items"]
    item = schemas[item["$ref"].rsplit("/", 1)[1]] if "$ref" in item else item
    assert "derived_from" in item["properties"]


def seal_png(size=400) -> bytes:
    """A round seal drawn in dark ink on a transparent ground."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, size - 8, size - 8), outline=(40, 40, 40, 255), width=14)
    draw.ellipse((size // 3, size // 3, 2 * size // 3, 2 * size // 3), fill=(40, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_the_seal_image_is_printed_red_at_its_size_over_the_leads_signature(
    client, auth, lead, app
):
    from PIL import Image

    from tests.clerk import PT_MM, pages

    auth.login("admin")
    opaque = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(opaque, "PNG")
    refused = client.post(
        "/admin/settings/seal",
        data={"image": (io.BytesIO(opaque.getvalue()), "seal.png"), "diameter_mm": "36"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and "trong suốt" in refused.get_data(as_text=True)
    saved = client.post(
        "/admin/settings/seal",
        data={"image": (io.BytesIO(seal_png()), "seal.png"), "diameter_mm": "36,5"},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    stored = client.get("/admin/settings/seal.png")
    image = Image.open(io.BytesIO(stored.data))
    grid = [(x, y) for x in range(0, image.width, 3) for y in range(0, image.height, 3)]
    inked = [p for p in map(image.getpixel, grid) if p[3] > 200]
    assert inked and all(p[0] > 150 and p[1] < 60 and p[2] < 60 for p in inked)  # red
    auth.logout()

    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    data = pdf_of(client, lead, inspection_id)
    if os.environ.get("MINUTES_OUT"):
        with open(os.environ["MINUTES_OUT"], "wb") as out:
            out.write(data)
    with pages(data) as pdf:
        page = next(p for p in pdf.pages if "TRƯỞNG ĐOÀN" in (p.extract_text() or ""))
        assert "Thời gian ký" not in page.extract_text()
        images = sorted(page.images, key=lambda i: i["x0"])
        seal = next(i for i in images if abs((i["x1"] - i["x0"]) * PT_MM - 36.5) < 0.5)
        assert abs((seal["bottom"] - seal["top"]) * PT_MM - 36.5) < 0.5
        drawn = [i for i in images if i is not seal and i["x0"] > seal["x0"]]
        lead_image = min(drawn, key=lambda i: abs(i["top"] - seal["top"]))
        width = lead_image["x1"] - lead_image["x0"]
        overlap = seal["x1"] - lead_image["x0"]
        assert 0.25 * width <= overlap <= 0.4 * width  # about a third, on its left


def test_a_correction_keeps_the_visit_times_and_carries_its_own_number_and_date(client, lead, app):
    from datetime import datetime, time, timedelta

    from inspection.i18n import LOCAL_TZ, local_today

    inspection_id = ready_visit(client, lead, app)
    with app.app_context():
        visit = db.session.get(Inspection, inspection_id)
        # 08:00 three days ago: a visit run at 22:00 would end the next day, not "cùng ngày".
        visit.started_at = datetime.combine(local_today() - timedelta(days=3), time(8), LOCAL_TZ)
        visit.ended_at = visit.started_at + timedelta(hours=2)
        db.session.commit()
        started, ended = visit.started_at, visit.ended_at
    for role in ("lead", "secretary", "unit_rep"):  # the end time changed: sign again
        assert sign(client, lead, inspection_id, role).status_code == 200
    assert finalize(client, lead, inspection_id).status_code == 201
    copy = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead)).json
    for role in ("lead", "secretary", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    assert finalize(client, lead, copy["id"]).status_code == 201
    text = pdf_text(pdf_of(client, lead, copy["id"]))
    from inspection.i18n import local

    day = local(started)
    assert "Số: 02/BB-ĐKT" in text
    assert f"(Thay thế Biên bản số 01/BB-ĐKT ngày {local_today():%d/%m/%Y})" in text
    assert f"ngày {local_today().day:02d} tháng" in text  # dated the day it was issued
    assert f"Vào hồi {day:%H} giờ {day:%M} phút, ngày {day.day:02d}" in text
    assert f"kết thúc vào hồi {local(ended):%H} giờ {local(ended):%M} phút cùng ngày" in text


def test_the_visits_export_gives_the_time_the_visit_ended(client, auth, lead, app):
    from datetime import timedelta

    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    with app.app_context():
        from inspection.i18n import local

        visit = db.session.get(Inspection, inspection_id)
        ended = local(visit.ended_at).strftime("%d/%m/%Y %H:%M")
        # Issued a day later than the visit ended: the export says when it ended.
        visit.finished_at = visit.ended_at + timedelta(days=1)
        db.session.commit()
    auth.login("noivu")
    text = client.get("/office/export/visits.csv").get_data(as_text=True)
    header, *rows = [line.split(",") for line in text.lstrip("\ufeff").splitlines()]
    row = next(r for r in rows if r[0] == str(inspection_id))
    assert row[header.index("Kết thúc")] == ended


def test_a_number_on_an_item_that_records_none_is_refused(client, lead, app):
    visit = start(client, lead, app)
    body = {"version": 1, "unit_items": [{"code": "SMOKE-NONE", "outcome": "pass", "number": 5}]}
    response = save(client, lead, visit["id"], body)
    assert response.status_code == 422
    assert "unit_items[0].number" in response.json["error"]["fields"]


def test_the_printed_signing_time_is_the_signed_one_and_photos_keep_their_time(client, lead, app):
    from pyhanko.pdf_utils.reader import PdfFileReader

    from inspection.i18n import local
    from tests.visit_helpers import jpeg, photo

    visit = start(client, lead, app)
    shot = photo(client, lead, visit["id"], jpeg(), item_code="SMOKE-SIGN")  # no EXIF time
    assert shot.status_code == 201
    inspection_id = visit["id"]
    full = record(client, lead, inspection_id)
    from tests.visit_helpers import complete_answers

    checklist = visit_checklist(client, lead, full["id"])
    assert save(client, lead, inspection_id, complete_answers(full, checklist)).status_code == 200
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, inspection_id, role).status_code == 200
    assert finalize(client, lead, inspection_id).status_code == 201
    data = pdf_of(client, lead, inspection_id)
    # PAdES keeps the signing time in the signature dictionary (/M), not in the CMS.
    when = PdfFileReader(io.BytesIO(data)).embedded_signatures[0].self_reported_timestamp
    assert f"Thời gian ký: {local(when).isoformat()}" in pdf_text(data)

    first = pdf_text(data)
    copy = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead)).json
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    assert finalize(client, lead, copy["id"]).status_code == 201
    again = pdf_text(pdf_of(client, lead, copy["id"]))
    taken = first[first.index("chụp lúc") :][:40]
    assert taken in again  # the correction does not move when the photo was taken


def test_the_printed_address_never_comes_from_the_host_header(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/finalize",
        headers={**bearer(lead), "Host": "evil.example"},
    )
    assert response.status_code == 201, response.json
    text = pdf_text(pdf_of(client, lead, inspection_id))
    assert "evil.example" not in text and "http://localhost/verify/" in text


def test_finalize_refuses_without_a_configured_public_address(make_app, token):
    from tests.visit_helpers import bearer as as_bearer

    app = make_app(PUBLIC_BASE_URL=None)
    client = app.test_client()
    secret = client.post(
        "/api/v1/tokens", json={"username": "truongdoan", "password": "kiemtra2018"}
    ).json["token"]
    inspection_id = ready_visit(client, secret, app)
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/finalize", headers=as_bearer(secret)
    )
    assert response.status_code == 409 and "PUBLIC_BASE_URL" in response.json["error"]["message"]
    with app.app_context():
        assert db.session.get(Inspection, inspection_id).status.value != "finalized"


def test_an_api_client_signs_a_draft_with_the_digest_it_read(client, lead, app):
    """Signing sets the end time when nobody did: a signature given on what the phone read
    just before is still the content it saw, not a changed one (no 409 loop)."""
    visit = start(client, lead, app)
    full = record(client, lead, visit["id"])
    assert full["ended_at"] is None
    response = client.put(
        f"/api/v1/inspections/{visit['id']}/signatures/lead",
        json={
            "name": "Nguyễn Văn Hùng",
            "image": signature_data_url(1),
            "content_digest": full["content_digest"],
        },
        headers=bearer(lead),
    )
    assert response.status_code == 200, response.json
    assert record(client, lead, visit["id"])["content_digest"] == response.json["content_digest"]
