"""Roster import from CSV and XLSX: everything or nothing, with a per-row report."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import StaffCategory, StaffMember, Unit
from inspection.services.audit import SYSTEM
from inspection.services.roster_import import RosterImportError, import_roster, parse_roster
from tests import factories

GOOD_CSV = (
    "\ufeffHọ và tên;Chức vụ;Loại;Số thẻ\n"
    "Nguyễn Thị Hương;Chủ tịch UBND xã;Cán bộ;HT-001\n"
    "Trần Văn Đạt;Công chức Địa chính - Xây dựng;công chức;HT-002\n"
    "Lê Thị Mai;Nhân viên tạp vụ;LĐHĐ;\n"
)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _count(unit_id):
    return db.session.scalar(select(func.count(StaffMember.id)).filter_by(unit_id=unit_id))


def test_csv_with_bom_and_semicolons_imports_every_row(ctx):
    unit = factories.unit()
    report = import_roster(SYSTEM, unit, "ds.csv", GOOD_CSV.encode("utf-8"))
    assert (report.created, report.updated) == (3, 0)
    people = {
        s.full_name: s for s in db.session.scalars(select(StaffMember).filter_by(unit_id=unit.id))
    }
    assert people["Lê Thị Mai"].category is StaffCategory.HOP_DONG
    assert people["Lê Thị Mai"].badge_no is None
    assert people["Trần Văn Đạt"].category is StaffCategory.CONG_CHUC


def test_a_nul_in_a_cell_is_dropped_not_stored(ctx):
    """A spreadsheet cell may hold U+0000; PostgreSQL cannot store it (a 500 there)."""
    unit = factories.unit()
    data = GOOD_CSV.replace("Lê Thị Mai", "Lê Thị\x00 Mai").encode("utf-8")
    report = import_roster(SYSTEM, unit, "ds.csv", data)
    db.session.flush()
    assert (report.created, report.updated) == (3, 0)
    names = set(db.session.scalars(select(StaffMember.full_name).filter_by(unit_id=unit.id)))
    assert "Lê Thị Mai" in names


def test_xlsx_with_english_headers_imports(ctx):
    unit = factories.unit()
    data = _xlsx(
        [
            ["Full name", "Position", "Category", "Badge no"],
            ["Phạm Đức Thắng", "Giáo viên", "viên chức", 17],
        ]
    )
    report = import_roster(SYSTEM, unit, "roster.XLSX", data)
    assert report.created == 1
    assert db.session.scalar(select(StaffMember).filter_by(unit_id=unit.id)).badge_no == "17"


def test_reimport_updates_people_matched_by_badge(ctx):
    unit = factories.unit()
    import_roster(SYSTEM, unit, "a.csv", GOOD_CSV.encode())
    changed = GOOD_CSV.replace("Chủ tịch UBND xã", "Bí thư Đảng ủy")
    report = import_roster(SYSTEM, unit, "a.csv", changed.encode())
    assert (report.created, report.updated) == (1, 2)  # Lê Thị Mai has no badge: added again
    person = db.session.scalar(select(StaffMember).filter_by(unit_id=unit.id, badge_no="HT-001"))
    assert person.position == "Bí thư Đảng ủy"


def test_one_bad_row_imports_nothing_and_reports_every_problem(ctx):
    unit = factories.unit()
    bad = (
        "Họ và tên,Chức vụ,Loại,Số thẻ\n"
        "Nguyễn Văn A,Chuyên viên,công chức,X-1\n"
        ",Chuyên viên,công chức,X-2\n"
        "Trần Thị B,Chuyên viên,giám đốc,X-3\n"
        "Lê Văn C,Chuyên viên,viên chức,X-1\n"
    )
    with pytest.raises(RosterImportError) as caught:
        import_roster(SYSTEM, unit, "bad.csv", bad.encode())
    errors = [(e.row, e.field) for e in caught.value.report.errors]
    assert errors == [(3, "full_name"), (4, "category"), (5, "badge_no")]
    assert "dòng 2" in caught.value.report.errors[2].message
    assert _count(unit.id) == 0


@pytest.mark.parametrize(
    "filename,data,message",
    [
        ("ds.xlsx", b"PK\x03\x04 not really a zip", "không phải là tệp XLSX"),
        ("ds.csv", "Họ và tên;Loại\nAn;cán bộ".encode("utf-16"), "UTF-8"),
        ("ds.pdf", b"%PDF-1.4", ".csv hoặc .xlsx"),
        ("ds.csv", b"", "không có dữ liệu"),
        ("ds.csv", "Tên đệm,Chức vụ\nA,B\n".encode(), "Thiếu cột"),
    ],
)
def test_unreadable_files_get_a_clear_message(ctx, filename, data, message):
    _, report = parse_roster(filename, data, max_rows=100)
    assert not report.ok
    assert message in report.errors[0].message


def test_row_limit(ctx):
    rows = "Họ và tên,Loại\n" + "".join(f"Người {n},cán bộ\n" for n in range(11))
    _, report = parse_roster("big.csv", rows.encode(), max_rows=10)
    assert "tối đa 10 dòng" in report.errors[0].message


def test_import_page_shows_the_report_and_saves_nothing(client, auth, app):
    auth.login("admin")
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(code="XQL"))
        before = _count(unit.id)
    bad = "Họ và tên,Loại\nNguyễn Văn A,cán bộ\nTrần Thị B,bảo vệ\n"
    response = client.post(
        f"/admin/units/{unit.id}/import",
        data={"file": (io.BytesIO(bad.encode()), "ds.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Chưa nhập dòng nào" in page and "&#39;bảo vệ&#39;" in page
    with app.app_context():
        assert _count(unit.id) == before
    ok = client.post(
        f"/admin/units/{unit.id}/import",
        data={"file": (io.BytesIO(GOOD_CSV.encode()), "ds.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    with app.app_context():
        assert _count(unit.id) == before + 3


def test_import_page_refuses_other_extensions(client, auth, app):
    auth.login("admin")
    response = client.post(
        "/admin/units/1/import",
        data={"file": (io.BytesIO(b"x"), "ds.txt")},
        content_type="multipart/form-data",
    )
    assert "Hãy tải lên tệp .csv hoặc .xlsx." in response.get_data(as_text=True)
