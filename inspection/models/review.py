"""The office's review of a visit and the remediation it asks of the unit."""

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow
from inspection.models.checklist import ChecklistItem
from inspection.models.visit import Inspection


class ReviewDecision(enum.StrEnum):
    ACCEPTED = "accepted"
    REMEDIATION_REQUIRED = "remediation_required"


class Review(Base):
    __tablename__ = "review"
    __table_args__ = (Index("ix_review_inspection_id", "inspection_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[ReviewDecision] = mapped_column(str_enum(ReviewDecision, "decision"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="reviews")


class RemediationStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    REOPENED = "reopened"


class Remediation(Base):
    """A fix the unit must report by a deadline: open -> answered -> accepted or reopened."""

    __tablename__ = "remediation"
    __table_args__ = (
        Index("ix_remediation_status_due", "status", "due_date"),
        Index("ix_remediation_inspection_id", "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_item.id"))
    request: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date]
    status: Mapped[RemediationStatus] = mapped_column(str_enum(RemediationStatus, "status"))
    response: Mapped[str] = mapped_column(Text, default="")
    # The office's word when it accepts or reopens an answer.
    office_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    responded_at: Mapped[datetime | None]
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime | None]
    # A later visit that checked this fix.
    follow_up_inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    inspection: Mapped[Inspection] = relationship(
        foreign_keys=[inspection_id], back_populates="remediations"
    )
    item: Mapped[ChecklistItem | None] = relationship()
    # The request this item belongs to: the office's words, said once for all its items.
    review: Mapped[Review | None] = relationship()
    evidence: Mapped[list["RemediationEvidence"]] = relationship(
        order_by="RemediationEvidence.id", cascade="all, delete-orphan"
    )


class RemediationEvidence(Base):
    __tablename__ = "remediation_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    remediation_id: Mapped[int] = mapped_column(
        ForeignKey("remediation.id", ondelete="CASCADE"), index=True
    )
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    blob: Mapped["Blob"] = relationship()  # noqa: F821 - blob.py; its content type

    @property
    def is_image(self) -> bool:
        return self.blob.content_type.startswith("image/")
