"""Fixtures in the style of the Flask tutorial: app on a temp database, client, runner, auth.

The schema is built once per run by the real migrations and seeded with the demo
organisation; each test gets its own copy of that database. On SQLite the copy is a
file copy; with ``TEST_DATABASE_URL`` pointing at PostgreSQL, the templates are
PostgreSQL databases and each test gets ``CREATE DATABASE … TEMPLATE …``.
"""

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.pool import NullPool

from app import create_app
from inspection.extensions import db
from inspection.services import demo

PASSWORD = demo.DEMO_PASSWORD


CERT = Path(__file__).resolve().parent.parent / ".pytest_cache" / "test-signing.p12"
CERT_PASSPHRASE = "test-passphrase"


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The queue, the mail folder and the token's certificate copy of this run: gone at its end.
RUN_FILES = Path(tempfile.mkdtemp(prefix="kiemtra-tests-"))
atexit.register(shutil.rmtree, RUN_FILES, ignore_errors=True)


def _config(db_url) -> dict:
    if not CERT.exists():
        from inspection.pdf.signing import make_certificate

        make_certificate(
            CERT, CERT_PASSPHRASE.encode(), "UBND huyện Bình Xuyên", "ĐOÀN KIỂM TRA CÔNG VỤ"
        )
    return {
        "SIGNING_P12_PATH": str(CERT),
        "SIGNING_P12_PASSPHRASE": CERT_PASSPHRASE,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": str(db_url) if "://" in str(db_url) else f"sqlite:///{db_url}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "WEBHOOK_ALLOW_PRIVATE": True,  # the receivers of the tests listen on 127.0.0.1
        # Queued messages go to a file of this run, never to instance/queue.sqlite.
        "QUEUE_URL": str(RUN_FILES / "queue.sqlite"),
        "MAIL_DIR": str(RUN_FILES / "mail"),
        "SIGNING_PKCS11_CERT_CACHE": str(RUN_FILES / "signing-token.pem"),
    }


def _build_template(url, seed: bool) -> None:
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        if seed:
            demo.seed()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()  # SQLite: the last connection closing folds the WAL into the file


class SqliteDatabases:
    """Template databases as files; a test's database is a copy of one."""

    def __init__(self, folder: Path):
        self.folder = folder

    def template(self, name: str) -> str:
        return str(self.folder / f"{name}.sqlite")

    def copy(self, template: str, tmp_path: Path) -> str:
        assert not Path(f"{template}-wal").exists()
        tmp_path.mkdir(exist_ok=True)
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        return str(path)

    def drop(self, url: str) -> None:
        pass


class PostgresDatabases:
    """Template databases on the PostgreSQL server of ``TEST_DATABASE_URL``."""

    def __init__(self, url: str):
        self.url = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.prefix = f"{self.url.database}_{os.getpid()}"
        self.counter = itertools.count()
        self.admin = sa.create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
        return self.url.set(database=name).render_as_string(hide_password=False)

    def template(self, name: str) -> str:
        return self._create(f"{self.prefix}_{name}")

    def copy(self, template: str, tmp_path: Path) -> str:
        return self._create(f"{self.prefix}_t{next(self.counter)}", sa.make_url(template).database)

    def drop(self, url: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(
                f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'
            )


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    if TEST_DATABASE_URL:
        backend = PostgresDatabases(TEST_DATABASE_URL)
    else:
        backend = SqliteDatabases(tmp_path_factory.mktemp("templates"))
    yield backend
    if isinstance(backend, PostgresDatabases):
        for name in ("empty", "demo"):
            backend.drop(backend.url.set(database=f"{backend.prefix}_{name}").render_as_string())


@pytest.fixture(scope="session")
def template_dbs(databases):
    """Build the migrated empty database and the seeded demo database once per run."""
    urls = {}
    for name in ("empty", "demo"):
        urls[name] = databases.template(name)
        _build_template(urls[name], seed=name == "demo")
    return urls


@pytest.fixture
def make_app(databases, template_dbs, tmp_path):
    """Return a function that creates an app on a fresh copy of a template database."""
    made = []

    def make(template="demo", **overrides):
        url = databases.copy(template_dbs[template], tmp_path / f"db{len(made)}")
        app = create_app({**_config(url), **overrides})
        made.append((app, url))
        return app

    yield make
    for app, url in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)


@pytest.fixture
def app_config():
    """Extra configuration for the ``app`` fixture; override in a test module."""
    return {}


@pytest.fixture
def app(make_app, app_config):
    """The app on a fresh copy of the demo database."""
    return make_app("demo", **app_config)


@pytest.fixture
def empty_app(make_app):
    """The app on a migrated database with no data at all."""
    return make_app("empty")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context, for tests that use services and models directly."""
    with app.app_context():
        yield


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="truongdoan", password=PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def token(client):
    """Return a function that gets an API token for a demo user."""

    def get(username="truongdoan"):
        response = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        assert response.status_code == 201, response.json
        return response.json["token"]

    return get
