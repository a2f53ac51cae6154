"""Content-addressed binary storage for photos, signature images and PDFs."""

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from inspection.models.base import Base, utcnow


class Blob(Base):
    """Bytes keyed by their SHA-256: storing the same bytes twice stores them once."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # Deferred: listing blobs must not pull megabytes of image data.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
