"""Issue 18, first part: the outbox and email. A message is recorded with the change that
causes it and delivered after, over real SMTP (aiosmtpd on 127.0.0.1) or as .eml files."""

import email
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Outbox, OutboxStatus, utcnow
from inspection.services import notifications
from tests.conftest import CERT, CERT_PASSPHRASE
from tests.test_crash import ROOT
from tests.test_minutes import finalize, ready_visit


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd names it so
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(app) -> list[Outbox]:
    with app.app_context():
        rows = db.session.scalars(select(Outbox).order_by(Outbox.id)).all()
        db.session.expunge_all()
        return rows


def _issued(client, token, app) -> int:
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)  # TTHCC, donvi1's unit
    assert finalize(client, lead, inspection_id).status_code == 201
    return inspection_id


def test_issued_minutes_are_mailed_to_the_unit_once(client, token, app, smtp):
    assert _rows(app) == []  # the demo's 2018 told nobody
    _issued(client, token, app)
    [row] = _rows(app)  # donvi1, the one account of the centre; recorded, not sent yet
    assert (row.event, row.address, row.status) == (
        "minutes.issued",
        "donvi1@binhxuyen.example",
        OutboxStatus.PENDING,
    )
    with app.app_context():
        assert notifications.sweep() == 1
        assert notifications.sweep() == 0  # sent once: nothing is due any more
    [message] = smtp.messages
    assert message["To"] == "donvi1@binhxuyen.example"
    assert message["Subject"].startswith("Biên bản kiểm tra số 01/BB-ĐKT")
    assert message["Message-ID"] == f"<outbox-{row.id}@kiem-tra.local>"
    text = message.get_body(("plain",)).get_content()
    assert "Biên bản kiểm tra số 01/BB-ĐKT tại Trung tâm Hành chính công huyện" in text
    assert "/unit/" in text and "/verify/" in text
    assert "Thời hạn báo cáo kết quả khắc phục: 10/11/2018." in text
    html = message.get_body(("html",)).get_content()
    assert "<strong>Biên bản kiểm tra số 01/BB-ĐKT</strong>" in html
    [sent] = _rows(app)
    assert sent.status is OutboxStatus.SENT and sent.attempts == 1


def test_a_finalize_that_fails_tells_nobody(client, token, app):
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)
    with app.app_context():  # the signatures gone: finalize refuses and rolls back
        from inspection.models import Signature

        db.session.execute(Signature.__table__.delete())
        db.session.commit()
    assert finalize(client, lead, inspection_id).status_code == 409
    assert _rows(app) == []


def test_a_server_that_is_down_is_tried_again_later(client, token, app, smtp):
    port = int(app.config["SMTP_URL"].rsplit(":", 1)[1])
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_free_port()}"  # nobody listens there
    _issued(client, token, app)
    with app.app_context():
        assert notifications.sweep() == 0
    [row] = _rows(app)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    with app.app_context():
        assert notifications.sweep() == 0  # not due yet
        assert notifications.sweep(now=utcnow() + timedelta(minutes=2)) == 1
    assert len(smtp.messages) == 1
    # Every attempt failing: given up after the last, for an administrator to see.
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_free_port()}"
    _issued(client, token, app)
    with app.app_context():
        later = utcnow()
        for _ in range(len(notifications.BACKOFF) + 1):
            later += timedelta(days=1)
            notifications.sweep(now=later)
    last = _rows(app)[-1]
    assert last.status is OutboxStatus.FAILED and last.attempts == len(notifications.BACKOFF) + 1
    # The administrator sees it and sends it again once the server is back.
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "kiemtra2018"})
    page = admin.get("/admin/messages").get_data(as_text=True)
    assert "Không gửi được" in page and "ConnectionRefusedError" in page
    assert admin.post(f"/admin/messages/{last.id}/retry").status_code == 302
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    with app.app_context():
        assert notifications.sweep() == 1
    assert len(smtp.messages) == 2 and _rows(app)[-1].status is OutboxStatus.SENT


def test_without_smtp_the_mail_is_written_under_instance_mail(client, token, app, tmp_path):
    app.config.update(SMTP_URL="", MAIL_DIR=str(tmp_path / "mail"))
    _issued(client, token, app)
    with app.app_context():
        assert notifications.sweep() == 1
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "donvi1@binhxuyen.example"
    assert "01/BB-ĐKT" in message["Subject"]
    with app.app_context():
        row = db.session.scalar(select(Outbox))
        # As if the worker died after sending, before recording it: the claim stands...
        row.status, row.next_attempt_at = OutboxStatus.PENDING, utcnow() + notifications.LEASE
        db.session.commit()
        assert notifications.sweep() == 0
        # ... until it lapses: sent again, as the same message.
        later = utcnow() + notifications.LEASE + timedelta(seconds=1)
        assert notifications.sweep(now=later) == 1
        assert db.session.scalar(select(func.count(Outbox.id))) == 1
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1  # the same file, not a second


def test_the_worker_sends_the_mail_seconds_after_the_commit(client, token, app, smtp, tmp_path):
    """The real worker (`flask --app app worker`, Huey on SQLite) in its own process."""
    queue_file = tmp_path / "queue.sqlite"
    app.config["QUEUE_URL"] = str(queue_file)
    app.extensions["queue"] = None  # made again below with the file of this test
    from inspection import queue

    queue.init_app(app)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
        "SIGNING_P12_PATH": str(CERT),
        "SIGNING_P12_PASSPHRASE": CERT_PASSPHRASE,
        "QUEUE_URL": str(queue_file),
        "SMTP_URL": app.config["SMTP_URL"],
        "PUBLIC_BASE_URL": "http://localhost",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - the worker writes to it
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        time.sleep(1.5)  # the worker is polling
        committed = time.monotonic()
        _issued(client, token, app)
        while not smtp.messages and time.monotonic() - committed < 20:
            time.sleep(0.05)
        took = time.monotonic() - committed
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert smtp.messages, (tmp_path / "worker.log").read_text()[-3000:]
    print(f"\nmail received {took:.2f} s after the finalize request began")
    assert took < 10
    assert len(smtp.messages) == 1
    [row] = _rows(app)
    assert row.status is OutboxStatus.SENT
