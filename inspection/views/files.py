"""Photos served to whoever may read their visit, as stored bytes with their sha256 as ETag."""

from flask import Blueprint, abort
from flask_login import current_user

from inspection.extensions import db
from inspection.models import Photo, RemediationEvidence
from inspection.responses import send_blob, send_minutes
from inspection.services import minutes as minutes_service
from inspection.services import review, visits
from inspection.views.access import ALL_ROLES, require

bp = Blueprint("files", __name__)


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


@bp.get("/minutes/<int:minutes_id>.pdf")
@require(*ALL_ROLES)
def minutes_pdf(minutes_id: int):
    return send_minutes(minutes_service.readable(current_user, minutes_id))


@bp.get("/evidence/<int:evidence_id>")
@require(*ALL_ROLES)
def evidence(evidence_id: int):
    """Return a remediation's evidence file, for the office and the unit it belongs to: shown
    in the browser (photos are re-encoded JPEGs, PDFs were checked to be PDFs)."""
    row = db.session.get(RemediationEvidence, evidence_id)
    if row is None:
        abort(404)
    review.get_remediation(current_user, row.remediation_id)  # 404 when not theirs
    return send_blob(row.blob_sha256, review.evidence_filename(row), "inline")
