"""Fixtures in the style of the Flask tutorial: app on a temp database, client, runner, auth.

The schema is built once per run by the real migrations and seeded with the demo
organisation; each test gets its own copy of that database file.
"""

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from inspection.extensions import db
from inspection.services import demo

PASSWORD = demo.DEMO_PASSWORD


CERT = Path(__file__).resolve().parent.parent / ".pytest_cache" / "test-signing.p12"
CERT_PASSPHRASE = "test-passphrase"


def _config(db_path) -> dict:
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
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


def _build_template(path, seed: bool) -> None:
    app = create_app(_config(path))
    with app.app_context():
        upgrade()
        if seed:
            demo.seed()
            db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection closing folds the WAL into the file
    assert not Path(f"{path}-wal").exists()


@pytest.fixture(scope="session")
def template_dbs(tmp_path_factory):
    """Build the migrated empty database and the seeded demo database once per run."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {"empty": folder / "empty.sqlite", "demo": folder / "demo.sqlite"}
    for name, path in paths.items():
        _build_template(path, seed=name == "demo")
    return paths


def _make_app(template, tmp_path, **overrides):
    path = tmp_path / "test.sqlite"
    shutil.copyfile(template, path)
    app = create_app({**_config(path), **overrides})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_config():
    """Extra configuration for the ``app`` fixture; override in a test module."""
    return {}


@pytest.fixture
def app(template_dbs, tmp_path, app_config):
    """The app on a fresh copy of the demo database."""
    yield from _make_app(template_dbs["demo"], tmp_path, **app_config)


@pytest.fixture
def empty_app(template_dbs, tmp_path):
    """The app on a migrated database with no data at all."""
    yield from _make_app(template_dbs["empty"], tmp_path)


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
