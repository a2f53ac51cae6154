"""Checklist templates and their immutable versions."""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    ItemCategory,
    ItemScope,
)
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


def item_names(locale: str) -> dict[str, str]:
    """Item codes to the short names users read (the current version's), for figures."""
    template = default_template()
    version = latest_version(template) if template else None
    return {i.code: i.short_label(locale) for i in version.items} if version else {}


def item_data(item: ChecklistItem) -> dict:
    """Return an item as plain data (the shape ``create_version`` takes)."""
    return {name: getattr(item, name) for name in ITEM_FIELDS}


def _validate_items(items: list[dict]) -> None:
    codes = [i["code"] for i in items]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise ServiceError(
            str(_l("Item codes must be unique.")),
            {"code": ", ".join(sorted(duplicates))},
        )
    if not items:
        raise ServiceError(str(_l("A checklist needs at least one item.")))


def create_version(
    actor: audit.Actor, template: ChecklistTemplate, items: list[dict], note: str = ""
) -> ChecklistVersion:
    """Freeze ``items``, in the order given, as the template's next version."""
    _validate_items(items)
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
            code=data["code"].strip().upper(),
            category=ItemCategory(data["category"]),
            scope=ItemScope(data["scope"]),
            position=position,
            legal_basis=data.get("legal_basis") or "",
            required=data.get("required", True),
        )
        version.items.append(ChecklistItem(**fields))
    db.session.flush()
    audit.record(actor, "checklist_version_created", version, number=number, note=note)
    log.info("checklist %s version %d created", template.code, number)
    return version


def create_template(
    actor: audit.Actor, code: str, name: str, items: list[dict]
) -> ChecklistTemplate:
    """Create a template with its first version."""
    template = ChecklistTemplate(code=code, name=name)
    db.session.add(template)
    db.session.flush()
    create_version(actor, template, items, note="v1")
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
