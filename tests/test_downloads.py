"""Every file the product serves, downloaded whole from gunicorn (gunicorn.conf.py).

Flask's test client forgives what a real server refuses (a str body, a header that is
not latin-1, a session let go of before the request log): this layer does not. Each
role that may download a file logs in through the real login form and downloads it.
Set DOWNLOADS_REPORT=1 to print what was downloaded, with sizes.
"""

import csv
import io
import os
import re
from urllib.parse import unquote

import openpyxl
import pytest
import requests
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Inspection,
    Minutes,
    PersonItemResult,
    PersonResult,
    RemediationEvidence,
)
from inspection.services import exports
from tests.test_crash import Server
from tests.test_minutes import finalize, ready_visit
from tests.visit_helpers import bearer, jpeg, photo

EVIDENCE_NAME = 'Biên bản "khắc phục" \u202egpj.pdf'  # Vietnamese, a quote, a bidi override
JPEG_AS_PDF = "Ảnh khắc phục.pdf"  # a photo uploaded under a PDF's name


def _pdf_bytes() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Biên bản khắc phục</p>").write_pdf()


@pytest.fixture
def served(app, client, token, tmp_path):
    """A finalized visit with a photo, a remediation answered with two evidence files; then
    the app lets go of the database and gunicorn serves it."""
    lead, office = token("truongdoan"), token("noivu")
    inspection_id = ready_visit(client, lead, app)
    shot = photo(client, lead, inspection_id, jpeg(exif_time="2018:10:05 09:09:00"))
    assert shot.status_code == 201
    assert finalize(client, lead, inspection_id).status_code == 201
    reviewed = client.post(
        f"/api/v1/inspections/{inspection_id}/review",
        json={"decision": "remediation_required", "comment": "Khắc phục", "due": "2099-11-10"},
        headers=bearer(office),
    )
    assert reviewed.status_code == 201, reviewed.json
    remediation = reviewed.json["remediations"][0]["id"]
    unit = token("donvi1")
    answered = client.post(
        f"/api/v1/remediations/{remediation}/response",
        data={
            "response": "Đã treo biển",
            "file": [
                (io.BytesIO(_pdf_bytes()), "bien-ban.jpg"),  # a PDF under a photo's name
                (io.BytesIO(jpeg(800, 600)), JPEG_AS_PDF),
            ],
        },
        headers=bearer(unit),
        content_type="multipart/form-data",
    )
    assert answered.status_code == 200, answered.json
    evidence = [e["id"] for e in answered.json["evidence"]]
    draft = ready_visit(client, lead, app, code="XHS")  # signed, not issued: a draft PDF
    with app.app_context():
        from inspection.services import audit, org
        from tests.test_signed_content import seal_png

        org.save_seal(audit.SYSTEM, seal_png(), 36)
        # The name as a browser's upload gives it (a multipart header cannot carry the quote
        # through Werkzeug's test client): what the download header must carry whole.
        db.session.get(RemediationEvidence, evidence[0]).filename = EVIDENCE_NAME
        db.session.commit()
        minutes_id = db.session.scalar(select(Minutes.id).filter_by(inspection_id=inspection_id))
        counts = {
            "visits": db.session.scalar(
                select(func.count(Inspection.id)).where(Inspection.status == "finalized")
            ),
            "person_results": db.session.scalar(
                select(func.count(PersonItemResult.id))
                .join(PersonResult)
                .where(PersonResult.inspection_id == inspection_id)
            ),
            "audit": db.session.scalar(select(func.count(AuditEvent.id))),
        }
        db.session.remove()
        db.engine.dispose()
    server = Server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log")
    server.start()
    yield {
        "server": server,
        "inspection": inspection_id,
        "minutes": minutes_id,
        "photo": shot.json["id"],
        "evidence": evidence,
        "draft": draft,
        "counts": counts,
        "base": f"http://127.0.0.1:{server.port}",
    }
    server.stop()


def _login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(
        f"{base}/login",
        data={"csrf_token": token, "username": username, "password": "kiemtra2018"},
        timeout=30,
    )
    assert response.status_code == 200 and "/login" not in response.url, response.url
    return session


def _filename(response) -> str:
    """The name a browser saves the file under (RFC 6266: filename* wins)."""
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # a header a real server can send
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert fallback.isascii() and '"' not in fallback
    encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", header).group(1)
    return unquote(encoded)


def _get(session, url, report, who):
    response = session.get(url, timeout=60)
    assert response.status_code == 200, (who, url, response.status_code, response.text[:300])
    if "Content-Length" in response.headers and "Content-Encoding" not in response.headers:
        assert int(response.headers["Content-Length"]) == len(response.content)  # whole
    report.append((who, url.split("/", 3)[3], len(response.content)))
    return response


def _csv_rows(response) -> list[list[str]]:
    assert response.headers["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_every_file_downloads_whole_from_gunicorn(served):
    base, report = served["base"], []
    inspection, minutes, photo_id = served["inspection"], served["minutes"], served["photo"]
    sessions = {who: _login(base, who) for who in ("noivu", "admin", "truongdoan", "donvi1")}

    for who in ("noivu", "admin"):
        session = sessions[who]
        for kind in ("visits", "unit_results", "person_results"):
            response = _get(session, f"{base}/office/export/{kind}.csv", report, who)
            rows = _csv_rows(response)
            assert _filename(response).endswith(".csv")
            assert _filename(response).startswith(exports.FILE_NAMES[kind])
            assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)
            if kind == "visits":
                assert len(rows) - 1 == served["counts"]["visits"]
            if kind == "person_results":
                assert len(rows) - 1 == served["counts"]["person_results"]
            response = _get(session, f"{base}/office/export/{kind}.xlsx", report, who)
            assert response.headers["Content-Type"].startswith(
                "application/vnd.openxmlformats-officedocument.spreadsheetml"
            )
            book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
            assert len(list(book.active.iter_rows())) == len(rows)
            assert _filename(response).endswith(".xlsx")
        response = _get(session, f"{base}/office/audit.csv", report, who)
        rows = _csv_rows(response)
        assert len(rows) - 1 >= served["counts"]["audit"]
        assert _filename(response).startswith("nhat-ky-")
        response = _get(session, f"{base}/office/report", report, who)
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.rstrip().endswith("</html>")
        response = _get(session, f"{base}/office/report.pdf", report, who)
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.content.rstrip().endswith(b"%%EOF")
        assert _filename(response) == "bao-cao-kiem-tra.pdf"

    for who in ("noivu", "admin", "truongdoan", "donvi1"):
        session = sessions[who]
        response = _get(session, f"{base}/minutes/{minutes}.pdf", report, who)
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-40:]
        assert re.fullmatch(r"Bien-ban-01-BB-\d{4}\.pdf", _filename(response))
        for path in (f"/photos/{photo_id}.jpg", f"/photos/{photo_id}/thumb.jpg"):
            response = _get(session, base + path, report, who)
            assert response.headers["Content-Type"] == "image/jpeg"
            assert response.content[:2] == b"\xff\xd8" and response.content[-2:] == b"\xff\xd9"
            assert _filename(response).endswith(".jpg")

    for who in ("noivu", "donvi1"):
        pdf_evidence, photo_evidence = served["evidence"]
        response = _get(sessions[who], f"{base}/evidence/{pdf_evidence}", report, who)
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.content.rstrip().endswith(b"%%EOF")
        assert _filename(response) == EVIDENCE_NAME  # Vietnamese, quote and bidi survive
        response = _get(sessions[who], f"{base}/evidence/{photo_evidence}", report, who)
        assert response.headers["Content-Type"] == "image/jpeg"
        assert _filename(response) == "Ảnh khắc phục.jpg"  # the checked type's extension

    draft = f"{base}/inspector/visits/{served['draft']}/draft.pdf"
    response = _get(sessions["truongdoan"], draft, report, "truongdoan")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.rstrip().endswith(b"%%EOF")
    assert _filename(response) == "du-thao-bien-ban.pdf"
    # A checklist version as a spreadsheet: a row per item under the Vietnamese header.
    response = _get(sessions["admin"], f"{base}/admin/checklists/2/v1.xlsx", report, "admin")
    assert _filename(response) == "mot-cua-v1.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["Mã", "Nhóm", "Phạm vi", "Nội dung"] and rows[1][0] == "OSS-POSTED"
    assert len(rows) == 1 + 6
    response = _get(sessions["admin"], f"{base}/admin/settings/seal.png", report, "admin")
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG") and response.content.endswith(b"IEND\xaeB`\x82")

    response = _get(requests.Session(), f"{base}/api/v1/openapi.json", report, "anyone")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")
    secret = requests.post(
        f"{base}/api/v1/tokens", json={"username": "truongdoan", "password": "kiemtra2018"}
    ).json()["token"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {secret}"
    response = _get(api, f"{base}/api/v1/inspections/{inspection}/minutes.pdf", report, "api")
    assert response.content.startswith(b"%PDF-")
    for form in ("pem", "der"):
        response = _get(requests.Session(), f"{base}/verify/certificate.{form}", report, "anyone")
        assert _filename(response) == f"chung-thu-so.{form}"

    log = (served["server"].log_path).read_text()
    assert "is not a byte" not in log and "Traceback" not in log, log[-3000:]
    if os.environ.get("DOWNLOADS_REPORT"):
        for who, path, size in report:
            print(f"{who:10} {size:>9,} B  /{path}")
