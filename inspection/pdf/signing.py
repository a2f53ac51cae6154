"""The organisation's certificate: sign minutes with pyHanko (PAdES) and check signatures."""

import asyncio
import datetime
import io
import logging
import math
import multiprocessing
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from inspection.services.errors import SigningUnavailable

log = logging.getLogger(__name__)
FIELD = "ChuKySoCoQuan"  # the issuing body's signature field


def _run(coroutine):
    """Run one of pyHanko's coroutines to completion from synchronous code.

    pyHanko's synchronous wrappers call asyncio.run(), which fails inside a thread that
    already runs an event loop (an async worker, a test browser); use a fresh thread then.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def make_certificate(path: Path, passphrase: bytes, organisation: str, common_name: str) -> None:
    """Write a self-signed PKCS#12 certificate for development and demos."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"minutes", key, certificate, None, serialization.BestAvailableEncryption(passphrase)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class _FileSigner(signers.SimpleSigner):
    """The key of a PKCS#12 file, parsed once. pyHanko's SimpleSigner parses and checks
    its key at every signature, and signs once more only to learn the signature's size:
    for an RSA key each costs some 45 ms of a finalize. Other keys sign as it does."""

    def __init__(self, loaded: signers.SimpleSigner):
        super().__init__(
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
            signature_mechanism=loaded.signature_mechanism,
        )
        key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)
        self._rsa = key if isinstance(key, rsa.RSAPrivateKey) else None

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run and self._rsa is not None:
            return bytes(self._rsa.key_size // 8)  # what is measured is the size
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if self._rsa is None or mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        digest = get_pyca_cryptography_hash(digest_algorithm)
        return self._rsa.sign(data, padding.PKCS1v15(), digest)


@lru_cache(maxsize=4)
def _signer(path: str, mtime: float, passphrase: bytes) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load_pkcs12(pfx_file=path, passphrase=passphrase)
    if signer is None:
        raise RuntimeError(f"Cannot load the signing certificate {path}")
    return _FileSigner(signer)


def load_signer(path: str, passphrase: str) -> signers.SimpleSigner:
    """Return the signer for a PKCS#12 file (reloaded when the file changes)."""
    return _signer(path, Path(path).stat().st_mtime, passphrase.encode())


def passphrase_file(p12_path: str) -> Path:
    """Where make-cert keeps the passphrase of a development certificate."""
    return Path(p12_path).with_suffix(".passphrase")


@dataclass(frozen=True)
class TokenSigner:
    """The organisation's key on a PKCS#11 token (a USB token from Ban Cơ yếu) or in an
    HSM. A session is opened for each signature and closed after it, so a token pulled
    out or locked is found at the next finalize, which then fails cleanly.

    The certificates are public: they are read without the PIN (a public page never
    tries a PIN, so nobody can lock the token through it) and a copy is kept in
    ``cache`` so verification works while the token is out."""

    module: str
    key_label: str
    cert_label: str
    pin: str  # SIGNING_PKCS11_PIN
    token_label: str | None = None
    slot: int | None = None
    cache: str = ""  # a PEM copy of the certificate and its chain
    pin_file: str = ""  # SIGNING_PKCS11_PIN_FILE, read when signing (not to verify)

    @property
    def where(self) -> str:
        return self.token_label or f"slot {self.slot}"

    @property
    def signing_cert(self):
        return _token_certificates(self)[0]

    @property
    def cert_registry(self) -> list:
        return list(_token_certificates(self)[1])

    @contextmanager
    def session(self, pin: str | None):
        """An open session (logged in with ``pin`` when given); SigningUnavailable names
        what failed: the module, the token, the PIN."""
        from pkcs11 import exceptions as p11
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Error, open_pkcs11_session

        if not Path(self.module).is_file():
            raise SigningUnavailable(
                str(_l("The PKCS#11 module %(module)s cannot be loaded.", module=self.module))
            )

        def opened():
            return open_pkcs11_session(
                self.module,
                slot_no=self.slot,
                token_criteria=TokenCriteria(label=self.token_label) if self.token_label else None,
                user_pin=pin,
            )

        try:
            try:
                session = opened()
            except (PKCS11Error, p11.TokenNotPresent, p11.SlotIDInvalid, p11.DeviceRemoved):
                # A token plugged back in is not seen by a module that read its slots once:
                # read them again (only while no signature is under way here) and retry.
                if not _rescan(self.module):
                    raise
                session = opened()
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as exc:
            raise SigningUnavailable(
                str(_l("The PIN of the signing token %(token)s is wrong.", token=self.where))
            ) from exc
        except (p11.PinLocked, p11.PinExpired) as exc:
            raise SigningUnavailable(
                str(
                    _l(
                        "The signing token %(token)s is locked: its PIN must be reset.",
                        token=self.where,
                    )
                )
            ) from exc
        except (PKCS11Error, p11.PKCS11Error) as exc:
            raise SigningUnavailable(
                str(
                    _l(
                        "The signing token %(token)s is not connected or not found (%(cause)s).",
                        token=self.where,
                        cause=type(exc).__name__,
                    )
                )
            ) from exc
        except OSError as exc:  # the module itself cannot be loaded
            raise SigningUnavailable(
                str(_l("The PKCS#11 module %(module)s cannot be loaded.", module=self.module))
            ) from exc
        with _SESSIONS:
            _SESSIONS.open += 1
        try:
            yield session
        finally:
            session.close()
            with _SESSIONS:
                _SESSIONS.open -= 1

    @contextmanager
    def open(self):
        """A pyHanko signer with the key and certificate found, on a logged-in session."""
        from pkcs11 import exceptions as p11
        from pyhanko.sign.pkcs11 import PKCS11Error, PKCS11Signer

        with self.session(_pin(self.pin, self.pin_file)) as session:
            signer = PKCS11Signer(
                session,
                key_label=self.key_label,
                cert_label=self.cert_label,
                other_certs_to_pull=None,  # the chain, where the token holds it
            )
            try:
                _run(signer.ensure_objects_loaded())
            except (PKCS11Error, p11.PKCS11Error) as exc:
                raise SigningUnavailable(
                    str(
                        _l(
                            "The signing token %(token)s holds no key or certificate labelled"
                            " %(label)s (SIGNING_PKCS11_KEY, SIGNING_PKCS11_CERT).",
                            token=self.where,
                            label=self.key_label,
                        )
                    )
                ) from exc
            yield signer


class _Sessions:
    """How many token sessions this process has open, under its lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self.open = 0

    def __enter__(self):
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()


_SESSIONS = _Sessions()


def _rescan(module: str) -> bool:
    """Re-initialise the PKCS#11 module so it reads its slots again; False (nothing done)
    while another signature in this process holds a session, which this would end."""
    import pkcs11

    with _SESSIONS:
        if _SESSIONS.open:
            return False
        try:
            pkcs11.lib(module).reinitialize()
        except Exception as exc:  # the module refused: report the first failure
            log.warning("PKCS#11 module %s not re-initialised: %r", module, exc)
            return False
    return True


@lru_cache(maxsize=4)
def _token_certificates(token: TokenSigner) -> tuple:
    """The token's certificate and chain: read without the PIN, once per process, and
    kept in ``token.cache``, from which they come while the token is out."""
    from pkcs11 import Attribute, ObjectClass

    try:
        with token.session(None) as session:
            found = {}
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                found.setdefault(
                    obj[Attribute.LABEL], asn1_x509.Certificate.load(obj[Attribute.VALUE])
                )
    except SigningUnavailable:
        cached = _cached_certificates(token.cache)
        if cached is None:
            raise
        log.warning(
            "signing token %s not readable: its certificates come from %s", token.where, token.cache
        )
        return cached
    if token.cert_label not in found:
        raise SigningUnavailable(
            str(
                _l(
                    "The signing token %(token)s holds no key or certificate labelled"
                    " %(label)s (SIGNING_PKCS11_KEY, SIGNING_PKCS11_CERT).",
                    token=token.where,
                    label=token.cert_label,
                )
            )
        )
    leaf = found.pop(token.cert_label)
    chain = tuple(found.values())
    if token.cache:
        _write_cache(Path(token.cache), [leaf, *chain])
    return leaf, chain


def _cached_certificates(path: str) -> tuple | None:
    if not path or not Path(path).is_file():
        return None
    certificates = [
        asn1_x509.Certificate.load(der)
        for _type, _headers, der in asn1_pem.unarmor(Path(path).read_bytes(), multiple=True)
    ]
    return (certificates[0], tuple(certificates[1:])) if certificates else None


def _write_cache(path: Path, certificates: list) -> None:
    data = b"".join(pem(c) for c in certificates)
    if path.is_file() and path.read_bytes() == data:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:  # a read-only instance folder: verification just needs the token
        log.warning("certificates of the signing token not kept in %s: %s", path, exc)


_WARNED_PIN_FILES: set[str] = set()


def _pin(pin: str, path: str) -> str:
    """The token's user PIN, from the file at ``path`` (SIGNING_PKCS11_PIN_FILE) or else
    ``pin`` (SIGNING_PKCS11_PIN). A file that cannot be read, or no PIN at all, is
    SigningUnavailable naming it: logging in without the PIN would use up one of the
    token's few tries."""
    if path:
        try:
            if Path(path).stat().st_mode & 0o077 and path not in _WARNED_PIN_FILES:
                _WARNED_PIN_FILES.add(path)  # said once per process
                log.warning("the PIN file %s can be read by others than its owner", path)
            pin = Path(path).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SigningUnavailable(
                str(
                    _l(
                        "The PIN file %(path)s of the signing token cannot be read (%(cause)s).",
                        path=path,
                        cause=getattr(exc, "strerror", None) or type(exc).__name__,
                    )
                )
            ) from exc
    if not pin:
        raise SigningUnavailable(
            str(
                _l(
                    "No PIN is configured for the signing token: set SIGNING_PKCS11_PIN or"
                    " SIGNING_PKCS11_PIN_FILE."
                )
            )
        )
    return pin


def configured_signer(config):
    """Return the signer named by the app's configuration: the key on a PKCS#11 token
    when SIGNING_PKCS11_MODULE is set, else the PKCS#12 file."""
    if config.get("SIGNING_PKCS11_MODULE"):
        slot = str(config.get("SIGNING_PKCS11_SLOT") or "")
        key = config.get("SIGNING_PKCS11_KEY") or ""
        if not key or (slot and not slot.isdigit()):
            raise SigningUnavailable(
                str(
                    _l(
                        "The signing token is not configured: set SIGNING_PKCS11_KEY to the"
                        " key's label and SIGNING_PKCS11_SLOT, if used, to a slot number."
                    )
                )
            )
        return TokenSigner(
            module=config["SIGNING_PKCS11_MODULE"],
            key_label=key,
            cert_label=config.get("SIGNING_PKCS11_CERT") or key,
            pin=config.get("SIGNING_PKCS11_PIN") or "",
            pin_file=config.get("SIGNING_PKCS11_PIN_FILE") or "",
            token_label=config.get("SIGNING_PKCS11_TOKEN") or None,
            slot=int(slot) if slot else None,
            cache=config.get("SIGNING_PKCS11_CERT_CACHE") or "",
        )
    path = config["SIGNING_P12_PATH"]
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    if passphrase is None and passphrase_file(path).exists():
        passphrase = passphrase_file(path).read_text().strip()
    if not Path(path).exists():
        raise SigningUnavailable(
            str(
                _l(
                    "No signing certificate at %(path)s: run `flask --app app make-cert` or"
                    " set SIGNING_P12_PATH.",
                    path=path,
                )
            )
        )
    return load_signer(path, passphrase or "")


def pem(certificate) -> bytes:
    """The certificate in PEM, as `pyhanko sign validate --trust` and OpenSSL read it."""
    return asn1_pem.armor("CERTIFICATE", certificate.dump())


# A signer whose certificate could not be read for the public pages is not tried again
# for a minute: anonymous requests would otherwise load the module and log each time.
UNREADABLE_SECONDS = 60
_unreadable: dict[tuple, float] = {}
_SIGNER_SETTINGS = ("SIGNING_PKCS11_MODULE", "SIGNING_PKCS11_TOKEN", "SIGNING_PKCS11_SLOT",
                    "SIGNING_PKCS11_KEY", "SIGNING_PKCS11_CERT", "SIGNING_PKCS11_CERT_CACHE",
                    "SIGNING_P12_PATH")  # fmt: skip


def _while_readable(config, read, default):
    """``read(signer)``, or ``default`` while the configured signer cannot be read (a
    token out, and no copy of its certificates kept yet). The cause is logged, never
    shown: it names the token."""
    key = tuple(str(config.get(name) or "") for name in _SIGNER_SETTINGS)
    if _unreadable.get(key, 0.0) > time.monotonic():
        return default
    try:
        return read(configured_signer(config))
    except SigningUnavailable as exc:
        _unreadable[key] = time.monotonic() + UNREADABLE_SECONDS
        log.warning("signing certificate not readable (tried again in a minute): %s", exc)
        return default


def configured_trust(config) -> list:
    """Return the certificates a verification trusts: the configured signer's chain, or
    none while it cannot be read: issued files are still checked against the certificate
    they were signed with."""
    return _while_readable(config, trusted_certificates, [])


def public_certificate(config):
    """The signing certificate the verification pages offer, or None while it cannot be
    read."""
    return _while_readable(config, lambda signer: signer.signing_cert, None)


def trust_for_extension(config) -> list:
    """The office's certificates for extending files (only a self-signed one is used, as
    its own root), or none when they cannot be read: extending needs no key."""
    try:
        return configured_trust(config)
    except SigningUnavailable as exc:
        log.warning("extending without the office's certificates: %s", exc.message)
        return []


def trusted_certificates(signer) -> list:
    """The certificates a genuine minutes' signature chains to: ours and its issuers."""
    return [signer.signing_cert, *signer.cert_registry]


@contextmanager
def _opened(signer):
    if isinstance(signer, TokenSigner):
        with signer.open() as opened:
            yield opened
    else:
        yield signer


@dataclass(frozen=True)
class Options:
    """How far a signature goes (README, "Signatures that last"): a TSA's timestamp makes
    it PAdES B-T; with ``ltv`` the chain and revocation data are embedded (B-LT) and a
    document timestamp is added (B-LTA)."""

    tsa_url: str = ""
    ltv: bool = False
    trust_roots: tuple = ()  # PEM/DER certificates the chain and the TSA's chain end at

    @classmethod
    def of(cls, config) -> "Options":
        roots = config.get("SIGNING_TRUST_ROOTS") or ""
        return cls(
            tsa_url=config.get("SIGNING_TSA_URL") or "",
            ltv=bool(config.get("SIGNING_LTV")),
            trust_roots=tuple(_load_certificates(Path(p)) for p in roots.split(os.pathsep) if p),
        )


def _load_certificates(path: Path):
    from pyhanko.keys import load_cert_from_pemder

    return load_cert_from_pemder(str(path))


class _TimedSigner(signers.PdfSigner):
    """A PdfSigner whose signing time is given, so the printed time is the signed one."""

    def __init__(self, *args, signing_time: datetime.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only)
        if self.signing_time is not None:
            session.system_time = self.signing_time
        return session


def sign(
    pdf: bytes,
    signer: signers.SimpleSigner,
    *,
    reason: str,
    location: str,
    signing_time: datetime.datetime | None = None,
    options: Options = Options(),
) -> bytes:
    """Sign ``pdf`` with a PAdES baseline signature in an invisible field.

    ``signing_time`` is the time the signature carries (now by default): the minutes
    print it, so both must be the same instant. Raises SigningUnavailable when the token
    or the time-stamping service fails: nothing is issued then.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    timestamper = HTTPTimeStamper(options.tsa_url, timeout=15) if options.tsa_url else None
    try:
        context = None
        if options.ltv:  # reads the certificates: a token may fail here already
            chain = [signer.signing_cert, *signer.cert_registry]
            context = _fetching_context([*options.trust_roots, *_self_signed(chain)])
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            embed_validation_info=options.ltv,
            validation_context=context,
            use_pades_lta=options.ltv and timestamper is not None,
        )
        with _opened(signer) as opened:
            pdf_signer = _TimedSigner(
                metadata, signer=opened, timestamper=timestamper, signing_time=signing_time
            )
            with _tsa_answers(options.tsa_url), _chain_checked():
                output = _run(pdf_signer.async_sign_pdf(writer))
    except SigningUnavailable as exc:  # the operator reads the cause in the log too
        cause = f" ({exc.__cause__!r})" if exc.__cause__ else ""
        log.warning("signing failed: %s%s", exc, cause)
        raise
    return output.getvalue()


def _self_signed(certificates) -> list:
    """The roots among ``certificates`` (a development certificate is its own root)."""
    return [c for c in certificates if c.self_signed != "no"]


@contextmanager
def _chain_checked():
    """A chain that cannot be built to a trusted root, or whose revocation status cannot
    be fetched, makes the long-term signature impossible: SigningUnavailable, naming it."""
    from pyhanko_certvalidator.errors import (
        CRLValidationError,
        OCSPValidationError,
        PathError,
        ValidationError,
    )

    try:
        yield
    except (PathError, ValidationError, CRLValidationError, OCSPValidationError) as exc:
        raise SigningUnavailable(
            str(
                _l(
                    "The certificate chain could not be checked for the long-term signature"
                    " (%(cause)s). Set SIGNING_TRUST_ROOTS to the CA's root certificate and"
                    " check that its OCSP or CRL address answers.",
                    cause=str(exc)[:200],
                )
            )
        ) from exc


def _fetching_context(trust_roots) -> ValidationContext:
    """A validation context that fetches the OCSP answers and CRLs to embed."""
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    return ValidationContext(
        trust_roots=list(trust_roots) or None,
        allow_fetching=True,
        revocation_mode="hard-fail",
        # Plain blocking requests: no event loop's client session left open per finalize.
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=15),
    )


@contextmanager
def _tsa_answers(url: str):
    """A time-stamping service that fails is SigningUnavailable, naming it."""
    try:
        yield
    except TimestampRequestError as exc:
        raise SigningUnavailable(
            str(
                _l(
                    "The time-stamping service %(url)s did not answer: %(cause)s",
                    url=url,
                    cause=str(exc)[:200],
                )
            )
        ) from exc


# ---- long-term validation: what a file proves, and extending it ----


@dataclass(frozen=True)
class Level:
    """A file's PAdES baseline level (README, "Signatures that last") and when the
    certificate of its last timestamp ends: it must be re-timestamped before then."""

    name: str  # B-B, B-T, B-LT or B-LTA
    timestamp_until: datetime.datetime | None


def _office_signature(reader: PdfFileReader):
    embedded = reader.embedded_regular_signatures
    return next((s for s in embedded if s.field_name == FIELD), embedded[-1])


def _not_after(certificate) -> datetime.datetime:
    return certificate["tbs_certificate"]["validity"]["not_after"].native


def level_of(pdf: bytes) -> Level:
    """Read which level a signed file reaches: B-LTA with document timestamps, B-LT with a
    signature timestamp and embedded validation data, B-T with the timestamp alone."""
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = reader.embedded_timestamp_signatures
    if stamps:
        return Level("B-LTA", _not_after(stamps[-1].signer_cert))
    token = next(extract_tst_data_iter(_office_signature(reader).signer_info, signed=False), None)
    if token is None:
        return Level("B-B", None)
    until = _not_after(extract_certificate_info(token).signer_cert)
    return Level("B-LT" if "/DSS" in reader.root else "B-T", until)


class ExtensionFailed(Exception):
    """A file could not be extended; the message says why, for the operator."""


def extend(pdf: bytes, options: Options, trusted) -> bytes:
    """Re-timestamp signed minutes for the long term, as an incremental update.

    The validation data of the last timestamp (its chain, an OCSP answer or CRL fetched
    now) and a new document timestamp from the configured TSA are appended: the signed
    bytes stay as they are, so the result begins with ``pdf``. A file with no document
    timestamp yet (B-B, B-T, B-LT) first gets its signature's validation data, and so
    reaches B-LTA from now on. Raises SigningUnavailable when the TSA does not answer and
    ExtensionFailed when the last timestamp no longer validates.
    """
    if not options.tsa_url:
        raise ExtensionFailed("SIGNING_TSA_URL is not set: there is no service to timestamp with")
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.validation.dss import async_add_validation_info

    # The configured roots (the CA's and the TSA's), and the office's own certificate
    # when it is self-signed (a development one): it is its own root.
    context = _fetching_context([*options.trust_roots, *_self_signed(trusted)])

    async def extended() -> bytes:
        reader = PdfFileReader(io.BytesIO(pdf))
        if not reader.embedded_timestamp_signatures:
            out = await async_add_validation_info(
                _office_signature(reader), context, in_place=False
            )
            reader = PdfFileReader(out)
        stamper = PdfTimeStamper(HTTPTimeStamper(options.tsa_url, timeout=15))
        out = await stamper.async_update_archival_timestamp_chain(reader, context, in_place=False)
        return out.getvalue()

    with _tsa_answers(options.tsa_url):
        try:
            data = _run(extended())
        except TimestampRequestError:
            raise
        except Exception as exc:  # pyHanko's validation errors are of many kinds
            raise ExtensionFailed(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
    if not data.startswith(pdf):  # pyHanko appends; anything else is a defect here
        raise ExtensionFailed("the extended file does not begin with the stored one")
    return data


@dataclass
class SignatureCheck:
    intact: bool  # the signed bytes are unchanged
    valid: bool  # intact, cryptographically valid, and made with a trusted certificate
    signer: str
    reason: str


def check_bounded(
    data: bytes,
    trusted,
    *,
    issued: bool = False,
    seconds: float = 2.0,
    memory: int = 768 * 1024 * 1024,
) -> SignatureCheck:
    """``check`` in a child process bounded in CPU time and memory.

    An upload to the public verifier may be built to make the parser slow (tens of
    thousands of signature fields): the answer still comes within ``seconds``, and the
    child's pyHanko warnings are not logged one by one (one line sums the check up).
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_check_in_child,
        args=(data, trusted, issued, sender, seconds, memory),
        daemon=True,
    )
    started = time.monotonic()
    child.start()
    sender.close()
    try:
        result = receiver.recv() if receiver.poll(seconds) else None
    except EOFError:  # the child died: out of memory or CPU time
        result = None
    finally:
        child.kill()
        child.join()
        receiver.close()
    elapsed = time.monotonic() - started
    if result is None:
        log.warning("uploaded PDF not checked: over %.1f s or the memory limit", seconds)
        return SignatureCheck(False, False, "", "too costly to check")
    log.info("uploaded PDF checked in %.2f s: %s", elapsed, result.reason or "signature read")
    return result


def _address_space() -> int:
    """This process's virtual size in bytes (Linux), 0 where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def _check_in_child(data, trusted, issued, sender, seconds, memory) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(seconds) + 1,) * 2)
    # The budget is for the check, on top of the address space the fork inherited: a
    # worker that loaded a PKCS#11 module and ran threads already holds hundreds of MB.
    limit = _address_space() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.disable(logging.CRITICAL)  # pyHanko logs a traceback per broken field
    try:
        sender.send(check(data, trusted, issued=issued))
    finally:
        sender.close()
        os._exit(0)  # no atexit handlers, no inherited cleanup


def check(data: bytes, trusted, *, issued: bool = False) -> SignatureCheck:
    """Check the signatures of an uploaded PDF against the trusted certificates.

    ``issued``: the file is byte for byte one this office issued (found by its SHA-256),
    so the certificate it was signed with is trusted too, whether the office has renewed
    its certificate since or that one has expired: the question is then only whether the
    signature is intact. Never raises for a malformed file: the answer says it is not
    valid and why.
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_regular_signatures
        if not embedded:
            return SignatureCheck(False, False, "", "no signature")
        # The office's signature, wherever it stands: a long-term (B-LTA) file ends with a
        # document timestamp after it.
        ours = _office_signature(reader)
        roots = [*trusted, ours.signer_cert] if issued else list(trusted)
        status = _run(
            async_validate_pdf_signature(
                ours, ValidationContext(trust_roots=roots, allow_fetching=False)
            )
        )
        # Anything appended after the signature (a later revision) is not our document,
        # except signature maintenance: validation data and document timestamps.
        coverage_ok = status.coverage is not None and (
            status.coverage.name == "ENTIRE_FILE"
            or (
                status.coverage.name == "ENTIRE_REVISION"
                and status.modification_level is not None
                and status.modification_level <= ModificationLevel.LTA_UPDATES
            )
        )
        return SignatureCheck(
            intact=bool(status.intact),
            valid=bool(status.intact and status.valid and status.trusted and coverage_ok),
            signer=status.signing_cert.subject.human_friendly,
            reason="" if status.intact else "modified after signing",
        )
    except Exception as exc:  # a hostile upload may break the parser in many ways
        log.info("signature check failed: %s", exc)
        return SignatureCheck(False, False, "", "unreadable PDF")
