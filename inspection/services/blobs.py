"""Content-addressed storage: bytes are stored once under their SHA-256."""

import hashlib

from inspection.extensions import db
from inspection.models import Blob


def put(data: bytes, content_type: str) -> Blob:
    """Store ``data`` (if new) and return its blob."""
    sha256 = hashlib.sha256(data).hexdigest()
    blob = db.session.get(Blob, sha256)
    if blob is None:
        blob = Blob(sha256=sha256, content_type=content_type, size=len(data), data=data)
        db.session.add(blob)
        db.session.flush()
    return blob


def read(sha256: str) -> tuple[bytes, str] | None:
    """Return a blob's bytes and content type, or None."""
    row = db.session.execute(
        db.select(Blob.data, Blob.content_type).where(Blob.sha256 == sha256)
    ).first()
    return (row.data, row.content_type) if row else None
