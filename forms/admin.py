"""Administrator forms: organisation settings, units, staff, users, checklist items."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
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

from forms.base import Form, LocalDecimalField, optional_text, strip
from inspection.labels import choices
from inspection.models import ChecklistItem, ItemCategory, ItemScope, Role, StaffCategory, UnitKind


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
    number_min = LocalDecimalField(_l("The number's lowest value"), validators=[Optional()])
    number_max = LocalDecimalField(_l("The number's highest value"), validators=[Optional()])
    note = optional_text(_l("Why this change (kept with the version)"), 300, filters=[strip])

    def validate_number_max(self, field):
        low, high = self.number_min.data, field.data
        if low is not None and high is not None and high < low:
            raise ValidationError(_l("The highest value is below the lowest."))

    def item(self) -> dict:
        """Return the item as plain data for the checklist service."""
        data = {name: self[name].data for name in ChecklistItem.EDITABLE_FIELDS}
        for name in ("short_label_vi", "short_label_en", "number_label_vi", "number_label_en"):
            data[name] = self[name].data or None
        return data
