"""Languages (Vietnamese by default, English a tap away) and Vietnamese formatting."""

import re
import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_decimal, get_locale

from inspection.config import Config
from inspection.extensions import babel

# Việt Nam has one time zone and no daylight saving time: every local date and time (the
# minutes, the figures by month, the exports, SQL's month of a visit) is in this one.
LOCAL_TZ = ZoneInfo(Config.BABEL_DEFAULT_TIMEZONE)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # the dates the app works with
# The zone's offset, for SQL that groups by local month (no daylight saving time to follow).
UTC_OFFSET_HOURS = int(LOCAL_TZ.utcoffset(datetime(2000, 1, 1)).total_seconds() // 3600)


def select_locale() -> str:
    """Return the language chosen in this session, else Vietnamese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]  # commands and background work speak Vietnamese
    lang = session.get("lang")
    if lang in languages:
        return lang
    # A bearer API client may ask for English with Accept-Language; pages default to vi.
    if request.blueprint == "api":
        return request.accept_languages.best_match(languages) or languages[0]
    return languages[0]


def local_today() -> date:
    """Today's date in the organisation's time zone (the server's clock may run on UTC)."""
    return datetime.now(LOCAL_TZ).date()


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the organisation's time zone (aware)."""
    return datetime.combine(day, time.min, LOCAL_TZ)


def local(value: datetime) -> datetime:
    """Return ``value`` (aware, UTC) in the organisation's time zone."""
    return value.astimezone(LOCAL_TZ)


def format_date_vn(value: date | datetime | None) -> str:
    """05/10/2018 in both languages: the form every Vietnamese office writes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")


def format_datetime_vn(value: datetime | None) -> str:
    """09:41 05/10/2018 in the organisation's time zone."""
    if value is None:
        return ""
    return local(value).strftime("%H:%M %d/%m/%Y")


def format_number(value) -> str:
    """1.300 and 97,5 in Vietnamese; 1,300 and 97.5 in English."""
    if value is None:
        return ""
    return format_decimal(value)


# Two decimals at most: "1.000" is a thousand to a Vietnamese reader and one to an
# English one, so a group of three after the separator is refused, not guessed.
# Bidirectional controls (U+202A-U+202E, U+2066-U+2069) reverse text in a PDF or a page:
# "cán bộ" could print as a different name. They have no place in names or notes; nor
# has NUL, which a spreadsheet cell may hold and PostgreSQL cannot store.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\x00]")


def clean_text(value: str) -> str:
    """Text as typed, without bidirectional control characters or NUL, trimmed."""
    return _BIDI.sub("", value).strip()


_DECIMAL = re.compile(r"[+-]?([0-9]+([.,][0-9]{0,2})?|[.,][0-9]{1,2})")


def parse_decimal(value) -> Decimal | None:
    """Read a number as a Vietnamese or English phone types it: "92,5" and "92.5" are 92.5.

    One decimal separator at most, either a comma or a point, and two decimals at most
    ("92,5,1", "1.300,5" and the ambiguous "1.000" are refused); ASCII digits only.
    Return None when ``value`` is not such a number; JSON numbers pass through.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u00a0", "")
    if _DECIMAL.fullmatch(text):
        return Decimal(text.replace(",", "."))
    if isinstance(value, float) and text.isascii():  # a JSON number such as 1e3
        try:
            number = Decimal(text)
        except ArithmeticError:
            return None
        return number if number.is_finite() and number == round(number, 2) else None
    return None


def format_vn_decimal(value: Decimal | float) -> str:
    """94,6 and 1.300: a number in a Vietnamese document, whatever the reader's language."""
    return babel_numbers.format_decimal(value, locale="vi")


def month_label(key: str) -> dict[str, str]:
    """A month "2026-12" as a table says it (``label``: "tháng 12/2026", "December 2026")
    and as a chart's axis tick (``tick``: "T12", "Dec")."""
    year, month = (int(part) for part in key.split("-"))
    if get_locale().language == "vi":
        return {"label": f"tháng {month}/{year}", "tick": f"T{month}"}
    first = date(year, month, 1)
    return {
        "label": babel_dates.format_date(first, "MMMM y", locale="en"),
        "tick": babel_dates.format_date(first, "MMM", locale="en"),
    }


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    from inspection.labels import (
        action_label,
        applies_text,
        event_label,
        label,
        object_label,
        request_text,
        short_label,
    )

    app.jinja_env.filters.update(
        vndate=format_date_vn,
        vndatetime=format_datetime_vn,
        number=format_number,
        label=label,
        short=short_label,
        action=action_label,
        event=event_label,
        object=object_label,
        request_text=request_text,
        applies=applies_text,
    )
    app.jinja_env.globals["get_locale"] = get_locale


def parse_client_time(value: str | None) -> datetime | None:
    """Return the phone's ISO 8601 time, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)
        return parsed.astimezone(UTC)  # a time the database can hold, or none at all
    except (ValueError, OverflowError):
        return None


def plain(text) -> str:
    """Lower-case ``text`` without Vietnamese diacritics or extra spaces, to match what
    people type (headers, categories, answers) whatever their keyboard."""
    text = unicodedata.normalize("NFD", str(text).strip().lower()).replace("đ", "d")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("_", " ").split())
