"""An inspection visit, its team and every answer recorded during it."""

import enum
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.accounts import User
from inspection.models.base import Base, str_enum, utcnow
from inspection.models.checklist import ChecklistItem, ChecklistVersion, items_of
from inspection.models.org import StaffMember, Unit


class InspectionKind(enum.StrEnum):
    SCHEDULED = "scheduled"  # kiểm tra thường xuyên / theo kế hoạch
    SURPRISE = "surprise"  # kiểm tra đột xuất


class InspectionStatus(enum.StrEnum):
    PLANNED = "planned"  # scheduled, not started
    DRAFT = "draft"  # being filled
    SUBMITTED = "submitted"  # filled, waiting for signatures
    FINALIZED = "finalized"  # minutes issued; immutable from here on
    CANCELLED = "cancelled"


class TeamRole(enum.StrEnum):
    LEAD = "lead"
    MEMBER = "member"
    SECRETARY = "secretary"


class Outcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"


class Attendance(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT_EXCUSED = "absent_excused"  # vắng có phép
    ABSENT_UNEXCUSED = "absent_unexcused"  # vắng không phép
    ON_DUTY = "on_duty"  # đi công tác


class Inspection(Base):
    __tablename__ = "inspection"
    __table_args__ = (
        # Idempotent creation: one user retrying the same client_id gets the same visit.
        UniqueConstraint("created_by_id", "client_id", name="uq_inspection_creator_client"),
        Index("ix_inspection_status", "status"),
        Index("ix_inspection_unit_started", "unit_id", "started_at"),
        Index("ix_inspection_planned_date", "planned_date"),
        Index("ix_inspection_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    kind: Mapped[InspectionKind] = mapped_column(str_enum(InspectionKind, "kind"))
    status: Mapped[InspectionStatus] = mapped_column(str_enum(InspectionStatus, "status"))
    planned_date: Mapped[date | None]
    started_at: Mapped[datetime | None]  # server time
    client_started_at: Mapped[datetime | None]  # the phone's clock, kept to spot skew
    # When the visit ended at the unit: set when the team moves to signing, editable by
    # the lead; finished_at is when the minutes were issued, perhaps days later.
    ended_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Set when a correction of this visit is issued: its minutes are history from then on,
    # and the visit no longer counts in any figure, list or export (see ``counts``).
    superseded_at: Mapped[datetime | None]
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    location_accuracy_m: Mapped[int | None]
    # The first of ``checklists``: the general template's version (kept from before a visit
    # could ask several; ``checklists`` is what every reader uses).
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_version.id"))
    # The unit as it was when the visit started, which decides the items asked: a unit
    # that gets a one-stop desk later does not change the visits before.
    unit_kind: Mapped[str | None] = mapped_column(String(20))
    unit_one_stop: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    # Optimistic lock: every save names the version it was based on.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    findings: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    requests: Mapped[str] = mapped_column(Text, default="")
    remediation_due: Mapped[date | None]
    unit_comments: Mapped[str] = mapped_column(Text, default="")
    # Set on a correction: finalizing this visit issues minutes that supersede those.
    amends_minutes_id: Mapped[int | None] = mapped_column(
        ForeignKey("minutes.id", use_alter=True, name="fk_inspection_amends_minutes_id_minutes")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def counts(self) -> bool:
        """What counts, defined once: a finalized visit whose minutes are current.

        A visit whose minutes a correction replaced is history; its correction counts.
        Every figure, list and export selects visits with this.
        """
        return self.status is InspectionStatus.FINALIZED and self.superseded_at is None

    @counts.inplace.expression
    @classmethod
    def _counts_expression(cls):
        return and_(cls.status == InspectionStatus.FINALIZED, cls.superseded_at.is_(None))

    unit: Mapped[Unit] = relationship()

    @property
    def checklists(self) -> list[ChecklistVersion]:
        """The checklist versions the visit asks, in the order the page shows them."""
        return [link.version for link in self.checklist_links]

    @property
    def items(self) -> list[ChecklistItem]:
        """Every item of the visit's checklists that applies to its unit, in page order.

        Conditional items are included; ``asked`` says which of them the answers ask.
        """
        return items_of(self.checklists, self.unit_kind or self.unit.kind, self.unit_one_stop)

    checklist_links: Mapped[list["VisitChecklist"]] = relationship(
        cascade="all, delete-orphan", order_by="VisitChecklist.position", lazy="selectin"
    )
    created_by: Mapped[User] = relationship()
    team: Mapped[list["TeamMember"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    unit_results: Mapped[list["UnitItemResult"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan"
    )
    people: Mapped[list["PersonResult"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="PersonResult.id"
    )
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="inspection", order_by="Photo.id", passive_deletes=True
    )
    signatures: Mapped[list["Signature"]] = relationship(  # noqa: F821 - minutes.py
        back_populates="inspection", passive_deletes=True
    )
    # Every minutes issued for this visit, oldest first; the last is in force.
    minutes: Mapped[list["Minutes"]] = relationship(  # noqa: F821 - minutes.py
        back_populates="inspection", foreign_keys="Minutes.inspection_id", order_by="Minutes.id"
    )
    reviews: Mapped[list["Review"]] = relationship(back_populates="inspection")  # noqa: F821
    remediations: Mapped[list["Remediation"]] = relationship(  # noqa: F821 - review.py
        back_populates="inspection",
        foreign_keys="Remediation.inspection_id",
        order_by="Remediation.id",
    )


class VisitChecklist(Base):
    """A checklist version a visit asks: the visit keeps the exact versions it used."""

    __tablename__ = "visit_checklist"

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True
    )
    checklist_version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_version.id"), primary_key=True
    )
    position: Mapped[int]

    version: Mapped[ChecklistVersion] = relationship(lazy="joined")


class TeamMember(Base):
    __tablename__ = "team_member"
    __table_args__ = (
        UniqueConstraint("inspection_id", "user_id", name="uq_team_member_inspection_user"),
        # At most one lead per visit.
        Index(
            "uq_team_member_one_lead",
            "inspection_id",
            unique=True,
            sqlite_where=text("role = 'lead'"),
            postgresql_where=text("role = 'lead'"),
        ),
        Index("ix_team_member_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[TeamRole] = mapped_column(str_enum(TeamRole, "role"))

    inspection: Mapped[Inspection] = relationship(back_populates="team")
    user: Mapped[User] = relationship()


class UnitItemResult(Base):
    __tablename__ = "unit_item_result"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_id", name="uq_unit_item_result_inspection_item"),
        Index("ix_unit_item_result_item_outcome", "item_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "outcome"))
    number_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The answer of a TEXT or CHOICE item.
    text_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    inspection: Mapped[Inspection] = relationship(back_populates="unit_results")
    item: Mapped[ChecklistItem] = relationship()


class PersonResult(Base):
    """One person's attendance on a visit; name and position are copied at visit time."""

    __tablename__ = "person_result"
    __table_args__ = (
        UniqueConstraint("inspection_id", "staff_id", name="uq_person_result_inspection_staff"),
        # A person added on the phone keeps its client key, so a retried add is not doubled.
        UniqueConstraint("inspection_id", "client_id", name="uq_person_result_inspection_client"),
        Index("ix_person_result_staff_id", "staff_id"),
        Index("ix_person_result_attendance", "attendance"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    # NULL for a person met on the visit who is not on the unit's roster.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    full_name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str] = mapped_column(String(120), default="")
    client_id: Mapped[str | None] = mapped_column(String(64))
    attendance: Mapped[Attendance | None] = mapped_column(str_enum(Attendance, "attendance"))
    # When a late person arrived (local time), printed in the minutes: "đến lúc 08 giờ 05".
    arrived_at: Mapped[time | None]
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="people")
    staff: Mapped[StaffMember | None] = relationship()
    # Loaded with the people, in one query for all of them: every reader of a visit needs them.
    items: Mapped[list["PersonItemResult"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )


class PersonItemResult(Base):
    __tablename__ = "person_item_result"
    __table_args__ = (
        UniqueConstraint("person_result_id", "item_id", name="uq_person_item_result_person_item"),
        Index("ix_person_item_result_item_outcome", "item_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_result_id: Mapped[int] = mapped_column(
        ForeignKey("person_result.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "outcome"))
    note: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[PersonResult] = relationship(back_populates="items")
    item: Mapped[ChecklistItem] = relationship()


class Photo(Base):
    """Photo evidence attached to a visit, optionally to one item and/or one person."""

    __tablename__ = "photo"
    __table_args__ = (
        Index("ix_photo_inspection_id", "inspection_id"),
        # Idempotent upload: a phone retrying the same client_id gets the first photo back.
        UniqueConstraint("inspection_id", "client_id", name="uq_photo_inspection_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    thumb_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    person_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_result.id", ondelete="SET NULL")
    )
    width: Mapped[int]
    height: Mapped[int]
    captured_at: Mapped[datetime | None]  # from EXIF or the phone, when known
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_id: Mapped[str | None] = mapped_column(String(64))

    item: Mapped[ChecklistItem | None] = relationship()
    inspection: Mapped[Inspection] = relationship(back_populates="photos")
