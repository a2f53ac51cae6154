"""Checklists in a spreadsheet, as ODK and KoboToolbox users author forms: a template version
exported to XLSX, and an XLSX imported as a template's next version, all rows or none.

One row per item, in the order the page asks them. The columns (Vietnamese headers; the
English ones are read too; the last five are optional):

    Mã              the item's code (BADGE-WORN)
    Nhóm            its category: Giờ giấc, Trang phục, Thẻ, Thuốc lá, ... or its code
    Phạm vi         Đơn vị (once per visit) or Từng người (for each person)
    Nội dung        what is checked, as the minutes print it
    Nội dung ngắn   the short label on the person cards
    Căn cứ pháp lý  the legal basis
    Bắt buộc        Có / Không
    Áp dụng cho     empty for every unit; else unit kinds and "Đơn vị có bộ phận một
                    cửa", separated by commas (Trường học, Đơn vị có bộ phận một cửa)
    Hỏi khi         empty, or CODE = answer: OSS-OVERDUE = Vi phạm; several answers
                    separated by | (SCH-DUTY = Ghi chép chưa đầy đủ | Không có sổ)
    Kiểu trả lời    Đạt/Vi phạm/KAD, Số, Văn bản or Chọn một
    Giá trị         for Chọn một the answers, separated by ";"; for Số (or Đạt/Vi phạm/KAD
                    with a number) its range and unit: 0..100 %
    Nội dung (tiếng Anh), Nội dung ngắn (tiếng Anh)
    Số liệu kèm theo, Số liệu kèm theo (tiếng Anh)
                    the label of the number a pass/fail item also records
"""

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from inspection.i18n import clean_text, plain
from inspection.labels import LABELS, ONE_STOP_LABEL
from inspection.models import (
    AnswerType,
    ChecklistTemplate,
    ChecklistVersion,
    ItemCategory,
    ItemScope,
    UnitKind,
)
from inspection.models.checklist import ONE_STOP
from inspection.services import audit, checklist
from inspection.services.errors import ServiceError

log = logging.getLogger(__name__)

MAX_ROWS = 500


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    required: bool = False


COLUMNS = (
    Column("code", "Mã", "Code", True),
    Column("category", "Nhóm", "Category", True),
    Column("scope", "Phạm vi", "Scope", True),
    Column("label_vi", "Nội dung", "Label", True),
    Column("short_label_vi", "Nội dung ngắn", "Short label"),
    Column("legal_basis", "Căn cứ pháp lý", "Legal basis"),
    Column("required", "Bắt buộc", "Required"),
    Column("applies_to", "Áp dụng cho", "Applies to"),
    Column("ask_when", "Hỏi khi", "Ask when"),
    Column("answer_type", "Kiểu trả lời", "Answer type"),
    Column("values", "Giá trị", "Values"),
    Column("label_en", "Nội dung (tiếng Anh)", "Label (English)"),
    Column("short_label_en", "Nội dung ngắn (tiếng Anh)", "Short label (English)"),
    Column("number_label_vi", "Số liệu kèm theo", "Number label"),
    Column("number_label_en", "Số liệu kèm theo (tiếng Anh)", "Number label (English)"),
)
BY_KEY = {c.key: c for c in COLUMNS}

SCOPES = {ItemScope.UNIT: "Đơn vị", ItemScope.PERSON: "Từng người"}
ANSWER_TYPES = {
    AnswerType.OUTCOME: "Đạt/Vi phạm/KAD",
    AnswerType.NUMBER: "Số",
    AnswerType.TEXT: "Văn bản",
    AnswerType.CHOICE: "Chọn một",
}
YES, NO = "Có", "Không"


def _vietnamese(member) -> str:
    with force_locale("vi"):
        return str(LABELS[member])


def _english(member) -> str:
    with force_locale("en"):
        return str(LABELS[member])


def _names(members, written: dict | None = None) -> dict[str, object]:
    """What a cell may say for each member: its code, its Vietnamese and English labels."""
    found = {}
    for member in members:
        for text in (
            member.value,
            _vietnamese(member),
            _english(member),
            (written or {}).get(member),
        ):
            if text:
                found.setdefault(plain(text), member)
    return found


def _applies_names() -> dict[str, str]:
    found = {k: m.value for k, m in _names(UnitKind).items()}
    for text in (ONE_STOP, "Có bộ phận một cửa", "bộ phận một cửa", "một cửa", "one-stop"):
        found[plain(text)] = ONE_STOP
    with force_locale("vi"):
        found[plain(str(ONE_STOP_LABEL))] = ONE_STOP
    with force_locale("en"):
        found[plain(str(ONE_STOP_LABEL))] = ONE_STOP
    return found


# ---- export ----


def _applies_cell(applies_to: str) -> str:
    words = []
    for word in applies_to.split():
        if word == ONE_STOP:
            with force_locale("vi"):
                words.append(str(ONE_STOP_LABEL))
        else:
            words.append(_vietnamese(UnitKind(word)))
    return ", ".join(words)


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _values_cell(item) -> str:
    if item.answer_type is AnswerType.CHOICE:
        return "; ".join(item.choice_list)
    if item.answer_type is AnswerType.NUMBER or item.number_label_vi:
        low, high = _number(item.number_min), _number(item.number_max)
        span = f"{low}..{high}" if low or high else ""
        return " ".join(filter(None, [span, item.number_unit]))
    return ""


def row_of(item) -> dict[str, str]:
    """An item as its spreadsheet row, by column key."""
    return {
        "code": item.code,
        "category": _vietnamese(item.category),
        "scope": SCOPES[item.scope],
        "label_vi": item.label_vi,
        "short_label_vi": item.short_label_vi or "",
        "legal_basis": item.legal_basis,
        "required": YES if item.required else NO,
        "applies_to": _applies_cell(item.applies_to),
        "ask_when": checklist.condition_text(item),
        "answer_type": ANSWER_TYPES[item.answer_type],
        "values": _values_cell(item),
        "label_en": item.label_en or "",
        "short_label_en": item.short_label_en or "",
        "number_label_vi": item.number_label_vi or "",
        "number_label_en": item.number_label_en or "",
    }


def export_version(version: ChecklistVersion) -> bytes:
    """Return a version as an XLSX workbook: a header row, then one row per item."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = version.template.code[:31]
    sheet.append([c.vi for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for item in version.items:
        row = row_of(item)
        sheet.append([row[c.key] for c in COLUMNS])
    widths = {"label_vi": 60, "label_en": 50, "legal_basis": 40, "ask_when": 30, "values": 30}
    for index, column in enumerate(COLUMNS, 1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = widths.get(column.key, 18)
        if column.key in widths:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    # Drop-down lists where a cell takes one of a few words.
    for key, words in (
        ("scope", SCOPES.values()),
        ("required", (YES, NO)),
        ("answer_type", ANSWER_TYPES.values()),
        ("category", [_vietnamese(c) for c in ItemCategory]),
    ):
        index = [c.key for c in COLUMNS].index(key) + 1
        letter = sheet.cell(row=1, column=index).column_letter
        check = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True)
        check.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        sheet.add_data_validation(check)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(version: ChecklistVersion) -> str:
    return f"{version.template.code.lower()}-v{version.number}.xlsx"


# ---- import ----


@dataclass
class SheetError:
    row: int  # as the spreadsheet numbers it: the header is row 1; 0 for the whole file
    column: str
    message: str


@dataclass
class SheetReport:
    items: list[dict] = field(default_factory=list)
    errors: list[SheetError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class SheetImportError(Exception):
    """The file was refused; ``report.errors`` lists every problem by row. Nothing was saved."""

    def __init__(self, report: SheetReport):
        super().__init__(f"{len(report.errors)} errors")
        self.report = report


def _rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise ValueError(str(_l("This is not a readable XLSX file."))) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in row])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(str(value)).strip()


def _header(row: list[str], report: SheetReport) -> dict[str, int]:
    names = {}
    for column in COLUMNS:
        for text in (column.vi, column.en, column.key):
            names.setdefault(plain(text), column.key)
    columns = {}
    for index, title in enumerate(row):
        key = names.get(plain(title))
        if key and key not in columns:
            columns[key] = index
    for column in COLUMNS:
        if column.required and column.key not in columns:
            report.errors.append(
                SheetError(1, column.vi, str(_l("Column missing from the header row.")))
            )
    return columns


RANGE = re.compile(r"^\s*(-?[\d.,]+)?\s*(?:\.\.|–|—|-(?=\s*\d))\s*(-?[\d.,]+)?\s*(.*)$")


def _decimal(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


class _Row:
    """One spreadsheet row being read into an item; problems go to the report."""

    def __init__(self, number: int, cells: dict[str, str], report: SheetReport, lookups: dict):
        self.number, self.cells, self.report, self.lookups = number, cells, report, lookups

    def fail(self, key: str, message) -> None:
        self.report.errors.append(SheetError(self.number, BY_KEY[key].vi, str(message)))

    def member(self, key: str, default=None):
        text = self.cells.get(key, "")
        if not text:
            if default is None:
                self.fail(key, _l("Empty."))
            return default
        found = self.lookups[key].get(plain(text))
        if found is None:
            self.fail(key, _l("Unknown value %(value)s.", value=repr(text)))
        return found

    def text(self, key: str, limit: int) -> str:
        value = self.cells.get(key, "")
        if len(value) > limit:
            self.fail(key, _l("At most %(n)d characters.", n=limit))
        return value[:limit]

    def item(self) -> dict:
        code = self.cells.get("code", "").upper()
        if not re.fullmatch(r"[A-Z0-9_-]{1,32}", code):
            self.fail("code", _l("Use 1 to 32 letters, digits, - or _ (SMOKE-SIGN)."))
        label = self.text("label_vi", 500)
        if not label:
            self.fail("label_vi", _l("Empty."))
        answer = self.member("answer_type", AnswerType.OUTCOME)
        item = {
            "code": code,
            "category": self.member("category"),
            "scope": self.member("scope"),
            "label_vi": label,
            "label_en": self.text("label_en", 500),
            "short_label_vi": self.text("short_label_vi", 60) or None,
            "short_label_en": self.text("short_label_en", 60) or None,
            "legal_basis": self.text("legal_basis", 1000),
            "required": self.member("required", True),
            "answer_type": answer,
            "applies_to": self.applies_to(),
            "ask_when": self.condition(),
            "number_label_vi": self.text("number_label_vi", 120) or None,
            "number_label_en": self.text("number_label_en", 120) or None,
            "choices": "",
            "number_unit": "",
            "number_min": None,
            "number_max": None,
        }
        self.values(item, answer)
        return item

    def applies_to(self) -> str:
        words = []
        for part in re.split(r"[,;]", self.cells.get("applies_to", "")):
            if not part.strip():
                continue
            word = self.lookups["applies_to"].get(plain(part))
            if word is None:
                self.fail(
                    "applies_to", _l("Unknown unit kind %(value)s.", value=repr(part.strip()))
                )
            elif word not in words:
                words.append(word)
        return " ".join(words)

    def condition(self) -> str:
        """The trigger as written (the checklist service reads its answers, knowing the
        trigger's type); ";" separates answers too."""
        return self.cells.get("ask_when", "").replace(";", "|")

    def values(self, item: dict, answer) -> None:
        text = self.cells.get("values", "")
        if answer is AnswerType.CHOICE:
            item["choices"] = "\n".join(c.strip() for c in text.split(";") if c.strip())
            return
        if not text:
            return
        if answer is not AnswerType.NUMBER and not item["number_label_vi"]:
            self.fail("values", _l("Only a number or a choice takes values."))
            return
        match = RANGE.match(text)
        low, high = (_decimal(match.group(1)), _decimal(match.group(2))) if match else (None, None)
        if match is None or (match.group(1) and low is None) or (match.group(2) and high is None):
            item["number_unit"] = text[:30]  # a unit alone: "hồ sơ"
            if re.search(r"\d", text):
                self.fail("values", _l("Write the range as 0..100, then the unit."))
            return
        item["number_min"], item["number_max"] = low, high
        item["number_unit"] = match.group(3).strip()[:30]


def _lookups() -> dict:
    return {
        "category": _names(ItemCategory),
        "scope": _names(ItemScope, SCOPES) | {"unit": ItemScope.UNIT, "person": ItemScope.PERSON},
        "answer_type": _names(AnswerType, ANSWER_TYPES)
        | {plain(t): m for m, t in ANSWER_TYPES.items()}
        | {"dat": AnswerType.OUTCOME, "so": AnswerType.NUMBER, "chon": AnswerType.CHOICE},
        "required": {plain(w): True for w in (YES, "x", "yes", "true", "1", "bắt buộc")}
        | {plain(w): False for w in (NO, "no", "false", "0", "tùy chọn")},
        "applies_to": _applies_names(),
    }


def read_sheet(data: bytes, template: ChecklistTemplate | None) -> SheetReport:
    """Read and check a spreadsheet without saving anything."""
    report = SheetReport()
    try:
        rows = _rows(data)
    except ValueError as exc:
        report.errors.append(SheetError(0, "", str(exc)))
        return report
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        report.errors.append(SheetError(0, "", str(_l("The file is empty."))))
        return report
    columns = _header(rows[0], report)
    if report.errors:
        return report
    if len(rows) - 1 > MAX_ROWS:
        report.errors.append(SheetError(0, "", str(_l("At most %(n)d rows per file.", n=MAX_ROWS))))
        return report
    lookups, numbers = _lookups(), []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cells):
            continue
        values = {k: cells[i] if i < len(cells) else "" for k, i in columns.items()}
        report.items.append(_Row(number, values, report, lookups).item())
        numbers.append(number)
    if not report.items:
        report.errors.append(SheetError(0, "", str(_l("A checklist needs at least one item."))))
        return report
    # The rules between items too, in the same pass: every problem is listed at once.
    taken = checklist.codes_elsewhere(template)
    for index, problems in checklist.item_problems(report.items, taken).items():
        for name, problem in problems:
            column = BY_KEY[SHEET_COLUMN.get(name, name)].vi
            report.errors.append(SheetError(numbers[index], column, problem))
    report.errors.sort(key=lambda e: e.row)
    return report


# The column of an item's field, for the rules between items.
SHEET_COLUMN = {"choices": "values", "number_max": "values"}


def import_version(
    actor: audit.Actor, template: ChecklistTemplate, data: bytes, note: str = ""
) -> ChecklistVersion:
    """Make the sheet the template's next version. Raises SheetImportError, having saved
    nothing, when any row has a problem."""
    report = read_sheet(data, template)
    latest = checklist.latest_version(template)
    if report.ok and latest is not None and _same(report.items, latest):
        report.errors.append(
            SheetError(
                0,
                "",
                str(_l("The file is the same as version %(n)d: nothing changed.", n=latest.number)),
            )
        )
    if not report.ok:
        raise SheetImportError(report)
    version = checklist.create_version(
        actor, template, report.items, note=note or str(_l("Imported from a spreadsheet"))
    )
    log.info(
        "checklist %s v%d imported: %d items", template.code, version.number, len(report.items)
    )
    return version


def _same(items: list[dict], version: ChecklistVersion) -> bool:
    """Whether the sheet's items are the version's, field by field and in order."""
    kept = [checklist.item_data(i) for i in version.items]
    if len(kept) != len(items):
        return False
    for new, old in zip(checklist.normalized(items), kept, strict=True):
        for name, value in old.items():
            if name != "position" and (new.get(name) or None) != (value or None):
                return False
    return True


def import_template(
    actor: audit.Actor,
    data: bytes,
    *,
    code: str,
    name: str,
    name_en: str = "",
    applies_to: str = "",
) -> ChecklistTemplate:
    """Create a template whose first version is the sheet's items."""
    if checklist.template_by_code(code) is not None:
        raise ServiceError(
            str(_l("The checklist was not saved.")), {"code": str(_l("This code is already used."))}
        )
    report = read_sheet(data, None)
    if not report.ok:
        raise SheetImportError(report)
    return checklist.create_template(actor, code, name, report.items, applies_to, name_en)
