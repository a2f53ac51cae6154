"""The office's review and decisions, and the unit's answer to a remediation request."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.base import Form, within_supported_dates
from inspection.labels import choices
from inspection.models import ReviewDecision


class ReviewForm(Form):
    decision = RadioField(
        _l("Decision"), choices=choices(ReviewDecision), validators=[InputRequired()]
    )
    item_codes = SelectMultipleField(_l("Items to fix"), validators=[Optional()])
    comment = TextAreaField(
        _l("Comment, or what the unit must fix"), validators=[Optional(), Length(max=5000)]
    )
    due = DateField(_l("Deadline for the report"), validators=[Optional(), within_supported_dates])

    def __init__(self, *args, failed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.item_codes.choices = [SelectChoice(f["code"], f["label"]) for f in failed]


class DecisionForm(Form):
    comment = TextAreaField(_l("Comment to the unit"), validators=[Optional(), Length(max=5000)])
    accept = SubmitField(_l("Accept the fix"))
    reopen = SubmitField(_l("Reopen: not fixed yet"))


class FollowUpForm(Form):
    follow_up = SelectField(_l("Follow-up visit that checked the fix"), coerce=int)

    def __init__(self, *args, visits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_up.choices = [SelectChoice(0, "—")] + [
            SelectChoice(v.id, f"#{v.id} · {v.started_at:%d/%m/%Y}") for v in visits
        ]


class ResponseForm(Form):
    response = TextAreaField(_l("What was fixed"), validators=[DataRequired(), Length(max=10000)])
    files = MultipleFileField(_l("Evidence (photos or PDF)"))


def make_request_form(items):
    """The unit's answers to a whole request: a text and files for each item still to
    answer, sent together; an item left empty is answered later."""

    class RequestForm(Form):
        def answered(self) -> list:
            """The items this post answers, with their text and files."""
            return [
                (item, self[f"r{item.id}_response"].data.strip(), self[f"r{item.id}_files"])
                for item in items
                if (self[f"r{item.id}_response"].data or "").strip()
            ]

    for item in items:
        setattr(
            RequestForm,
            f"r{item.id}_response",
            TextAreaField(_l("What was fixed"), validators=[Optional(), Length(max=10000)]),
        )
        setattr(RequestForm, f"r{item.id}_files", MultipleFileField(_l("Evidence (photos or PDF)")))
    return RequestForm
