"""Issue 18: the outbox and email. A message is recorded with the change that causes it
and delivered after, over real SMTP (aiosmtpd on 127.0.0.1) or as .eml files; reminders
come from the queue's schedule, tested with a frozen clock; a worker killed mid-delivery
loses nothing."""

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from email import policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.models import Outbox, OutboxStatus, utcnow
from inspection.services import notifications
from tests.conftest import CERT, CERT_PASSPHRASE
from tests.test_crash import ROOT
from tests.test_minutes import finalize, ready_visit, sign
from tests.test_review import require_fixes, respond
from tests.visit_helpers import bearer, record, save, start


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


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


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
    assert message["Subject"].startswith("Biên bản kiểm tra số 01/BB-ĐKT – Trung tâm")
    assert message["Message-ID"] == f"<outbox-{row.id}@kiem-tra.local>"
    text = _text(message)
    assert text.startswith("Kính gửi Đỗ Quang Minh,")
    assert "đã ban hành Biên bản kiểm tra số 01/BB-ĐKT tại Trung tâm Hành chính công" in text
    assert "Xem, tải biên bản và xác nhận đã nhận: http://localhost/unit/" in text
    assert "Kiểm tra tính xác thực của biên bản: http://localhost/verify/" in text
    assert "Thời hạn báo cáo kết quả khắc phục: 10/11/2018." in text
    html = message.get_body(("html",)).get_content()
    assert '<html lang="vi">' in html and 'href="http://localhost/unit/"' in html
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
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    with app.app_context():
        row = db.session.scalar(select(Outbox))
        # As if a worker on another machine died after sending, before recording it: the
        # claim stands...
        row.status, row.next_attempt_at = OutboxStatus.PENDING, utcnow() + lease
        row.claimed_by = "another-host:4242"
        db.session.commit()
        assert notifications.release_orphans() == 0  # not this machine's to free
        assert notifications.sweep() == 0
        # ... until it lapses: sent again, as the same message.
        assert notifications.sweep(now=utcnow() + lease + timedelta(seconds=1)) == 1
        assert db.session.scalar(select(func.count(Outbox.id))) == 1
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1  # the same file, not a second


def test_the_worker_sends_the_mail_seconds_after_the_commit(client, token, app, smtp, tmp_path):
    """The real worker (`flask --app app worker`, Huey on SQLite) in its own process."""
    queue_file = tmp_path / "queue.sqlite"
    app.config["QUEUE_URL"] = str(queue_file)
    app.extensions["queue"] = None  # made again below with the file of this test
    from inspection import queue

    queue.init_app(app)
    worker = _worker(_worker_env(app, queue_file), tmp_path / "worker.log")
    try:
        time.sleep(1.5)  # the worker is polling
        committed = time.monotonic()
        _issued(client, token, app)
        while not smtp.messages and time.monotonic() - committed < 20:
            time.sleep(0.05)
        took = time.monotonic() - committed
        # The worker records the sending just after the server took the mail: stopping it
        # in between (as SIGTERM does) would leave the row to be sent again after the lease.
        while _rows(app)[-1].status is not OutboxStatus.SENT and time.monotonic() - committed < 20:
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert smtp.messages, (tmp_path / "worker.log").read_text()[-3000:]
    print(f"\nmail received {took:.2f} s after the finalize request began")
    assert took < 10
    assert len(smtp.messages) == 1
    [row] = _rows(app)
    assert row.status is OutboxStatus.SENT


def _by(smtp, address: str) -> list:
    return [m for m in smtp.messages if m["To"] == address]


def _sweep(app) -> int:
    with app.app_context():
        return notifications.sweep()


def test_each_kind_of_message_reaches_whom_it_concerns(client, token, app, smtp):
    """The unit hears of its minutes, fixes and their replacement; the office of the unit's
    answers; the team of a signature a change voided. Each in Vietnamese."""
    lead, office, unit = token("truongdoan"), token("noivu"), token("donvi1")
    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    reviewed = require_fixes(
        client, office, inspection_id, comment="Lắp biển cấm hút thuốc ở các tầng"
    )
    [request] = reviewed["remediations"]
    due = request["due_date"]
    with app.app_context():
        from inspection.models import Minutes

        minutes_id = db.session.scalar(select(Minutes.id).filter_by(inspection_id=inspection_id))
    ack = client.post(f"/api/v1/minutes/{minutes_id}/acknowledge", headers=bearer(unit))
    assert ack.status_code == 200
    client.post(f"/api/v1/minutes/{minutes_id}/acknowledge", headers=bearer(unit))  # once only
    assert respond(client, unit, request["id"]).status_code == 200
    decide = f"/api/v1/remediations/{request['id']}/decision"
    client.post(
        decide, json={"accept": False, "comment": "Thiếu ảnh tầng 3"}, headers=bearer(office)
    )
    _sweep(app)
    unit_mail = _by(smtp, "donvi1@binhxuyen.example")
    office_mail = _by(smtp, "noivu@binhxuyen.example")
    assert [m["Subject"] for m in unit_mail] == [
        "Biên bản kiểm tra số 01/BB-ĐKT – Trung tâm Hành chính công huyện",
        f"Yêu cầu khắc phục, báo cáo chậm nhất ngày {date.fromisoformat(due):%d/%m/%Y} –"
        " Trung tâm Hành chính công huyện",
        "Yêu cầu khắc phục được mở lại – Trung tâm Hành chính công huyện",
    ]
    required = _text(unit_mail[1])
    assert "Lắp biển cấm hút thuốc ở các tầng" in required
    assert f"http://localhost/unit/requests/{request['review_id']}" in required
    assert "Thiếu ảnh tầng 3" in _text(unit_mail[2])
    assert [m["Subject"] for m in office_mail] == [
        "Trung tâm Hành chính công huyện đã xác nhận đã nhận Biên bản số 01/BB-ĐKT",
        "Trung tâm Hành chính công huyện đã báo cáo kết quả khắc phục",
    ]
    assert f"http://localhost/office/remediations/{request['id']}" in _text(office_mail[1])

    # A correction replaces the minutes: the unit is told which number counts now.
    copy = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead)).json
    body = {"findings": "Đính chính giờ đến", "version": copy["version"]}
    assert save(client, lead, copy["id"], body).status_code == 200
    for role in ("lead", "secretary", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    assert finalize(client, lead, copy["id"]).status_code == 201
    _sweep(app)
    replaced = _by(smtp, "donvi1@binhxuyen.example")[-1]
    assert replaced["Subject"] == "Biên bản số 01/BB-ĐKT được thay thế bằng Biên bản số 02/BB-ĐKT"
    assert "Chỉ biên bản mới có giá trị." in _text(replaced)


def test_a_change_after_signing_tells_the_rest_of_the_team(client, token, app, smtp):
    lead = token("truongdoan")
    with app.app_context():
        from inspection.models import User

        thuky = db.session.scalar(select(User.id).filter_by(username="thuky"))
        hung = db.session.scalar(select(User.id).filter_by(username="truongdoan"))
    team = [{"user_id": hung, "role": "lead"}, {"user_id": thuky, "role": "secretary"}]
    visit = start(client, lead, app, team=team)
    assert sign(client, lead, visit["id"], "lead").status_code == 200
    assert sign(client, lead, visit["id"], "secretary").status_code == 200
    # An answer changed (not only a text): the signatures given before it are void.
    full = record(client, lead, visit["id"])
    late = {"person_id": full["people"][0]["person_id"], "attendance": "late"}
    changed = save(client, lead, visit["id"], {"people": [late], "version": full["version"]})
    assert changed.status_code == 200, changed.json
    with app.app_context():
        from inspection.models import AuditEvent

        voided = db.session.scalar(select(AuditEvent).filter_by(action="signatures_voided"))
        assert voided is not None and voided.object_id == str(visit["id"])
    _sweep(app)
    [message] = smtp.messages  # to the secretary; the lead made the change and knows
    assert message["To"] == "thuky@binhxuyen.example"
    assert message["Subject"].startswith("Chữ ký mất hiệu lực – cuộc kiểm tra tại Trung tâm")
    assert "Nguyễn Văn Hùng, Phạm Thị Lan" in _text(message)
    assert f"/inspector/visits/{visit['id']}/summary" in _text(message)


def test_an_account_chooses_english_or_turns_a_kind_off(client, token, app, smtp):
    unit = app.test_client()
    unit.post("/login", data={"username": "donvi1", "password": "kiemtra2018"})
    page = unit.get("/account").get_data(as_text=True)
    assert 'checked class="choices" id="on-0" name="on" type="checkbox" value="minutes"' in page
    saved = unit.post("/account/mail", data={"language": "en", "on": ["minutes", "remediation"]})
    assert saved.status_code == 302
    with app.app_context():
        from inspection.models import User

        user = db.session.scalar(select(User).filter_by(username="donvi1"))
        assert (user.language, user.mail_off) == ("en", "reminders")
    _issued(client, token, app)
    _sweep(app)
    [message] = smtp.messages
    assert message["Subject"] == (
        "Inspection minutes no. 01/BB-ĐKT – Trung tâm Hành chính công huyện"
    )
    text = _text(message)
    assert text.startswith("Dear Đỗ Quang Minh,")
    assert "Report your fixes by 10/11/2018." in text
    assert '<html lang="en">' in message.get_body(("html",)).get_content()
    # Minutes turned off: the next issue says nothing to this account.
    unit.post("/account/mail", data={"language": "vi", "on": ["remediation"]})
    assert unit.post("/account/mail", data={"language": "xx"}).status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="donvi1"))
        assert (user.language, user.mail_off) == ("vi", "minutes reminders")
    lead = token("truongdoan")
    assert finalize(client, lead, ready_visit(client, lead, app)).status_code == 201
    assert _sweep(app) == 0 and len(smtp.messages) == 1
    # An account whose role receives nothing is told so.
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "kiemtra2018"})
    assert "Tài khoản này không nhận thư thông báo." in admin.get("/account").get_data(as_text=True)


def test_reminders_come_from_the_schedule_3_days_before_and_once_overdue(client, token, app, smtp):
    lead, office = token("truongdoan"), token("noivu")
    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    reviewed = require_fixes(client, office, inspection_id, "SMOKE-SIGN", "SMOKE-NONE", days=7)
    due = date.fromisoformat(reviewed["remediations"][0]["due_date"])
    _sweep(app)
    smtp.messages.clear()  # the issue and the request
    task = app.extensions["queue"]["remind"]  # Huey's periodic task, run as its schedule would

    def run_at(day: date, hour: int = 9) -> list:
        moment = datetime(day.year, day.month, day.day, hour, 7, tzinfo=LOCAL_TZ)
        assert task.s().validate_datetime(moment.replace(tzinfo=None))  # on its hourly schedule
        before = len(smtp.messages)
        with time_machine.travel(moment, tick=False):
            task.call_local()
            _sweep(app)
        return smtp.messages[before:]

    assert run_at(due - timedelta(days=4)) == []  # 4 days ahead: not yet
    [soon] = run_at(due - timedelta(days=3))
    assert soon["Subject"].startswith(f"Hạn báo cáo khắc phục ngày {due:%d/%m/%Y}")
    assert "Có 2 nội dung phải khắc phục" in _text(soon) and "còn 3 ngày" in _text(soon)
    assert run_at(due - timedelta(days=3), hour=10) == []  # once per deadline
    assert run_at(due - timedelta(days=1)) == []
    assert run_at(due) == []  # due today: reminded 3 days before, not overdue yet
    [late] = run_at(due + timedelta(days=1))
    assert late["Subject"].startswith(f"Quá hạn: báo cáo khắc phục hạn ngày {due:%d/%m/%Y}")
    assert run_at(due + timedelta(days=2)) == []
    # An answered request is not reminded.
    with app.app_context():
        assert notifications.remind(due + timedelta(days=30)) == 0


def test_a_worker_killed_mid_delivery_loses_nothing(client, token, app, tmp_path):
    """kill -9 of the real worker while it sends to a slow SMTP server, then a restart:
    every message arrives; a copy sent again carries the same Message-ID."""
    inbox = SlowInbox(delay=0.25)
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    queue_file = tmp_path / "queue.sqlite"
    app.config["QUEUE_URL"] = str(queue_file)
    from inspection import queue

    queue.init_app(app)
    count = 16
    _waiting(app, count, dispatch=True)  # handed to the queue after the commit
    env = _worker_env(app, queue_file)
    try:
        first = _worker(env, tmp_path / "worker1.log")
        deadline = time.monotonic() + 30
        while len(inbox.ids) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = len(set(inbox.ids))
        assert 0 < at_kill < count, "killed before or after the work: no crash tested"
        second = _worker(env, tmp_path / "worker2.log")
        deadline = time.monotonic() + 40
        while _unsent(app) and time.monotonic() < deadline:
            time.sleep(0.1)
        second.terminate()
        second.wait(timeout=15)
    finally:
        controller.stop()
    rows = _rows(app)
    expected = {f"<outbox-{row.id}@kiem-tra.local>" for row in rows}
    print(
        f"\nkill -9 after {at_kill} of {count} messages; after the restart: "
        f"{len(set(inbox.ids))} distinct Message-IDs, {len(inbox.ids)} SMTP deliveries"
    )
    assert set(inbox.ids) == expected  # every one arrived
    assert all(row.status is OutboxStatus.SENT for row in rows)
    # A repeat is only a message in flight at the kill (2 threads), under its own id.
    assert len(inbox.ids) - count <= 2


def _unsent(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(Outbox.id)).where(Outbox.status != OutboxStatus.SENT)
        )


class SlowInbox:
    """An SMTP server that takes its time over each message, as a loaded relay does."""

    def __init__(self, delay: float):
        self.delay, self.ids = delay, []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd names it so
        await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.ids.append(message["Message-ID"])
        return "250 OK"


def _worker_env(app, queue_file) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
        "SIGNING_P12_PATH": str(CERT),
        "SIGNING_P12_PASSPHRASE": CERT_PASSPHRASE,
        "QUEUE_URL": str(queue_file),
        "SMTP_URL": app.config["SMTP_URL"],
        "PUBLIC_BASE_URL": "http://localhost",
    }


def _worker(env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - the worker writes to it
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def test_a_vietnamese_subject_arrives_as_written():
    """Python's header folding dropped the space between encoded words ("đãxác")."""
    from email import message_from_bytes

    from inspection.services import mailer

    subject = (
        "Ủy ban nhân dân xã Hương Sơn đã xác nhận nhận Biên bản số 12/BB-ĐKT"
        " – đợt kiểm tra đột xuất về kỷ luật, kỷ cương hành chính quý IV năm 2026"
    )
    row = Outbox(
        id=7,
        address="a@binhxuyen.example",
        subject=subject,
        body_text="Nội dung",
        body_html="<p>Nội dung</p>",
        created_at=utcnow(),
    )
    raw = bytes(mailer.message_of(row, "Kiểm tra công vụ <khong-tra-loi@binhxuyen.example>"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == "Kiểm tra công vụ"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def _waiting(app, count: int, dispatch: bool = False) -> None:
    """Record ``count`` messages; without ``dispatch`` only a sweep or a claim takes them."""
    with app.app_context():
        app.config["QUEUE_DISPATCH"] = dispatch
        for n in range(count):
            db.session.add(
                Outbox(
                    event="minutes.issued",
                    address=f"a{n}@binhxuyen.example",
                    subject=f"Thư {n}",
                    body_text="Nội dung",
                    status=OutboxStatus.PENDING,
                )
            )
        db.session.commit()


def test_several_workers_share_the_messages_and_take_none_twice(app):
    """Each claim is one UPDATE of rows still due (SKIP LOCKED on PostgreSQL): workers
    claiming at the same time split the messages between them."""
    import threading

    _waiting(app, 60)
    taken: list[list[int]] = [[] for _ in range(4)]

    def work(mine: list[int]) -> None:
        with app.app_context():
            while ids := notifications._claim(utcnow(), 3):
                mine.extend(ids)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [i for mine in taken for i in mine]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 60
    assert sum(1 for mine in taken if mine) >= 2  # the work was shared


def test_a_row_another_worker_is_claiming_is_skipped_not_waited_for(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers instead")
    _waiting(app, 10)
    with app.app_context():
        first = db.session.scalars(select(Outbox.id).order_by(Outbox.id)).all()
        other = db.engine.connect()  # another worker, mid-claim: rows 1-3 locked
        lock = other.begin()
        other.execute(select(Outbox.id).where(Outbox.id.in_(first[:3])).with_for_update()).all()
        try:
            started = time.monotonic()
            ids = notifications._claim(utcnow(), 100)
            took = time.monotonic() - started
        finally:
            lock.rollback()
            other.close()
    assert ids == first[3:] and took < 2
