"""How many inspectors one machine holds, with the think time of a real campaign.

Each simulated inspector, on its own connection and its own draft visit, saves an answer
every 3 s, opens the checklist page every 30 s, uploads a photo every 2 minutes and issues
minutes every 10 minutes (each at a random phase, so they do not all act at once; the
minutes come from a pool of visits made ready beforehand). The number of inspectors is
stepped up until the save p95 passes 300 ms (or a step has errors); the figure is the
largest number held. Layouts, each on gunicorn.conf.py:

- SQLite, one instance;
- PostgreSQL, one instance;
- PostgreSQL, two instances on this machine, clients spread over both (Redis shares the
  limits and the queue, as README's deployment says);
- the minimal Flask app under the same model (every request a constant JSON), the ceiling
  of the server and the load client on this machine.

The client (asyncio + aiohttp) runs on the same 2 cores as the servers. PostgreSQL comes
from BENCH_DATABASE_URL, else the machine's cluster (postgresql:///inspection_bench);
Redis is started on a free port when redis-server is installed. BENCH_STEP_SECONDS sets
the length of each step (default 40); BENCH_LAYOUTS (e.g. "minimal,sqlite") runs only
the layouts whose names contain one of its words.
"""

import asyncio
import io
import json
import os
import random
import shutil
import statistics
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import select

from app import create_app
from bench import demo_app, row
from bench.server import Gunicorn
from inspection.extensions import db
from inspection.models import Unit, User
from inspection.pdf import signing
from inspection.services import accounts, demo, visits
from inspection.services.audit import Actor
from tests.redis_server import RedisServer

STEP_SECONDS = float(os.environ.get("BENCH_STEP_SECONDS", 40))
STEPS = (50, 100, 150, 200, 300, 400, 600)
MINIMAL_STEPS = (400, 800, 1600, 3200)
P95_BUDGET_MS = 300
WARM_UP_SECONDS = 10
SAVE_EVERY, PAGE_EVERY, PHOTO_EVERY, FINALIZE_EVERY = 3.0, 30.0, 120.0, 600.0
LAYOUTS = [w for w in os.environ.get("BENCH_LAYOUTS", "").lower().split(",") if w]
READY_VISITS = 110  # visits to issue minutes for, shared by the layouts of one database
EVERY = {"save": SAVE_EVERY, "page": PAGE_EVERY, "photo": PHOTO_EVERY, "finalize": FINALIZE_EVERY}
# Requests of each kind timed one at a time for their CPU cost (after `warm` unmeasured).
COSTS = {"save": (20, 300), "page": (5, 40), "photo": (3, 20), "finalize": (1, 8)}


def _photo() -> bytes:
    image = Image.effect_noise((1200, 900), 40).convert("RGB")  # a phone photo's weight
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _postgres_url() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL") or "postgresql:///inspection_bench"
    try:
        admin = sa.create_engine(
            sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            name = sa.make_url(url).database
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    except Exception as exc:  # no server here: the PostgreSQL layouts are skipped
        print(f"capacity: PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return None
    return url


def _prepare(app, count: int) -> dict:
    """Draft visits (one per inspector), visits ready to issue, a token and a cookie."""
    from tests.test_minutes import ready_visit

    with app.app_context():
        lead = db.session.scalar(select(User).filter_by(username="truongdoan"))
        units = db.session.scalars(select(Unit).order_by(Unit.id)).all()
        drafts = []
        for n in range(count):
            visit, _ = visits.start_inspection(
                Actor(lead.id), lead, unit_id=units[n % len(units)].id, kind="surprise",
                client_id=f"capacity-{n}",
            )  # fmt: skip
            db.session.flush()
            drafts.append((visit.id, [p.id for p in visit.people], visit.version))
            if n % 100 == 99:
                db.session.commit()
        secret, _token = accounts.issue_token(Actor(lead.id), lead, timedelta(days=1), "bench")
        db.session.commit()
    client = app.test_client()
    ready = [ready_visit(client, secret, app) for _ in range(READY_VISITS)]
    client.post("/login", data={"username": "truongdoan", "password": demo.DEMO_PASSWORD})
    cookie = client.get_cookie("session").value
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {
        "drafts": drafts,
        "versions": {visit_id: version for visit_id, _, version in drafts},
        "ready": ready,
        "secret": secret,
        "cookie": cookie,
    }


def _cpu_times() -> list[int]:
    """The machine's CPU time so far: user, nice, system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as stat:
        return [int(ticks) for ticks in stat.readline().split()[1:9]]


def _cpu_share(before: list[int], after: list[int]) -> str:
    """How the machine's CPU was spent between two readings. Steal is the time the
    hypervisor gave this machine's cores to others: on a shared VM it varies from run to
    run, and a step with much of it holds fewer inspectors."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    user, system, idle, steal = (100 * spent[i] / total for i in (0, 2, 3, 7))
    return f"CPU user {user:.0f}%, system {system:.0f}%, idle {idle:.0f}%, steal {steal:.0f}%"


async def _step(ports: list[int], count: int, act, seconds: float) -> dict:
    """``count`` inspectors for ``seconds``; each runs ``act`` on its own schedule."""
    samples: dict[str, list[float]] = {}
    errors: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def inspector(n: int):
        rng = random.Random(n)
        port = ports[n % len(ports)]
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=connector) as s:
            due = {kind: started + rng.uniform(0, every) for kind, every in EVERY.items()}
            while True:
                kind = min(due, key=due.get)
                if due[kind] >= deadline:
                    return
                await asyncio.sleep(max(0.0, due[kind] - time.perf_counter()))
                due[kind] += EVERY[kind]
                at = time.perf_counter()
                try:
                    ok = await act(s, n, kind)
                except (TimeoutError, aiohttp.ClientError) as exc:
                    ok = f"{kind}: {type(exc).__name__}"
                if ok is None:
                    continue  # nothing to do (no visit left to issue)
                samples.setdefault(kind, []).append(time.perf_counter() - at)
                if ok is not True:
                    errors.append(str(ok))

    cpu, client = _cpu_times(), time.process_time()
    await asyncio.gather(*(inspector(n) for n in range(count)))
    elapsed = time.perf_counter() - started
    client_share = 100 * (time.process_time() - client) / elapsed
    return {
        "samples": samples,
        "errors": errors,
        "elapsed": elapsed,
        "cpu": f"{_cpu_share(cpu, _cpu_times())} (the load client {client_share:.0f}% of a core)",
    }


async def _costs(server: Gunicorn, act) -> dict[str, float]:
    """The server's CPU time per request of each kind (ms), one request at a time: what
    each inspector asks of the machine, whatever the waits under load."""
    costs = {}
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{server.port}", connector=connector) as s:
        for kind, (warm, count) in COSTS.items():
            for n in range(warm):
                await act(s, n, kind)
            before, done = server.cpu_seconds(), 0
            for n in range(count):
                done += await act(s, n % 20, kind) is True
            if done:
                costs[kind] = (server.cpu_seconds() - before) / done * 1000
    return costs


def _cost_rows(costs: dict[str, float]) -> list[dict]:
    """Each request's CPU, and what the model asks per inspector of the machine's cores."""
    rows = [row(f"capacity: server CPU per {kind} (ms)", ms) for kind, ms in costs.items()]
    if len(costs) < len(EVERY):
        return rows  # a kind failed: no demand to add up
    per_inspector = sum(ms / EVERY[kind] for kind, ms in costs.items())  # ms per second
    cores = os.cpu_count() or 1
    rows += [
        row("capacity: server CPU per inspector (ms per second of the model)", per_inspector),
        row(f"capacity: inspectors {cores} cores serve at most (server CPU alone)",
            cores * 1000 / per_inspector),
    ]  # fmt: skip
    for kind, ms in costs.items():
        share = ms / EVERY[kind] / per_inspector * 100
        print(f"capacity: {kind}: {ms:.1f} ms of CPU every {EVERY[kind]:.0f} s, {share:.0f}%"
              " of an inspector's demand")  # fmt: skip
    return rows


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] * 1000 if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[94] * 1000


def _inspector_actions(prepared: dict):
    drafts, ready = prepared["drafts"], prepared["ready"]  # issued ones leave the pool
    versions = prepared["versions"]  # shared with the next layout on the same database
    headers = {"Authorization": f"Bearer {prepared['secret']}"}
    photo = _photo()

    async def act(session, n: int, kind: str):
        visit_id, people, _ = drafts[n]
        if kind == "page":
            cookie = {"Cookie": f"session={prepared['cookie']}"}
            async with session.get(f"/inspector/visits/{visit_id}", headers=cookie) as r:
                await r.read()
                return True if r.status == 200 else f"page {r.status}"
        if kind == "photo":
            form = aiohttp.FormData()
            form.add_field("file", photo, filename="anh.jpg", content_type="image/jpeg")
            form.add_field("client_id", f"cap-{n}-{time.perf_counter_ns()}")
            path = f"/api/v1/inspections/{visit_id}/photos"
            async with session.post(path, data=form, headers=headers) as r:
                data = await r.read()
                if r.status in (200, 201):
                    versions[visit_id] = json.loads(data)["version"]
                return True if r.status in (200, 201) else f"photo {r.status}"
        if kind == "finalize":
            if not ready:
                return None
            path = f"/api/v1/inspections/{ready.pop()}/finalize"
            async with session.post(path, json={}, headers=headers) as r:
                await r.read()
                return True if r.status == 201 else f"finalize {r.status}"
        person = people[random.randrange(len(people))]
        body = {
            "version": versions[visit_id],
            "people": [{"person_id": person, "attendance": "present", "note": f"{time.time()}"}],
        }
        async with session.put(
            f"/api/v1/inspections/{visit_id}/results", json=body, headers=headers
        ) as r:
            data = await r.read()
            if r.status == 200:
                versions[visit_id] = json.loads(data)["version"]
            return True if r.status == 200 else f"save {r.status}"

    return act


async def _minimal_act(session, n: int, kind: str):
    async with session.get("/") as r:
        await r.read()
        return True if r.status == 200 else f"{kind} {r.status}"


def _ramp(name: str, ports: list[int], act, steps) -> tuple[int, list[str]]:
    """Step up until save p95 passes the budget; return the largest count held."""
    # Unmeasured warm-up: every worker imports, connects and compiles its templates.
    asyncio.run(_step(ports, 20, act, WARM_UP_SECONDS))
    held, lines = 0, []
    for count in steps:
        result = asyncio.run(_step(ports, count, act, STEP_SECONDS))
        saves = result["samples"].get("save", [])
        p95 = _p95(saves)
        rate = len(saves) / result["elapsed"]
        lines.append(
            f"capacity {name}: {count} inspectors: {rate:.0f} saves/s, save p95 {p95:.0f} ms,"
            f" page p95 {_p95(result['samples'].get('page', [])):.0f} ms,"
            f" photo p95 {_p95(result['samples'].get('photo', [])):.0f} ms,"
            f" {len(result['samples'].get('finalize', []))} minutes issued,"
            f" {result['cpu']}, {len(result['errors'])} errors"
            + (f" ({result['errors'][0]})" if result["errors"] else "")
        )
        print(lines[-1], flush=True)
        if p95 > P95_BUDGET_MS or result["errors"]:
            break
        held = count
    return held, lines


def _app_layout(name, url: str, folder: Path, instances: int, redis: RedisServer | None):
    cert = folder / "capacity.p12"
    if not cert.exists():
        signing.make_certificate(cert, b"bench", "Bench", "ĐOÀN KIỂM TRA CÔNG VỤ")
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "MAIL_DIR": str(folder / "mail"),
        "SIGNING_P12_PATH": str(cert),
        "SIGNING_P12_PASSPHRASE": "bench",
        "PUBLIC_BASE_URL": "https://kiemtra.example.gov.vn",
    }
    if redis is not None:
        env.update(RATELIMIT_STORAGE_URI=f"{redis.url}/0", QUEUE_URL=f"{redis.url}/1")
    else:
        env.update(QUEUE_URL=str(folder / f"queue-{name}.sqlite"))
    return [Gunicorn("app:create_app()", env) for _ in range(instances)]


def _wanted(layout: str) -> bool:
    return not LAYOUTS or any(word in layout for word in LAYOUTS)


def run(folder: Path) -> list[dict]:
    rows, largest = [], max(STEPS)
    config = {"SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}
    layouts = []
    if _wanted("sqlite"):
        layouts.append(("SQLite, 1 instance", demo_app(folder / "capacity.sqlite"), 1))
    pg_url = _postgres_url() if _wanted("postgresql") else None
    if pg_url:
        pg_app = create_app({**config, "SQLALCHEMY_DATABASE_URI": pg_url})
        with pg_app.app_context():
            upgrade()
            demo.seed()
            db.session.commit()
        layouts.append(("PostgreSQL, 1 instance", pg_app, 1))
        layouts.append(("PostgreSQL, 2 instances", pg_app, 2))
    redis = RedisServer(folder) if shutil.which("redis-server") else None

    base = None
    if _wanted("minimal"):
        minimal = Gunicorn("bench.minimal_app:app", {})
        asyncio.run(minimal.wait_ready("/"))
        try:
            base, _ = _ramp("minimal app", [minimal.port], _minimal_act, MINIMAL_STEPS)
        finally:
            minimal.stop()
        rows.append(row("capacity: minimal app, clients held (same model)", base, None, "-", True))

    held_by = {}
    prepared_for = {}
    try:
        for name, app, instances in layouts:
            url = app.config["SQLALCHEMY_DATABASE_URI"]
            if url not in prepared_for:  # the two PostgreSQL layouts share one database
                prepared_for[url] = _prepare(app, largest)
            prepared = prepared_for[url]
            servers = _app_layout(
                name.split(",")[0], url, folder, instances, redis if instances > 1 else None
            )
            try:
                for server in servers:
                    asyncio.run(server.wait_ready("/healthz"))
                act = _inspector_actions(prepared)
                if name.startswith("SQLite"):
                    rows += _cost_rows(asyncio.run(_costs(servers[0], act)))
                held, _ = _ramp(name, [s.port for s in servers], act, STEPS)
                for line in (line for server in servers for line in server.errors()):
                    print(f"capacity {name}: server log: {line}")
            finally:
                for server in servers:
                    server.stop()
            held_by[name] = held
            budget = ">=300" if name.startswith("SQLite") else "-"
            ok = held >= 300 if name.startswith("SQLite") else True
            rows.append(row(f"capacity: {name}, inspectors held", held, base, budget, ok))
    finally:
        if redis is not None:
            redis.stop()
    one, two = held_by.get("PostgreSQL, 1 instance"), held_by.get("PostgreSQL, 2 instances")
    if one and two:
        rows.append(
            row("capacity: PostgreSQL, 2 instances / 1 instance", two / one, None, ">=1.6",
                two / one >= 1.6)
        )  # fmt: skip
    return rows
