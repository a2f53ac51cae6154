"""Issue 20: two gunicorn instances (gunicorn.conf.py) on one PostgreSQL database, with
Redis for the login limits and the job queue, and clients spread over both as nginx
would spread them. Runs in the suite's PostgreSQL pass (TEST_DATABASE_URL)."""

import json
import re
import shutil
import threading
import time

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Minutes
from tests.conftest import PASSWORD
from tests.redis_server import RedisServer
from tests.test_crash import Server, _check_acknowledged_saves, _notes, _saver
from tests.test_downloads import _login
from tests.test_minutes import ready_visit
from tests.visit_helpers import record, start

pytestmark = pytest.mark.skipif(
    not shutil.which("redis-server"), reason="redis-server is not installed (apt-get install)"
)


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path)
    yield server.url
    server.stop()


@pytest.fixture
def cluster(app, client, token, tmp_path, redis_url):
    """Drafts and visits ready to issue; then two instances sharing the database and Redis."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("two instances share a PostgreSQL database (TEST_DATABASE_URL)")
    lead = token("truongdoan")
    drafts = []
    for code in ("TTHCC", "XHS", "TTHCC", "XHS", "TTHCC", "XHS", "TTHCC"):
        visit = start(client, lead, app, code=code)
        full = record(client, lead, visit["id"])
        drafts.append((visit["id"], [p["person_id"] for p in full["people"]], full["version"]))
    ready = [ready_visit(client, lead, app) for _ in range(6)]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shared = {
        "RATELIMIT_STORAGE_URI": f"{redis_url}/0",
        "QUEUE_URL": f"{redis_url}/1",
        "WEB_CONCURRENCY": "2",
    }
    servers = [Server(url, tmp_path / f"gunicorn-{name}.log", shared) for name in "ab"]
    for server in servers:
        server.start()
    yield servers, lead, drafts, ready
    for server in servers:
        server.stop()


def _base(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def test_sessions_login_limits_and_minutes_numbers_are_shared(cluster, app):
    (a, b), lead, _drafts, ready = cluster

    # A session made on one instance is valid on the other, and a logout on the other
    # ends it on both (sessions are rows in the shared database, not process memory).
    browser = _login(_base(a), "noivu")
    page = browser.get(f"{_base(b)}/account", timeout=30)
    assert page.status_code == 200 and "/login" not in page.url and "noivu" in page.text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    browser.post(f"{_base(b)}/logout", data={"csrf_token": csrf}, timeout=30)
    assert "/login" in browser.get(f"{_base(a)}/account", timeout=30).url

    # The per-account login limit (10 failures in 15 minutes) counts failures on both.
    wrong = {"username": "thanhvien", "password": "sai-mat-khau"}
    statuses = [(a if k % 2 else b).request("POST", "/api/v1/tokens", wrong)[0] for k in range(10)]
    assert statuses == [401] * 10
    right = {"username": "thanhvien", "password": PASSWORD}
    for server in (a, b):  # even the right password waits now, on either instance
        status, body = server.request("POST", "/api/v1/tokens", right)
        assert status == 429, body
    assert a.request("POST", "/api/v1/tokens", {**right, "username": "thuky"})[0] == 201

    # Concurrent finalizes on both instances: numbers unique and without gaps.
    numbers, errors = [], []

    def issue(server, inspection_id):
        status, data = server.request(
            "POST", f"/api/v1/inspections/{inspection_id}/finalize", {}, lead
        )
        (numbers if status == 201 else errors).append(
            json.loads(data)["minutes"]["number"] if status == 201 else (status, data[:200])
        )

    threads = [
        threading.Thread(target=issue, args=((a, b)[k % 2], inspection_id))
        for k, inspection_id in enumerate(ready)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with app.app_context():
        stored = sorted(db.session.scalars(select(Minutes.number)))
        db.session.remove()
        db.engine.dispose()
    assert stored == list(range(1, len(ready) + 1))
    assert sorted(int(n.split("/")[0]) for n in numbers) == stored
    print(f"\ntwo instances: {len(ready)} finalizes at once -> numbers {stored}")


def test_clients_on_both_instances_and_one_killed_mid_load(cluster, app):
    (a, b), lead, drafts, _ready = cluster
    stop = threading.Event()

    # Ten clients on one visit, round-robin over both instances: the version check holds
    # across them (no two acknowledged saves of one version, the newest one stored).
    shared_log = {"sent": [], "acked": [], "conflicts": 0, "errors": []}
    shared_id, shared_people, shared_version = drafts[-1]
    threads = [
        threading.Thread(
            target=_saver,
            args=(
                [a, b],
                lead,
                shared_id,
                shared_people,
                shared_version,
                stop,
                shared_log,
                k * 100000,
            ),
        )
        for k in range(10)
    ]
    for t in threads:
        t.start()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a client is stuck (deadlock?)"
    assert shared_log["errors"] == []
    versions = [v for *_, v in shared_log["acked"]]
    assert len(versions) == len(set(versions)) and len(versions) > 10
    assert {port for _, port in shared_log["acked_at"]} == {a.port, b.port}
    newest = {}
    for _i, person, n, version in shared_log["acked"]:
        if version > newest.get(person, (0, None))[0]:
            newest[person] = (version, n)

    # Each of six clients on its own visit, spread over both; instance A is killed with
    # SIGKILL mid-load and its clients carry on with B.
    stop = threading.Event()
    log = {"sent": [], "acked": [], "conflicts": 0, "errors": []}
    threads = [
        threading.Thread(target=_saver, args=([a, b], lead, i, people, v, stop, log))
        for i, people, v in drafts[:-1]
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(log["acked"]) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    a.kill()
    killed_at = time.monotonic()
    time.sleep(4)  # B alone
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert log["errors"] == [], log["errors"][:3]
    after = [port for at, port in log["acked_at"] if at > killed_at + 0.5]
    assert len(after) > 20 and set(after) == {b.port}, "B kept answering after A died"
    assert b.request("GET", "/healthz")[0] == 200
    with app.app_context():
        acked = _check_acknowledged_saves(log, _notes(drafts[:-1]))
        shared_notes = _notes([drafts[-1]])
        db.session.remove()
        db.engine.dispose()
    for person, (_version, n) in newest.items():
        assert shared_notes[(shared_id, person)] == f"n={n}", person
    print(
        f"\ntwo instances: shared visit {len(shared_log['acked'])} saves acknowledged"
        f" ({shared_log['conflicts']} conflicts); kill -9 of A: {len(log['sent'])} sent,"
        f" {acked} acknowledged and all found, {len(after)} acknowledged by B after the kill"
    )
