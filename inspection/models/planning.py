"""The annual inspection plan: how many visits each unit gets, quarter by quarter."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, utcnow
from inspection.models.org import Unit


class VisitPlan(Base):
    __tablename__ = "visit_plan"
    __table_args__ = (
        UniqueConstraint("year", "unit_id", name="uq_visit_plan_year_unit"),
        CheckConstraint("q1 >= 0 AND q2 >= 0 AND q3 >= 0 AND q4 >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    q1: Mapped[int] = mapped_column(default=0)
    q2: Mapped[int] = mapped_column(default=0)
    q3: Mapped[int] = mapped_column(default=0)
    q4: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
