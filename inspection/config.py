"""Configuration read from the environment."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once into instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting together must agree on one key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return key_file.read_text().strip()


class Config:
    """Production defaults; every deployment-specific value comes from the environment."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 12 * 1024 * 1024))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure cookies when the public address is https (override with SESSION_COOKIE_SECURE).
    SESSION_COOKIE_SECURE = (
        os.environ.get(
            "SESSION_COOKIE_SECURE",
            "1" if os.environ.get("PUBLIC_BASE_URL", "").startswith("https://") else "0",
        )
        == "1"
    )
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # How many reverse proxies (nginx) sit in front of the app; 0 trusts no X-Forwarded-*.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # an inspector may keep a form open all morning
    API_TOKEN_LIFETIME = timedelta(days=int(os.environ.get("API_TOKEN_DAYS", 30)))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Pages of a 40-person visit are ~200 KB of repetitive HTML: compress for 3G phones.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ]
    COMPRESS_MIN_SIZE = 500
    ROSTER_IMPORT_MAX_ROWS = 2000
    PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", 10 * 1024 * 1024))

    @staticmethod
    def database_url(instance_path: Path) -> str:
        """Return DATABASE_URL, defaulting to a SQLite file under instance/."""
        url = os.environ.get("DATABASE_URL")
        if url:
            # Hosting panels hand out postgres:// URLs; SQLAlchemy wants the driver named.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'inspection.sqlite'}"

    # The organisation's certificate for signing minutes (PKCS#12). `flask make-cert`
    # writes a self-signed one to instance/ for development; production points these
    # at the certificate issued by a Vietnamese CA.
    SIGNING_P12_PATH = os.environ.get("SIGNING_P12_PATH")
    SIGNING_P12_PASSPHRASE = os.environ.get("SIGNING_P12_PASSPHRASE")
    # The key on a PKCS#11 token or HSM instead of the file (README, "Keys on a token"):
    # the module, the token's label (or slot number), the key's label (the certificate's
    # label when it differs), and the PIN from the environment or a file.
    SIGNING_PKCS11_MODULE = os.environ.get("SIGNING_PKCS11_MODULE", "")
    SIGNING_PKCS11_TOKEN = os.environ.get("SIGNING_PKCS11_TOKEN", "")
    SIGNING_PKCS11_SLOT = os.environ.get("SIGNING_PKCS11_SLOT", "")
    SIGNING_PKCS11_KEY = os.environ.get("SIGNING_PKCS11_KEY", "")
    SIGNING_PKCS11_CERT = os.environ.get("SIGNING_PKCS11_CERT", "")
    SIGNING_PKCS11_PIN = os.environ.get("SIGNING_PKCS11_PIN", "")
    SIGNING_PKCS11_PIN_FILE = os.environ.get("SIGNING_PKCS11_PIN_FILE", "")
    # A copy of the token's certificates, so verification works while the token is out
    # (default instance/signing-token.pem).
    SIGNING_PKCS11_CERT_CACHE = os.environ.get("SIGNING_PKCS11_CERT_CACHE", "")
    # An RFC 3161 time-stamping service: with it signatures are PAdES B-T. SIGNING_LTV=1
    # also embeds the chain and revocation data and a document timestamp (B-LT, B-LTA),
    # checked against SIGNING_TRUST_ROOTS (PEM files, separated by ":").
    SIGNING_TSA_URL = os.environ.get("SIGNING_TSA_URL", "")
    SIGNING_LTV = os.environ.get("SIGNING_LTV", "0").strip().lower() in ("1", "true", "yes", "on")
    SIGNING_TRUST_ROOTS = os.environ.get("SIGNING_TRUST_ROOTS", "")
    # Printed in the minutes' verification line and QR code; the request's host otherwise.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Phones refresh their offline copy of the app when the static files change; set a
    # new value (a release tag) to make them refresh it after a change of templates only.
    APP_RELEASE = os.environ.get("APP_RELEASE", "")
    # How many units' blank checklists an inspector's phone keeps for offline starts.
    OFFLINE_UNITS = int(os.environ.get("OFFLINE_UNITS", "40"))
    # Warn the inspector when the browser's storage quota has less than this left.
    OFFLINE_MIN_FREE_BYTES = 50 * 1024 * 1024
    # Mail: smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host:465; without
    # it, messages are written as .eml files under MAIL_DIR (instance/mail/).
    SMTP_URL = os.environ.get("SMTP_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Kiểm tra công vụ <khong-tra-loi@localhost>")
    MAIL_DIR = os.environ.get("MAIL_DIR", "")
    # The job queue: empty for Huey's SQLite storage in instance/queue.sqlite, a path for
    # another file, or redis://… for one queue shared by several instances.
    QUEUE_URL = os.environ.get("QUEUE_URL", "")
    # A message being sent is left to its worker this long before another may take it (a
    # worker killed mid-send on another machine; one on this machine is noticed at restart).
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "600"))
    # Webhooks to private, loopback or link-local addresses are refused unless this is 1
    # (the demo and the tests, whose receivers run on 127.0.0.1).
    WEBHOOK_ALLOW_PRIVATE = os.environ.get("WEBHOOK_ALLOW_PRIVATE", "0") == "1"
    WEBHOOK_TIMEOUT_SECONDS = 10

    @classmethod
    def load(cls, instance_path: Path, overrides: dict | None = None) -> dict:
        """Return the settings as a dict for ``app.config.update``, ``overrides`` applied."""
        overrides = overrides or {}
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        if "SQLALCHEMY_DATABASE_URI" not in overrides:
            values["SQLALCHEMY_DATABASE_URI"] = cls.database_url(instance_path)
        if "SECRET_KEY" not in overrides:
            values["SECRET_KEY"] = _secret_key(instance_path)
        if not values["SIGNING_P12_PATH"]:
            values["SIGNING_P12_PATH"] = str(instance_path / "signing.p12")
        if not values["SIGNING_PKCS11_CERT_CACHE"]:
            values["SIGNING_PKCS11_CERT_CACHE"] = str(instance_path / "signing-token.pem")
        if not values["MAIL_DIR"]:
            values["MAIL_DIR"] = str(instance_path / "mail")
        return {**values, **overrides}
