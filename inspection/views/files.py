"""Photos served to whoever may read their visit, as stored bytes with their sha256 as ETag."""

from flask import Blueprint, abort, make_response, request
from flask_login import current_user

from inspection.extensions import db
from inspection.headers import content_disposition
from inspection.models import Photo, RemediationEvidence
from inspection.services import audit, blobs, review, visits
from inspection.services import minutes as minutes_service
from inspection.views.access import ALL_ROLES, actor, require

bp = Blueprint("files", __name__)


def send_blob(sha256: str, filename: str, disposition: str = "inline"):
    """Answer with a stored blob; a matching If-None-Match gets 304."""
    if request.if_none_match.contains(sha256):
        response = make_response("", 304)
    else:
        found = blobs.read(sha256)
        if found is None:
            abort(404)
        data, content_type = found
        response = make_response(data)
        response.content_type = content_type
    response.set_etag(sha256)
    # Private: personal data must not sit in shared caches; immutable: the bytes never change.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = content_disposition(disposition, filename)
    return response


def _photo(photo_id: int) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        abort(404)
    visits.get_visible(current_user, photo.inspection_id)  # NotFound when not theirs
    return photo


@bp.get("/photos/<int:photo_id>.jpg")
@require(*ALL_ROLES)
def photo(photo_id: int):
    return send_blob(_photo(photo_id).blob_sha256, f"photo-{photo_id}.jpg")


@bp.get("/photos/<int:photo_id>/thumb.jpg")
@require(*ALL_ROLES)
def thumbnail(photo_id: int):
    photo = _photo(photo_id)
    return send_blob(photo.thumb_sha256 or photo.blob_sha256, f"photo-{photo_id}-thumb.jpg")


def send_minutes(minutes):
    """Serve the stored, signed PDF (never re-rendered) and record the download."""
    audit.record(actor(), "minutes_downloaded", minutes)
    return send_blob(minutes.pdf_sha256, minutes_service.filename(minutes), "attachment")


@bp.get("/minutes/<int:minutes_id>.pdf")
@require(*ALL_ROLES)
def minutes_pdf(minutes_id: int):
    return send_minutes(minutes_service.readable(current_user, minutes_id))


@bp.get("/evidence/<int:evidence_id>")
@require(*ALL_ROLES)
def evidence(evidence_id: int):
    """A remediation's evidence file, for the office and the unit it belongs to."""
    row = db.session.get(RemediationEvidence, evidence_id)
    if row is None:
        abort(404)
    review.get_remediation(current_user, row.remediation_id)  # 404 when not theirs
    return send_blob(row.blob_sha256, review.evidence_filename(row), "attachment")
