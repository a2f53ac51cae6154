"""Login, password and account forms."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import Form, strip


class LoginForm(Form):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        filters=[strip],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(Form):
    """A button-only form: its CSRF token is all it carries."""


class CodeForm(Form):
    """The second step of a login, and the confirmation of a new authenticator app."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        filters=[strip],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "autofocus": True,
            "spellcheck": "false",
        },
    )


class PasswordCheckForm(Form):
    """Asks for the password again before a change to the second factor."""

    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class MailForm(Form):
    """The language of the account's emails and the kinds it receives (ticked: on)."""

    language = SelectField(
        _l("Language of the emails"), choices=[("vi", "Tiếng Việt"), ("en", "English")]
    )
    on = SelectMultipleField(
        _l("Send me an email when"),
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        render_kw={"class": "choices"},
    )

    def __init__(self, *args, user, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.on.choices = kinds
        if not self.is_submitted():
            self.language.data = user.language
            off = user.mail_off.split()
            self.on.data = [kind for kind, _label in kinds if kind not in off]

    def off(self) -> list[str]:
        return [kind for kind, _label in self.on.choices if kind not in (self.on.data or [])]
