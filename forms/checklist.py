"""Checklist forms built at runtime from a visit's checklist version and roster.

Like indico's survey forms: one field per question, so WTForms validates every choice
and re-renders what was typed when something is refused.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.base import Form, LocalDecimalField, strip
from inspection.labels import choices
from inspection.models import Attendance, InspectionKind, Outcome
from inspection.schemas import MAX_NOTE, MAX_TEXT
from inspection.services.results import (
    bounds_message,
    number_bounds,
    person_checks,
    unit_checks,
)


def unit_field(item) -> str:
    return f"u_{item.id}"


def person_field(person, item=None) -> str:
    return f"p_{person.id}_{item.id}" if item else f"p_{person.id}_att"


class StartForm(Form):
    """Start a visit: the unit, its kind, the team, the phone's time and position."""

    unit_id = RadioField(_l("Unit"), coerce=int, validators=[InputRequired()])
    kind = RadioField(
        _l("Kind of visit"),
        choices=choices(InspectionKind),
        default=InspectionKind.SURPRISE.value,
        validators=[InputRequired()],
    )
    lead = RadioField(_l("Team lead"), coerce=int, validators=[InputRequired()])
    members = SelectMultipleField(_l("Members"), coerce=int, validators=[Optional()])
    secretary = RadioField(_l("Secretary"), coerce=int, validators=[Optional()])
    client_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    client_time = HiddenField()  # the phone's clock, ISO 8601, filled in by the page script
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()

    def __init__(self, *args, units=(), inspectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(u.id, u.name) for u in units]
        people = [SelectChoice(u.id, u.full_name) for u in inspectors]
        self.lead.choices = people
        self.members.choices = people
        self.secretary.choices = [SelectChoice(0, _l("None")), *people]


class AddPersonForm(Form):
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[strip]
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    client_id = HiddenField(validators=[Optional(), Length(max=64)])


class PhotoForm(Form):
    target = HiddenField()


def make_checklist_form(items, people, locale: str = "vi"):
    """Return a form class with a field for every answer of this visit.

    ``items`` are the visit's checklist version items; ``people`` its person results;
    labels are in ``locale``.
    """
    outcome_choices = choices(Outcome)

    class ChecklistForm(Form):
        version = IntegerField(validators=[InputRequired()])
        findings = TextAreaField(_l("Other findings"), validators=[Length(max=MAX_TEXT)])
        assessment = TextAreaField(_l("Assessment"), validators=[Length(max=MAX_TEXT)])
        requests = TextAreaField(_l("Requests to the unit"), validators=[Length(max=MAX_TEXT)])
        remediation_due = DateField(_l("Deadline for the fixes"), validators=[Optional()])
        unit_comments = TextAreaField(_l("The unit's comments"), validators=[Length(max=MAX_TEXT)])

    def outcome(label):
        return RadioField(label, choices=outcome_choices, validators=[Optional()])

    def note():
        return TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])

    for item in unit_checks(items):
        name = unit_field(item)
        setattr(ChecklistForm, name, outcome(item.label(locale)))
        setattr(ChecklistForm, f"{name}_note", note())
        if number_label := item.number_label(locale):
            setattr(
                ChecklistForm,
                f"{name}_number",
                LocalDecimalField(
                    number_label,
                    validators=[Optional()],
                    low=number_bounds(item)[0],
                    high=number_bounds(item)[1],
                    message=bounds_message(item),
                ),
            )
    checks = person_checks(items)
    for person in people:
        setattr(
            ChecklistForm,
            person_field(person),
            RadioField(person.full_name, choices=choices(Attendance), validators=[Optional()]),
        )
        setattr(ChecklistForm, f"p_{person.id}_note", note())
        for item in checks:
            setattr(ChecklistForm, person_field(person, item), outcome(item.short_label(locale)))
    return ChecklistForm


def form_data(inspection) -> dict:
    """Return the saved answers keyed by field name, to fill the form."""
    data = {
        name: getattr(inspection, name)
        for name in (
            "version",
            "findings",
            "assessment",
            "requests",
            "remediation_due",
            "unit_comments",
        )
    }
    for row in inspection.unit_results:
        name = f"u_{row.item_id}"
        data[name] = row.outcome.value if row.outcome else None
        data[f"{name}_note"] = row.note
        data[f"{name}_number"] = row.number_value
    for person in inspection.people:
        data[f"p_{person.id}_att"] = person.attendance.value if person.attendance else None
        data[f"p_{person.id}_note"] = person.note
        for row in person.items:
            data[f"p_{person.id}_{row.item_id}"] = row.outcome.value if row.outcome else None
    return data


def form_changes(form, inspection, submitted: set[str]) -> dict:
    """Turn the submitted fields of a checklist form into the save the API takes too
    (``schemas.ResultsSave`` reads it in the service: one parse for both).

    Only fields present in the request change, as with the API's partial updates.
    """
    items = inspection.checklist_version.items
    changes: dict = {"version": form.version.data, "unit_items": [], "people": []}
    for item in unit_checks(items):
        name, entry = unit_field(item), {"code": item.code}
        if name in submitted:
            entry["outcome"] = form[name].data or None
        if f"{name}_note" in submitted:
            entry["note"] = form[f"{name}_note"].data or ""
        if f"{name}_number" in submitted:
            value = form[f"{name}_number"].data
            entry["number"] = None if value is None else str(value)
        if len(entry) > 1:
            changes["unit_items"].append(entry)
    checks = person_checks(items)
    for person in inspection.people:
        entry = {"person_id": person.id, "items": []}
        if person_field(person) in submitted:
            entry["attendance"] = form[person_field(person)].data or None
        if f"p_{person.id}_note" in submitted:
            entry["note"] = form[f"p_{person.id}_note"].data or ""
        for item in checks:
            if person_field(person, item) in submitted:
                entry["items"].append(
                    {"code": item.code, "outcome": form[person_field(person, item)].data or None}
                )
        if len(entry) > 2 or entry["items"]:
            changes["people"].append(entry)
    for name in ("findings", "assessment", "requests", "unit_comments"):
        if name in submitted:
            changes[name] = form[name].data or ""
    if "remediation_due" in submitted:
        due = form.remediation_due.data
        changes["remediation_due"] = due
    return changes
