"""The office's review of finalized visits and the remediation loop with the unit.

A remediation moves open -> answered -> accepted, or answered -> reopened -> answered...
The unit answers; the office accepts or reopens.
"""

import io
import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from inspection.extensions import db
from inspection.i18n import local_today
from inspection.models import (
    Inspection,
    InspectionStatus,
    Minutes,
    Remediation,
    RemediationEvidence,
    RemediationStatus,
    Review,
    ReviewDecision,
    User,
    utcnow,
)
from inspection.services import audit, blobs, images, notifications, policy, results
from inspection.services.errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)

WAITING_FOR_UNIT = (RemediationStatus.OPEN, RemediationStatus.REOPENED)
MAX_EVIDENCE_FILES = 10


def inbox() -> list[Inspection]:
    """Visits that count and that no one has reviewed yet, oldest first (a superseded
    visit leaves the inbox: its correction takes its place)."""
    reviewed = exists().where(Review.inspection_id == Inspection.id)
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.counts, ~reviewed)
            .options(selectinload(Inspection.unit))
            .order_by(Inspection.finished_at)
        )
    )


def review_of(inspection_id: int) -> Review | None:
    return db.session.scalar(select(Review).filter_by(inspection_id=inspection_id))


def failed_items(inspection: Inspection, locale: str = "vi") -> list[dict]:
    """Return the checklist items this visit found failing (unit or person), for the review form."""
    summary = results.summary(inspection, locale)
    codes = {f["code"]: f["label"] for f in summary["failed_unit"]}
    by_id = {i.id: i for i in inspection.items}
    for person in inspection.people:
        for row in person.items:
            if row.outcome is not None and row.outcome.value == "fail":
                item = by_id[row.item_id]
                codes.setdefault(item.code, item.label(locale))
    return [{"code": code, "label": label} for code, label in codes.items()]


def review(
    actor: audit.Actor,
    inspection: Inspection,
    *,
    decision: ReviewDecision | str,
    comment: str = "",
    due: date | None = None,
    item_codes: list[str] | None = None,
    today: date,
) -> Review:
    """Accept a finalized visit, or require remediation of some items by a deadline."""
    if inspection.status is InspectionStatus.FINALIZED and not inspection.counts:
        raise Conflict(
            str(_l("These minutes were replaced by a correction: review the correction."))
        )
    if inspection.status is not InspectionStatus.FINALIZED:
        raise Conflict(str(_l("Only visits with issued minutes are reviewed.")))
    if review_of(inspection.id) is not None:
        raise Conflict(str(_l("This visit was already reviewed.")))
    fields = {}
    try:
        decision = ReviewDecision(decision)
    except ValueError:
        fields["decision"] = str(_l("Choose accepted or remediation_required."))
    comment = (comment or "").strip()
    if len(comment) > 5000:
        fields["comment"] = str(_l("At most %(n)d characters.", n=5000))
    items = {i.code: i for i in results.asked_items(inspection)}
    item_codes = list(dict.fromkeys(item_codes or []))
    if decision == ReviewDecision.REMEDIATION_REQUIRED:
        if due is None or due <= today:
            fields["due"] = str(_l("Give a deadline after today."))
        unknown = [c for c in item_codes if c not in items]
        if unknown:
            fields["item_codes"] = str(
                _l("Unknown item codes: %(codes)s", codes=", ".join(unknown))
            )
        if not comment:
            fields["comment"] = str(_l("Tell the unit what to fix."))
    if fields:
        raise ServiceError(str(_l("The review was not saved.")), fields)
    row = Review(
        inspection_id=inspection.id,
        reviewer_id=actor.user_id,
        decision=decision,
        comment=comment,
    )
    db.session.add(row)
    db.session.flush()
    remediations = []
    if decision is ReviewDecision.REMEDIATION_REQUIRED:
        # One request (the review, with the office's words once) holding its items, each
        # answered and decided on its own; without items, the request is one item itself.
        for code in item_codes or [None]:
            item = items.get(code)
            request = item.label_vi if item else comment
            remediations.append(
                Remediation(
                    inspection_id=inspection.id,
                    review_id=row.id,
                    item_id=item.id if item else None,
                    request=request,
                    due_date=due,
                    status=RemediationStatus.OPEN,
                )
            )
    db.session.add_all(remediations)
    db.session.flush()
    audit.record(actor, "visit_reviewed", row, decision=decision.value, items=item_codes)
    notifications.visit_reviewed(row, remediations)
    return row


def list_remediations(user: User, status: str | None = None) -> list[Remediation]:
    query = policy.readable_remediations(user).options(
        selectinload(Remediation.inspection).selectinload(Inspection.unit),
        selectinload(Remediation.evidence),
    )
    if status == "overdue":
        query = query.where(
            Remediation.status.in_(WAITING_FOR_UNIT), Remediation.due_date < local_today()
        )
    elif status:
        query = query.where(Remediation.status == status)
    return list(db.session.scalars(query.order_by(Remediation.due_date, Remediation.id)))


@dataclass
class Request:
    """What the office asked of a unit after one visit: its words once, and the items."""

    review: Review | None
    items: list[Remediation]

    @property
    def inspection(self) -> Inspection:
        return self.items[0].inspection

    @property
    def comment(self) -> str:
        return self.review.comment if self.review else ""

    @property
    def due_date(self) -> date:
        return min(r.due_date for r in self.items)

    @property
    def waiting(self) -> list[Remediation]:
        """The items the unit still has to answer."""
        return [r for r in self.items if r.status in WAITING_FOR_UNIT]

    @property
    def with_office(self) -> list[Remediation]:
        return [r for r in self.items if r.status is RemediationStatus.ANSWERED]


def grouped(rows: list[Remediation]) -> list[Request]:
    """The items as the requests they belong to, in the order of their first item."""
    requests: dict = {}
    for row in rows:
        key = row.review_id or f"r{row.id}"
        requests.setdefault(key, Request(review=row.review, items=[])).items.append(row)
    return list(requests.values())


def request_of(row: Remediation) -> Request:
    """The whole request an item belongs to."""
    if row.review_id is None:
        return Request(review=None, items=[row])
    siblings = db.session.scalars(
        select(Remediation).filter_by(review_id=row.review_id).order_by(Remediation.id)
    )
    return Request(review=row.review, items=list(siblings))


def remediations_of(inspection_id: int) -> list[Remediation]:
    """Return the requests made after reviewing one visit."""
    return list(
        db.session.scalars(
            select(Remediation).filter_by(inspection_id=inspection_id).order_by(Remediation.id)
        )
    )


def get_remediation(user: User, remediation_id: int) -> Remediation:
    row = db.session.scalar(
        policy.readable_remediations(user).where(Remediation.id == remediation_id)
    )
    if row is None:
        raise NotFound(str(_l("Not found.")))
    return row


def is_overdue(remediation: Remediation, today: date) -> bool:
    return remediation.status in WAITING_FOR_UNIT and remediation.due_date < today


def _evidence(data: bytes, filename: str, max_bytes: int) -> tuple[bytes, str, str]:
    """Validate one evidence file: a photo (re-encoded like visit photos) or a real PDF."""
    if data.startswith(b"%PDF-"):
        if len(data) > max_bytes:
            raise images.ImageTooLarge(str(_l("The file is too large.")))
        try:
            PdfFileReader(io.BytesIO(data), strict=False).root  # noqa: B018 - parse or fail
        except Exception as exc:  # a broken or hostile PDF may fail in many ways
            raise images.NotAnImage(str(_l("This file is not a readable PDF."))) from exc
        return data, "application/pdf", _named(filename, ".pdf")
    processed = images.process_photo(data, max_bytes)
    return processed.jpeg, "image/jpeg", _named(filename, ".jpg")


def _named(filename: str, extension: str) -> str:
    """Return the uploaded name with the checked type's extension (a PDF named .jpg is .pdf)."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem or 'file'}{extension}"


def evidence_filename(row: RemediationEvidence) -> str:
    """Return the name an evidence file is served under: its extension follows its stored type."""
    extension = ".jpg" if row.is_image else ".pdf"
    return _named(row.filename, extension)


def respond(
    actor: audit.Actor,
    user: User,
    remediation: Remediation,
    *,
    text: str,
    files: list[tuple[str, bytes]],
    max_bytes: int,
) -> Remediation:
    """Record the unit's report of its fix, with evidence files (photos or PDFs)."""
    if remediation.status not in WAITING_FOR_UNIT:
        raise Conflict(str(_l("This request is not waiting for an answer.")))
    text = (text or "").strip()
    fields = {}
    if not text:
        fields["response"] = str(_l("Describe what was fixed."))
    elif len(text) > 10000:
        fields["response"] = str(_l("At most %(n)d characters.", n=10000))
    if len(files) > MAX_EVIDENCE_FILES:
        fields["file"] = str(_l("At most %(n)d files.", n=MAX_EVIDENCE_FILES))
    if fields:
        raise ServiceError(str(_l("The answer was not sent.")), fields)
    stored = [_evidence(data, name[:150] or "file", max_bytes) for name, data in files]
    for data, content_type, name in stored:
        remediation.evidence.append(
            RemediationEvidence(
                blob_sha256=blobs.put(data, content_type).sha256,
                filename=name,
                uploaded_by_id=user.id,
            )
        )
    remediation.response = text
    remediation.responded_at = utcnow()
    remediation.responded_by_id = user.id
    remediation.status = RemediationStatus.ANSWERED
    db.session.flush()
    audit.record(actor, "remediation_answered", remediation, files=len(stored))
    notifications.remediation_answered(remediation)
    return remediation


def decide(
    actor: audit.Actor, remediation: Remediation, *, accept: bool, comment: str = ""
) -> Remediation:
    """Accept a unit's answer (closing the request) or reopen it with a comment."""
    if remediation.status is not RemediationStatus.ANSWERED:
        raise Conflict(str(_l("Only answered requests can be accepted or reopened.")))
    comment = (comment or "").strip()
    if not accept and not comment:
        raise ServiceError(
            str(_l("The decision was not saved.")),
            {"comment": str(_l("Say what is still missing."))},
        )
    remediation.office_comment = comment
    if accept:
        remediation.status = RemediationStatus.ACCEPTED
        remediation.closed_at = utcnow()
    else:
        remediation.status = RemediationStatus.REOPENED
    db.session.flush()
    audit.record(actor, "remediation_accepted" if accept else "remediation_reopened", remediation)
    notifications.remediation_decided(remediation)
    return remediation


def link_follow_up(
    actor: audit.Actor, remediation: Remediation, inspection_id: int | None
) -> Remediation:
    """Link a later visit of the same unit that checked this fix (None unlinks)."""
    if inspection_id is not None:
        visit = db.session.get(Inspection, inspection_id)
        if (
            visit is None
            or visit.unit_id != remediation.inspection.unit_id
            or visit.id == remediation.inspection_id
        ):
            raise ServiceError(
                str(_l("The link was not saved.")),
                {"follow_up": str(_l("Choose a later visit of the same unit."))},
            )
    remediation.follow_up_inspection_id = inspection_id
    db.session.flush()
    audit.record(actor, "remediation_follow_up", remediation, inspection_id=inspection_id)
    return remediation


def follow_up_candidates(remediation: Remediation) -> list[Inspection]:
    return list(
        db.session.scalars(
            select(Inspection)
            .where(
                and_(
                    Inspection.unit_id == remediation.inspection.unit_id,
                    Inspection.id != remediation.inspection_id,
                    Inspection.status != InspectionStatus.PLANNED,
                    Inspection.superseded_at.is_(None),  # a replaced visit is no follow-up
                    # A follow-up comes after the visit that asked for the fix.
                    or_(
                        Inspection.started_at.is_(None),
                        Inspection.started_at > remediation.inspection.started_at,
                    ),
                )
            )
            .order_by(Inspection.started_at.desc())
            .limit(20)
        )
    )


def acknowledge(actor: audit.Actor, user: User, minutes: Minutes) -> Minutes:
    """Record that the inspected unit received its minutes (once; later calls keep the first)."""
    if not policy.may_acknowledge(user, minutes.inspection):
        raise NotFound(str(_l("Not found.")))
    if minutes.acknowledged_at is None:
        minutes.acknowledged_at = utcnow()
        minutes.acknowledged_by_id = user.id
        db.session.flush()
        audit.record(actor, "minutes_acknowledged", minutes)
        notifications.minutes_acknowledged(minutes)
    return minutes
