"""Messages to send, recorded in the transaction of the change that causes them: emails
to accounts and events to the webhooks an administrator registered."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; an administrator may retry it


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Webhook(Base):
    """An endpoint that receives events, signed with its secret (Standard Webhooks)."""

    __tablename__ = "webhook"
    # Ids are never reused after a delete (SQLite would take the highest id + 1 again).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(400))  # space-separated event types
    description: Mapped[str] = mapped_column(String(200), default="")
    # "whsec_" + base64 of 32 random bytes: shown once, kept to sign every delivery.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    @property
    def event_list(self) -> list[str]:
        return self.events.split()


class Outbox(Base):
    """One message to one recipient: an email to an account or an event to a webhook. Its
    id names it everywhere it goes (the email's Message-ID, the file under instance/mail/,
    the webhook-id header), so a copy sent again after a crash is recognised as the same."""

    __tablename__ = "outbox"
    # An id names one message for good (a webhook-id receivers deduplicate on): never
    # reused after the rows of a deleted webhook go (AUTOINCREMENT on SQLite).
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"), default=Channel.EMAIL)
    event: Mapped[str] = mapped_column(String(40))  # minutes.issued, ...
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(2000))  # an email address or a URL
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)  # a webhook's JSON payload
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Said once only (a reminder for one deadline): a second row with the key is refused.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, "status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # host:pid of the worker sending it now; a restart on that host releases its claims.
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    webhook: Mapped[Webhook | None] = relationship()
    attempts_log: Mapped[list["DeliveryAttempt"]] = relationship(
        order_by="DeliveryAttempt.id", cascade="all, delete-orphan", passive_deletes=True
    )


class DeliveryAttempt(Base):
    """One try at delivering a message: when, how long, and what the other side said."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None]  # the HTTP status of a webhook's answer
    ok: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str] = mapped_column(Text, default="")
