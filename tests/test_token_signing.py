"""Issue 19: the office's key on a PKCS#11 token (SoftHSM2), RFC 3161 timestamps from a
local TSA, and embedded validation data (PAdES B-LT / B-LTA), checked by pyHanko and by
poppler's pdfsig, which is independent of pyHanko."""

import io
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from inspection.extensions import db
from inspection.models import (
    AuditEvent,
    Inspection,
    InspectionStatus,
    Minutes,
    MinutesCounter,
    MinutesFile,
)
from inspection.pdf import signing
from tests.pki import SOFTHSM_MODULE, softhsm_token, start_pki
from tests.test_minutes import finalize, pdf_of, ready_visit

pytestmark = pytest.mark.skipif(
    not shutil.which("softhsm2-util"), reason="softhsm2 is not installed (apt-get install softhsm2)"
)


NOW = datetime.now(UTC)
SIGNER_ENDS = NOW + timedelta(days=4 * 365)  # the office's certificate
TSA_ENDS = NOW + timedelta(days=400)  # the certificate of the TSA the minutes are issued with
EXTENDED_AT = TSA_ENDS - timedelta(days=100)  # within extend-ltv's 180 days
YEARS_LATER = SIGNER_ENDS + timedelta(days=200)  # both certificates have expired


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = start_pki(
        tmp_path_factory.mktemp("pki"), signer_valid_to=SIGNER_ENDS, tsa_valid_to=TSA_ENDS
    )
    yield pki
    pki.stop()


@pytest.fixture(scope="module")
def hsm(pki, tmp_path_factory):
    return softhsm_token(tmp_path_factory.mktemp("softhsm"), pki)


@pytest.fixture
def on_token(app, pki, hsm, tmp_path):
    app.config.update(
        SIGNING_PKCS11_CERT_CACHE=str(tmp_path / "signing-token.pem"),
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


def test_minutes_validate_from_what_they_embed_with_the_ca_offline(client, token, on_token, pki):
    """B-LT: the proof is in the file. With every address of the CA down, the office's
    verifier and pyHanko's AdES validation from the file's own data (no fetching) judge
    it valid: now, and two hours on, when its OCSP answer (10 minutes) has long expired."""
    from pyhanko.keys import load_cert_from_pemder

    _inspection_id, pdf = _issued(client, token, on_token)
    root = load_cert_from_pemder(str(pki.pem("root")))
    with pki.offline():
        checked = _verified(client, pdf)
        assert checked["valid"] and checked["signature_intact"], checked
        for later in (timedelta(0), timedelta(hours=2)):
            result = _lta_validation(pdf, root, datetime.now(UTC) + later, local_only=True)
            assert result.ades_subindic == ades.AdESPassed.OK, (later, result)


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
        # No PIN: never a login without one (a real token counts the tries).
        ({"SIGNING_PKCS11_PIN": ""}, "SIGNING_PKCS11_PIN_FILE"),
        ({"SIGNING_PKCS11_PIN_FILE": "/khong-co/pin.txt"}, "/khong-co/pin.txt"),
    ],
)
def test_a_token_or_tsa_that_fails_leaves_the_visit_a_draft(
    client, token, on_token, change, words, caplog
):
    before = _counters(on_token)
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, on_token)
    on_token.config.update(change)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "signing_unavailable"
    assert words in response.json["error"]["message"]
    assert "signing failed" in caplog.text and words in caplog.text  # the operator's log
    with on_token.app_context():
        visit = db.session.get(Inspection, inspection_id)
        assert visit.status is not InspectionStatus.FINALIZED
    assert _counters(on_token) == before  # no minutes, no number used


def _pyhanko(*args: str, faketime: datetime | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "pyhanko"), *args]
    if faketime is not None:
        command = ["faketime", faketime.strftime("%Y-%m-%d %H:%M:%S"), *command]
    report = subprocess.run(command, capture_output=True, text=True, env={"TZ": "UTC"})
    print(report.stdout, report.stderr[-2000:])
    return report


def _lta_validation(pdf: bytes, root, at: datetime, local_only: bool = False):
    """pyHanko's PAdES-LTA validation (ETSI EN 319 102-1) with the clock at ``at``: the
    test PKI answers CRL and OCSP requests as of that time too, unless ``local_only``
    (only what the file embeds is used)."""
    trust = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build([root]),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO,
            freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
        ),
    )
    gathering = RevocationInfoGatheringSpec(
        online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
        if local_only
        else RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(cert_validation_policy=trust, revinfo_gathering_policy=gathering)
    )
    with time_machine.travel(at, tick=True):
        reader = PdfFileReader(io.BytesIO(pdf))
        # signing._run: the suite's browser tests may leave an event loop running here.
        return signing._run(ades.ades_lta_validation(reader.embedded_regular_signatures[0], spec))


def _verified(client, pdf: bytes) -> dict:
    return client.post(
        "/api/v1/minutes/verify",
        data={"file": (io.BytesIO(pdf), "bb.pdf")},
        content_type="multipart/form-data",
    ).json


def test_extend_ltv_keeps_the_minutes_verifiable_after_every_certificate_expired(
    client, token, on_token, pki, tmp_path
):
    from pyhanko.keys import load_cert_from_pemder

    lead = token("truongdoan")
    inspection_id, issued = _issued(client, token, on_token)
    runner = on_token.test_cli_runner()
    # Today the TSA's certificate has 400 days left: nothing is due within 180.
    result = runner.invoke(args=["minutes", "extend-ltv"])
    assert result.exit_code == 0 and "0 minutes extended" in result.output, result.output

    # 100 days before it ends, the service has a new certificate (tsa2): extend.
    on_token.config["SIGNING_TSA_URL"] = pki.tsa_url_of("tsa2")
    with time_machine.travel(EXTENDED_AT, tick=True):
        result = runner.invoke(args=["minutes", "extend-ltv", "--dry-run"])
        assert "B-LTA, last timestamp valid until" in result.output, result.output
        assert "1 minutes due" in result.output
        result = runner.invoke(args=["minutes", "extend-ltv"])
        print(result.output)
        assert result.exit_code == 0 and "1 minutes extended" in result.output, result.output
        again = runner.invoke(args=["minutes", "extend-ltv"])
        assert "0 minutes extended" in again.output  # the new timestamp lasts to 2100

    extended = pdf_of(client, lead, inspection_id)  # what is served now
    assert extended != issued and extended.startswith(issued)  # appended, never rewritten
    reader = PdfFileReader(io.BytesIO(extended))
    assert [
        t.signer_cert.subject.native["common_name"][-1]
        for t in reader.embedded_timestamp_signatures
    ] == ["m", "2"]  # tsa, then tsa2
    with on_token.app_context():
        minutes = db.session.scalar(select(Minutes).filter_by(inspection_id=inspection_id))
        files = db.session.scalars(select(MinutesFile).order_by(MinutesFile.id)).all()
        assert [f.level for f in files] == ["B-LTA", "B-LTA"]
        assert minutes.pdf_sha256 == files[1].sha256
        assert files[1].timestamp_until.year == 2100
        event = db.session.scalar(select(AuditEvent).filter_by(action="minutes_extended"))
        assert event.detail["previous_sha256"] == files[0].sha256
        code = minutes.verify_code

    # Both files are genuine; the earlier one's answer says a newer one exists.
    for pdf in (issued, extended):
        checked = _verified(client, pdf)
        assert checked["valid"] and checked["current_sha256"] == files[1].sha256, checked
    assert (
        "newer timestamp" in _verified(client, issued)["reason"]
        or "dấu thời gian" in (_verified(client, issued)["reason"])
    )
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert files[0].sha256 in page and "PAdES B-LTA" in page
    # Anything else appended is still named as altered, found through the newest file.
    tampered = _verified(client, extended + b"\n% sau khi ky\n")
    assert not tampered["valid"] and tampered["altered"], tampered

    path = tmp_path / "extended.pdf"
    path.write_bytes(extended)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in report, report

    # Years later: the office's and the first TSA's certificates have expired.
    root = load_cert_from_pemder(str(pki.pem("root")))
    assert _lta_validation(extended, root, YEARS_LATER).ades_subindic == ades.AdESPassed.OK
    # Without the extension the chain of proof ends with the first TSA's certificate.
    unextended = _lta_validation(issued, root, YEARS_LATER).ades_subindic
    assert unextended != ades.AdESPassed.OK
    # The IT officer's check, in another process whose clock reads years later.
    if shutil.which("faketime") is None:  # .ci/run installs it
        assert not os.environ.get("CI"), "faketime is missing (apt-get install faketime)"
        pytest.skip("faketime is not installed (apt-get install faketime)")
    pki.animator.fixed_time = YEARS_LATER  # the PKI answers as of then, too
    try:
        report = _pyhanko(
            "sign",
            "adesverify",
            "--pretty-print",
            "--trust-replace",
            "--trust",
            str(pki.pem("root")),
            str(path),
            faketime=YEARS_LATER,
        )
    finally:
        pki.animator.fixed_time = None
    assert report.returncode == 0
    assert "The signature is judged VALID" in report.stdout


def test_a_token_pulled_out_is_a_clean_failure(client, token, on_token, hsm):
    """The token worked (its certificate is known), then it is pulled out of the server."""
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, on_token)
    assert client.get("/verify/certificate.pem").status_code == 200
    before = _counters(on_token)
    tokens = hsm.conf.parent / "tokens"
    away = tokens.with_name("tokens-rut-ra")
    tokens.rename(away)
    try:
        response = finalize(client, lead, inspection_id)
    finally:
        away.rename(tokens)
    assert response.status_code == 503, response.json
    assert "không được cắm" in response.json["error"]["message"]
    assert _counters(on_token) == before
    # Plugged back in, the same visit is issued.
    assert finalize(client, lead, inspection_id).status_code == 201


def test_extending_with_the_tsa_down_changes_nothing_and_says_so(client, token, on_token):
    lead = token("truongdoan")
    inspection_id, issued = _issued(client, token, on_token)
    on_token.config["SIGNING_TSA_URL"] = "http://127.0.0.1:9/tsa"
    result = on_token.test_cli_runner().invoke(args=["minutes", "extend-ltv", "--days", "99999"])
    assert result.exit_code == 1, result.output
    assert "NOT extended" in result.output and "127.0.0.1:9" in result.output
    assert "0 minutes extended, 1 failed" in result.output
    assert pdf_of(client, lead, inspection_id) == issued
    with on_token.app_context():
        assert db.session.scalar(select(func.count(MinutesFile.id))) == 1


def test_the_worker_brings_minutes_issued_without_a_tsa_to_b_lta(client, token, on_token):
    from inspection.services import minutes as minutes_service
    from inspection.services.audit import SYSTEM
    from inspection.services.errors import Conflict

    lead = token("truongdoan")
    tsa = on_token.config["SIGNING_TSA_URL"]
    on_token.config["SIGNING_TSA_URL"] = ""  # issued as before a TSA was configured
    inspection_id, issued = _issued(client, token, on_token)
    assert len(PdfFileReader(io.BytesIO(issued)).embedded_timestamp_signatures) == 0
    on_token.config["SIGNING_TSA_URL"] = tsa
    on_token.extensions["queue"]["extend_ltv"].call_local()  # the nightly task
    extended = pdf_of(client, lead, inspection_id)
    assert extended.startswith(issued)
    assert len(PdfFileReader(io.BytesIO(extended)).embedded_timestamp_signatures) == 1
    with on_token.app_context():
        levels = db.session.scalars(select(MinutesFile.level).order_by(MinutesFile.id)).all()
        assert levels == ["B-B", "B-LTA"]
        # A second run that read the minutes before the first switched them loses.
        minutes = db.session.scalar(select(Minutes).filter_by(inspection_id=inspection_id))
        # What the stale run read: the file before the worker's extension.
        set_committed_value(minutes, "pdf_sha256", minutes.files[0].sha256)
        options = signing.Options.of(on_token.config)
        with pytest.raises(Conflict):
            minutes_service.extend(SYSTEM, minutes, options=options, trusted=[])
        db.session.rollback()


def test_the_same_tsa_certificate_adds_no_timestamp(client, token, on_token):
    lead = token("truongdoan")
    _issued(client, token, on_token)
    inspection_id, issued = _issued(client, token, on_token)
    # Every file "due" (its TSA certificate ends within 500 days), the same service.
    result = on_token.test_cli_runner().invoke(args=["minutes", "extend-ltv", "--days", "500"])
    assert result.exit_code == 1, result.output
    assert "still signs with a certificate that ends on" in result.output or (
        "vẫn ký bằng chứng thư" in result.output
    ), result.output
    # Every due file counts as not extended (none as "not due"), the cause said once.
    with on_token.app_context():
        count = db.session.scalar(select(func.count(Minutes.id)))
    assert f"0 minutes extended, {count} failed, 0 not due" in result.output, result.output
    assert count > 1 and result.output.count("NOT extended") == count  # each one named
    assert result.output.count("NOT extended: as above") == count - 1
    assert pdf_of(client, lead, inspection_id) == issued
    with on_token.app_context():
        assert db.session.scalar(select(func.count(MinutesFile.id))) == 2


def test_verification_never_logs_in_to_the_token_and_works_with_it_out(
    client, token, on_token, hsm
):
    _inspection_id, issued = _issued(client, token, on_token)
    certificate = client.get("/verify/certificate.pem").data
    tokens = hsm.conf.parent / "tokens"
    away = tokens.with_name("tokens-rut-ra")
    signing._token_certificates.cache_clear()  # as after a restart
    on_token.config["SIGNING_PKCS11_PIN"] = "000000"  # a wrong PIN is never tried
    tokens.rename(away)
    try:
        assert client.get("/verify/certificate.pem").data == certificate  # the kept copy
        checked = _verified(client, issued)
        assert checked["valid"], checked
    finally:
        away.rename(tokens)
    signing._token_certificates.cache_clear()
    assert client.get("/verify/certificate.pem").data == certificate  # read, no PIN

    # A new server with no copy kept yet starts while the token is out: the public pages
    # still answer, issued files still verify, and nothing names the token.
    Path(on_token.config["SIGNING_PKCS11_CERT_CACHE"]).unlink()
    signing._token_certificates.cache_clear()
    tokens.rename(away)
    try:
        code = _verified(client, issued)["number"] and _code_of(on_token)
        for path in ("/verify", f"/verify/{code}"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert hsm.label not in page.get_data(as_text=True)
        pem = client.get("/verify/certificate.pem")
        assert pem.status_code == 503 and hsm.label not in pem.get_data(as_text=True)
        assert "chứng thư số" in pem.get_data(as_text=True)  # says what is missing
        checked = _verified(client, issued)
        assert checked["valid"], checked
    finally:
        away.rename(tokens)
        signing._token_certificates.cache_clear()


def _code_of(app) -> str:
    with app.app_context():
        return db.session.scalars(select(Minutes.verify_code).order_by(Minutes.id.desc())).first()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"SIGNING_PKCS11_KEY": "chu-ky", "SIGNING_PKCS11_CERT": ""}, "chu-ky"),
        ({"SIGNING_PKCS11_SLOT": "abc"}, "SIGNING_PKCS11_SLOT"),
        ({"SIGNING_TRUST_ROOTS": "", "SIGNING_PKCS11_KEY": "signer"}, None),
    ],
)
def test_labels_and_roots_misconfigured(client, token, on_token, change, words):
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, on_token)
    on_token.config.update(change)
    signing._token_certificates.cache_clear()
    response = finalize(client, lead, inspection_id)
    if words is None:  # the root is on the token and self-signed: it is trusted as such
        assert response.status_code == 201, response.json
        return
    assert response.status_code == 503, response.json
    assert words in response.json["error"]["message"]
    assert client.get("/verify").status_code in (200, 503)  # never a 500


def test_a_key_in_a_file_signs_timestamped_long_term_minutes(client, token, app, pki):
    """The office's key in a PKCS#12 file (parsed once, its signature's size known without
    signing twice) gives the same long-term minutes as a token's."""
    app.config.update(
        SIGNING_TSA_URL=pki.tsa_url, SIGNING_LTV=True, SIGNING_TRUST_ROOTS=str(pki.pem("root"))
    )
    _inspection_id, pdf = _issued(client, token, app)
    reader = PdfFileReader(io.BytesIO(pdf))
    [signature] = reader.embedded_regular_signatures
    assert signature.signer_cert.subject.native["common_name"] == "ĐOÀN KIỂM TRA CÔNG VỤ"
    unsigned = [a["type"].native for a in signature.signer_info["unsigned_attrs"]]
    assert "signature_time_stamp_token" in unsigned  # B-T: the signature's timestamp
    assert len(reader.embedded_timestamp_signatures) == 1  # B-LTA's document timestamp
    checked = client.post(
        "/api/v1/minutes/verify",
        data={"file": (io.BytesIO(pdf), "bb.pdf")},
        content_type="multipart/form-data",
    ).json
    assert checked["valid"] and checked["signature_intact"], checked
