"""Exports of visits and results for a period, one row per result, Vietnamese headers.

Rows come from the database in batches (yield_per), so a CSV export streams in constant
memory whatever the period. The column order is part of the contract (README).
"""

import csv
import functools
import io
import itertools
from collections.abc import Iterator
from datetime import datetime

from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import Integer, case, func, or_, select
from sqlalchemy.orm import aliased

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.labels import vietnamese
from inspection.models import (
    Attendance,
    ChecklistItem,
    Inspection,
    Minutes,
    PersonItemResult,
    PersonResult,
    Unit,
    UnitItemResult,
)
from inspection.services import audit, checklist
from inspection.services.document import ATTENDANCE_TEXT, OUTCOME_TEXT
from inspection.services.stats import Filters, selected_visits

KIND_TEXT = {"surprise": "Đột xuất", "scheduled": "Thường xuyên"}
BATCH = 2000

COLUMNS = {
    "visits": [
        "Mã cuộc kiểm tra",
        "Mã đơn vị",
        "Đơn vị",
        "Loại đơn vị",
        "Hình thức",
        "Bắt đầu",
        "Kết thúc",
        "Số biên bản",
        "Tổng số theo danh sách",
        "Có mặt",
        "Đi muộn",
        "Vắng có phép",
        "Vắng không phép",
        "Đi công tác",
    ],
    "unit_results": [
        "Mã cuộc kiểm tra",
        "Ngày kiểm tra",
        "Mã đơn vị",
        "Đơn vị",
        "Mã tiêu chí",
        "Nhóm tiêu chí",
        "Nội dung",
        "Kết quả",
        "Số liệu",
        "Ghi chú",
    ],
    "person_results": [
        "Mã cuộc kiểm tra",
        "Ngày kiểm tra",
        "Mã đơn vị",
        "Đơn vị",
        "Họ và tên",
        "Chức vụ",
        "Giờ giấc",
        "Mã tiêu chí",
        "Nội dung",
        "Kết quả",
        "Ghi chú",
        "Ghi chú về người",
    ],
}


def _column_rows(stmt) -> Iterator:
    """Rows of plain columns in batches, read without the ORM's per-row work (in the
    session's transaction)."""
    return db.session.connection().execute(stmt).yield_per(BATCH)


@functools.lru_cache(maxsize=4096)  # a visit's time repeats on each of its ~100 rows
def _local(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


def _visit_rows(filters: Filters) -> Iterator[list]:
    visits = selected_visits(filters)
    counts = [func.count(PersonResult.id)]
    counts += [
        func.sum(case((PersonResult.attendance == s.value, 1), else_=0)).cast(Integer)
        for s in Attendance
    ]
    people = (
        select(
            PersonResult.inspection_id.label("id"),
            *[c.label(f"c{n}") for n, c in enumerate(counts)],
        )
        .group_by(PersonResult.inspection_id)
        .subquery("people")
    )
    latest = aliased(Minutes)
    number = (
        select(func.max(latest.id))
        .where(latest.inspection_id == Inspection.id)
        .correlate(Inspection)
        .scalar_subquery()
    )
    stmt = (
        select(Inspection, Unit, Minutes, people)
        .join(visits, visits.c.id == Inspection.id)
        .join(Unit, Unit.id == Inspection.unit_id)
        .outerjoin(Minutes, Minutes.id == number)
        .outerjoin(people, people.c.id == Inspection.id)
        .order_by(Inspection.started_at, Inspection.id)
    )
    for inspection, unit, minutes, *figures in db.session.execute(stmt).yield_per(BATCH):
        yield [
            inspection.id,
            unit.code,
            unit.name,
            vietnamese(unit.kind),
            KIND_TEXT[inspection.kind.value],
            _local(inspection.started_at),
            _local(inspection.ended_at),  # when the visit ended, not when issued
            minutes.display_number if minutes else "",
            *[int(f or 0) for f in figures[1:]],
        ]


def _results(filters: Filters, *columns):
    """Return rows of the selected visits: visit id, start, unit code and name, then ``columns``."""
    visits = selected_visits(filters)
    return (
        select(Inspection.id, Inspection.started_at, Unit.code, Unit.name, *columns)
        .join(visits, visits.c.id == Inspection.id)
        .join(Unit, Unit.id == Inspection.unit_id)
    )


def _unit_result_rows(filters: Filters) -> Iterator[list]:
    stmt = (
        _results(
            filters,
            ChecklistItem.code,
            ChecklistItem.category,
            ChecklistItem.label_vi,
            UnitItemResult.outcome,
            UnitItemResult.number_value,
            UnitItemResult.note,
            UnitItemResult.text_value,
        )
        .join(UnitItemResult, UnitItemResult.inspection_id == Inspection.id)
        .join(ChecklistItem, ChecklistItem.id == UnitItemResult.item_id)
        # A row without an answer is an item no longer asked (its trigger changed).
        .where(
            or_(
                UnitItemResult.outcome.is_not(None),
                UnitItemResult.number_value.is_not(None),
                UnitItemResult.text_value.is_not(None),
            )
        )
        .order_by(Inspection.started_at, Inspection.id, ChecklistItem.position)
    )
    for row in _column_rows(stmt):
        number = row[8]
        yield [
            row[0],
            _local(row[1], "%d/%m/%Y"),
            *row[2:5],
            vietnamese(row[5]),
            row[6],
            OUTCOME_TEXT.get(row[7], "") or row[10] or "",  # a text or choice answer
            "" if number is None else float(number),
            row[9],
        ]


def _person_result_rows(filters: Filters) -> Iterator[list]:
    stmt = (
        _results(
            filters,
            PersonResult.full_name,
            PersonResult.position,
            PersonResult.attendance,
            ChecklistItem.code,
            ChecklistItem.label_vi,
            PersonItemResult.outcome,
            PersonItemResult.note,
            PersonResult.note,
        )
        .join(PersonResult, PersonResult.inspection_id == Inspection.id)
        .join(PersonItemResult, PersonItemResult.person_result_id == PersonResult.id)
        .join(ChecklistItem, ChecklistItem.id == PersonItemResult.item_id)
        .order_by(Inspection.started_at, Inspection.id, PersonResult.id, ChecklistItem.position)
    )
    for row in _column_rows(stmt):
        yield [
            row[0],
            _local(row[1], "%d/%m/%Y"),
            *row[2:6],
            ATTENDANCE_TEXT.get(row[6], ""),
            row[7],
            row[8],
            OUTCOME_TEXT.get(row[9], ""),
            row[10],
            row[11],
        ]


ROWS = {
    "visits": _visit_rows,
    "unit_results": _unit_result_rows,
    "person_results": _person_result_rows,
}


# What the files and the workbook's sheets are called (Vietnamese, without diacritics in
# file names so every system keeps them).
FILE_NAMES = {
    "visits": "cuoc-kiem-tra",
    "unit_results": "ket-qua-tai-don-vi",
    "person_results": "ket-qua-tung-nguoi",
}
SHEET_NAMES = {
    "visits": "Cuộc kiểm tra",
    "unit_results": "Kết quả tại đơn vị",
    "person_results": "Kết quả từng người",
}


FORMULA_STARTS = frozenset("=+-@\t\r")


def safe_cell(value):
    """Keep spreadsheets from running a cell as a formula (=, +, -, @ at the start)."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def rows(kind: str, filters: Filters) -> Iterator[list]:
    """Return the export's rows (without the header), in a stable order, safe for spreadsheets."""
    starts = FORMULA_STARTS  # safe_cell, written out: it runs for every cell of ~400,000 rows
    for row in ROWS[kind](filters):
        yield [
            "'" + value if value.__class__ is str and value[:1] in starts else value
            for value in row
        ]


def csv_lines(kind: str, filters: Filters) -> Iterator[str]:
    """Return the export as CSV text (see csv_stream)."""
    return csv_stream(COLUMNS[kind], rows(kind, filters))


def audit_csv_lines(filters: audit.AuditFilters) -> Iterator[str]:
    """Return the audit log's selected events as CSV text in Vietnamese words (see csv_stream)."""
    with force_locale("vi"):
        names = {
            "unit_id": {u.id: u.name for u in db.session.scalars(select(Unit))},
            "items": checklist.item_names("vi"),
        }
        safe = ([safe_cell(v) for v in row] for row in audit.rows(filters, names))
        yield from csv_stream(audit.CSV_COLUMNS, safe)


# The text handed to the server at once: a year's export is ~400,000 rows, and a write
# to the socket per row took most of its time.
CHUNK_CHARS = 64 * 1024


def csv_stream(header: list[str], rows: Iterator[list]) -> Iterator[str]:
    """CSV text in chunks of whole lines, UTF-8 with a BOM so Excel reads the Vietnamese
    right. The header comes at once, so the download starts before the first query ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    rows = iter(rows)
    while batch := list(itertools.islice(rows, 500)):
        writer.writerows(batch)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            db.session.expunge_all()  # keep the session's identity map from growing
    if buffer.tell():
        yield buffer.getvalue()


def xlsx_file(kind: str, filters: Filters, target) -> None:
    """Write the export as an XLSX workbook (write-only mode) to a binary file object."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAMES[kind])
    sheet.append(COLUMNS[kind])
    for n, row in enumerate(rows(kind, filters), 1):
        sheet.append(row)
        if n % BATCH == 0:
            db.session.expunge_all()
    workbook.save(target)
