"""Checklist templates with immutable, numbered versions of their items."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
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


class ChecklistTemplate(Base):
    __tablename__ = "checklist_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="template", order_by="ChecklistVersion.number"
    )


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

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
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
    )

    def label(self, locale: str) -> str:
        """The label in ``locale``; the English one is optional and falls back to Vietnamese."""
        return (self.label_en or self.label_vi) if locale == "en" else self.label_vi

    def short_label(self, locale: str) -> str:
        short = self.short_label_en if locale == "en" else self.short_label_vi
        return short or self.label(locale)

    def number_label(self, locale: str) -> str | None:
        return (
            (self.number_label_en or self.number_label_vi)
            if locale == "en"
            else self.number_label_vi
        )
