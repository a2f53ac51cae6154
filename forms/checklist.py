"""Checklist forms built at runtime from a visit's checklist version and roster.

Like indico's survey forms: one field per question, so WTForms validates every choice
and re-renders what was typed when something is refused.
"""

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput

from forms.base import Form, LocalDecimalField, strip, within_supported_dates
from inspection import field_names as field
from inspection.labels import choices, label, short_label
from inspection.models import AnswerType, Attendance, InspectionKind, Outcome
from inspection.schemas import MAX_ANSWER, MAX_NOTE, MAX_TEXT
from inspection.services.results import (
    bounds_message,
    number_bounds,
    person_checks,
    unit_checks,
)


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
    # The checklists to ask; taken only when the lead changed them (``templates_chosen``),
    # else those that apply to the unit (the page's script ticks them as a unit is chosen).
    templates = SelectMultipleField(
        _l("Checklists"), validators=[Optional()], option_widget=CheckboxInput()
    )
    templates_chosen = HiddenField()
    client_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    client_time = HiddenField()  # the phone's clock, ISO 8601, filled in by the page script
    latitude = HiddenField()
    longitude = HiddenField()
    accuracy = HiddenField()

    def __init__(self, *args, units=(), inspectors=(), templates=(), locale="vi", **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = [SelectChoice(u.id, u.name) for u in units]
        self.templates.choices = [SelectChoice(t.code, t.display_name(locale)) for t in templates]
        people = [SelectChoice(u.id, u.full_name) for u in inspectors]
        self.lead.choices = people
        self.members.choices = people
        self.secretary.choices = [SelectChoice(0, _l("None")), *people]

    def chosen_templates(self) -> list[str] | None:
        """The checklists the lead chose, or None for those that apply to the unit."""
        return list(self.templates.data or []) if self.templates_chosen.data else None


class AddPersonForm(Form):
    full_name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[strip]
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    client_id = HiddenField(validators=[Optional(), Length(max=64)])


class PhotoForm(Form):
    target = HiddenField()


# Form classes already built, by their items (the per-process copies, so the same objects
# for a version), people and language: a class of ~300 fields takes milliseconds to build.
_FORM_CLASSES: dict[tuple, type] = {}
_FORM_CLASSES_KEPT = 256


def make_checklist_form(items, people, locale: str = "vi"):
    """Return a form class with a field for every answer of this visit.

    ``items`` are the visit's checklist version items; ``people`` its person results;
    labels are in ``locale``.
    """
    key = (tuple(items), tuple((p.id, p.full_name) for p in people), locale)
    form_class = _FORM_CLASSES.get(key)
    if form_class is None:
        if len(_FORM_CLASSES) >= _FORM_CLASSES_KEPT:
            _FORM_CLASSES.clear()
        form_class = _FORM_CLASSES[key] = _build_checklist_form(items, people, locale)
    return form_class


def _build_checklist_form(items, people, locale: str):
    outcome_choices = choices(Outcome)

    class ChecklistForm(Form):
        version = IntegerField(validators=[InputRequired()])
        findings = TextAreaField(_l("Other findings"), validators=[Length(max=MAX_TEXT)])
        assessment = TextAreaField(_l("Assessment"), validators=[Length(max=MAX_TEXT)])
        requests = TextAreaField(_l("Requests to the unit"), validators=[Length(max=MAX_TEXT)])
        remediation_due = DateField(
            _l("Deadline for the fixes"), validators=[Optional(), within_supported_dates]
        )
        unit_comments = TextAreaField(_l("The unit's comments"), validators=[Length(max=MAX_TEXT)])

    def outcome(label):
        return RadioField(label, choices=outcome_choices, validators=[Optional()])

    def note():
        return TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)])

    for item in unit_checks(items):
        for name, form_field in _unit_fields(item, locale):
            setattr(ChecklistForm, name, form_field)
        setattr(ChecklistForm, field.unit(item.id, "note"), note())
    checks = person_checks(items)
    for person in people:
        setattr(
            ChecklistForm,
            field.attendance(person.id),
            RadioField(person.full_name, choices=choices(Attendance), validators=[Optional()]),
        )
        setattr(ChecklistForm, field.person_note(person.id), note())
        setattr(
            ChecklistForm,
            field.arrival(person.id),
            TimeField(_l("Arrived at"), validators=[Optional()]),
        )
        for item in checks:
            setattr(
                ChecklistForm,
                field.person_item(person.id, item.id),
                outcome(item.short_label(locale)),
            )
    return ChecklistForm


def _unit_fields(item, locale: str):
    """The fields of a unit item's answer, by its type."""
    label = item.label(locale)
    if item.answer_type is AnswerType.OUTCOME:
        yield (
            field.unit(item.id),
            RadioField(label, choices=choices(Outcome), validators=[Optional()]),
        )
    if item.answer_type is AnswerType.NUMBER or item.number_label(locale):
        low, high = number_bounds(item)
        if item.answer_type is AnswerType.NUMBER:
            label = f"{label} ({item.number_unit})" if item.number_unit else label
        else:
            label = item.number_label(locale)
        yield (
            field.unit(item.id, "number"),
            LocalDecimalField(
                label, validators=[Optional()], low=low, high=high, message=bounds_message(item)
            ),
        )
    if item.answer_type is AnswerType.TEXT:
        yield (
            field.unit(item.id, "text"),
            StringField(label, validators=[Optional(), Length(max=MAX_ANSWER)]),
        )
    if item.answer_type is AnswerType.CHOICE:
        yield (
            field.unit(item.id, "text"),
            RadioField(label, choices=[(c, c) for c in item.choice_list], validators=[Optional()]),
        )


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
        data[field.unit(row.item_id)] = row.outcome.value if row.outcome else None
        data[field.unit(row.item_id, "note")] = row.note
        data[field.unit(row.item_id, "number")] = row.number_value
        data[field.unit(row.item_id, "text")] = row.text_value
    for person in inspection.people:
        data[field.attendance(person.id)] = person.attendance.value if person.attendance else None
        data[field.person_note(person.id)] = person.note
        data[field.arrival(person.id)] = person.arrived_at
        for row in person.items:
            outcome = row.outcome.value if row.outcome else None
            data[field.person_item(person.id, row.item_id)] = outcome
    return data


def form_changes(form, inspection, submitted: set[str]) -> dict:
    """Turn the submitted fields of a checklist form into the save the API takes too
    (``schemas.ResultsSave`` reads it in the service: one parse for both).

    Only fields present in the request change, as with the API's partial updates.
    """
    items = inspection.items
    changes: dict = {"version": form.version.data, "unit_items": [], "people": []}
    for item in unit_checks(items):
        name, entry = field.unit(item.id), {"code": item.code}
        if name in submitted:
            entry["outcome"] = form[name].data or None
        if field.unit(item.id, "note") in submitted:
            entry["note"] = form[field.unit(item.id, "note")].data or ""
        if field.unit(item.id, "number") in submitted:
            value = form[field.unit(item.id, "number")].data
            entry["number"] = None if value is None else str(value)
        if field.unit(item.id, "text") in submitted:
            entry["text"] = form[field.unit(item.id, "text")].data or None
        if len(entry) > 1:
            changes["unit_items"].append(entry)
    checks = person_checks(items)
    for person in inspection.people:
        entry = {"person_id": person.id, "items": []}
        if field.attendance(person.id) in submitted:
            entry["attendance"] = form[field.attendance(person.id)].data or None
        if field.person_note(person.id) in submitted:
            entry["note"] = form[field.person_note(person.id)].data or ""
        if field.arrival(person.id) in submitted:
            arrived = form[field.arrival(person.id)].data
            late = entry.get("attendance", person.attendance) == Attendance.LATE
            # The field stays in the page when someone is no longer late: it then clears.
            entry["arrived_at"] = arrived.strftime("%H:%M") if arrived and late else None
        for item in checks:
            name = field.person_item(person.id, item.id)
            if name in submitted:
                entry["items"].append({"code": item.code, "outcome": form[name].data or None})
        if len(entry) > 2 or entry["items"]:
            changes["people"].append(entry)
    for name in ("findings", "assessment", "requests", "unit_comments"):
        if name in submitted:
            changes[name] = form[name].data or ""
    if "remediation_due" in submitted:
        due = form.remediation_due.data
        changes["remediation_due"] = due
    return changes


def segmented(field, legend, css_class: str = "", legend_class: str = "") -> Markup:
    """A radio field as the page's segmented buttons: short answers, the long in a title.

    Written here rather than by a template macro or WTForms's widget: a 40-person page
    has ~250 of these, and either made the page several times slower. Every value
    written is escaped; the ids and names are the form's own.
    """
    name = escape(field.name)
    head = (
        f'<fieldset class="seg {escape(css_class)}{" has-error" if field.errors else ""}">'
        f'<legend class="{escape(legend_class)}">{escape(legend)}</legend>'
    )
    radios = "".join(
        f'<input{" checked" if value == field.data else ""} data-key="{name}"'
        f' id="{name}-{n}" name="{name}" type="radio" value="{value}">'
        f'<label for="{name}-{n}" title="{title}">{short}</label>'
        for n, (value, title, short) in enumerate(_segments(field))
    )
    errors = (
        f'<p class="error" role="alert">{escape(" ".join(map(str, field.errors)))}</p>'
        if field.errors
        else ""
    )
    return Markup(f"{head}{radios}</fieldset>{errors}")


def check_rows(form, person_id: int, checks: list[tuple[int, str]]) -> Markup:
    """A person card's checks, one segmented row each (``checks``: item id, short label):
    one call from the template per card rather than two per check."""
    return Markup("").join(
        segmented(form[field.person_item(person_id, item_id)], check_label, "outcome row",
                  "row-label")
        for item_id, check_label in checks
    )  # fmt: skip


def _segments(field) -> list[tuple[str, str, str]]:
    """(value, label, short label) of a radio field's choices, escaped, worked out once per
    request for each set of choices (the page's fields have two)."""
    values = tuple(choice.value for choice in field.choices)
    cache = g.setdefault("_segments", {}) if has_request_context() else {}
    if values not in cache:
        cache[values] = [(escape(v), escape(label(v)), escape(short_label(v))) for v in values]
    return cache[values]
