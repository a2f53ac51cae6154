"""Issue 19: the office's key on a PKCS#11 token (SoftHSM2), RFC 3161 timestamps from a
local TSA, and embedded validation data (PAdES B-LT / B-LTA), checked by pyHanko and by
poppler's pdfsig, which is independent of pyHanko."""

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Inspection, InspectionStatus, Minutes, MinutesCounter
from tests.pki import SOFTHSM_MODULE, softhsm_token, start_pki
from tests.test_minutes import finalize, pdf_of, ready_visit

pytestmark = pytest.mark.skipif(
    not shutil.which("softhsm2-util"), reason="softhsm2 is not installed (apt-get install softhsm2)"
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = start_pki(tmp_path_factory.mktemp("pki"))
    yield pki
    pki.stop()


@pytest.fixture(scope="module")
def hsm(pki, tmp_path_factory):
    return softhsm_token(tmp_path_factory.mktemp("softhsm"), pki)


@pytest.fixture
def on_token(app, pki, hsm):
    app.config.update(
        SIGNING_PKCS11_MODULE=SOFTHSM_MODULE,
        SIGNING_PKCS11_TOKEN=hsm.label,
        SIGNING_PKCS11_KEY="signer",
        SIGNING_PKCS11_PIN=hsm.pin,
        SIGNING_TSA_URL=pki.tsa_url,
        SIGNING_LTV=True,
        SIGNING_TRUST_ROOTS=str(pki.pem("root")),
    )
    return app


def _issued(client, token_of, app) -> tuple[int, bytes]:
    lead = token_of("truongdoan")
    inspection_id = ready_visit(client, lead, app)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 201, response.json
    return inspection_id, pdf_of(client, lead, inspection_id)


def test_minutes_are_signed_on_the_token_timestamped_and_validate_as_b_lt(
    client, token, on_token, pki, tmp_path
):
    _inspection_id, pdf = _issued(client, token, on_token)
    reader = PdfFileReader(io.BytesIO(pdf))
    [signature] = reader.embedded_regular_signatures
    assert signature.signer_cert.subject.native["common_name"] == "ĐOÀN KIỂM TRA CÔNG VỤ"
    assert signature.signer_cert.issuer.native["common_name"] == "CA chuyên dùng thử nghiệm"
    assert len(reader.embedded_timestamp_signatures) == 1  # B-LTA's document timestamp
    path = tmp_path / "bien-ban.pdf"
    path.write_bytes(pdf)
    # B-LT: the validation data is in the file (the Document Security Store).
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3 and (len(dss.get("/OCSPs", [])) or len(dss.get("/CRLs", [])))
    # As an IT officer checks it: pyHanko's own command, trusting only the root.
    report = subprocess.run(
        [
            str(Path(sys.executable).parent / "pyhanko"),
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            str(pki.pem("root")),
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    print(report.stdout, report.stderr)
    assert report.returncode == 0
    # poppler's pdfsig reads the same file on its own: the signature is valid and carries
    # the timestamp.
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    print(report)
    assert "Signature Validation: Signature is Valid." in report
    assert "ETSI.CAdES.detached" in report
    # The office's own verifier takes its long-term file: the document timestamp after
    # the signature is signature maintenance, not a change.
    checked = client.post(
        "/api/v1/minutes/verify",
        data={"file": (io.BytesIO(pdf), "bb.pdf")},
        content_type="multipart/form-data",
    ).json
    if not checked["valid"]:  # the reason, from the check itself (it runs in a child)
        from inspection.pdf import signing

        with on_token.app_context():
            print(signing.check(pdf, signing.configured_trust(on_token.config)))
    assert checked["valid"] and checked["signature_intact"], checked
    # The certificate offered for download is the one on the token.
    pem = client.get("/verify/certificate.pem").data
    assert pem == pki.pem("signer").read_bytes()


def _counters(app) -> tuple:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Minutes.id))),
            db.session.scalar(select(func.coalesce(func.max(MinutesCounter.last_number), 0))),
        )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"SIGNING_PKCS11_TOKEN": "token-rut-ra"}, "không được cắm"),
        ({"SIGNING_PKCS11_PIN": "000000"}, "PIN"),
        ({"SIGNING_TSA_URL": "http://127.0.0.1:9/tsa"}, "dấu thời gian"),
        ({"SIGNING_PKCS11_MODULE": "/usr/lib/khong-co.so"}, "PKCS#11"),
    ],
)
def test_a_token_or_tsa_that_fails_leaves_the_visit_a_draft(client, token, on_token, change, words):
    before = _counters(on_token)
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, on_token)
    on_token.config.update(change)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "signing_unavailable"
    assert words in response.json["error"]["message"]
    with on_token.app_context():
        visit = db.session.get(Inspection, inspection_id)
        assert visit.status is not InspectionStatus.FINALIZED
    assert _counters(on_token) == before  # no minutes, no number used
