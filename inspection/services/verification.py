"""Is this file genuine minutes? Byte-identical to an issued PDF, and signed intact."""

import collections
import hashlib
import itertools
import re
import time

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import MinutesFile
from inspection.pdf import signing
from inspection.services import minutes as minutes_service

# The signature check's bound: a file built to be slow to parse is cut off after this.
CHECK_SECONDS = 2.0
MIN_CHECK_SECONDS = 0.5
# A verify request is answered this long after it began (upload parsing included).
ANSWER_SECONDS = 2.5

_EOF = re.compile(rb"%%EOF(?:\r\n|\r|\n)?")
_BYTE_RANGE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)


def _revision_ends(data: bytes) -> list[int]:
    """Where the file may have ended at an earlier revision: where each signature's
    /ByteRange ends (the file's end when it was signed) and after each %%EOF marker (a
    long-term file ends with a revision of validation data after its last timestamp)."""
    ends = {
        int(match.group(3)) + int(match.group(4))
        for match in itertools.islice(_BYTE_RANGE.finditer(data), 64)
    }
    # The first and the last markers: bytes added after a genuine file cannot hide it.
    markers = _EOF.finditer(data)
    for match in [*itertools.islice(markers, 64), *collections.deque(markers, maxlen=64)]:
        ends.update((match.start() + 5, match.end()))
    return sorted(end for end in ends if 0 < end < len(data))


def _issued_prefix(data: bytes) -> MinutesFile | None:
    """The longest stored file this file begins with: a genuine file with bytes added
    after it. The prefixes are hashed in one pass and looked up in one query."""
    digest, done, prefixes = hashlib.sha256(), 0, {}
    for end in _revision_ends(data):
        digest.update(data[done:end])
        done = end
        prefixes[digest.copy().hexdigest()] = end
    if not prefixes:
        return None
    found = db.session.scalars(select(MinutesFile).where(MinutesFile.sha256.in_(prefixes)))
    return max(found, key=lambda file: prefixes[file.sha256], default=None)


def answer_by() -> float:
    """When the current request must be answered (a ``perf_counter`` time)."""
    return g.get("started", time.perf_counter()) + ANSWER_SECONDS


def verify(data: bytes, trusted, base_url: str = "", *, answer_by: float | None = None) -> dict:
    """Say whether an uploaded file is genuine minutes: byte-identical and signed intact.

    A genuine file that was later replaced by a correction is still genuine, and the
    answer names the minutes that replaced it. Issued minutes with bytes added after
    signing are named as altered, not as unknown. ``answer_by`` (a ``perf_counter``
    time) bounds the signature check so that the request, upload parsing included, is
    answered by then on a loaded server too.
    """
    # Identified by SHA-256 first, and everything read from the database before the file
    # is parsed: the read ends before the (bounded) parse, so no writer waits on it.
    sha256 = hashlib.sha256(data).hexdigest()
    # Any file the minutes have been: the one issued, or a later long-term extension.
    found = db.session.scalar(select(MinutesFile).filter_by(sha256=sha256))
    minutes = found.minutes if found is not None else None
    prefix = _issued_prefix(data) if minutes is None and data.startswith(b"%PDF-") else None
    altered = prefix.minutes if prefix is not None else None
    known = minutes or altered
    current_sha256 = known.pdf_sha256 if known is not None else None
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
        seconds = CHECK_SECONDS
        if answer_by is not None:
            seconds = min(seconds, max(MIN_CHECK_SECONDS, answer_by - time.perf_counter()))
        check = signing.check_bounded(data, trusted, issued=minutes is not None, seconds=seconds)
    valid = minutes is not None and check.valid
    if valid and current_sha256 != sha256:
        reason = str(
            _l(
                "The file is identical to minutes issued by this office and its signature is"
                " intact. The office has since added a newer timestamp to these minutes,"
                " which keeps the signature verifiable: the current file adds only that."
            )
        )
    elif valid:
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
        "current_sha256": current_sha256,
        "signature_intact": check.intact,
        "altered": altered is not None,
        "reason": reason,
        "superseded_by": superseded,
        "minutes": known,  # the two objects are for the page; the API leaves them out
        "replaced_by": replaced,
    }
