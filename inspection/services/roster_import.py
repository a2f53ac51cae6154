"""Importing a unit's roster from a CSV or XLSX file: all rows or none."""

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import clean_text, plain
from inspection.models import StaffCategory, StaffMember, Unit
from inspection.services import audit

log = logging.getLogger(__name__)


HEADERS = {
    "full_name": {"full name", "ho va ten", "ho ten", "name", "ten"},
    "position": {"position", "chuc vu", "chuc danh", "chuc vu/chuc danh"},
    "category": {"category", "loai", "phan loai", "doi tuong"},
    "badge_no": {"badge no", "badge", "so the", "so the cong chuc", "ma the"},
}
CATEGORIES = {
    "can bo": StaffCategory.CAN_BO,
    "cb": StaffCategory.CAN_BO,
    "cong chuc": StaffCategory.CONG_CHUC,
    "cc": StaffCategory.CONG_CHUC,
    "vien chuc": StaffCategory.VIEN_CHUC,
    "vc": StaffCategory.VIEN_CHUC,
    "hop dong": StaffCategory.HOP_DONG,
    "lao dong hop dong": StaffCategory.HOP_DONG,
    "ldhd": StaffCategory.HOP_DONG,
    "hd": StaffCategory.HOP_DONG,
}


# The columns as the spreadsheet names them (the report says these, not field codes).
COLUMN_NAMES = {
    "full_name": _l("Full name"),
    "position": _l("Position"),
    "category": _l("Category"),
    "badge_no": _l("Badge number"),
    "file": _l("File"),
}


@dataclass
class RowError:
    row: int  # as the user sees it in the spreadsheet: the header is row 1
    field: str
    message: str

    @property
    def column(self) -> str:
        """Return the column the error is in, in the reader's language."""
        return str(COLUMN_NAMES.get(self.field, self.field))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterImportError(Exception):
    """The file was refused; ``report.errors`` says which rows and why. Nothing was saved."""

    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} errors")
        self.report = report


def _read_rows(filename: str, data: bytes) -> list[list[str]]:
    """Return the file's rows as lists of strings; raise ValueError for unreadable files."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise ValueError(str(_l("This is not a readable XLSX file."))) from exc
        sheet = workbook.worksheets[0]
        rows = [
            ["" if v is None else str(v).strip() for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
        return rows
    if filename.lower().endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(str(_l("Save the CSV file as UTF-8."))) from exc
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    raise ValueError(str(_l("Upload a .csv or .xlsx file.")))


def _map_header(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    columns, errors = {}, []
    for index, title in enumerate(header):
        for name, aliases in HEADERS.items():
            if plain(title) in aliases and name not in columns:
                columns[name] = index
    for required in ("full_name", "category"):
        if required not in columns:
            errors.append(RowError(1, required, str(_l("Column missing from the header row."))))
    return columns, errors


def parse_roster(filename: str, data: bytes, max_rows: int) -> tuple[list[dict], ImportReport]:
    """Read and validate a roster file without saving anything."""
    report = ImportReport()
    try:
        rows = _read_rows(filename, data)
    except ValueError as exc:
        report.errors.append(RowError(0, "file", str(exc)))
        return [], report
    rows = [r for r in rows if any(cell for cell in r)]
    if not rows:
        report.errors.append(RowError(0, "file", str(_l("The file is empty."))))
        return [], report
    columns, report.errors = _map_header(rows[0])
    if report.errors:
        return [], report
    if len(rows) - 1 > max_rows:
        report.errors.append(
            RowError(0, "file", str(_l("At most %(n)d rows per file.", n=max_rows)))
        )
        return [], report

    people, badges_seen = [], {}
    for number, row in enumerate(rows[1:], start=2):

        def cell(name, row=row):
            index = columns.get(name)
            return clean_text(row[index]) if index is not None and index < len(row) else ""

        person = {
            "full_name": cell("full_name"),
            "position": cell("position"),
            "badge_no": cell("badge_no") or None,
            "category": CATEGORIES.get(plain(cell("category"))),
        }
        if not person["full_name"]:
            report.errors.append(RowError(number, "full_name", str(_l("The name is empty."))))
        elif len(person["full_name"]) > 120:
            report.errors.append(RowError(number, "full_name", str(_l("The name is too long."))))
        if person["category"] is None:
            report.errors.append(
                RowError(
                    number,
                    "category",
                    str(
                        _l(
                            "Unknown category %(value)s: use cán bộ, công chức, viên chức"
                            " or hợp đồng.",
                            value=repr(cell("category")),
                        )
                    ),
                )
            )
        if badge := person["badge_no"]:
            if badge in badges_seen:
                report.errors.append(
                    RowError(
                        number,
                        "badge_no",
                        str(_l("Badge number repeats row %(row)d.", row=badges_seen[badge])),
                    )
                )
            badges_seen[badge] = number
        people.append(person)
    return people, report


def import_roster(
    actor: audit.Actor, unit: Unit, filename: str, data: bytes, max_rows: int = 2000
) -> ImportReport:
    """Add the file's people to ``unit``'s roster, updating those matched by badge number.

    Raises RosterImportError, having saved nothing, when any row is invalid.
    """
    people, report = parse_roster(filename, data, max_rows)
    if not report.ok:
        raise RosterImportError(report)
    by_badge = {
        s.badge_no: s
        for s in db.session.scalars(select(StaffMember).filter_by(unit_id=unit.id))
        if s.badge_no
    }
    for person in people:
        staff = by_badge.get(person["badge_no"]) if person["badge_no"] else None
        if staff is None:
            db.session.add(StaffMember(unit_id=unit.id, **person))
            report.created += 1
        else:
            staff.full_name, staff.position = person["full_name"], person["position"]
            staff.category, staff.active = person["category"], True
            report.updated += 1
    db.session.flush()
    audit.record(actor, "roster_imported", unit, created=report.created, updated=report.updated)
    log.info(
        "roster import into unit %s: %d new, %d updated", unit.code, report.created, report.updated
    )
    return report
