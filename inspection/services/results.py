"""Recording answers on a visit: partial saves with an optimistic lock, photos, summary."""

import hashlib
import json
import logging
from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from inspection import field_names as field
from inspection.extensions import db, release_write_lock
from inspection.i18n import LOCAL_TZ, clean_text, format_number, local, parse_decimal
from inspection.labels import label, short_label
from inspection.models import (
    AnswerType,
    Attendance,
    ChecklistItem,
    Inspection,
    InspectionStatus,
    ItemCategory,
    ItemScope,
    Outcome,
    PersonItemResult,
    PersonResult,
    Photo,
    Signature,
    UnitItemResult,
    User,
    utcnow,
)
from inspection.models.base import valid_id
from inspection.schemas import ResultsSave
from inspection.services import audit, blobs, images, notifications, policy, visits
from inspection.services.errors import Conflict, ServiceError

log = logging.getLogger(__name__)

TEXT_FIELDS = ("findings", "assessment", "requests", "unit_comments")
CLOCK_SKEW = timedelta(minutes=10)  # how far ahead of the server a phone's "now" may be

# Attendance decides the person's attendance item; it is never answered separately.
ATTENDANCE_OUTCOME = {
    Attendance.PRESENT: Outcome.PASS,
    Attendance.LATE: Outcome.FAIL,
    Attendance.ABSENT_UNEXCUSED: Outcome.FAIL,
    Attendance.ABSENT_EXCUSED: Outcome.NA,
    Attendance.ON_DUTY: Outcome.NA,
}
# People at their post are checked item by item; the others have nothing to check.
AT_POST = (Attendance.PRESENT, Attendance.LATE)


def number_bounds(item: ChecklistItem) -> tuple[Decimal, Decimal]:
    """Return the range an item's number must lie in (0 to 10^9 unless the item says otherwise)."""
    low = item.number_min if item.number_min is not None else Decimal(0)
    high = item.number_max if item.number_max is not None else Decimal(10**9)
    return low, high


def bounds_message(item: ChecklistItem) -> str:
    low, high = number_bounds(item)
    return str(
        _l(
            "Enter a number from %(low)s to %(high)s.",
            low=format_number(low.normalize()),
            high=format_number(high.normalize()),
        )
    )


def is_derived(item: ChecklistItem) -> bool:
    """Return whether the item's answer follows from the person's attendance (ATT-PRESENT)."""
    return item.scope is ItemScope.PERSON and item.category is ItemCategory.ATTENDANCE


def person_checks(items: list[ChecklistItem]) -> list[ChecklistItem]:
    """Return the person-scope items answered on each card (attendance is derived)."""
    return [i for i in items if i.scope is ItemScope.PERSON and not is_derived(i)]


def unit_checks(items: list[ChecklistItem]) -> list[ChecklistItem]:
    return [i for i in items if i.scope is ItemScope.UNIT]


def answer_of(row, item: ChecklistItem) -> str:
    """A unit item's answer as text ("fail", "92.5", "Có sổ"), "" when not answered."""
    if row is None:
        return ""
    if item.answer_type is AnswerType.OUTCOME:
        return row.outcome.value if row.outcome else ""
    if item.answer_type is AnswerType.NUMBER:
        return _number_key(row.number_value) if row.number_value is not None else ""
    return row.text_value or ""


def asked(items: list[ChecklistItem], answers: dict[str, str]) -> list[ChecklistItem]:
    """The items the answers ask: a conditional item only while its trigger, itself
    asked, has one of the answers it names. ``answers`` are unit answers by item code."""
    out, codes = [], set()
    for item in items:
        condition = item.condition
        if condition is not None:
            code, values = condition
            if code not in codes or answers.get(code, "") not in values:
                continue
        out.append(item)
        codes.add(item.code)
    return out


def unit_answers(visit) -> dict[str, str]:
    rows = {r.item_id: r for r in getattr(visit, "unit_results", ())}
    return {i.code: answer_of(rows.get(i.id), i) for i in unit_checks(visit.items)}


def asked_items(visit) -> list[ChecklistItem]:
    """What the visit asks now: its applicable items, conditional ones when triggered."""
    return asked(visit.items, unit_answers(visit))


class _Validator:
    """Collects per-field errors under JSON-path-like keys (``people[2].attendance``).

    The request's shape (types, lengths, enum values) is already checked by
    ``schemas.ResultsSave``; what is checked here needs the visit: its checklist
    version, its people, the items' number bounds, who may set the end time.
    """

    def __init__(self):
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message) -> None:
        self.errors.setdefault(key, str(message))

    def number(self, key: str, value, item: ChecklistItem) -> Decimal | None:
        if value is None or value == "":
            return None
        number = parse_decimal(value)
        if number is None or not -(10**9) <= number <= 10**9:
            self.fail(key, _l("Enter a number, such as 92,5."))
            return None
        low, high = number_bounds(item)
        if not low <= number <= high:
            self.fail(key, bounds_message(item))
            return None
        return round(number, 2)


def _people_named(inspection: Inspection, entries) -> tuple[dict, dict]:
    """Return the visit's people a save names, by id and by staff id, with their answers.

    A phone saves a person or two at a time: loading only those (not all 40 with their
    answers) keeps a save cheap on large units.
    """
    ids = [e["person_id"] for e in entries if valid_id(e.get("person_id"))]
    staff_ids = [e["staff_id"] for e in entries if valid_id(e.get("staff_id"))]
    if not ids and not staff_ids:
        return {}, {}
    rows = (
        db.session.scalars(
            select(PersonResult)
            .options(joinedload(PersonResult.items))  # one query, not two
            .where(
                PersonResult.inspection_id == inspection.id,
                or_(PersonResult.id.in_(ids), PersonResult.staff_id.in_(staff_ids)),
            )
        )
        .unique()
        .all()
    )
    return {p.id: p for p in rows}, {p.staff_id: p for p in rows if p.staff_id is not None}


def _parse(inspection: Inspection, data: dict, actor_id: int | None) -> tuple[dict, dict[str, str]]:
    """Check a save (``ResultsSave.changes()``) against the visit's checklist and roster."""
    v = _Validator()
    items = {i.code: i for i in inspection.items}
    people, by_staff = _people_named(inspection, data.get("people", []))
    parsed = {"unit_items": [], "people": [], "text": {}}

    answers = unit_answers(inspection) if data.get("unit_items") else {}
    for n, entry in enumerate(data.get("unit_items", [])):
        key = f"unit_items[{n}]"
        item = _item(items, entry.get("code"))
        if item is None or item.scope is not ItemScope.UNIT:
            v.fail(f"{key}.code", _l("No unit item with this code in the visit's checklist."))
            continue
        change = {"item": item}
        _unit_answer(v, key, entry, item, change)
        if "note" in entry:
            change["note"] = clean_text(entry["note"])
        parsed["unit_items"].append(change)
        answers[item.code] = _projected(item, change, answers[item.code])
    if parsed["unit_items"]:
        now_asked = {i.code for i in asked(list(items.values()), answers)}
        for n, change in enumerate(parsed["unit_items"]):
            item = change["item"]
            if item.code not in now_asked and answers[item.code]:
                trigger, values = item.condition
                v.fail(
                    f"unit_items[{n}].code",
                    _l(
                        "This item is asked only when %(code)s is answered %(answers)s.",
                        code=trigger,
                        answers=" / ".join(short_label(v) for v in sorted(values)),
                    ),
                )

    for n, entry in enumerate(data.get("people", [])):
        key = f"people[{n}]"
        # Ids are checked before any lookup: a client may send a list or an object.
        if "person_id" in entry:
            person_id = entry["person_id"]
            person = people.get(person_id) if valid_id(person_id) else None
        else:
            staff_id = entry.get("staff_id")
            person = by_staff.get(staff_id) if valid_id(staff_id) else None
        if person is None:
            v.fail(key, _l("This person is not on the roster of the inspected unit."))
            continue
        change = {"person": person, "items": []}
        if "attendance" in entry:
            change["attendance"] = entry["attendance"]
        if "arrived_at" in entry:
            change["arrived_at"] = _arrival(
                v,
                f"{key}.arrived_at",
                entry["arrived_at"],
                change.get("attendance", person.attendance),
            )
        if "note" in entry:
            change["note"] = clean_text(entry["note"])
        for m, sub in enumerate(entry.get("items", [])):
            sub_key = f"{key}.items[{m}]"
            item = _item(items, sub.get("code"))
            if item is not None and is_derived(item):
                _check_derived(v, sub_key, sub, change.get("attendance", person.attendance))
                continue
            if item is None or item not in person_checks(list(items.values())):
                v.fail(f"{sub_key}.code", _l("No person item with this code in the checklist."))
                continue
            item_change = {"item": item}
            if "outcome" in sub:
                item_change["outcome"] = sub["outcome"]
            if "note" in sub:
                item_change["note"] = clean_text(sub["note"])
            change["items"].append(item_change)
        parsed["people"].append(change)

    for name in TEXT_FIELDS:
        if name in data:
            parsed["text"][name] = clean_text(data[name])
    if "remediation_due" in data:
        parsed["text"]["remediation_due"] = data["remediation_due"] or None
    if "ended_at" in data:
        actor_is_lead = policy.is_lead(actor_id, inspection)  # the team is loaded only then
        parsed["text"]["ended_at"] = _ended_at(v, inspection, data["ended_at"], actor_is_lead)
    return parsed, v.errors


def _unit_answer(v: _Validator, key: str, entry: dict, item: ChecklistItem, change: dict) -> None:
    """Read a unit item's answer as its type takes it: an outcome (and a number when the
    item records one), a number, a short text or one of the item's choices."""
    kind = item.answer_type
    given = {
        name
        for name in ("outcome", "number", "text")
        if name in entry and entry[name] not in (None, "")
    }
    takes = {
        AnswerType.OUTCOME: {"outcome", "number"} if item.number_label_vi else {"outcome"},
        AnswerType.NUMBER: {"number"},
        AnswerType.TEXT: {"text"},
        AnswerType.CHOICE: {"text"},
    }[kind]
    for name in sorted(given - takes):
        message = {
            AnswerType.OUTCOME: _l("This item records no number.")
            if name == "number"
            else _l("This item is answered pass, fail or not applicable."),
            AnswerType.NUMBER: _l("This item takes a number."),
            AnswerType.TEXT: _l("This item takes a short text."),
            AnswerType.CHOICE: _l("This item takes one of its choices."),
        }[kind]
        v.fail(f"{key}.{name}", message)
    if "outcome" in entry and "outcome" in takes:
        change["outcome"] = entry["outcome"]
    if "number" in entry and "number" in takes:
        change["number"] = v.number(f"{key}.number", entry["number"], item)
    if "text" in entry and "text" in takes:
        text = clean_text(entry["text"] or "").strip()
        if kind is AnswerType.CHOICE and text and text not in item.choice_list:
            v.fail(
                f"{key}.text",
                _l("Choose one of: %(choices)s.", choices="; ".join(item.choice_list)),
            )
        change["text"] = text or None


def _projected(item: ChecklistItem, change: dict, before: str) -> str:
    """The item's answer once ``change`` is applied, as ``answer_of`` gives it."""
    if item.answer_type is AnswerType.OUTCOME:
        if "outcome" not in change:
            return before
        return str(change["outcome"] or "")
    if item.answer_type is AnswerType.NUMBER:
        if "number" not in change:
            return before
        return _number_key(change["number"]) if change["number"] is not None else ""
    return (change["text"] or "") if "text" in change else before


def _item(items: dict, code: str):
    """Return the checklist item a save names, or None."""
    return items.get(code)


def _arrival(v: _Validator, key: str, value, attendance):
    """Read a late person's arrival time, "08:05"; "" or None clears it."""
    if value in (None, ""):
        return None
    try:
        moment = time.fromisoformat(str(value))
    except ValueError:
        v.fail(key, _l("Enter a time as HH:MM, such as 08:05."))
        return None
    if attendance != Attendance.LATE:
        v.fail(key, _l("Only a person marked late has an arrival time."))
        return None
    return moment.replace(second=0, microsecond=0, tzinfo=None)


def _check_derived(v: _Validator, key: str, entry: dict, attendance) -> None:
    """Refuse a derived item's outcome unless it is the one attendance gives it."""
    outcome = entry.get("outcome")
    expected = ATTENDANCE_OUTCOME.get(attendance)
    if "outcome" not in entry or outcome == expected:
        return
    if attendance is None:
        message = _l("This item follows from attendance, which is not marked yet: mark it.")
    else:
        message = _l(
            "This item follows from attendance: %(attendance)s means %(outcome)s."
            " Change the attendance instead.",
            attendance=label(attendance),
            outcome=label(expected),
        )
    v.fail(f"{key}.outcome", message)


def _ended_at(v: _Validator, inspection: Inspection, value, actor_is_lead: bool):
    """Return the end of the visit: the lead's to set, never before the start nor in the future."""
    if not actor_is_lead:
        v.fail("ended_at", _l("Only the team lead sets the time the visit ended."))
        return None
    if value in (None, ""):
        v.fail("ended_at", _l("Enter the time the visit ended."))
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        v.fail("ended_at", _l("Enter a time as YYYY-MM-DDTHH:MM."))
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
    try:
        moment = moment.astimezone(LOCAL_TZ)
    except (OverflowError, ValueError):
        v.fail("ended_at", _l("Enter a time as YYYY-MM-DDTHH:MM."))
        return None
    started = inspection.started_at.replace(second=0, microsecond=0)
    if moment < started:
        v.fail("ended_at", _l("The visit cannot end before it started."))
    elif moment > utcnow() + CLOCK_SKEW:
        v.fail("ended_at", _l("The end time cannot be in the future."))
    else:
        return moment
    return None


def check_version(inspection: Inspection, version) -> None:
    """Refuse a save based on anything but the current version."""
    if not isinstance(version, int) or isinstance(version, bool):
        raise ServiceError(
            str(_l("Some values are not valid.")),
            {"version": str(_l("The version the change was based on is required."))},
        )
    if version != inspection.version:
        raise version_conflict(
            inspection,
            _l(
                "Someone else saved this visit in the meantime (version %(current)d)."
                " The newest answers are shown; check them and make your change again.",
                current=inspection.version,
            ),
        )


def version_conflict(inspection: Inspection, message) -> Conflict:
    """Return the 409 for a request based on a version of the visit that is not the current one."""
    return Conflict(str(message), {"version": str(inspection.version)})


def _apply_outcome(row, change: dict) -> None:
    if "outcome" in change:
        row.outcome = change["outcome"]  # None clears an answer given by mistake
    if "note" in change:
        row.note = change["note"]


def save_results(actor: audit.Actor, inspection: Inspection, save: ResultsSave | dict) -> int:
    """Apply a partial save (only the listed answers change) and return the new version.

    ``save`` comes from the API or the checklist page as a ``ResultsSave``; a dict is read
    as one. Raises ServiceError (422) with per-field errors and saves nothing when any
    part is invalid, and Conflict (409) when its version is not the current version.
    """
    if isinstance(save, dict):
        save = ResultsSave.parse(save)
    data = save.changes()
    check_version(inspection, data.get("version"))
    parsed, errors = _parse(inspection, data, actor.user_id)
    if errors:
        raise ServiceError(str(_l("Some answers were not saved: see the marked fields.")), errors)
    # What the signatures were given on, before any change of this save: answers too.
    bound = _bound_signatures(inspection)
    before = content_digest(inspection) if bound else None

    unit_rows = {r.item_id: r for r in inspection.unit_results} if parsed["unit_items"] else {}
    for change in parsed["unit_items"]:
        row = unit_rows.get(change["item"].id)
        if row is None:
            row = UnitItemResult(item_id=change["item"].id)
            inspection.unit_results.append(row)
            unit_rows[row.item_id] = row
        _apply_outcome(row, change)
        if "number" in change:
            row.number_value = change["number"]
        if "text" in change:
            row.text_value = change["text"]
        row.updated_by_id = actor.user_id
    if parsed["unit_items"]:
        _clear_unasked(inspection)

    attendance_items = [i for i in inspection.items if is_derived(i)]
    for change in parsed["people"]:
        person = change["person"]
        rows = {r.item_id: r for r in person.items}

        def row_for(item, person=person, rows=rows):
            if item.id not in rows:
                rows[item.id] = PersonItemResult(item_id=item.id)
                person.items.append(rows[item.id])
            return rows[item.id]

        if "attendance" in change:
            person.attendance = change["attendance"]
            for item in attendance_items:
                row_for(item).outcome = ATTENDANCE_OUTCOME.get(person.attendance)
            if person.attendance != Attendance.LATE:
                person.arrived_at = None  # only a late person has an arrival time
        if "arrived_at" in change:
            person.arrived_at = change["arrived_at"]
        if "note" in change:
            person.note = change["note"]
        for item_change in change["items"]:
            _apply_outcome(row_for(item_change["item"]), item_change)

    for name, value in parsed["text"].items():
        setattr(inspection, name, value)
    # Touch the row so the version moves even when only answers changed.
    inspection.updated_at = utcnow()
    # Staged before the flush, which writes it with the answers: on SQLite the write lock
    # is then held for one flush and the commit, not for the work between them.
    event = audit.stage(
        actor,
        "results_saved",
        inspection,
        version=inspection.version + 1,  # what the flush makes it (version_id_col)
        unit_items=len(parsed["unit_items"]),
        people=len(parsed["people"]),
    )
    try:
        db.session.flush()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict(str(_l("Someone else saved this visit in the meantime."))) from exc
    audit.announce(event)
    if bound:
        _void_signatures(actor, inspection, bound, before)
    return inspection.version


def _clear_unasked(inspection: Inspection) -> None:
    """Clear the answers of items no longer asked (their trigger's answer changed): they
    are not in the minutes, the figures or what a signature is bound to."""
    still = {i.id for i in asked_items(inspection)}
    for row in inspection.unit_results:
        if row.item_id not in still:
            row.outcome, row.number_value, row.text_value, row.note = None, None, None, ""


def _number_key(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _text_key(value: str) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def person_key(person: PersonResult) -> str:
    """Return a person's name in the signed content: the staff id, the same on every phone."""
    return f"s{person.staff_id}" if person.staff_id is not None else f"p{person.id}"


def ended_at_key(moment: datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _outcome_key(row) -> str:
    return row.outcome.value if row is not None and row.outcome else ""


def content_fields(visit) -> list[tuple[str, str, str]]:
    """Return the answers and texts the minutes print, as (form field, key, value) triples.

    ``visit`` is an Inspection or a visit not started yet (visits.DraftVisit). Keys name
    what is answered (``u:SMOKE-SIGN``, ``p:s12:BADGE-WORN:note``, ``t:assessment``) the
    same way on every phone; values are normalised as the form holds them (numbers as
    92.5, texts trimmed with \n line ends). The sign page sends the triples to the phone,
    which puts its unsent changes on top to compute what a signer saw
    (static/js/signature.js).
    """
    items = visit.items
    unit_rows = {r.item_id: r for r in getattr(visit, "unit_results", ())}
    out = []
    for item in unit_checks(items):
        row, key = unit_rows.get(item.id), f"u:{item.code}"
        kind = item.answer_type
        if kind is AnswerType.OUTCOME:
            out.append((field.unit(item.id), key, _outcome_key(row)))
        if kind is AnswerType.NUMBER or item.number_label_vi:
            number = row.number_value if row is not None else None
            value = _number_key(number) if number is not None else ""
            out.append((field.unit(item.id, "number"), f"{key}:n", value))
        if kind in (AnswerType.TEXT, AnswerType.CHOICE):
            text = _text_key(row.text_value or "") if row is not None else ""
            out.append((field.unit(item.id, "text"), f"{key}:t", text))
        out.append((field.unit(item.id, "note"), f"{key}:note", _text_key(row.note if row else "")))
    checks = person_checks(items)
    for person in visit.people:
        rows = {r.item_id: r for r in getattr(person, "items", ())}
        key = f"p:{person_key(person)}"
        attendance = getattr(person, "attendance", None)
        arrived = getattr(person, "arrived_at", None)
        out += [
            (field.attendance(person.id), key, attendance.value if attendance else ""),
            (
                field.arrival(person.id),
                f"{key}:arrived",
                arrived.strftime("%H:%M") if arrived else "",
            ),
            (field.person_note(person.id), f"{key}:note", _text_key(getattr(person, "note", ""))),
        ]
        for item in checks:
            row = rows.get(item.id)
            out += [
                (field.person_item(person.id, item.id), f"{key}:{item.code}", _outcome_key(row)),
                (
                    field.person_item(person.id, item.id, "note"),
                    f"{key}:{item.code}:note",
                    _text_key(row.note if row else ""),
                ),
            ]
    for name in TEXT_FIELDS:
        out.append((name, f"t:{name}", _text_key(getattr(visit, name, ""))))
    due = getattr(visit, "remediation_due", None)
    out.append(("remediation_due", "t:remediation_due", due.isoformat() if due else ""))
    out.append(("ended_at", "t:ended_at", ended_at_key(getattr(visit, "ended_at", None))))
    return out


def content(visit) -> dict[str, str]:
    """Return the answers and texts given, by key (empty answers left out)."""
    return {key: value for _name, key, value in content_fields(visit) if value}


def digest_of(entries: dict[str, str]) -> str:
    """SHA-256 of the content as sorted [key, value] pairs in compact JSON (as JSON.stringify)."""
    pairs = sorted(entries.items())
    text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_digest(inspection: Inspection) -> str:
    return digest_of(content(inspection))


def _bound_signatures(inspection: Inspection) -> list[Signature]:
    return list(db.session.scalars(select(Signature).filter_by(inspection_id=inspection.id)))


def _void_signatures(actor, inspection: Inspection, signatures, before: str) -> None:
    """Record that a change voided the signatures given on the content before it."""
    after = content_digest(inspection)
    voided = [s for s in signatures if s.content_digest == before and before != after]
    if voided:
        audit.record(
            actor,
            "signatures_voided",
            inspection,
            roles=[s.role.value for s in voided],
            names=[s.signer_name for s in voided],
        )
        log.info("inspection %s: a change voided %d signatures", inspection.id, len(voided))
        notifications.signatures_voided(inspection, [s.signer_name for s in voided], actor.user_id)


def add_person(
    actor: audit.Actor, inspection: Inspection, *, full_name: str, position: str, client_id: str
) -> tuple[PersonResult, bool]:
    """Add someone met on the visit who is not on the roster; a retried add is not doubled."""
    existing = next((p for p in inspection.people if client_id and p.client_id == client_id), None)
    if existing:
        return existing, False
    name, position = clean_text(full_name).strip(), clean_text(position or "").strip()
    if not name:
        raise ServiceError(
            str(_l("The person was not added.")), {"full_name": str(_l("The name is empty."))}
        )
    person = PersonResult(full_name=name, position=position, client_id=client_id or None)
    inspection.people.append(person)
    inspection.updated_at = utcnow()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        db.session.expire(inspection, ["people"])
        return next(p for p in inspection.people if p.client_id == client_id), False
    audit.record(actor, "person_added", person, inspection_id=inspection.id)
    return person, True


def add_photo(
    actor: audit.Actor,
    user: User,
    inspection: Inspection,
    data: bytes,
    *,
    max_bytes: int,
    item_code: str | None = None,
    staff_id: int | None = None,
    person_id: int | None = None,
    client_captured_at: datetime | None = None,
    client_id: str | None = None,
) -> tuple[Photo, bool]:
    """Validate, re-encode and attach a photo to the visit, an item and/or a person.

    Return the photo and whether it was stored now: the same ``client_id`` sent again
    (a retry after a lost answer) gets the first photo back.
    """
    if client_id is not None and not (0 < len(client_id) <= 64):
        raise ServiceError(
            str(_l("The photo was not saved.")),
            {"client_id": str(_l("At most %(n)d characters.", n=64))},
        )
    if client_id and (existing := _photo_by_client_id(inspection.id, client_id)):
        return existing, False
    fields = {}
    item = None
    if item_code:
        # Any item of the visit's checklists: a photo may come before the answer that
        # asks its item (a photo of the late cases, then "overdue cases: fail").
        item = next((i for i in inspection.items if i.code == item_code), None)
        if item is None:
            fields["item_code"] = str(_l("No item with this code in the visit's checklist."))
    person = None
    if staff_id is not None or person_id is not None:
        person = next(
            (
                p
                for p in inspection.people
                if (person_id is not None and p.id == person_id)
                or (person_id is None and p.staff_id == staff_id)
            ),
            None,
        )
        if person is None:
            key = "person_id" if person_id is not None else "staff_id"
            fields[key] = str(_l("This person is not on the roster of the inspected unit."))
    if fields:
        raise ServiceError(str(_l("The photo was not saved.")), fields)
    # Kept before letting go: reading them later would reload the rows.
    photo_item_id, photo_person_id = (item.id if item else None), (person.id if person else None)
    release_write_lock()  # only read so far; re-encoding takes a tenth of a second
    processed = images.process_photo(data, max_bytes)
    # It may have been issued meanwhile: read it again, locked (PostgreSQL; on SQLite the
    # write lock is taken again) so that it cannot be issued before this photo is stored.
    db.session.refresh(inspection, ["status", "version"], with_for_update=True)
    visits.ensure_editable(inspection)
    photo = Photo(
        inspection_id=inspection.id,
        blob_sha256=blobs.put(processed.jpeg, "image/jpeg").sha256,
        thumb_sha256=blobs.put(processed.thumbnail, "image/jpeg").sha256,
        item_id=photo_item_id,
        person_result_id=photo_person_id,
        width=processed.width,
        height=processed.height,
        captured_at=processed.captured_at or client_captured_at,
        uploaded_by_id=user.id,
        client_id=client_id or None,
    )
    try:
        with db.session.begin_nested():
            # Added inside the savepoint: a failed insert is expunged with it.
            db.session.add(photo)
            db.session.flush()
    except IntegrityError:
        # The same upload raced itself (a retry while the first was still running).
        winner = _photo_by_client_id(inspection.id, client_id) if client_id else None
        if winner is None:
            raise
        return winner, False
    db.session.expire(inspection, ["photos"])  # added by id, inside the savepoint
    inspection.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "photo_added", photo, inspection_id=inspection.id, sha256=photo.blob_sha256)
    return photo, True


def _photo_by_client_id(inspection_id: int, client_id: str) -> Photo | None:
    return db.session.scalar(
        select(Photo).filter_by(inspection_id=inspection_id, client_id=client_id)
    )


def photos_of(inspection: Inspection) -> list[Photo]:
    """Return the visit's photos in the order they were taken."""
    return list(inspection.photos)


def summary(inspection: Inspection, locale: str = "vi") -> dict:
    """Return plain data for the summary page: headcount, failures, what is missing.

    Progress counts each asked required unit item and each person, who is done once
    their attendance is marked and, at their post, every required check answered: the
    total does not move as people are marked (it used to jump from 0/50 to 40/210).
    """
    items = asked_items(inspection)
    unit_items, person_items = unit_checks(items), person_checks(items)
    unit_rows = {r.item_id: r for r in inspection.unit_results}
    photos = photos_of(inspection)
    missing, failed_unit, failed_people, typed = [], [], [], []
    progress = Counter()

    for item in unit_items:
        row = unit_rows.get(item.id)
        value = answer_of(row, item)
        if item.required:
            progress["total"] += 1
            progress["answered"] += bool(value)
            if not value:
                missing.append({"anchor": f"u-{item.id}", "label": item.label(locale)})
        if item.answer_type is not AnswerType.OUTCOME:
            if value:
                typed.append({"item": item, "value": value, "row": row})
        elif row is not None and row.outcome is Outcome.FAIL:
            failed_unit.append(
                {
                    "code": item.code,
                    "label": item.label(locale),
                    "note": row.note,
                    "photos": [p for p in photos if p.item_id == item.id],
                }
            )

    headcount = Counter()
    names = {status: [] for status in Attendance}
    for person in inspection.people:
        progress["total"] += 1
        if person.attendance is None:
            headcount["unanswered"] += 1
            missing.append({"anchor": f"p-{person.id}", "label": person.full_name})
            continue
        headcount[person.attendance] += 1
        names[person.attendance].append(person.full_name)
        if person.attendance not in AT_POST:
            progress["answered"] += 1
            continue
        rows = {r.item_id: r for r in person.items}
        failed, done = [], True
        for item in person_items:
            row = rows.get(item.id)
            label = item.short_label(locale)
            if item.required and (row is None or row.outcome is None):
                done = False
                missing.append(
                    {"anchor": f"p-{person.id}", "label": f"{person.full_name}: {label}"}
                )
            if row is not None and row.outcome is Outcome.FAIL:
                failed.append(label + (f" ({row.note})" if row.note else ""))
        progress["answered"] += done
        if failed or person.attendance is Attendance.LATE:
            failed_people.append(
                {
                    "name": person.full_name,
                    "position": person.position,
                    "attendance": person.attendance,
                    "arrived_at": person.arrived_at,
                    "failed": failed,
                    "note": person.note,
                    "photos": [p for p in photos if p.person_result_id == person.id],
                }
            )
    headcount["total"] = len(inspection.people)
    return {
        "headcount": headcount,
        "names": names,
        "failed_unit": failed_unit,
        "failed_people": failed_people,
        "typed": typed,
        "missing": missing,
        "answered": progress["answered"],
        "total": progress["total"],
        "photos": photos,
    }


def submit(actor: audit.Actor, inspection: Inspection, locale: str = "vi") -> Inspection:
    """Mark a complete visit as ready for signatures; say what is missing otherwise."""
    missing = summary(inspection, locale)["missing"]
    if missing:
        fields = {}
        for m in missing:
            fields[m["anchor"]] = "; ".join(filter(None, [fields.get(m["anchor"]), m["label"]]))
        raise ServiceError(str(_l("%(n)d answers are still missing.", n=len(missing))), fields)
    inspection.status = InspectionStatus.SUBMITTED
    if inspection.ended_at is None:
        inspection.ended_at = utcnow()  # the team moves to signing: the visit has ended
    inspection.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "inspection_submitted", inspection)
    return inspection
