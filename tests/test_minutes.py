"""Signed minutes: signatures, finalize, the Decree 30 PDF, numbering, downloads, verification."""

import shutil
import subprocess
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus, Minutes, Photo, StaffMember
from inspection.pdf import render, signing
from inspection.services import images
from tests.visit_helpers import (
    bearer,
    blank_signature_data_url,
    complete_answers,
    jpeg,
    photo,
    record,
    save,
    signature_data_url,
    start,
    visit_checklist,
)

POPPLER = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(POPPLER is None, reason="poppler-utils not installed")


@pytest.fixture
def lead(token):
    return token("truongdoan")


def sign(client, secret, inspection_id, role, **body):
    body.setdefault(
        "name",
        {"lead": "Nguyễn Văn Hùng", "secretary": "Phạm Thị Lan", "unit_rep": "Đỗ Quang Minh"}[role],
    )
    if not body.get("refused"):
        body.setdefault("image", signature_data_url(len(role)))
    return client.put(
        f"/api/v1/inspections/{inspection_id}/signatures/{role}", json=body, headers=bearer(secret)
    )


def ready_visit(client, secret, app, code="TTHCC", refuse=False, extra=None):
    """Start a visit, answer everything, and collect the signatures."""
    visit = start(client, secret, app, code=code)
    full = record(client, secret, visit["id"])
    checklist = visit_checklist(client, secret, full["id"])
    answers = complete_answers(full, checklist)
    answers["people"][2]["attendance"] = "late"
    answers["unit_items"][1]["outcome"] = "fail"
    answers["unit_items"][1]["note"] = "Thiếu biển cấm hút thuốc lá"
    answers.update(
        {
            "assessment": "Cơ bản chấp hành tốt.",
            "requests": "Khắc phục ngay.",
            "remediation_due": "2018-11-10",
            **(extra or {}),
        }
    )
    assert save(client, secret, visit["id"], answers).status_code == 200
    assert sign(client, secret, visit["id"], "lead").status_code == 200
    assert sign(client, secret, visit["id"], "secretary").status_code == 200
    if refuse:
        response = sign(
            client,
            secret,
            visit["id"],
            "unit_rep",
            refused=True,
            reason="Không đồng ý kết luận về biển báo",
        )
    else:
        response = sign(client, secret, visit["id"], "unit_rep", position="Giám đốc")
    assert response.status_code == 200, response.json
    return visit["id"]


def finalize(client, secret, inspection_id):
    return client.post(f"/api/v1/inspections/{inspection_id}/finalize", headers=bearer(secret))


def pdf_of(client, secret, inspection_id) -> bytes:
    response = client.get(
        f"/api/v1/inspections/{inspection_id}/minutes.pdf", headers=bearer(secret)
    )
    assert response.status_code == 200
    return response.data


def poppler(tool, data, tmp_path, *args) -> str:
    path = tmp_path / "minutes.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [tool, *args, str(path), "-"] if tool == "pdftotext" else [tool, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_finalize_issues_numbered_signed_minutes(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 201, response.json
    issued = response.json["minutes"]
    assert issued["number"] == "01/BB-ĐKT"
    assert issued["verify_url"].endswith("/verify/" + issued["verify_url"].rsplit("/", 1)[1])
    data = pdf_of(client, lead, inspection_id)
    import hashlib

    assert hashlib.sha256(data).hexdigest() == issued["sha256"]
    with app.app_context():
        signer = signing.configured_signer(app.config)
        check = signing.check(data, signing.trusted_certificates(signer))
        visit = db.session.get(Inspection, inspection_id)
        assert visit.status is InspectionStatus.FINALIZED and visit.finished_at
    assert check.intact and check.valid
    second = ready_visit(client, lead, app, code="XHS")
    assert finalize(client, lead, second).json["minutes"]["number"] == "02/BB-ĐKT"


@needs_poppler
def test_pdf_is_a4_with_embedded_fonts_and_the_decree_30_text(client, lead, app, tmp_path):
    inspection_id = ready_visit(client, lead, app)
    finalize(client, lead, inspection_id)
    data = pdf_of(client, lead, inspection_id)
    info = poppler("pdfinfo", data, tmp_path)
    assert "595.276 x 841.89 pts (A4)" in info
    fonts = poppler("pdffonts", data, tmp_path).splitlines()[2:]
    assert fonts and all(" yes yes yes " in line for line in fonts), fonts
    assert all("Minutes-Serif" in line for line in fonts)  # nothing from the host's fonts
    text = " ".join(poppler("pdftotext", data, tmp_path).split())
    for expected in (
        "UBND HUYỆN BÌNH XUYÊN",
        "ĐOÀN KIỂM TRA CÔNG VỤ",
        "Số: 01/BB-ĐKT",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BIÊN BẢN",
        "Trung tâm Hành chính công huyện",
        "Bình Xuyên, ngày",
        "Thiếu biển cấm hút thuốc lá",
        "ĐẠI DIỆN ĐƠN VỊ",
        "TRƯỞNG ĐOÀN",
        "THƯ KÝ",
        "Đỗ Quang Minh",
        "10/11/2018",
    ):
        assert expected in text, expected
    people = record(client, lead, inspection_id)["people"]
    for person in people:
        assert person["full_name"] in text
    assert f"đi muộn: 1 người ({people[2]['full_name']})" in text


def test_refusal_is_recorded_in_the_minutes(client, lead, app, tmp_path):
    inspection_id = ready_visit(client, lead, app, refuse=True)
    assert finalize(client, lead, inspection_id).status_code == 201
    if POPPLER:
        text = " ".join(poppler("pdftotext", pdf_of(client, lead, inspection_id), tmp_path).split())
        assert (
            "Đại diện đơn vị từ chối ký biên bản, lý do: Không đồng ý kết luận về biển báo" in text
        )
        assert "(Từ chối ký)" in text


def test_only_the_unit_representative_may_refuse(client, lead, app):
    visit = start(client, lead, app)
    response = sign(client, lead, visit["id"], "lead", refused=True, reason="x")
    assert response.status_code == 422 and "refused" in response.json["error"]["fields"]
    no_reason = sign(client, lead, visit["id"], "unit_rep", refused=True)
    assert "reason" in no_reason.json["error"]["fields"]


@pytest.mark.parametrize(
    "image,message",
    [
        (blank_signature_data_url(), "trống"),
        ("data:image/png;base64,!!!", "base64"),
        ("data:image/jpeg;base64,AAAA", "PNG"),
        ("data:image/png;base64,iVBORw0KGgo=", "PNG"),
    ],
)
def test_bad_or_empty_signatures_are_refused(client, lead, app, image, message):
    visit = start(client, lead, app)
    response = sign(client, lead, visit["id"], "lead", image=image)
    assert response.status_code == 422
    assert message in response.json["error"]["fields"]["image"]


def test_finalize_names_what_is_missing(client, lead, app):
    visit = start(client, lead, app)
    response = finalize(client, lead, visit["id"])
    assert response.status_code == 409
    fields = response.json["error"]["fields"]
    assert "signature.lead" in fields and "signature.unit_rep" in fields
    assert any(key.startswith("u-") for key in fields) and any(
        key.startswith("p-") for key in fields
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Minutes.id))) == 0


def test_finalized_visits_are_immutable(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    finalize(client, lead, inspection_id)
    version = record(client, lead, inspection_id)["version"]
    assert (
        save(client, lead, inspection_id, {"version": version, "findings": "sửa"}).status_code
        == 409
    )
    assert sign(client, lead, inspection_id, "lead").status_code == 409
    again = finalize(client, lead, inspection_id)
    assert again.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Minutes.id))) == 1


def test_a_failure_while_signing_leaves_nothing_half_done(client, lead, app, monkeypatch):
    inspection_id = ready_visit(client, lead, app)

    def broken(*args, **kwargs):
        raise RuntimeError("the HSM is unplugged")

    monkeypatch.setattr(signing, "sign", broken)
    assert finalize(client, lead, inspection_id).status_code == 500
    with app.app_context():
        visit = db.session.get(Inspection, inspection_id)
        assert visit.status is InspectionStatus.DRAFT
        assert db.session.scalar(select(func.count(Minutes.id))) == 0
    monkeypatch.undo()
    assert finalize(client, lead, inspection_id).json["minutes"]["number"] == "01/BB-ĐKT"


def test_concurrent_finalizes_get_different_numbers(client, lead, app):
    ids = [ready_visit(client, lead, app, code=code) for code in ("PNV", "PTCKH", "THBH")]
    numbers = []

    def run(inspection_id):
        response = app.test_client().post(
            f"/api/v1/inspections/{inspection_id}/finalize", headers=bearer(lead)
        )
        numbers.append(response.json["minutes"]["number"])

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == ["01/BB-ĐKT", "02/BB-ĐKT", "03/BB-ĐKT"]


def _pause(monkeypatch, module, name):
    """The next call of ``module.name`` waits, after saying it began, until let go on."""
    began, go_on = threading.Event(), threading.Event()
    real = getattr(module, name)

    def paused(*args, **kwargs):
        if not began.is_set():
            began.set()
            assert go_on.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, paused)
    return began, go_on


@pytest.fixture
def paused_render(monkeypatch):
    """Paused once rendered (signature images and photos read), before signing."""
    return _pause(monkeypatch, signing, "sign")


def _finalize_in_thread(app, lead, inspection_id, answers):
    def run():
        answers[inspection_id] = app.test_client().post(
            f"/api/v1/inspections/{inspection_id}/finalize", headers=bearer(lead)
        )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_saves_go_on_while_minutes_render(client, lead, app, paused_render):
    """Rendering and signing (a second) hold no lock other visits' saves wait on."""
    began, go_on = paused_render
    issuing = ready_visit(client, lead, app, code="PNV")
    other = start(client, lead, app, code="PTCKH")
    person = record(client, lead, other["id"])["people"][0]["person_id"]
    answers = {}
    thread = _finalize_in_thread(app, lead, issuing, answers)
    assert began.wait(30)
    body = {"version": 1, "people": [{"person_id": person, "note": "saved while rendering"}]}
    try:
        assert (
            app.test_client()
            .put(f"/api/v1/inspections/{other['id']}/results", json=body, headers=bearer(lead))
            .json["version"]
            == 2
        )
    finally:
        go_on.set()
        thread.join(60)
    assert answers[issuing].status_code == 201
    assert answers[issuing].json["minutes"]["number"] == "01/BB-ĐKT"


@needs_poppler
def test_a_number_taken_while_rendering_is_rendered_again(
    client, lead, app, paused_render, tmp_path
):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("on PostgreSQL the counter row is locked while rendering: no race")
    began, go_on = paused_render
    first, second = (ready_visit(client, lead, app, code=c) for c in ("PNV", "PTCKH"))
    answers = {}
    thread = _finalize_in_thread(app, lead, first, answers)
    assert began.wait(30)
    try:  # the second takes number 1 while the first renders with it
        assert finalize(client, lead, second).json["minutes"]["number"] == "01/BB-ĐKT"
    finally:
        go_on.set()
        thread.join(60)
    assert answers[first].json["minutes"]["number"] == "02/BB-ĐKT"
    text = " ".join(poppler("pdftotext", pdf_of(client, lead, first), tmp_path).split())
    assert "Số: 02/BB-ĐKT" in text and "01/BB-ĐKT" not in text


def test_a_visit_issued_while_a_photo_is_encoded_refuses_the_photo(client, lead, app, monkeypatch):
    """Re-encoding holds no lock; the photo is then refused, not added to issued minutes."""
    began, go_on = _pause(monkeypatch, images, "process_photo")
    inspection_id = ready_visit(client, lead, app)
    answers = {}

    def upload():
        answers["photo"] = photo(app.test_client(), lead, inspection_id, jpeg())

    thread = threading.Thread(target=upload)
    thread.start()
    assert began.wait(30)
    try:
        assert finalize(client, lead, inspection_id).status_code == 201
    finally:
        go_on.set()
        thread.join(60)
    assert answers["photo"].status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_numbers_restart_on_the_first_of_january(client, lead, app, monkeypatch):
    from inspection.services import minutes as minutes_service

    first = ready_visit(client, lead, app, code="PNV")
    monkeypatch.setattr(
        minutes_service, "utcnow", lambda: datetime(2026, 12, 31, 16, 59, tzinfo=UTC)
    )
    assert finalize(client, lead, first).json["minutes"]["number"] == "01/BB-ĐKT"
    second = ready_visit(client, lead, app, code="PTCKH")
    assert finalize(client, lead, second).json["minutes"]["number"] == "02/BB-ĐKT"
    # 17:00 UTC on 31 December is midnight in Hà Nội: a new year, a new series.
    monkeypatch.setattr(
        minutes_service, "utcnow", lambda: datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    )
    third = ready_visit(client, lead, app, code="THBH")
    assert finalize(client, lead, third).json["minutes"]["number"] == "01/BB-ĐKT"
    with app.app_context():
        years = sorted(m.year for m in db.session.scalars(select(Minutes)))
    assert years == [2026, 2026, 2027]


def test_downloads_serve_the_stored_bytes_to_the_right_people(client, token, app):
    lead = token()
    inspection_id = ready_visit(client, lead, app)
    finalize(client, lead, inspection_id)
    with app.app_context():
        minutes = db.session.scalar(select(Minutes))
        path, sha = f"/minutes/{minutes.id}.pdf", minutes.pdf_sha256

    def as_user(username):
        c = app.test_client()
        if username:
            c.post("/login", data={"username": username, "password": "kiemtra2018"})
        return c.get(path)

    for username in ("truongdoan", "donvi1", "noivu", "admin"):
        response = as_user(username)
        assert response.status_code == 200, username
        assert response.headers["ETag"] == f'"{sha}"'
        assert "Bien-ban-01-BB-" in response.headers["Content-Disposition"]
        assert response.data.startswith(b"%PDF-")
    for username in ("donvi2", "thanhvien"):
        assert as_user(username).status_code == 404, username
    assert as_user(None).status_code == 302
    assert (
        client.get(
            f"/api/v1/inspections/{inspection_id}/minutes.pdf", headers=bearer(token("donvi2"))
        ).status_code
        == 404
    )
    unit_copy = client.get(
        f"/api/v1/inspections/{inspection_id}/minutes.pdf", headers=bearer(token("donvi1"))
    )
    assert unit_copy.status_code == 200 and unit_copy.headers["ETag"] == f'"{sha}"'


def test_verification_accepts_the_original_and_rejects_a_changed_byte(client, lead, app):
    inspection_id = ready_visit(client, lead, app)
    issued = finalize(client, lead, inspection_id).json["minutes"]
    data = pdf_of(client, lead, inspection_id)

    def verify(blob):
        import io

        return client.post(
            "/api/v1/minutes/verify",
            data={"file": (io.BytesIO(blob), "bb.pdf")},
            content_type="multipart/form-data",
        ).json

    good = verify(data)
    assert good["valid"] and good["signature_intact"] and good["number"] == "01/BB-ĐKT"
    assert good["inspection_id"] == inspection_id and good["sha256"] == issued["sha256"]
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    bad = verify(bytes(changed))
    assert bad["valid"] is False and bad["number"] is None
    assert "không khớp" in bad["reason"]
    assert verify(b"not a pdf at all")["valid"] is False
    code = issued["verify_url"].rsplit("/", 1)[1]
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert (
        "01/BB-ĐKT" in page
        and "Trung tâm Hành chính công huyện" in page
        and issued["sha256"] in page
    )
    assert client.get("/verify/nope").status_code == 404


def test_verification_page_upload(client, lead, app):
    import io

    inspection_id = ready_visit(client, lead, app)
    finalize(client, lead, inspection_id)
    data = pdf_of(client, lead, inspection_id)
    anonymous = app.test_client()
    good = anonymous.post(
        "/verify", data={"file": (io.BytesIO(data), "bb.pdf")}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "Bản gốc" in good
    bad = anonymous.post(
        "/verify",
        data={"file": (io.BytesIO(data[:-10] + b"0" * 10), "bb.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Không hợp lệ" in bad


def test_the_pdf_renderer_fetches_nothing_outside_the_app(app):
    fetcher = render.MinutesFetcher(app.static_folder)
    for url in (
        "file:///etc/passwd",
        "http://169.254.169.254/latest",
        "https://example.com/x.png",
        render.BASE + "static/../../app.py",
        render.BASE + "blob/0000",
    ):
        with app.app_context(), pytest.raises(ValueError):
            fetcher.fetch(url)
    with app.app_context():
        assert fetcher.fetch(render.BASE + "static/fonts/LiberationSerif-Regular.ttf").read(4)


@needs_poppler
def test_hostile_text_prints_as_text(client, lead, app, tmp_path):
    hostile = "<script>alert(1)</script> <img src=file:///etc/passwd> '; DROP TABLE unit; --"
    with app.app_context():
        person = db.session.scalar(select(StaffMember).where(StaffMember.badge_no == "TTHCC-001"))
        person.full_name = hostile[:120]
        db.session.commit()
    inspection_id = ready_visit(client, lead, app, extra={"findings": hostile})
    finalize(client, lead, inspection_id)
    text = poppler("pdftotext", pdf_of(client, lead, inspection_id), tmp_path)
    assert "<script>alert(1)</script>" in text and "DROP TABLE unit" in text


def test_a_correction_issues_new_minutes_that_supersede_the_old(client, lead, app, tmp_path):
    original = ready_visit(client, lead, app)
    first = finalize(client, lead, original).json["minutes"]
    response = client.post(f"/api/v1/inspections/{original}/amend", headers=bearer(lead))
    assert response.status_code == 201
    copy = response.json
    assert copy["status"] == "draft" and copy["id"] != original
    again = client.post(f"/api/v1/inspections/{original}/amend", headers=bearer(lead))
    assert again.json["id"] == copy["id"]  # one open correction at a time
    full = record(client, lead, copy["id"])
    assert len(full["people"]) == 30 and len(full["unit_items"]) == 12  # all but OSS-APOLOGY
    fixed = save(
        client,
        lead,
        copy["id"],
        {
            "version": full["version"],
            "unit_items": [{"code": full["unit_items"][1]["code"], "outcome": "pass", "note": ""}],
        },
    )
    assert fixed.status_code == 200
    assert finalize(client, lead, copy["id"]).status_code == 409  # must be signed again
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    second = finalize(client, lead, copy["id"]).json["minutes"]
    assert second["number"] == "02/BB-ĐKT"
    # The old minutes stay downloadable and unchanged, and say they are superseded.
    old_pdf = pdf_of(client, lead, original)
    import hashlib

    assert hashlib.sha256(old_pdf).hexdigest() == first["sha256"]
    old_code = first["verify_url"].rsplit("/", 1)[1]
    page = client.get(f"/verify/{old_code}").get_data(as_text=True)
    assert "Đã được thay thế bởi Biên bản số 02/BB-ĐKT" in page
    assert (
        client.post(f"/api/v1/inspections/{original}/amend", headers=bearer(lead)).status_code
        == 409
    )
    if POPPLER:
        text = " ".join(poppler("pdftotext", pdf_of(client, lead, copy["id"]), tmp_path).split())
        assert "(Thay thế Biên bản số 01/BB-ĐKT ngày" in text
