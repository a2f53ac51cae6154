"""The checklist page's field names, spelled here once for the server: the WTForms form,
its template, the saved answers read back into the form, and the content a signature is
bound to (results.content_fields). The page's scripts use the same names through one
mirror, ``fieldName`` and ``parseField`` in static/js/common.js, which
tests/e2e/test_field_names_phone.py holds to this module.

    u_12            outcome of unit item 12       u_12_note, u_12_number, u_12_text
    p_5_att         attendance of person 5        p_5_note, p_5_arrived
    p_5_12          outcome of person item 12     p_5_12_note
"""


def unit(item_id: int, part: str = "") -> str:
    """Return the name of unit item ``item_id``'s outcome, or of its ``note``, ``number``
    or ``text`` (the answer of a text or choice item)."""
    return f"u_{item_id}_{part}" if part else f"u_{item_id}"


def attendance(person_id: int) -> str:
    return f"p_{person_id}_att"


def arrival(person_id: int) -> str:
    """The time a late person arrived."""
    return f"p_{person_id}_arrived"


def person_note(person_id: int) -> str:
    return f"p_{person_id}_note"


def person_item(person_id: int, item_id: int, part: str = "") -> str:
    """Return the name of a person's outcome for item ``item_id``, or of its ``note``."""
    return f"p_{person_id}_{item_id}_{part}" if part else f"p_{person_id}_{item_id}"
