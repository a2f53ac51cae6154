"""The audit log's filters (a GET form: no CSRF, bookmarkable)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms.base import FilterForm, within_supported_dates
from inspection.labels import action_label, object_label


class AuditFilters(FilterForm):
    action = SelectField(_l("Action"), validators=[Optional()])
    username = StringField(_l("Account"), validators=[Optional(), Length(max=64)])
    object_type = SelectField(_l("Object"), validators=[Optional()])
    object_id = StringField(_l("Object number"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional(), within_supported_dates])
    date_to = DateField(_l("To"), validators=[Optional(), within_supported_dates])

    def __init__(self, formdata, actions=(), object_types=()):
        super().__init__(formdata)
        self.action.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(a, action_label(a)) for a in actions
        ]
        self.object_type.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(t, object_label(t)) for t in object_types
        ]
