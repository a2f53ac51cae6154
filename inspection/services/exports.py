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
from sqlalchemy import Integer, String, case, func, or_, select, type_coerce
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
        select(
            Inspection.id,
            Unit.code,
            Unit.name,
            Unit.kind,
            Inspection.kind,
            Inspection.started_at,
            Inspection.ended_at,
            Minutes.number,
            Minutes.issuing_abbr,
            *[people.c[f"c{n}"] for n in range(len(counts))],
        )
        .join(visits, visits.c.id == Inspection.id)
        .join(Unit, Unit.id == Inspection.unit_id)
        .outerjoin(Minutes, Minutes.id == number)
        .outerjoin(people, people.c.id == Inspection.id)
        .order_by(Inspection.started_at, Inspection.id)
    )
    for row in _column_rows(stmt):
        yield [
            row[0],
            row[1],
            row[2],
            vietnamese(row[3]),
            KIND_TEXT[row[4].value],
            _local(row[5]),
            _local(row[6]),  # when the visit ended, not when issued
            "" if row[7] is None else Minutes.format_number(row[7], row[8]),
            *[int(f or 0) for f in row[9:]],
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


def _visit_cells(filters: Filters) -> dict[int, list]:
    """The first cells of a result row, by visit: id, date, unit code and name (guarded).

    A year is ~4,000 visits for ~400,000 person rows: formatted once per visit, not per row.
    """
    return {
        row[0]: _guarded([row[0], _local(row[1], "%d/%m/%Y"), row[2], row[3]])
        for row in db.session.execute(_results(filters))
    }


def _item_cells() -> dict[int, list]:
    """Every checklist item's code and Vietnamese wording (guarded), by id."""
    stmt = select(ChecklistItem.id, ChecklistItem.code, ChecklistItem.label_vi)
    return {row[0]: _guarded([row[1], row[2]]) for row in db.session.execute(stmt)}


def _person_result_rows(filters: Filters) -> Iterator[list]:
    """One row per person and item. Already guarded (see ``rows``): the cells that repeat
    (the visit's, the person's, the item's) are worked out once, not on each of the rows.
    """
    visit_cells, item_cells = _visit_cells(filters), _item_cells()
    visits = selected_visits(filters)
    raw = String()  # the stored values as they are: no Enum or timestamp object per cell
    stmt = (
        select(
            Inspection.id,
            PersonResult.id,
            PersonResult.full_name,
            PersonResult.position,
            type_coerce(PersonResult.attendance, raw),
            PersonResult.note,
            PersonItemResult.item_id,
            type_coerce(PersonItemResult.outcome, raw),
            PersonItemResult.note,
        )
        .join(visits, visits.c.id == Inspection.id)
        .join(PersonResult, PersonResult.inspection_id == Inspection.id)
        .join(PersonItemResult, PersonItemResult.person_result_id == PersonResult.id)
        .join(ChecklistItem, ChecklistItem.id == PersonItemResult.item_id)
        .order_by(Inspection.started_at, Inspection.id, PersonResult.id, ChecklistItem.position)
    )
    person_id, starts = None, FORMULA_STARTS
    for row in _column_rows(stmt):
        if row[1] != person_id:
            person_id = row[1]
            visit = visit_cells[row[0]]
            name, position = _guarded([row[2], row[3]])
            attendance = ATTENDANCE_TEXT.get(row[4], "")
            person_note = safe_cell(row[5])
        note = row[8]
        yield [
            *visit,
            name,
            position,
            attendance,
            *item_cells[row[6]],
            OUTCOME_TEXT.get(row[7], ""),
            "'" + note if note[:1] in starts else note,
            person_note,
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


def _guarded(cells: list) -> list:
    return [safe_cell(value) for value in cells]


# These rows come guarded: the person results are ~400,000 a year, each cell checked once.
GUARDED = {"person_results"}


def rows(kind: str, filters: Filters) -> Iterator[list]:
    """Return the export's rows (without the header), in a stable order, safe for spreadsheets."""
    if kind in GUARDED:
        return ROWS[kind](filters)
    return (_guarded(row) for row in ROWS[kind](filters))


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
        safe = (_guarded(row) for row in audit.rows(filters, names))
        yield from csv_stream(audit.CSV_COLUMNS, safe)


# The text handed to the server at once: a year's export is ~400,000 rows, and a write
# to the socket per row took most of its time. Rows go to the csv module in batches.
CHUNK_CHARS = 64 * 1024
ROWS_PER_WRITE = 500


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
    while batch := list(itertools.islice(rows, ROWS_PER_WRITE)):
        writer.writerows(batch)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def xlsx_file(kind: str, filters: Filters, target) -> None:
    """Write the export as an XLSX workbook (write-only mode) to a binary file object."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAMES[kind])
    sheet.append(COLUMNS[kind])
    for row in rows(kind, filters):
        sheet.append(row)
    workbook.save(target)
