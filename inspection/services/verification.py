"""Is this file genuine minutes? Byte-identical to an issued PDF, and signed intact."""

import hashlib
import itertools
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    Minutes,
)
from inspection.pdf import signing
from inspection.services import minutes as minutes_service

_BYTE_RANGE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)


def _issued_prefix(data: bytes) -> Minutes | None:
    """Issued minutes this file begins with: a genuine file with bytes added after it.

    Each signature's /ByteRange ends where the file ended when it was signed; the bytes
    up to there are looked up among the stored PDFs. At most four ranges are tried.
    """
    for match in itertools.islice(_BYTE_RANGE.finditer(data), 4):
        _a, _b, offset, length = (int(g) for g in match.groups())
        end = offset + length
        if 0 < end < len(data):
            digest = hashlib.sha256(data[:end]).hexdigest()
            found = db.session.scalar(select(Minutes).filter_by(pdf_sha256=digest))
            if found is not None:
                return found
    return None


def verify(data: bytes, trusted, base_url: str = "") -> dict:
    """Say whether an uploaded file is genuine minutes: byte-identical and signed intact.

    A genuine file that was later replaced by a correction is still genuine, and the
    answer names the minutes that replaced it. Issued minutes with bytes added after
    signing are named as altered, not as unknown.
    """
    # Identified by SHA-256 first, and everything read from the database before the file
    # is parsed: the read ends before the (bounded) parse, so no writer waits on it.
    sha256 = hashlib.sha256(data).hexdigest()
    minutes = db.session.scalar(select(Minutes).filter_by(pdf_sha256=sha256))
    altered = _issued_prefix(data) if minutes is None and data.startswith(b"%PDF-") else None
    known = minutes or altered
    number = known.display_number if known else None
    inspection_id = known.inspection_id if known else None
    replaced = minutes_service.superseded_by(known) if known is not None else None
    superseded = (
        {
            "number": replaced.display_number,
            "issued_at": replaced.created_at.isoformat(),
            "verify_url": f"{base_url.rstrip('/')}/verify/{replaced.verify_code}",
        }
        if replaced
        else None
    )
    db.session.rollback()  # verifying changes nothing: end the read transaction now
    if not data.startswith(b"%PDF-"):
        check = signing.SignatureCheck(False, False, "", "not a PDF")
    else:
        check = signing.check_bounded(data, trusted)
    valid = minutes is not None and check.valid
    if valid:
        reason = str(
            _l(
                "The file is identical to minutes issued by this office"
                " and its signature is intact."
            )
        )
    elif altered is not None:
        reason = str(
            _l(
                "This is minutes No. %(number)s as issued by this office, with content added"
                " after it was signed: the added part is not genuine. Ask for the issued file.",
                number=number,
            )
        )
    elif minutes is None and check.intact:
        reason = str(
            _l("The signature is intact, but this file is not one of the minutes issued here.")
        )
    elif minutes is None:
        reason = str(
            _l(
                "This file does not match any minutes issued here:"
                " it was changed or is not genuine."
            )
        )
    else:
        reason = str(_l("The file matches issued minutes but its signature does not validate."))
    return {
        "valid": valid,
        "number": number,
        "inspection_id": inspection_id,
        "sha256": sha256,
        "signature_intact": check.intact,
        "altered": altered is not None,
        "reason": reason,
        "superseded_by": superseded,
        "minutes": known,  # the two objects are for the page; the API leaves them out
        "replaced_by": replaced,
    }
