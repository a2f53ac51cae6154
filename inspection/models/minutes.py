"""Signatures and the minutes (biên bản) issued for a visit."""

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow
from inspection.models.visit import Inspection


class SignerRole(enum.StrEnum):
    LEAD = "lead"
    SECRETARY = "secretary"
    UNIT_REP = "unit_rep"


class Signature(Base):
    __tablename__ = "signature"
    __table_args__ = (
        UniqueConstraint("inspection_id", "role", name="uq_signature_inspection_role"),
        CheckConstraint(
            "(refused AND image_sha256 IS NULL) OR (NOT refused AND image_sha256 IS NOT NULL)",
            name="image_or_refusal",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    role: Mapped[SignerRole] = mapped_column(str_enum(SignerRole, "role"))
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_position: Mapped[str] = mapped_column(String(120), default="")
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    refused: Mapped[bool] = mapped_column(default=False)
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the signer was shown: the visit version on the phone and the SHA-256 of the
    # answers and texts it held (results.content_digest). The signature counts only
    # while the visit's content still has this digest.
    content_version: Mapped[int | None]
    content_digest: Mapped[str] = mapped_column(String(64), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    inspection: Mapped[Inspection] = relationship(back_populates="signatures")


class MinutesCounter(Base):
    """The last minutes number used per issuing body and year (numbers restart on 1 January)."""

    __tablename__ = "minutes_counter"

    issuing_abbr: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Minutes(Base):
    """An issued biên bản: a stored, signed PDF that is never re-rendered or edited."""

    __tablename__ = "minutes"
    __table_args__ = (
        UniqueConstraint("issuing_abbr", "year", "number", name="uq_minutes_abbr_year_number"),
        Index("ix_minutes_inspection_id", "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"))
    number: Mapped[int]
    year: Mapped[int]
    issuing_abbr: Mapped[str] = mapped_column(String(20))
    # Random public code printed in the footer and used by /verify/<code>.
    verify_code: Mapped[str] = mapped_column(String(32), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime | None]  # receipt acknowledged by the unit
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    inspection: Mapped[Inspection] = relationship(
        foreign_keys=[inspection_id], back_populates="minutes"
    )
    # Every file these minutes have been, the issued one first.
    files: Mapped[list["MinutesFile"]] = relationship(
        back_populates="minutes", order_by="MinutesFile.id"
    )

    @property
    def display_number(self) -> str:
        return self.format_number(self.number, self.issuing_abbr)

    @staticmethod
    def format_number(number: int, issuing_abbr: str) -> str:
        """Return the number as printed: 07/BB-ĐKT."""
        return f"{number:02d}/BB-{issuing_abbr}"


class MinutesFile(Base):
    """Every file the minutes have been: the one issued, then each long-term extension
    (validation data and a new document timestamp appended as an incremental update; the
    signed bytes never change). The newest is served (``Minutes.pdf_sha256``); the
    verifier recognises any of them."""

    __tablename__ = "minutes_file"
    __table_args__ = (Index("ix_minutes_file_minutes_id", "minutes_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The PAdES baseline level (B-B, B-T, B-LT, B-LTA) and when the certificate of its
    # last timestamp ends: the file must be re-timestamped before then. NULL where the
    # file was not read yet (minutes issued before migration 0018).
    level: Mapped[str | None] = mapped_column(String(8))
    timestamp_until: Mapped[datetime | None]

    minutes: Mapped[Minutes] = relationship(back_populates="files")
