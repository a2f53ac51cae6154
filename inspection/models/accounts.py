"""User accounts, roles and API tokens."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inspection.models.base import Base, str_enum, utcnow
from inspection.models.org import Unit


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICE = "office"  # the Home Affairs reviewer
    INSPECTOR = "inspector"
    UNIT = "unit"  # an inspected unit's representative, tied to one unit


class User(UserMixin, Base):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "(role = 'unit' AND unit_id IS NOT NULL) OR (role <> 'unit' AND unit_id IS NULL)",
            name="unit_role_has_unit",
        ),
        Index("ix_user_role_active", "role", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"))
    position: Mapped[str] = mapped_column(String(120), default="")
    # Where the account is told what needs it (minutes issued, a deadline near).
    email: Mapped[str | None] = mapped_column(String(254))
    # The language of the account's emails (and its pages, once it chose one).
    language: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    # The kinds of email the account turned off (space-separated, notifications.KINDS).
    mail_off: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by "log out everywhere" and password changes: old session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Two-step verification (TOTP, RFC 6238). The base32 secret is set when enrolment
    # starts and counts only once a code from the phone confirmed it.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    totp_confirmed_at: Mapped[datetime | None]
    # The last time step a code was accepted for: a code is good once, not for 90 s.
    totp_last_step: Mapped[int | None]

    unit: Mapped[Unit | None] = relationship()
    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", order_by="ApiToken.id.desc()"
    )

    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(
        back_populates="user", order_by="RecoveryCode.id", cascade="all, delete-orphan"
    )

    @property
    def has_second_factor(self) -> bool:
        return self.totp_confirmed_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Base):
    """A browser's login. Its random id travels in the signed session cookie and is
    checked on every request, so logging out ends it on the server: a cookie copied
    before the logout is worthless after it."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # 256 random bits, hex
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A single-use code that stands in for the phone's code when the phone is lost.
    Only its SHA-256 is stored (a code carries 40 random bits, and
    login failures are limited)."""

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")
