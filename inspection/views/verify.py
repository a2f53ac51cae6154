"""Public verification of minutes: by the code printed on them, or by uploading the PDF."""

import hashlib

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from forms.signature import VerifyForm
from inspection import addresses
from inspection.extensions import db, limiter
from inspection.labels import SIGNATURE_LEVELS
from inspection.pdf import signing
from inspection.responses import content_disposition
from inspection.services import minutes as minutes_service
from inspection.services import signatures, verification
from inspection.services.errors import SigningUnavailable

bp = Blueprint("verify", __name__)


@bp.get("/verify/certificate.pem", defaults={"form": "pem"})
@bp.get("/verify/certificate.der", defaults={"form": "der"})
def certificate(form: str):
    """Return the issuing body's signing certificate, for checking a file with one's own tool."""
    cert = signing.public_certificate(current_app.config)
    if cert is None:
        raise SigningUnavailable(
            str(_l("The signing certificate cannot be read at the moment. Try again later."))
        )
    body = cert.dump() if form == "der" else signing.pem(cert)
    mimetype = "application/pkix-cert" if form == "der" else "application/x-pem-file"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(
        "attachment", f"chung-thu-so.{form}"
    )
    return response


@bp.get("/verify/<code>")
@limiter.limit("60/minute")
def by_code(code: str):
    minutes = minutes_service.by_code(code[:32])
    if minutes is None:
        abort(404)
    return render_template(
        "verify/minutes.html",
        minutes=minutes,
        superseded_by=minutes_service.superseded_by(minutes),
        signers=signatures.signatures_of(minutes.inspection),
        levels=SIGNATURE_LEVELS,
        form=VerifyForm(),
        certificate=certificate_facts(),
    )


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
def upload():
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        result = verification.verify(
            request.files["file"].read(),
            signing.configured_trust(current_app.config),
            addresses.link_base_url(),
            answer_by=verification.answer_by(),
        )
        db.session.rollback()  # verifying changes nothing
    return render_template(
        "verify/upload.html", form=form, result=result, certificate=certificate_facts()
    )


def certificate_facts() -> dict | None:
    cert = signing.public_certificate(current_app.config)
    if cert is None:
        return None
    subject = cert.subject.native
    return {
        "name": subject.get("common_name", ""),
        "organisation": subject.get("organization_name", ""),
        "sha256": ":".join(f"{b:02X}" for b in hashlib.sha256(cert.dump()).digest()),
        "valid_to": cert["tbs_certificate"]["validity"]["not_after"].native,
    }
