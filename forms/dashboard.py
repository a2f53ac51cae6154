"""The dashboard's filters (a GET form: no CSRF, bookmarkable)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from forms.base import FilterForm, within_supported_dates
from inspection.labels import choices
from inspection.models import UnitKind


class DashboardFilters(FilterForm):
    date_from = DateField(_l("From"), validators=[Optional(), within_supported_dates])
    date_to = DateField(_l("To"), validators=[Optional(), within_supported_dates])
    kind = SelectField(_l("Kind of unit"), validators=[Optional()])
    unit = SelectField(_l("Unit"), coerce=lambda v: int(v) if v else None, validators=[Optional()])

    def __init__(self, formdata, units=()):
        super().__init__(formdata)
        self.kind.choices = [SelectChoice("", _l("All")), *choices(UnitKind)]
        self.unit.choices = [SelectChoice("", _l("All"))] + [
            SelectChoice(u.id, u.name) for u in units
        ]
