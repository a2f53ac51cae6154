"""Checklist forms are built from the visit's own checklist version and roster."""

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from forms.checklist import form_changes, form_data, make_checklist_form
from inspection.extensions import db
from inspection.models import Inspection, InspectionKind
from inspection.services import checklist, results, visits
from inspection.services.audit import SYSTEM
from tests import factories


def _visit(code="PNV") -> Inspection:
    from inspection.models import Unit

    unit = db.session.scalar(select(Unit).filter_by(code=code))
    lead = factories.demo_user("truongdoan")
    inspection, _ = visits.start_inspection(
        SYSTEM, lead, unit_id=unit.id, kind=InspectionKind.SURPRISE, client_id=code
    )
    return inspection


def _fields(form_class) -> set[str]:
    with_csrf = form_class(meta={"csrf": False})
    return {field.name for field in with_csrf}


def test_form_has_a_field_per_answer(app):
    with app.test_request_context():
        inspection = _visit()
        items = inspection.items
        names = _fields(make_checklist_form(items, inspection.people))
        unit_items = [i for i in items if i.scope == "unit"]
        assert {f"u_{i.id}" for i in unit_items} <= names
        # A department has no one-stop desk: none of its items, none of their numbers.
        assert not any(i.code.startswith("OSS-") for i in items)
        assert not {n for n in names if n.endswith(("_number", "_text"))}
        person = inspection.people[0]
        per_person = {n for n in names if n.startswith(f"p_{person.id}_")}
        # attendance, arrival time, note, and the four checks (ATT-PRESENT from attendance)
        assert len(per_person) == 3 + 4
        assert len(inspection.people) == 8

        centre = _visit("TTHCC")
        items = {i.code: i for i in centre.items}
        names = _fields(make_checklist_form(centre.items, []))
        numbers = {n for n in names if n.endswith("_number")}
        assert numbers == {
            f"u_{items['OSS-OVERDUE'].id}_number",
            f"u_{items['OSS-CASES'].id}_number",
        }
        # A number item has no outcome; a conditional item has its fields, shown when asked.
        assert f"u_{items['OSS-CASES'].id}" not in names
        assert f"u_{items['OSS-APOLOGY'].id}" in names


def test_a_new_checklist_version_does_not_change_an_open_visit(app):
    with app.test_request_context():
        old_visit = _visit("PNV")
        template = checklist.default_template()
        checklist.revise(
            SYSTEM,
            template,
            item={
                "code": "HOURS",
                "category": "premises",
                "scope": "unit",
                "label_vi": "Niêm yết giờ làm việc",
                "label_en": "Hours posted",
            },
        )
        new_visit = _visit("PTCKH")
        old_names = _fields(make_checklist_form(old_visit.items, old_visit.people))
        new_items = new_visit.items
        new_names = _fields(make_checklist_form(new_items, new_visit.people))
        hours = next(i for i in new_items if i.code == "HOURS")
        assert f"u_{hours.id}" in new_names and f"u_{hours.id}" not in old_names
        assert old_visit.checklists[0].number == 1 and new_visit.checklists[0].number == 2


def test_only_submitted_fields_become_changes(app):
    with app.test_request_context(method="POST"):
        inspection = _visit()
        items = {i.code: i for i in inspection.items}
        person = inspection.people[2]
        badge = items["BADGE-WORN"]
        posted = MultiDict(
            {
                "version": "1",
                f"u_{items['SMOKE-SIGN'].id}": "fail",
                f"u_{items['SMOKE-SIGN'].id}_note": "Thiếu biển ở tầng 2",
                f"p_{person.id}_att": "late",
                f"p_{person.id}_{badge.id}": "fail",
                "findings": "Ghi nhận",
            }
        )
        form_class = make_checklist_form(inspection.items, inspection.people)
        form = form_class(formdata=posted, meta={"csrf": False})
        assert form.validate(), form.errors
        changes = form_changes(form, inspection, set(posted))
        assert changes["unit_items"] == [
            {"code": "SMOKE-SIGN", "outcome": "fail", "note": "Thiếu biển ở tầng 2"}
        ]
        assert changes["people"] == [
            {
                "person_id": person.id,
                "attendance": "late",
                "items": [{"code": "BADGE-WORN", "outcome": "fail"}],
            }
        ]
        assert changes["findings"] == "Ghi nhận" and "assessment" not in changes
        results.save_results(SYSTEM, inspection, changes)
        data = form_data(inspection)
        assert data[f"p_{person.id}_att"] == "late"
        assert data[f"u_{items['SMOKE-SIGN'].id}_note"] == "Thiếu biển ở tầng 2"


def test_unknown_choices_fail_validation(app):
    with app.test_request_context(method="POST"):
        inspection = _visit()
        person = inspection.people[0]
        form_class = make_checklist_form(inspection.items, inspection.people)
        form = form_class(
            formdata=MultiDict({"version": "1", f"p_{person.id}_att": "asleep"}),
            meta={"csrf": False},
        )
        assert not form.validate()
        assert f"p_{person.id}_att" in form.errors
