"""Figures of finalized visits, written once when the minutes are issued.

A finalized visit never changes, so its counts can be kept instead of recomputed from
millions of answers on every dashboard view.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from inspection.models.base import Base


class VisitCategoryStat(Base):
    """Pass/fail answers of one finalized visit in one category (N/A not counted)."""

    __tablename__ = "visit_category_stat"
    __table_args__ = (
        Index("ix_visit_category_stat_started_unit", "started_at", "unit_id"),
        # Covering indexes: the dashboard's groupings read them without touching the table.
        Index("ix_visit_category_stat_unit_sums", "unit_id", "category", "checked", "failed"),
        Index("ix_visit_category_stat_month_sums", "month", "checked", "failed"),
    )

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    started_at: Mapped[datetime]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of started_at in Hà Nội
    checked: Mapped[int]
    failed: Mapped[int]


class VisitAttendanceStat(Base):
    """Attendance counts of one finalized visit."""

    __tablename__ = "visit_attendance_stat"
    __table_args__ = (
        Index("ix_visit_attendance_stat_started_unit", "started_at", "unit_id"),
        Index("ix_visit_attendance_stat_month", "month"),
    )

    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    started_at: Mapped[datetime]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of started_at in Hà Nội
    rostered: Mapped[int]
    present: Mapped[int]
    late: Mapped[int]
    absent_excused: Mapped[int]
    absent_unexcused: Mapped[int]
    on_duty: Mapped[int]


class PersonFailure(Base):
    """A person-item failure of a rostered staff member on a finalized visit."""

    __tablename__ = "person_failure"
    __table_args__ = (
        Index("ix_person_failure_staff_code", "staff_id", "item_code"),
        Index("ix_person_failure_started_unit", "started_at", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    started_at: Mapped[datetime]
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    item_code: Mapped[str] = mapped_column(String(32))
