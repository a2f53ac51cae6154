"""Shared field helpers."""

from wtforms import StringField
from wtforms.validators import Length, Optional


def optional_text(label, max_length: int, **kwargs) -> StringField:
    """Return an optional single-line text field limited to ``max_length``."""
    return StringField(label, validators=[Optional(), Length(max=max_length)], **kwargs)


def strip(value):
    return value.strip() if isinstance(value, str) else value
