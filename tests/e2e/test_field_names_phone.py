"""The checklist's field names are spelled once per language: inspection/field_names.py
for the server, fieldName and parseField in static/js/common.js for the page's scripts.
This holds the two together, on a real checklist page in Chromium."""

from inspection import field_names
from tests.e2e.test_visit_phone import _start_visit, _wait_ready


def test_the_scripts_spell_and_read_every_field_as_the_server_does(phone, live_server):
    _start_visit(phone, live_server, "Phòng Nội vụ")
    _wait_ready(phone)
    python = {
        "unit": field_names.unit(12),
        "unit_note": field_names.unit(12, "note"),
        "unit_number": field_names.unit(12, "number"),
        "unit_text": field_names.unit(12, "text"),
        "attendance": field_names.attendance(5),
        "arrival": field_names.arrival(5),
        "person_note": field_names.person_note(5),
        "person_item": field_names.person_item(5, 12),
        "person_item_note": field_names.person_item(5, 12, "note"),
    }
    script = phone.evaluate(
        """() => ({
            unit: fieldName.unit(12),
            unit_note: fieldName.unit(12, "note"),
            unit_number: fieldName.unit(12, "number"),
            unit_text: fieldName.unit(12, "text"),
            attendance: fieldName.attendance(5),
            arrival: fieldName.arrival(5),
            person_note: fieldName.personNote(5),
            person_item: fieldName.personItem(5, 12),
            person_item_note: fieldName.personItem(5, 12, "note"),
        })"""
    )
    assert script == python
    # Every answer field the server put on the page is one the scripts can read.
    unread = phone.evaluate(
        """() => [...document.querySelectorAll('#checklist [name]')]
            .map((el) => el.name)
            .filter((name) => /^[up]_/.test(name) && !parseField(name))"""
    )
    assert unread == []
    parsed = phone.evaluate(
        "(names) => names.map((name) => parseField(name))", list(python.values())
    )
    assert parsed == [
        {"unit": "12", "part": ""},
        {"unit": "12", "part": "note"},
        {"unit": "12", "part": "number"},
        {"unit": "12", "part": "text"},
        {"person": "5", "what": "att"},
        {"person": "5", "what": "arrived"},
        {"person": "5", "what": "note"},
        {"person": "5", "what": "item", "item": "12", "part": ""},
        {"person": "5", "what": "item", "item": "12", "part": "note"},
    ]
