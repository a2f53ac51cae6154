"""A test PKI of our own, served on 127.0.0.1: a root, an intermediate, the office's
signing certificate, a time-stamping authority and an OCSP responder (certomancer's
Animator), and a SoftHSM2 token holding the office's key, reached through PKCS#11."""

import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
ARCH = "kiemtra"
VALID = {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": "2100-01-01T00:00:00+0000"}


def _certomancer_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


_TSA_EXTENSIONS = [
    {
        "id": "key_usage",
        "critical": True,
        "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
    },
    {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
    {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
    },
]


def _config(prefix: str, signer_valid_to: str, tsa_valid_to: str) -> dict:
    keys = ("root", "interm", "signer", "tsa", "tsa2", "ocsp")
    return {
        "external-url-prefix": prefix,
        "keysets": {ARCH: {"keys": {k: {"path": f"{k}.key.pem"} for k in keys}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "VN", "organization-name": "Ban Cơ yếu (thử)"},
                "entities": {
                    "root": {"common-name": "Root CA thử nghiệm"},
                    "interm": {"common-name": "CA chuyên dùng thử nghiệm"},
                    "signer": {
                        "organization-name": "UBND huyện Bình Xuyên",
                        "common-name": "ĐOÀN KIỂM TRA CÔNG VỤ",
                    },
                    "tsa": {"common-name": "Dịch vụ cấp dấu thời gian thử nghiệm"},
                    "tsa2": {"common-name": "Dịch vụ cấp dấu thời gian thử nghiệm 2"},
                    "ocsp": {"common-name": "OCSP thử nghiệm"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "subject-key": "root",
                        "issuer": "root",
                        "authority-key": "root",
                        "validity": VALID,
                        "profiles": [{"id": "simple-ca", "params": {"crl-repo": "root"}}],
                    },
                    "interm": {
                        "issuer": "root",
                        "validity": VALID,
                        "profiles": [
                            {
                                "id": "simple-ca",
                                "params": {
                                    "max-path-len": 0,
                                    "crl-repo": "interm",
                                    "ocsp-service": "interm",
                                },
                            }
                        ],
                    },
                    "ocsp": {"issuer": "interm", "validity": VALID, "profiles": ["ocsp-responder"]},
                    "tsa": {
                        "issuer": "root",
                        "validity": {"valid-from": VALID["valid-from"], "valid-to": tsa_valid_to},
                        "extensions": _TSA_EXTENSIONS,
                    },
                    # The service's next certificate: what a later re-timestamp uses.
                    "tsa2": {
                        "subject": "tsa2",
                        "issuer": "root",
                        "validity": VALID,
                        "extensions": _TSA_EXTENSIONS,
                    },
                    "signer": {
                        "issuer": "interm",
                        "validity": {
                            "valid-from": "2025-01-01T00:00:00+0000",
                            "valid-to": signer_valid_to,
                        },
                        "profiles": ["digsig-commitment"],
                    },
                },
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "ocsp",
                            "signing-key": "ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P90D",
                        },
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                        "tsa2": {"signing-key": "tsa2", "signing-cert": "tsa2"},
                    },
                },
            }
        },
    }


class _Switch:
    """The PKI's services, or a 503 for every request while ``offline`` (the CA gone)."""

    def __init__(self, app):
        self.app, self.offline = app, False

    def __call__(self, environ, start_response):
        if self.offline:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"offline"]
        return self.app(environ, start_response)


@dataclass
class Pki:
    folder: Path
    port: int
    arch: object  # certomancer's PKIArchitecture
    server: object
    animator: object  # its fixed_time, when set, is the time every service answers at
    switch: _Switch

    @contextmanager
    def offline(self):
        """The CA's OCSP, CRL and TSA addresses stop answering, as years after issue."""
        self.switch.offline = True
        try:
            yield
        finally:
            self.switch.offline = False

    def tsa_url_of(self, service: str = "tsa") -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}/tsa/{service}"

    @property
    def tsa_url(self) -> str:
        return self.tsa_url_of("tsa")

    def cert(self, label: str):
        from certomancer.registry import CertLabel

        return self.arch.get_cert(CertLabel(label))

    def pem(self, label: str) -> Path:
        from asn1crypto import pem

        path = self.folder / f"{label}.cert.pem"
        path.write_bytes(pem.armor("CERTIFICATE", self.cert(label).dump()))
        return path

    def stop(self) -> None:
        self.server.shutdown()


def start_pki(
    folder: Path, signer_valid_to: datetime | None = None, tsa_valid_to: datetime | None = None
) -> Pki:
    """Make the keys and certificates, and serve the TSA, OCSP and CRLs on 127.0.0.1."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import ArchLabel, CertomancerConfig
    from werkzeug.serving import make_server

    folder.mkdir(parents=True, exist_ok=True)
    for label in ("root", "interm", "signer", "tsa", "tsa2", "ocsp"):
        _key(folder / f"{label}.key.pem")
    port = _free_port()
    now = datetime.now(UTC)
    config = CertomancerConfig(
        _config(
            f"http://127.0.0.1:{port}",
            _certomancer_time(signer_valid_to or now + timedelta(days=4 * 365)),
            _certomancer_time(tsa_valid_to) if tsa_valid_to else VALID["valid-to"],
        ),
        key_search_dir=str(folder),
    )
    animator = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    switch = _Switch(animator)
    server = make_server("127.0.0.1", port, switch, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Pki(folder, port, config.get_pki_arch(ArchLabel(ARCH)), server, animator, switch)


@dataclass
class Token:
    conf: Path  # SOFTHSM2_CONF
    label: str
    pin: str


def softhsm_token(folder: Path, pki: Pki, label="kiemtra", pin="246810") -> Token:
    """A SoftHSM2 token holding the office's key and its certificate chain."""
    if not Path(SOFTHSM_MODULE).exists() or not shutil.which("softhsm2-util"):
        raise FileNotFoundError("softhsm2 is not installed (apt-get install softhsm2)")
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    env = {"SOFTHSM2_CONF": str(conf), "PATH": "/usr/bin:/bin"}
    run = {"check": True, "capture_output": True, "env": env}
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "13579111",
            "--pin",
            pin,
        ],
        **run,
    )
    subprocess.run(
        [
            "softhsm2-util",
            "--import",
            str(pki.folder / "signer.key.pem"),
            "--token",
            label,
            "--label",
            "signer",
            "--id",
            "01",
            "--pin",
            pin,
        ],
        **run,
    )
    _put_certificates(conf, label, pin, pki)
    return Token(conf, label, pin)


def _put_certificates(conf: Path, label: str, pin: str, pki: Pki) -> None:
    """The certificates beside the key: the signer's (same id) and its chain."""
    import os

    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    os.environ["SOFTHSM2_CONF"] = str(conf)
    lib = pkcs11.lib(SOFTHSM_MODULE)
    token = lib.get_token(token_label=label)
    with token.open(rw=True, user_pin=pin) as session:
        for name, ident in (("signer", b"\x01"), ("interm", b"\x02"), ("root", b"\x03")):
            cert = pki.cert(name)
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: name,
                    Attribute.ID: ident,
                    Attribute.SUBJECT: cert.subject.dump(),
                    Attribute.VALUE: cert.dump(),
                }
            )
