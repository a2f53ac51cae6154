"""The annual plan (built at runtime: four counts per unit) and scheduling a visit."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, RadioField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from forms.base import Form
from inspection.labels import choices
from inspection.models import InspectionKind


def make_plan_form(units):
    """A form with q1..q4 counts for every unit: fields u<unit id>_q<n>."""

    class PlanForm(Form):
        pass

    for unit in units:
        for n in range(1, 5):
            setattr(
                PlanForm,
                f"u{unit.id}_q{n}",
                IntegerField(f"{unit.name} Q{n}", validators=[Optional(), NumberRange(0, 99)]),
            )
    return PlanForm


class ScheduleForm(Form):
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    kind = RadioField(
        _l("Kind of visit"),
        choices=choices(InspectionKind),
        default=InspectionKind.SCHEDULED.value,
        validators=[InputRequired()],
    )
    planned_date = DateField(_l("Date"), validators=[DataRequired()])
    lead = SelectField(_l("Team lead"), coerce=int, validators=[DataRequired()])
    secretary = SelectField(_l("Secretary"), coerce=int, validators=[Optional()])
    members = SelectMultipleField(_l("Members"), coerce=int, validators=[Optional()])

    def __init__(self, *args, units=(), inspectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(u.id, u.name) for u in units]
        people = [SelectChoice(u.id, u.full_name) for u in inspectors]
        self.lead.choices = people
        self.secretary.choices = [SelectChoice(0, "—"), *people]
        self.members.choices = people
