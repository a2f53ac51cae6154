"""Checklist templates with immutable, numbered versions of their items."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow


class ItemCategory(enum.StrEnum):
    ATTENDANCE = "attendance"
    UNIFORM = "uniform"
    BADGE = "badge"
    SMOKING = "smoking"
    ALCOHOL = "alcohol"
    PREMISES = "premises"
    ATTITUDE = "attitude"
    ONE_STOP = "one_stop"
    OTHER = "other"


class ItemScope(enum.StrEnum):
    UNIT = "unit"  # asked once per visit
    PERSON = "person"  # asked once per staff member on the roster


class AnswerType(enum.StrEnum):
    OUTCOME = "outcome"  # pass / fail / not applicable (with a number when number_label is set)
    NUMBER = "number"  # a number within number_min..number_max, in number_unit
    TEXT = "text"  # a short text
    CHOICE = "choice"  # one of ``choices``


# The word that makes an item or template apply to units with a one-stop desk, next to
# the unit kinds (UnitKind values) in ``applies_to``.
ONE_STOP = "one_stop"


def applies(applies_to: str, kind: str, one_stop: bool) -> bool:
    """Whether something limited to ``applies_to`` (space-separated unit kinds and
    ``one_stop``; empty for every unit) applies to a unit of ``kind``."""
    words = set(applies_to.split())
    return not words or kind in words or (one_stop and ONE_STOP in words)


def items_of(versions, kind: str, one_stop: bool) -> list["ChecklistItem"]:
    """Every item of ``versions`` that applies to a unit of ``kind``, in page order.

    The items are this process's frozen copies (see ``frozen_items``).
    """
    return [
        item
        for version in versions
        for item in frozen_items(version)
        if applies(item.applies_to, kind, one_stop)
    ]


# A version's items never change (a change makes the next version), so each process
# keeps a copy of them: a save or a page does not load and build some sixty rows again.
# The key has the creation time too: SQLite may give a rolled-back version's id again.
_FROZEN_ITEMS: dict[tuple[int, datetime], tuple["ChecklistItem", ...]] = {}


def frozen_items(version: "ChecklistVersion") -> tuple["ChecklistItem", ...]:
    """The items of a stored version, in order, as copies belonging to no session.

    They read like the rows (columns and methods) but have no ``version``: their
    template is the visit's version's (``version_id``). A version still being built is
    read, not kept.
    """
    key = (version.id, version.created_at)
    items = _FROZEN_ITEMS.get(key)
    if items is not None:
        return items
    columns = [attr.key for attr in sa_inspect(ChecklistItem).column_attrs]
    items = tuple(ChecklistItem(**{k: getattr(i, k) for k in columns}) for i in version.items)
    state = sa_inspect(version)
    if state.persistent and not state.modified and version.id is not None:
        _FROZEN_ITEMS[key] = items
    return items


class ChecklistTemplate(Base):
    __tablename__ = "checklist_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # The units whose visits take this template (see ``applies``); empty for every unit.
    applies_to: Mapped[str] = mapped_column(String(200), default="")
    # A retired template is kept for the visits that used it and offered to no new one.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="template", order_by="ChecklistVersion.number"
    )

    def display_name(self, locale: str) -> str:
        """The name in ``locale``; the English one is optional and falls back to Vietnamese."""
        return (self.name_en or self.name) if locale == "en" else self.name


class ChecklistVersion(Base):
    """A frozen set of items; an inspection keeps the version it was filled with.

    Versions are never edited: changing a template creates the next version.
    """

    __tablename__ = "checklist_version"
    __table_args__ = (
        UniqueConstraint("template_id", "number", name="uq_checklist_version_template_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"))
    number: Mapped[int]
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    # Loaded with the version: a reader of a visit's versions needs their templates' names.
    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions", lazy="joined")
    # Read through ``frozen_items`` where a version's items are asked again and again.
    items: Mapped[list["ChecklistItem"]] = relationship(
        back_populates="version", order_by="ChecklistItem.position"
    )


class ChecklistItem(Base):
    __tablename__ = "checklist_item"
    __table_args__ = (
        UniqueConstraint("version_id", "code", name="uq_checklist_item_version_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    code: Mapped[str] = mapped_column(String(32))
    category: Mapped[ItemCategory] = mapped_column(str_enum(ItemCategory, "category"))
    scope: Mapped[ItemScope] = mapped_column(str_enum(ItemScope, "scope"))
    label_vi: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text)
    # Shown on the compact per-person cards, where the full label would repeat 40 times.
    short_label_vi: Mapped[str | None] = mapped_column(String(60))
    short_label_en: Mapped[str | None] = mapped_column(String(60))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]
    required: Mapped[bool] = mapped_column(default=True)
    # When set, the item also records a number (e.g. the one-stop on-time rate in %).
    number_label_vi: Mapped[str | None] = mapped_column(String(120))
    number_label_en: Mapped[str | None] = mapped_column(String(120))
    # Bounds of that number (the on-time rate is 0 to 100); None is unbounded.
    number_min: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    number_max: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    # The units this item is asked of (see ``applies``); empty for every unit the template
    # applies to.
    applies_to: Mapped[str] = mapped_column(String(200), default="")
    # Asked only when another unit item of the version was answered so: "OSS-OVERDUE=fail",
    # or several answers, "SCH-DUTY=none|partial". Empty: always asked.
    ask_when: Mapped[str] = mapped_column(String(200), default="")
    answer_type: Mapped[AnswerType] = mapped_column(
        str_enum(AnswerType, "answer_type"), default=AnswerType.OUTCOME
    )
    # The answers a CHOICE item offers, one per line.
    choices: Mapped[str] = mapped_column(Text, default="")
    # What a NUMBER item counts in ("%", "hồ sơ").
    number_unit: Mapped[str] = mapped_column(String(30), default="")

    version: Mapped[ChecklistVersion] = relationship(back_populates="items")

    # What an administrator sets; a new version copies these from the previous one.
    EDITABLE_FIELDS = (
        "code",
        "category",
        "scope",
        "label_vi",
        "label_en",
        "short_label_vi",
        "short_label_en",
        "legal_basis",
        "position",
        "required",
        "number_label_vi",
        "number_label_en",
        "number_min",
        "number_max",
        "applies_to",
        "ask_when",
        "answer_type",
        "choices",
        "number_unit",
    )

    def label(self, locale: str) -> str:
        """The label in ``locale``; the English one is optional and falls back to Vietnamese."""
        return (self.label_en or self.label_vi) if locale == "en" else self.label_vi

    def short_label(self, locale: str) -> str:
        short = self.short_label_en if locale == "en" else self.short_label_vi
        return short or self.label(locale)

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]

    @property
    def condition(self) -> tuple[str, set[str]] | None:
        """The trigger of a conditional item: (item code, the answers that ask it)."""
        if not self.ask_when or "=" not in self.ask_when:
            return None
        code, _, values = self.ask_when.partition("=")
        return code.strip(), {v.strip() for v in values.split("|") if v.strip()}

    def number_label(self, locale: str) -> str | None:
        return (
            (self.number_label_en or self.number_label_vi)
            if locale == "en"
            else self.number_label_vi
        )
