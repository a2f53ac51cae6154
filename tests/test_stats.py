"""Figures against a hand-computed fixture; the dashboard's charts; a person's history."""

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus
from inspection.services import stats
from tests.visit_helpers import bearer, complete_answers, record, save, start, visit_checklist


def _visit(client, secret, app, *, badge_fail_index=4, finalize=True):
    """A TTHCC visit: 27 present, 2 late, 1 absent without leave; SMOKE-SIGN and PREM-SIGNS
    fail; one person fails BADGE-WORN. Marked finalized directly (the PDF is not under test)."""
    visit = start(client, secret, app)
    full = record(client, secret, visit["id"])
    checklist = visit_checklist(client, secret, full["id"])
    answers = complete_answers(full, checklist)
    for entry in answers["unit_items"]:
        if entry["code"] in ("SMOKE-SIGN", "PREM-SIGNS"):
            entry["outcome"] = "fail"
    answers["people"][2]["attendance"] = "late"
    answers["people"][7]["attendance"] = "late"
    answers["people"][12] = {
        "person_id": answers["people"][12]["person_id"],
        "attendance": "absent_unexcused",
    }
    for item in answers["people"][badge_fail_index]["items"]:
        if item["code"] == "BADGE-WORN":
            item["outcome"] = "fail"
    assert save(client, secret, visit["id"], answers).status_code == 200
    if finalize:
        with app.app_context():
            db.session.get(Inspection, visit["id"]).status = InspectionStatus.FINALIZED
            db.session.flush()
            stats.materialize(visit["id"])  # as issuing the minutes does
            db.session.commit()
    return visit["id"]


@pytest.fixture
def figures(client, token, app):
    lead = token("truongdoan")
    first = _visit(client, lead, app)
    _visit(client, lead, app, finalize=False)  # a draft never counts
    return first


def test_stats_match_the_hand_computed_fixture(client, token, figures):
    body = client.get("/api/v1/stats", headers=bearer(token("noivu"))).json
    categories = {r["category"]: r for r in body["by_category"]}
    # smoking: SMOKE-NONE pass, SMOKE-SIGN fail
    assert (categories["smoking"]["checked"], categories["smoking"]["failed"]) == (2, 1)
    assert categories["smoking"]["compliance_rate"] == 0.5
    # attendance, derived per person: 27 pass, 2 late + 1 absent without leave fail
    assert (categories["attendance"]["checked"], categories["attendance"]["failed"]) == (30, 3)
    # badge: two items for each of the 29 people at their post, one failure
    assert (categories["badge"]["checked"], categories["badge"]["failed"]) == (58, 1)
    assert (categories["premises"]["checked"], categories["premises"]["failed"]) == (2, 1)
    [unit] = body["by_unit"]
    # 11 pass/fail unit items (OSS-CASES is a number; OSS-APOLOGY was not asked)
    assert unit["checked"] == 11 + 30 + 29 * 4 and unit["failed"] == 2 + 3 + 1
    assert body["attendance"] == {
        "rostered": 30,
        "present": 27,
        "late": 2,
        "absent_excused": 0,
        "absent_unexcused": 1,
        "on_duty": 0,
    }


def test_stats_filters(client, token, figures):
    office = bearer(token("noivu"))
    assert (
        client.get("/api/v1/stats?from=2000-01-01&to=2000-12-31", headers=office).json["by_unit"]
        == []
    )
    assert client.get("/api/v1/stats?unit_id=1", headers=office).json["by_unit"] == []
    assert client.get("/api/v1/stats?from=yesterday", headers=office).status_code == 422
    assert client.get("/api/v1/stats?unit_id=abc", headers=office).status_code == 422
    assert client.get("/api/v1/stats", headers=bearer(token("donvi1"))).status_code == 403


def test_dashboard_draws_charts_with_tables(client, auth, figures):
    auth.login("noivu")
    page = client.get("/office/dashboard").get_data(as_text=True)
    assert page.count("<svg") == 6 and page.count('class="data"') >= 6
    assert "Tuân thủ theo nhóm tiêu chí" in page and "Thuốc lá" in page and "50,0%" in page
    assert "Trung tâm Hành chính công huyện" in page
    narrowed = client.get("/office/dashboard?date_from=2000-01-01&date_to=2000-01-31")
    assert "Không có số liệu trong kỳ này." in narrowed.get_data(as_text=True)


def test_repeat_findings_and_a_persons_history(client, token, auth, app):
    lead = token("truongdoan")
    first = _visit(client, lead, app)
    _visit(client, lead, app)  # the same person fails BADGE-WORN again
    person = record(client, lead, first)["people"][4]
    auth.login("noivu")
    page = client.get("/office/dashboard").get_data(as_text=True)
    assert person["full_name"] in page and f"/office/people/{person['staff_id']}" in page
    history = client.get(f"/office/people/{person['staff_id']}").get_data(as_text=True)
    assert history.count("Đeo thẻ") == 2
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "kiemtra2018"})
    assert person["full_name"] not in admin.get("/office/dashboard").get_data(as_text=True)
    assert admin.get(f"/office/people/{person['staff_id']}").status_code == 403


def test_exports_csv_and_xlsx_with_vietnamese_headers(client, auth, figures, app):
    import csv
    import io

    from openpyxl import load_workbook

    with app.app_context():
        from inspection.models import PersonResult

        person = db.session.scalar(select(PersonResult).filter_by(inspection_id=figures))
        person.note = '=HYPERLINK("http://evil")'
        db.session.commit()
    auth.login("noivu")
    visits = client.get("/office/export/visits.csv", headers={"Accept-Encoding": "br, gzip"})
    assert visits.status_code == 200 and visits.mimetype == "text/csv"
    assert visits.is_streamed and "Content-Encoding" not in visits.headers  # never buffered
    text = visits.get_data(as_text=True)
    assert text.startswith("\ufeffMã cuộc kiểm tra,Mã đơn vị,Đơn vị")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2  # the finalized visit only, not the draft
    assert rows[1][8:14] == ["30", "27", "2", "0", "1", "0"]
    people = client.get("/office/export/person_results.xlsx")
    assert people.status_code == 200
    sheet = load_workbook(io.BytesIO(people.data), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:6] == (
        "Mã cuộc kiểm tra",
        "Ngày kiểm tra",
        "Mã đơn vị",
        "Đơn vị",
        "Họ và tên",
        "Chức vụ",
    )
    assert len(table) == 1 + 29 * 5 + 1  # at post: 5 results each; the absent one: 1
    notes = [r[11] for r in table[1:] if r[11]]
    assert notes and all(n.startswith("'=") for n in notes)  # never a live formula
    units = client.get("/office/export/unit_results.csv?kind=school")
    assert len(units.get_data(as_text=True).strip().splitlines()) == 1  # header only
    assert client.get("/office/export/secrets.csv").status_code == 404


def test_long_exports_come_whole(client, auth, token, app, monkeypatch):
    """Exports read rows in batches and send text in chunks. A chunk sent between two
    batches once cut the visits and audit files short (a year of visits stopped at the
    2,000th row, with no error the user could see): every batch and chunk is one row here."""
    import csv
    import io

    from openpyxl import load_workbook

    from inspection.services import audit, exports

    lead = token("truongdoan")
    for _ in range(3):
        _visit(client, lead, app)
    auth.login("noivu")
    paths = [f"/office/export/{kind}.csv" for kind in exports.COLUMNS]
    paths += [f"/office/export/{kind}.xlsx" for kind in exports.COLUMNS]
    paths.append("/office/audit.csv?action=results_saved")
    whole = {path: client.get(path).data for path in paths}
    for name, value in (("BATCH", 1), ("CHUNK_CHARS", 1), ("ROWS_PER_WRITE", 1)):
        monkeypatch.setattr(exports, name, value)
    monkeypatch.setattr(audit, "BATCH", 1)
    for path, expected in whole.items():
        response = client.get(path)
        assert response.status_code == 200, path
        if path.endswith(".xlsx"):
            sheets = [load_workbook(io.BytesIO(f)).active for f in (response.data, expected)]
            table, before = [list(s.iter_rows(values_only=True)) for s in sheets]
            assert table == before, path
        else:
            assert response.data == expected, path
            table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert len(table) >= 4, path  # a header and three visits' rows at least


def test_printable_report_and_its_pdf(client, auth, figures, tmp_path):
    import shutil
    import subprocess

    auth.login("noivu")
    page = client.get("/office/report").get_data(as_text=True)
    assert "Tuân thủ theo nhóm tiêu chí" in page and "/static/css/report.css" in page
    pdf = client.get("/office/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        path = tmp_path / "report.pdf"
        path.write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        assert "Trung tâm Hành chính công huyện" in text and "Thuốc lá" in text


def test_rebuild_gives_the_figures_that_finalizing_wrote(client, token, figures, app):
    office = bearer(token("noivu"))
    before = client.get("/api/v1/stats", headers=office).json
    with app.app_context():
        stats.rebuild()
        db.session.commit()
    assert client.get("/api/v1/stats", headers=office).json == before


def test_issuing_minutes_writes_the_figures(client, token, app):
    from tests.test_minutes import finalize, ready_visit

    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)
    office = bearer(token("noivu"))
    assert client.get("/api/v1/stats", headers=office).json["by_unit"] == []
    assert finalize(client, lead, inspection_id).status_code == 201
    [unit] = client.get("/api/v1/stats", headers=office).json["by_unit"]
    assert unit["checked"] > 0 and unit["failed"] >= 2  # a failed unit item and a late person
