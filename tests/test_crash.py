"""The real server (gunicorn, the README's configuration) under concurrent saves and kill -9.

Runs on the suite's backend: SQLite by default, PostgreSQL with TEST_DATABASE_URL.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from inspection.extensions import db
from inspection.models import Blob, Inspection, InspectionStatus, Minutes, PersonResult
from tests.conftest import CERT, CERT_PASSPHRASE
from tests.test_minutes import ready_visit
from tests.visit_helpers import record, start

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """gunicorn with gunicorn.conf.py on a free loopback port, in its own process group."""

    def __init__(self, database_url: str, log_path: Path, env: dict | None = None):
        self.database_url = database_url
        self.log_path = log_path
        self.env = env or {}  # over the defaults below (Redis for limits and the queue)
        self.process = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "test-secret-key",
            "SIGNING_P12_PATH": str(CERT),
            "SIGNING_P12_PASSPHRASE": CERT_PASSPHRASE,
            "BIND": f"127.0.0.1:{self.port}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            "QUEUE_URL": str(self.log_path.parent / "queue.sqlite"),
            "MAIL_DIR": str(self.log_path.parent / "mail"),
            **self.env,
        }
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server keeps writing to it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start: " + self.log_path.read_text()[-2000:])

    def request(self, method, path, body=None, secret=None, conn=None):
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        return response.status, response.read()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def setup(app, client, token, tmp_path):
    """Drafts to save into, visits ready to finalize; then the app lets go of the database."""
    lead = token("truongdoan")
    drafts = []
    for code in ("TTHCC", "XHS", "TTHCC", "XHS", "TTHCC", "XHS"):
        visit = start(client, lead, app, code=code)
        full = record(client, lead, visit["id"])
        drafts.append((visit["id"], [p["person_id"] for p in full["people"]], full["version"]))
    ready = [ready_visit(client, lead, app) for _ in range(4)]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    server = Server(url, tmp_path / "gunicorn.log")
    yield server, lead, drafts, ready
    server.stop()


def _saver(server, secret, inspection_id, people, version, stop, log, start_n=0):
    """Save one person's note per request; record what was sent and what was acknowledged.

    ``server`` may be a list: requests then go round-robin over the instances, as nginx
    spreads them, and one that stops answering is left out (nginx's failover).
    """
    servers = list(server) if isinstance(server, list) else [server]
    conns = {id(s): http.client.HTTPConnection("127.0.0.1", s.port, timeout=30) for s in servers}
    path = f"/api/v1/inspections/{inspection_id}/results"
    n = start_n
    while not stop.is_set() and servers:
        n += 1
        target = servers[n % len(servers)]
        conn = conns[id(target)]
        person = people[n % len(people)]
        body = {"version": version, "people": [{"person_id": person, "note": f"n={n}"}]}
        log["sent"].append((inspection_id, person, n))
        try:
            status, data = target.request("PUT", path, body, secret, conn)
            if status == 409:
                _, fresh = target.request(
                    "GET", f"/api/v1/inspections/{inspection_id}", None, secret, conn
                )
        except (OSError, http.client.HTTPException):
            servers.remove(target)  # this instance is gone; the others carry on
            log.setdefault("failovers", 0)
            log["failovers"] += 1
            continue
        if status == 200:
            version = json.loads(data)["version"]
            log["acked"].append((inspection_id, person, n, version))
            log.setdefault("acked_at", []).append((time.monotonic(), target.port))
        elif status == 409:
            log["conflicts"] += 1
            version = json.loads(fresh)["version"]
        else:
            log["errors"].append((status, data[:200]))


def _notes(drafts) -> dict:
    rows = db.session.execute(
        select(PersonResult.inspection_id, PersonResult.id, PersonResult.note).where(
            PersonResult.inspection_id.in_([d[0] for d in drafts])
        )
    )
    return {(i, p): note for i, p, note in rows}


def _check_acknowledged_saves(log, notes) -> int:
    """Every acknowledged save is there, or a later one of the same field is."""
    last_acked = {}
    for inspection_id, person, n, _version in log["acked"]:
        last_acked[(inspection_id, person)] = max(n, last_acked.get((inspection_id, person), 0))
    sent = defaultdict(set)
    for inspection_id, person, n in log["sent"]:
        sent[(inspection_id, person)].add(n)
    for key, n in last_acked.items():
        stored = notes[key]
        assert stored is not None, key
        stored_n = int(stored.removeprefix("n="))
        assert stored_n >= n and stored_n in sent[key], (key, stored, n)
    return len(log["acked"])


def test_kill_9_mid_stream_loses_no_acknowledged_save(setup, app):
    server, lead, drafts, ready = setup
    server.start()
    stop = threading.Event()
    log = {"sent": [], "acked": [], "conflicts": 0, "errors": []}
    finalized = []

    def finalizer():
        for inspection_id in ready:
            try:
                status, data = server.request(
                    "POST", f"/api/v1/inspections/{inspection_id}/finalize", {}, lead
                )
            except (OSError, http.client.HTTPException):
                return
            if status == 201:
                finalized.append((inspection_id, json.loads(data)["minutes"]["number"]))

    threads = [
        threading.Thread(target=_saver, args=(server, lead, i, people, v, stop, log))
        for i, people, v in drafts
    ] + [threading.Thread(target=finalizer)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 40  # two finalizes under 20 savers: seconds each on 2 cores
    while (len(log["acked"]) < 150 or len(finalized) < 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # mid-stream: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert log["errors"] == []
    assert len(log["acked"]) >= 150 and len(finalized) >= 2, (len(log["acked"]), finalized)

    server.start()  # the same database, after the crash
    status, _ = server.request("GET", "/healthz")
    assert status == 200
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.scalar(text("PRAGMA integrity_check")) == "ok"
        acked = _check_acknowledged_saves(log, _notes(drafts))
        # No visit finalized without its stored, signed PDF; numbers 1..N, none twice.
        done = db.session.scalars(
            select(Inspection).filter_by(status=InspectionStatus.FINALIZED)
        ).all()
        assert {i for i, _ in finalized} <= {v.id for v in done}
        numbers = []
        for visit in done:
            minutes = db.session.scalar(select(Minutes).filter_by(inspection_id=visit.id))
            blob = db.session.get(Blob, minutes.pdf_sha256)
            assert blob is not None and bytes(blob.data).startswith(b"%PDF")
            numbers.append(minutes.number)
        assert sorted(numbers) == list(range(1, len(done) + 1))
        assert db.session.scalar(select(func.count(Minutes.id))) == len(done)
        db.session.remove()
        db.engine.dispose()
    # And the server takes saves again, from where the visit stands.
    inspection_id, _people, _version = drafts[0]
    _, data = server.request("GET", f"/api/v1/inspections/{inspection_id}", None, lead)
    body = {"version": json.loads(data)["version"], "findings": "sau khi khởi động lại"}
    status, _ = server.request("PUT", f"/api/v1/inspections/{inspection_id}/results", body, lead)
    assert status == 200
    print(
        f"\nkill -9: {len(log['sent'])} saves sent, {acked} acknowledged (all found after restart),"
        f" {log['conflicts']} conflicts, {len(finalized)} finalized acknowledged, {len(done)} found"
    )


def test_20_clients_on_the_same_and_different_visits(setup, app):
    """10 clients share one visit, 10 have their own: no lost update, no 500, no deadlock."""
    server, lead, drafts, _ready = setup
    server.start()
    stop = threading.Event()
    log = {"sent": [], "acked": [], "conflicts": 0, "errors": []}
    shared_id, shared_people, shared_version = drafts[0]
    threads = []
    for k in range(10):  # disjoint note numbers per client: n = k*100000 + i
        threads.append(
            threading.Thread(
                target=_saver,
                args=(
                    server,
                    lead,
                    shared_id,
                    shared_people,
                    shared_version,
                    stop,
                    log,
                    k * 100_000,
                ),
            )
        )
    for k in range(10):
        inspection_id, people, version = drafts[1 + k % 5]
        threads.append(
            threading.Thread(
                target=_saver,
                args=(server, lead, inspection_id, people[k // 5 :: 2], version, stop, log),
            )
        )
    for t in threads:
        t.start()
    time.sleep(6)
    stop.set()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a client is stuck (deadlock?)"
    assert log["errors"] == []
    with app.app_context():
        notes = _notes(drafts)
        db.session.remove()
        db.engine.dispose()
    # Per field, the stored note is the acknowledged write with the highest version: the
    # last to commit (versions are the optimistic lock, so commit order is version order).
    newest = {}
    for inspection_id, person, n, version in log["acked"]:
        key = (inspection_id, person)
        if version > newest.get(key, (0, None))[0]:
            newest[key] = (version, n)
    versions = [a[3] for a in log["acked"] if a[0] == shared_id]
    assert len(versions) == len(set(versions))  # no two acknowledged saves of one version
    for key, (_version, n) in newest.items():
        assert notes[key] == f"n={n}", key
    print(
        f"\n20 clients: {len(log['sent'])} saves sent, {len(log['acked'])} acknowledged,"
        f" {log['conflicts']} conflicts (409), 0 errors"
    )
