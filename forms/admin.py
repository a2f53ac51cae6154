"""Administrator forms: organisation settings, units, staff, users, checklist items."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import Form, LocalDecimalField, optional_text, strip
from inspection.labels import MESSAGE_EVENTS, applies_choices, choices
from inspection.models import (
    AnswerType,
    ChecklistItem,
    ItemCategory,
    ItemScope,
    Role,
    StaffCategory,
    UnitKind,
)
from inspection.services.checklist import condition_text
from inspection.services.webhooks import EVENTS as WEBHOOK_EVENTS


class SealForm(Form):
    image = FileField(
        _l("Seal image (PNG on a transparent background)"),
        validators=[FileRequired(), FileAllowed(["png"], _l("Choose a PNG image."))],
    )
    diameter_mm = LocalDecimalField(
        _l("Real diameter of the seal (mm)"),
        validators=[InputRequired()],
        low=Decimal(20),
        high=Decimal(60),
        message=_l("Enter a diameter from 20 to 60 mm."),
    )


class SettingsForm(Form):
    org_name = StringField(
        _l("Organisation name"), validators=[DataRequired(), Length(max=200)], filters=[strip]
    )
    parent_body = StringField(
        _l("Parent body (top left of the minutes, capitals)"),
        validators=[DataRequired(), Length(max=200)],
        filters=[strip],
    )
    issuing_body = StringField(
        _l("Issuing body (bold, under the parent body)"),
        validators=[DataRequired(), Length(max=200)],
        filters=[strip],
    )
    issuing_abbr = StringField(
        _l("Abbreviation in minutes numbers (07/BB-…)"),
        validators=[DataRequired(), Length(max=20), Regexp(r"^[^\s/]+$")],
        filters=[strip],
    )
    office_name = optional_text(_l("Reviewing office"), 200, filters=[strip])
    place_name = StringField(
        _l("Place name on the date line"),
        validators=[DataRequired(), Length(max=100)],
        filters=[strip],
    )
    legal_basis = TextAreaField(
        _l("Legal basis (decision setting up the team, inspection plan)"),
        validators=[Optional(), Length(max=4000)],
        filters=[strip],
    )
    require_second_factor = BooleanField(
        _l("Office and administrator accounts must use two-step verification")
    )


class UnitForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32), Regexp(r"^[A-Za-z0-9_-]+$")],
        filters=[strip],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    kind = SelectField(_l("Kind"), choices=choices(UnitKind), validators=[DataRequired()])
    address = optional_text(_l("Address"), 300, filters=[strip])
    has_one_stop = BooleanField(_l("Has a one-stop desk (bộ phận một cửa)"))
    active = BooleanField(_l("Active"), default=True)


class StaffForm(Form):
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[strip]
    )
    position = optional_text(_l("Position"), 120, filters=[strip])
    category = SelectField(
        _l("Category"), choices=choices(StaffCategory), validators=[DataRequired()]
    )
    badge_no = optional_text(_l("Badge number"), 32, filters=[strip])
    active = BooleanField(_l("On the roster"), default=True)


class UserForm(Form):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64)],
        filters=[strip],
        render_kw={"autocapitalize": "none", "autocomplete": "off"},
    )
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[strip]
    )
    position = optional_text(_l("Position"), 120, filters=[strip])
    email = optional_text(
        _l("Email (where the account is told what needs it)"),
        254,
        filters=[strip],
        render_kw={"type": "email", "autocomplete": "off", "inputmode": "email"},
    )
    role = SelectField(_l("Role"), choices=choices(Role), validators=[DataRequired()])
    unit_id = SelectField(_l("Unit (for unit accounts)"), coerce=int, validators=[Optional()])
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(0, "—")] + [SelectChoice(u.id, u.name) for u in units]

    @property
    def unit_value(self) -> int | None:
        return self.unit_id.data or None


def _applies_field(label):
    return SelectMultipleField(
        label,
        choices=applies_choices(),
        validators=[Optional()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        render_kw={"class": "choices"},  # rows a finger can tap
    )


class ChecklistItemForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32), Regexp(r"^[A-Za-z0-9_-]+$")],
        filters=[strip],
    )
    category = SelectField(_l("Category"), choices=choices(ItemCategory))
    scope = SelectField(_l("Asked"), choices=choices(ItemScope))
    label_vi = TextAreaField(
        _l("Label (Vietnamese)"), validators=[DataRequired(), Length(max=500)], filters=[strip]
    )
    label_en = TextAreaField(
        _l("Label (English, optional: the Vietnamese one is shown instead)"),
        validators=[Optional(), Length(max=500)],
        filters=[strip],
    )
    short_label_vi = optional_text(_l("Short label on person cards (Vietnamese)"), 60)
    short_label_en = optional_text(_l("Short label on person cards (English)"), 60)
    legal_basis = TextAreaField(
        _l("Legal basis"), validators=[Optional(), Length(max=1000)], filters=[strip]
    )
    position = IntegerField(
        _l("Position in the list"), validators=[Optional(), NumberRange(min=1, max=500)]
    )
    required = BooleanField(_l("Required"), default=True)
    number_label_vi = optional_text(_l("Also record a number: label (Vietnamese)"), 120)
    number_label_en = optional_text(_l("Also record a number: label (English)"), 120)
    answer_type = SelectField(_l("Answer"), choices=choices(AnswerType), default="outcome")
    choices = TextAreaField(
        _l("The answers to choose from, one per line (for “one of a list”)"),
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
    )
    number_unit = optional_text(_l("Unit of the number (for “number”: %, hồ sơ, người)"), 30)
    number_min = LocalDecimalField(_l("The number's lowest value"), validators=[Optional()])
    number_max = LocalDecimalField(_l("The number's highest value"), validators=[Optional()])
    applies_to = _applies_field(_l("Asked only of (none ticked: every unit the checklist is for)"))
    ask_when = optional_text(
        _l("Asked only after another unit item's answer: CODE = answer (OSS-OVERDUE = Vi phạm)"),
        200,
        filters=[strip],
    )
    note = optional_text(_l("Why this change (kept with the version)"), 300, filters=[strip])

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        if obj is not None and not self.is_submitted():
            self.applies_to.data = obj.applies_to.split()
            self.ask_when.data = condition_text(obj)  # as people write it: "= Vi phạm"

    def validate_number_max(self, field):
        low, high = self.number_min.data, field.data
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("The highest value is below the lowest."))

    def item(self) -> dict:
        """Return the item as plain data for the checklist service."""
        data = {name: self[name].data for name in ChecklistItem.EDITABLE_FIELDS}
        for name in ("short_label_vi", "short_label_en", "number_label_vi", "number_label_en"):
            data[name] = self[name].data or None
        data["applies_to"] = " ".join(self.applies_to.data or [])
        # A field left out of a post is None, not empty: the English label is optional.
        for name in ("label_en", "legal_basis", "choices", "number_unit", "ask_when"):
            data[name] = self[name].data or ""
        return data


class ChecklistTemplateForm(Form):
    """A checklist's name and the units it is for (its items change through versions)."""

    name = StringField(
        _l("Name (Vietnamese)"), validators=[DataRequired(), Length(max=200)], filters=[strip]
    )
    name_en = optional_text(_l("Name (English, optional)"), 200, filters=[strip])
    applies_to = _applies_field(_l("For (none ticked: every unit)"))
    active = BooleanField(_l("In use (a retired checklist is asked on no new visit)"), default=True)

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        if obj is not None and not self.is_submitted():
            self.applies_to.data = obj.applies_to.split()

    def applies_text(self) -> str:
        return " ".join(self.applies_to.data or [])


def _sheet_field():
    return FileField(
        _l("Spreadsheet (.xlsx)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["xlsx"], _l("Upload an .xlsx file.")),
        ],
    )


class ChecklistImportForm(Form):
    """A spreadsheet that becomes a checklist's next version."""

    file = _sheet_field()
    note = optional_text(_l("Why this change (kept with the version)"), 300, filters=[strip])


class NewChecklistForm(ChecklistTemplateForm):
    """A new checklist: its code and names, the units it is for, and its items as a sheet."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32), Regexp(r"^[A-Za-z0-9_-]+$")],
        filters=[strip],
    )
    file = _sheet_field()


class WebhookForm(Form):
    """An endpoint that receives events, and which ones."""

    url = StringField(
        _l("Address (https://…)"),
        validators=[DataRequired(), Length(max=2000)],
        filters=[strip],
        render_kw={"inputmode": "url", "autocapitalize": "none", "spellcheck": "false"},
    )
    events = SelectMultipleField(
        _l("Events"),
        validators=[DataRequired(_l("Choose at least one event."))],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        render_kw={"class": "choices"},
    )
    description = optional_text(_l("Description (optional)"), 200, filters=[strip])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [
            SelectChoice(code, f"{MESSAGE_EVENTS[code]} ({code})") for code in WEBHOOK_EVENTS
        ]
