"""Signature and finalize forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forms.base import Form, strip


class SignatureForm(Form):
    """One signer: name and position typed in, the drawing sent as a PNG data URL."""

    name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[strip]
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    image = HiddenField()  # filled by the signature pad script
    refused = BooleanField(_l("The unit's representative refuses to sign"))
    reason = TextAreaField(_l("Reason for refusing"), validators=[Optional(), Length(max=2000)])


class VerifyForm(Form):
    file = FileField(
        _l("Minutes file (PDF)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["pdf"], _l("Choose a PDF file.")),
        ],
    )
