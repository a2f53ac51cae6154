"""The organisation that inspects, and the units and staff it inspects."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow


class OrgSettings(Base):
    """The single row of organisation settings that the minutes are issued under.

    Nothing in the code assumes a district: a province's Sở Nội vụ or a commune sets
    these values itself (DOMAIN.md, "What changed in 2025").
    """

    __tablename__ = "org_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_name: Mapped[str] = mapped_column(String(200))
    # Printed in capitals, not bold, top left of the minutes (e.g. UBND HUYỆN BÌNH XUYÊN).
    parent_body: Mapped[str] = mapped_column(String(200))
    # Printed in bold capitals under the parent body (e.g. ĐOÀN KIỂM TRA CÔNG VỤ).
    issuing_body: Mapped[str] = mapped_column(String(200))
    # Suffix of minutes numbers: 07/BB-<issuing_abbr>.
    issuing_abbr: Mapped[str] = mapped_column(String(20))
    office_name: Mapped[str] = mapped_column(String(200), default="")
    # Place name on the date line: "<place_name>, ngày 05 tháng 10 năm 2018".
    place_name: Mapped[str] = mapped_column(String(100))
    # The decision that set up the team and the plan, cited as legal basis in the minutes.
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    # The organisation's seal as a transparent PNG, printed at its real diameter over the
    # team lead's signature; None prints a plain box with the digital signature's time.
    seal_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    seal_diameter_mm: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    # Office and administrator accounts must use two-step verification (TOTP).
    require_second_factor: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"
    COMMUNE = "commune"
    TOWN = "town"
    WARD = "ward"
    ADMIN_CENTRE = "admin_centre"
    SCHOOL = "school"
    OTHER = "other"


class Unit(Base):
    """An inspected unit: a department, a commune, a school, ..."""

    __tablename__ = "unit"
    __table_args__ = (Index("ix_unit_kind_active", "kind", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "kind"))
    address: Mapped[str] = mapped_column(String(300), default="")
    # The unit receives citizens' dossiers at a one-stop desk (bộ phận một cửa): the
    # checklist items and templates for one-stop desks apply to it.
    has_one_stop: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[list["StaffMember"]] = relationship(
        back_populates="unit", order_by="StaffMember.id"
    )


class StaffCategory(enum.StrEnum):
    CAN_BO = "can_bo"
    CONG_CHUC = "cong_chuc"
    VIEN_CHUC = "vien_chuc"
    HOP_DONG = "hop_dong"


class StaffMember(Base):
    """A person on a unit's roster (CBCCVC or contract worker)."""

    __tablename__ = "staff_member"
    __table_args__ = (
        # NULL badge numbers are distinct on both backends, so staff without one are fine.
        UniqueConstraint("unit_id", "badge_no", name="uq_staff_member_unit_badge"),
        Index("ix_staff_member_unit_active", "unit_id", "active"),
        Index("ix_staff_member_full_name", "full_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    full_name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[StaffCategory] = mapped_column(str_enum(StaffCategory, "category"))
    badge_no: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="staff")
