"""Checklist templates and their immutable versions."""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.i18n import plain
from inspection.models import (
    AnswerType,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    ItemCategory,
    ItemScope,
    Outcome,
    Unit,
    UnitKind,
    VisitChecklist,
)
from inspection.models.checklist import ONE_STOP, applies, items_of
from inspection.services import audit
from inspection.services.errors import NotFound, ServiceError

log = logging.getLogger(__name__)

ITEM_FIELDS = ChecklistItem.EDITABLE_FIELDS


def latest_version(template: ChecklistTemplate) -> ChecklistVersion | None:
    return db.session.scalar(
        select(ChecklistVersion)
        .filter_by(template_id=template.id)
        .order_by(ChecklistVersion.number.desc())
        .limit(1)
    )


def default_template() -> ChecklistTemplate | None:
    """Return the template visits use: the oldest one (there is one per organisation)."""
    return db.session.scalar(select(ChecklistTemplate).order_by(ChecklistTemplate.id).limit(1))


def current_version() -> ChecklistVersion:
    """Return the newest version of the default template."""
    template = default_template()
    version = latest_version(template) if template else None
    if version is None:
        raise NotFound(str(_l("No checklist has been set up.")))
    return version


def templates() -> list[ChecklistTemplate]:
    """Every template, the general one first."""
    return list(db.session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.id)))


def templates_for(unit: Unit) -> list[ChecklistTemplate]:
    """The active templates that apply to ``unit``: what a visit there asks by default."""
    return [
        t for t in templates() if t.active and applies(t.applies_to, unit.kind, unit.has_one_stop)
    ]


def versions_for(unit: Unit, template_codes=None) -> list[ChecklistVersion]:
    """The newest versions of the templates a visit at ``unit`` asks.

    ``template_codes`` is the lead's choice (any active template); None takes those that
    apply to the unit.
    """
    if template_codes is None:
        chosen = templates_for(unit)
    else:
        wanted = set(template_codes)
        chosen = [t for t in templates() if t.active and t.code in wanted]
        if len(chosen) != len(wanted):
            raise ServiceError(
                str(_l("The visit was not started.")),
                {"templates": str(_l("Choose among the organisation's active checklists."))},
            )
    versions = [v for v in map(latest_version, chosen) if v is not None]
    if not versions and template_codes is None:
        raise NotFound(str(_l("No checklist applies to this unit.")))
    if not versions:
        raise ServiceError(
            str(_l("The visit was not started.")),
            {"templates": str(_l("Choose at least one checklist."))},
        )
    return versions


def assign(inspection: Inspection, unit: Unit, template_codes=None) -> None:
    """Give a visit the checklists it asks, with the unit as it is now."""
    versions = versions_for(unit, template_codes)
    inspection.checklist_links = [
        VisitChecklist(version=v, checklist_version_id=v.id, position=n)
        for n, v in enumerate(versions, 1)
    ]
    inspection.checklist_version_id = versions[0].id
    inspection.unit_kind = unit.kind.value
    inspection.unit_one_stop = unit.has_one_stop


def items_for(unit: Unit) -> list[ChecklistItem]:
    """What a visit started now at ``unit`` asks (``GET /checklists/current?unit_id``)."""
    return items_of(versions_for(unit), unit.kind, unit.has_one_stop)


def item_names(locale: str) -> dict[str, str]:
    """Item codes to the short names users read (the newest versions'), for figures."""
    names = {}
    for template in templates():
        version = latest_version(template)
        for item in version.items if version else ():
            names.setdefault(item.code, item.short_label(locale))
    return names


def item_data(item: ChecklistItem) -> dict:
    """Return an item as plain data (the shape ``create_version`` takes)."""
    return {name: getattr(item, name) for name in ITEM_FIELDS}


APPLIES_WORDS = {k.value for k in UnitKind} | {ONE_STOP}


def valid_applies_to(value: str) -> bool:
    return set(value.split()) <= APPLIES_WORDS


def template_by_code(code: str) -> ChecklistTemplate | None:
    return db.session.scalar(select(ChecklistTemplate).filter_by(code=code.strip().upper()))


def codes_elsewhere(template: ChecklistTemplate | None) -> set[str]:
    """Item codes the other templates' newest versions use: a visit may ask both."""
    codes = set()
    for other in templates():
        if (template is None or other.id != template.id) and (version := latest_version(other)):
            codes |= {i.code for i in version.items}
    return codes


def item_problems(
    items: list[dict], taken: set[str] = frozenset()
) -> dict[int, list[tuple[str, str]]]:
    """Check a version's items together; return (field, problem) pairs by 0-based index.

    An item's code is unique (also across templates: ``taken``); a conditional item is a
    unit item asked after an earlier unit item of the version, on answers that item can
    have; typed answers (number, text, choice) are unit items; a choice offers two
    answers or more; a number's minimum is not above its maximum. A value already found
    invalid (None) is left to its own message.
    """
    problems: dict[int, list[tuple[str, str]]] = {}
    seen: dict[str, dict] = {}
    for n, item in enumerate(items):
        found = problems.setdefault(n, [])

        def say(name, message, found=found):
            found.append((name, str(message)))

        code = item["code"]
        if code in seen:
            say("code", _l("The code %(code)s is used twice.", code=code))
        elif code in taken:
            say("code", _l("The code %(code)s is used by another checklist.", code=code))
        answer = AnswerType(item.get("answer_type") or AnswerType.OUTCOME)
        scope = ItemScope(item["scope"]) if item.get("scope") else None
        if answer is not AnswerType.OUTCOME and scope is ItemScope.PERSON:
            say("answer_type", _l("Only unit items take a number, a text or a choice."))
        if answer is AnswerType.CHOICE and len(_lines(item.get("choices"))) < 2:
            say("choices", _l("A choice needs at least two answers."))
        low, high = item.get("number_min"), item.get("number_max")
        if low is not None and high is not None and low > high:
            say("number_max", _l("The minimum is above the maximum."))
        if not valid_applies_to(item.get("applies_to") or ""):
            say("applies_to", _l("Unknown unit kind in “applies to”."))
        if item.get("ask_when") and scope is not None:
            problem = _condition_problem(item, scope, seen)
            if problem:
                say("ask_when", problem)
        seen.setdefault(code, item)
    return {n: p for n, p in problems.items() if p}


def _normal_condition(text: str, earlier: dict[str, dict] | None = None) -> str:
    """ "OSS-OVERDUE=fail", whatever the spacing; an outcome may be written as the page
    shows it (Đạt, Vi phạm, KAD) or its code, when the trigger is a pass/fail item."""
    if "=" not in text:
        return ""
    code, _, values = text.partition("=")
    code = code.strip().upper()
    trigger = (earlier or {}).get(code)
    outcome_trigger = (
        trigger is not None
        and AnswerType(trigger.get("answer_type") or AnswerType.OUTCOME) is AnswerType.OUTCOME
    )
    answers = []
    for value in (v.strip() for v in values.split("|")):
        if value:
            answers.append(OUTCOME_WORDS.get(plain(value), value) if outcome_trigger else value)
    return f"{code}=" + "|".join(answers)


def condition_text(item) -> str:
    """A conditional item's trigger as people write it: "OSS-OVERDUE = Vi phạm"."""
    condition = item.condition
    if condition is None:
        return ""
    code, values = condition
    shown = [OUTCOME_SHOWN.get(v, v) for v in sorted(values)]
    return f"{code} = " + " | ".join(shown)


# The outcomes as the page's toggles show them; the words a condition may use for them.
OUTCOME_SHOWN = {Outcome.PASS.value: "Đạt", Outcome.FAIL.value: "Vi phạm", Outcome.NA.value: "KAD"}
OUTCOME_WORDS = {
    **{value: value for value in OUTCOME_SHOWN},
    "dat": "pass",
    "vi pham": "fail",
    "khong dat": "fail",
    "kad": "na",
    "khong ap dung": "na",
    "n/a": "na",
}


def _lines(text) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _condition_problem(item: dict, scope: ItemScope, earlier: dict[str, dict]) -> str | None:
    if "=" not in item["ask_when"]:
        return str(_l("Write “ask when” as CODE = answer, such as OSS-OVERDUE = Vi phạm."))
    code, _, values = _normal_condition(item["ask_when"], earlier).partition("=")
    values = set(values.split("|")) - {""}
    trigger = earlier.get(code)
    if scope is not ItemScope.UNIT:
        return str(_l("Only unit items can depend on an answer."))
    if trigger is None or ItemScope(trigger["scope"]) is not ItemScope.UNIT:
        return str(_l("“Ask when” names %(code)s, which is no earlier unit item.", code=code))
    kind = AnswerType(trigger.get("answer_type") or AnswerType.OUTCOME)
    possible = {
        AnswerType.OUTCOME: [o.value for o in Outcome],
        AnswerType.CHOICE: _lines(trigger.get("choices")),
    }.get(kind)
    if possible is None:
        return str(_l("An item can depend only on a pass/fail or a choice item."))
    if not values or not values <= set(possible):
        allowed = " / ".join(OUTCOME_SHOWN.get(v, v) for v in possible)
        return str(
            _l(
                "“Ask when” names an answer %(code)s cannot have; it has: %(answers)s.",
                code=code,
                answers=allowed,
            )
        )
    return None


def _validate_items(template: ChecklistTemplate, items: list[dict]) -> None:
    if not items:
        raise ServiceError(str(_l("A checklist needs at least one item.")))
    problems = item_problems(items, codes_elsewhere(template))
    if problems:
        raise ServiceError(
            str(_l("The checklist was not saved.")),
            {items[n]["code"]: " ".join(m for _f, m in p) for n, p in problems.items()},
        )


def normalized(items: list[dict]) -> list[dict]:
    """Items as a version stores them: codes in capitals, conditions as CODE=answer|answer
    (a condition names an earlier item: its answers are read as that item's)."""
    out, earlier = [], {}
    for item in items:
        item = {**item, "code": item["code"].strip().upper()}
        item["ask_when"] = _normal_condition(item.get("ask_when") or "", earlier)
        earlier.setdefault(item["code"], item)
        out.append(item)
    return out


def create_version(
    actor: audit.Actor, template: ChecklistTemplate, items: list[dict], note: str = ""
) -> ChecklistVersion:
    """Freeze ``items``, in the order given, as the template's next version."""
    items = normalized(items)
    _validate_items(template, items)
    number = (
        db.session.scalar(
            select(func.max(ChecklistVersion.number)).filter_by(template_id=template.id)
        )
        or 0
    ) + 1
    version = ChecklistVersion(
        template_id=template.id, number=number, note=note[:300], created_by_id=actor.user_id
    )
    db.session.add(version)
    for position, data in enumerate(items, 1):
        fields = {k: data.get(k) for k in ITEM_FIELDS if k in data}
        fields.update(
            code=data["code"],
            category=ItemCategory(data["category"]),
            scope=ItemScope(data["scope"]),
            position=position,
            legal_basis=data.get("legal_basis") or "",
            required=data.get("required", True),
            answer_type=AnswerType(data.get("answer_type") or AnswerType.OUTCOME),
            applies_to=" ".join((data.get("applies_to") or "").split()),
            ask_when=data["ask_when"],
            choices="\n".join(_lines(data.get("choices"))),
            number_unit=data.get("number_unit") or "",
        )
        version.items.append(ChecklistItem(**fields))
    db.session.flush()
    audit.record(actor, "checklist_version_created", version, number=number, note=note)
    log.info("checklist %s version %d created", template.code, number)
    return version


def create_template(
    actor: audit.Actor,
    code: str,
    name: str,
    items: list[dict],
    applies_to: str = "",
    name_en: str = "",
) -> ChecklistTemplate:
    """Create a template with its first version."""
    template = ChecklistTemplate(
        code=code.strip().upper(), name=name, name_en=name_en, applies_to=applies_to
    )
    db.session.add(template)
    db.session.flush()
    create_version(actor, template, items, note="v1")
    return template


def save_template(
    actor: audit.Actor,
    template: ChecklistTemplate,
    *,
    name: str,
    name_en: str,
    applies_to: str,
    active: bool,
) -> ChecklistTemplate:
    """Change a template's name, the units it is for, or retire it. Visits already made
    keep what they asked; the next visits follow the change."""
    if not valid_applies_to(applies_to):
        raise ServiceError(
            str(_l("The checklist was not saved.")),
            {"applies_to": str(_l("Unknown unit kind in “applies to”."))},
        )
    template.name, template.name_en = name.strip(), name_en.strip()
    template.applies_to, template.active = " ".join(applies_to.split()), active
    db.session.flush()
    audit.record(actor, "checklist_template_saved", template, applies_to=applies_to, active=active)
    return template


def revise(
    actor: audit.Actor,
    template: ChecklistTemplate,
    *,
    item: dict | None = None,
    replaces: str | None = None,
    remove: str | None = None,
    note: str = "",
) -> ChecklistVersion:
    """Create the next version from the latest one with one item added, changed or removed.

    ``item`` with ``replaces`` set changes the item of that code; ``item`` alone adds one
    (at the end unless it gives a 1-based position); ``remove`` drops the item of that code.
    """
    current = latest_version(template)
    items = [item_data(i) for i in current.items] if current else []
    codes = {i["code"] for i in items}
    for code in filter(None, (replaces, remove)):
        if code not in codes:
            raise NotFound(str(_l("No item %(code)s in the checklist.", code=code)))
    if remove:
        items = [i for i in items if i["code"] != remove]
    if item is not None:
        index = len(items)
        if replaces:
            index = next(n for n, i in enumerate(items) if i["code"] == replaces)
            item = {**items.pop(index), **item}
        if item["code"].strip().upper() in {i["code"] for i in items}:
            raise ServiceError(
                str(_l("Item codes must be unique.")),
                {"code": str(_l("This code is already used."))},
            )
        if item.get("position"):
            index = min(max(int(item["position"]) - 1, 0), len(items))
        items.insert(index, item)
    return create_version(actor, template, items, note=note)
