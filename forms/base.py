"""The forms' base classes and shared field helpers."""

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form as PlainForm
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from inspection.i18n import FIRST_DAY, LAST_DAY, clean_text, format_number, parse_decimal


class _Catalogue:
    """WTForms' own messages ("This field is required.") from the app's catalogue.

    WTForms ships no Vietnamese; forms/wtforms_messages.py lists its messages for
    extraction, and inspection/translations translates them like every other string.
    """

    def gettext(self, string):
        return get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ngettext(singular, plural, n)


CATALOGUE = _Catalogue()


class Form(FlaskForm):
    """Every posted form: CSRF from Flask-WTF, messages in the user's language."""

    class Meta:
        def get_translations(self, form):
            return CATALOGUE


class FilterForm(PlainForm):
    """A GET form of filters: no CSRF, bookmarkable, messages in the user's language."""

    class Meta:
        def get_translations(self, form):
            return CATALOGUE


def within_supported_dates(form, field) -> None:
    """Refuse a date the figures cannot use (a typo such as 0001 or 9999)."""
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(str(_l("Choose a date between 2000 and 2100.")))


def optional_text(label, max_length: int, **kwargs) -> StringField:
    """Return an optional single-line text field limited to ``max_length``."""
    return StringField(label, validators=[Optional(), Length(max=max_length)], **kwargs)


def strip(value):
    """A text field's filter: trimmed, and without bidirectional controls (clean_text)."""
    return clean_text(value) if isinstance(value, str) else value


class LocalDecimalField(StringField):
    """A number typed on a phone: "92,5" and "92.5" are both 92.5 (see parse_decimal).

    Rendered as text with a decimal keypad: a vi-VN phone's ``type=number`` turns "92,5"
    into 925. ``data`` is a Decimal or None; a value outside [low, high] is refused.
    """

    def __init__(self, label=None, validators=None, *, low=None, high=None, message="", **kw):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **kw.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kw)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = parse_decimal(self.raw) if self.raw.strip() else None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_number(self.data.normalize()) if self.data is not None else ""

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0].strip() and self.data is None:
            raise ValidationError(str(self.message or _l("Enter a number, such as 92,5.")))
        too_low = self.low is not None and self.data is not None and self.data < self.low
        too_high = self.high is not None and self.data is not None and self.data > self.high
        if too_low or too_high:
            raise ValidationError(self.message)
