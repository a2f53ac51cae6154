"""What a phone downloads and what Lighthouse thinks, for the inspector's three pages.

The app runs under gunicorn (gunicorn.conf.py) on a demo database with a 40-person
draft visit. Page weight: a fresh Chromium context per page (empty cache, logged-in
cookie), 360x740; bytes are what crossed the wire (compressed bodies plus headers).
Lighthouse 12 (npm, bench/lighthouse) runs against Debian's Chromium, mobile preset.
Growth: server time of the checklist page for visits of 10, 40 and 160 people.
Server cost (in-process, median): the 40-person checklist page, and a save of one
person's answers on that visit through the API with a token.
"""

import asyncio
import json
import os
import statistics
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from bench import demo_app, row
from bench.server import ROOT, Gunicorn
from inspection.extensions import db
from inspection.models import Outcome, StaffMember, Unit, UnitKind, User
from inspection.services import accounts, demo, results, visits
from inspection.services.audit import Actor
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # the flags TOOLING.md gives

LIGHTHOUSE = ROOT / "bench" / "lighthouse"
GROWTH_SIZES = (10, 40, 160)
LIGHTHOUSE_RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", 3))


def _prepare(folder: Path):
    app = demo_app(folder / "pages.sqlite")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        lead = db.session.scalar(select(User).filter_by(username="truongdoan"))
        growth = {}
        for size in GROWTH_SIZES:
            unit = Unit(code=f"G{size}", name=f"Đơn vị {size} người", kind=UnitKind.COMMUNE)
            unit.staff = [
                StaffMember(
                    full_name=f"Nguyễn Văn Thử {n}", position="Công chức", category="cong_chuc"
                )
                for n in range(size)
            ]
            db.session.add(unit)
            db.session.flush()
            visit, _ = visits.start_inspection(
                Actor(lead.id), lead, unit_id=unit.id, kind="surprise", client_id=f"g{size}"
            )
            db.session.flush()
            growth[size] = visit.id
        visit_id = growth[40]
        visit = visits.get_editable(lead, visit_id)
        # Half the people answered, as in the middle of a visit.
        results.save_results(
            Actor(lead.id),
            visit,
            {
                "version": visit.version,
                "people": [{"person_id": p.id, "attendance": "present"} for p in visit.people[:20]],
                "unit_items": [
                    {"code": i.code, "outcome": Outcome.PASS.value}
                    for i in results.asked_items(visit)
                    if i.scope.value == "unit" and i.answer_type.value == "outcome"
                ][:5],
            },
        )
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "truongdoan", "password": demo.DEMO_PASSWORD})
    cookie = client.get_cookie("session").value
    return app, url, cookie, visit_id, growth, client


def _page_weight(port: int, cookie: str, paths: dict) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, path in paths.items():
            context = browser.new_context(
                viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
            )
            context.add_cookies(
                [{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}]
            )
            page = context.new_page()
            finished = []
            page.on("requestfinished", lambda request, seen=finished: seen.append(request))
            page.goto(f"http://127.0.0.1:{port}{path}", wait_until="networkidle")
            total = foreign = 0
            for request in finished:
                sizes = request.sizes()
                total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                if urlsplit(request.url).hostname not in ("127.0.0.1", None):
                    foreign += 1
            context.close()
            rows += [
                row(f"page weight: {name} (KB on the wire, first visit)", total / 1024,
                     budget="<=60", ok=total <= 60 * 1024),
                row(f"page weight: {name} (requests)", len(finished), budget="<=6",
                     ok=len(finished) <= 6),
                row(f"page weight: {name} (requests to other hosts)", foreign, budget="0",
                     ok=foreign == 0),
            ]  # fmt: skip
        browser.close()
    return rows


def _offline_shell(port: int, cookie: str) -> list[dict]:
    """What the service worker downloads and keeps for offline work, on a first visit home.

    Shell: the worker and the static files it keeps (the same for every inspector).
    Pages: the inspector's home, start page, visits and the blank checklist of every unit
    the phone keeps for offline starts (the 12 demo units and the 3 growth units here).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
        )
        context.add_cookies(
            [{"name": "session", "value": cookie, "domain": "127.0.0.1", "path": "/"}]
        )
        finished = []
        context.on("requestfinished", lambda request: finished.append(request))
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/inspector/", wait_until="networkidle")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        kept = json.loads(page.locator("#offline-pages").text_content())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            count = page.evaluate("caches.open('pages').then(c => c.keys()).then(k => k.length)")
            if count >= len(kept):
                break
            time.sleep(0.5)
        shell = page.evaluate("caches.open('static').then(c => c.keys()).then(k => k.length)")
        by_worker = [r for r in finished if r.service_worker or urlsplit(r.url).path == "/sw.js"]
        shell_bytes = pages_bytes = 0
        for request in by_worker:
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            if urlsplit(request.url).path.startswith("/inspector/"):
                pages_bytes += size
            else:
                shell_bytes += size
        context.close()
        browser.close()
    return [
        row("offline: app shell kept by the worker (KB on the wire)", shell_bytes / 1024,
             budget="<=60", ok=shell_bytes <= 60 * 1024),
        row("offline: app shell files", shell, budget="-", ok=True),
        row(f"offline: pages kept for the bench's inspector ({count}, KB)", pages_bytes / 1024,
             budget="<=600", ok=pages_bytes <= 600 * 1024),
    ]  # fmt: skip


def _lighthouse_ready() -> bool:
    if (LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse").exists():
        return True
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=LIGHTHOUSE, capture_output=True, text=True
    )
    return result.returncode == 0


def _lighthouse(port: int, cookie: str, paths: dict, folder: Path) -> list[dict]:
    """Each page LIGHTHOUSE_RUNS times (default 3), each score the median of its runs (as
    Lighthouse advises: one run's performance moved by 15 points here from the VM's steal)."""
    if not _lighthouse_ready():
        return [row("lighthouse: npm ci failed (no registry?)", 0, budget=">=95", ok=False)]
    rows = []
    for name, path in paths.items():
        stem = f"lighthouse-{name.replace(' ', '-')}"
        runs = [_lighthouse_run(port, cookie, path, folder / f"{stem}-{n}.json")
                for n in range(LIGHTHOUSE_RUNS)]  # fmt: skip
        runs = [r for r in runs if r is not None]
        if not runs:
            rows.append(row(f"lighthouse: {name} did not run", 0, budget=">=95", ok=False))
            continue
        for key in ("performance", "accessibility", "best-practices"):
            score = statistics.median((r["categories"][key]["score"] or 0) * 100 for r in runs)
            rows.append(row(f"lighthouse: {name}, {key}", score, budget=">=95", ok=score >= 95))
        blocking = statistics.median(
            r["audits"]["total-blocking-time"]["numericValue"] for r in runs
        )
        rows.append(row(f"lighthouse: {name}, total blocking time (ms)", blocking, budget="-",
                        ok=True))  # fmt: skip
    return rows


def _lighthouse_run(port: int, cookie: str, path: str, report: Path) -> dict | None:
    subprocess.run(
        [
            str(LIGHTHOUSE / "node_modules" / ".bin" / "lighthouse"),
            f"http://127.0.0.1:{port}{path}",
            "--chrome-flags=" + " ".join(CHROMIUM_ARGS),
            "--only-categories=performance,accessibility,best-practices",
            "--form-factor=mobile",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            "--extra-headers",
            json.dumps({"Cookie": f"session={cookie}"}),
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        timeout=180,
        check=False,
    )
    try:
        return json.loads(report.read_text())
    except (OSError, ValueError):
        return None


def _growth(client, growth: dict) -> list[dict]:
    times = {}
    for size, visit_id in growth.items():
        url = f"/inspector/visits/{visit_id}"
        assert client.get(url).status_code == 200
        samples = []
        for _ in range(7):
            started = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - started)
        times[size] = statistics.median(samples) * 1000
    smallest = GROWTH_SIZES[0]
    rows = [row(f"growth: checklist page, {smallest} people (ms)", times[smallest])]
    for size in GROWTH_SIZES[1:]:
        # At worst linear in people: time ratio <= size ratio (+10% for noise).
        limit = size / smallest * 1.1
        rows.append(
            row(
                f"growth: checklist page, {size} people (ms; baseline {smallest} people)",
                times[size],
                times[smallest],
                f"ratio<={limit:.1f}",
                times[size] / times[smallest] <= limit,
            )
        )
    return rows


def _server_cost(app, client, visit_id: int) -> list[dict]:
    with app.app_context():
        lead = db.session.scalar(select(User).filter_by(username="truongdoan"))
        secret, _ = accounts.issue_token(Actor(lead.id), lead, timedelta(hours=1), "bench")
        visit = visits.get_editable(lead, visit_id)
        people, version = [p.id for p in visit.people], visit.version
        db.session.commit()
    pages = []
    for _ in range(30):
        started = time.perf_counter()
        assert client.get(f"/inspector/visits/{visit_id}").status_code == 200
        pages.append(time.perf_counter() - started)
    saves, floor, phone = [], [], app.test_client()  # an API client: a token, no cookie
    token = {"Authorization": f"Bearer {secret}"}
    for n in range(230):
        body = {
            "version": version,
            "people": [{"person_id": people[n % len(people)], "attendance": "present",
                        "note": f"ghi chú {n}"}],
        }  # fmt: skip
        started = time.perf_counter()
        response = phone.put(f"/api/v1/inspections/{visit_id}/results", json=body, headers=token)
        saves.append(time.perf_counter() - started)
        version = response.json["version"]
        # Interleaved: the least any API request costs (the token's user, Flask), timed
        # alongside, so that the save can be read against the machine of the moment.
        started = time.perf_counter()
        assert phone.get("/api/v1/me", headers=token).status_code == 200
        floor.append(time.perf_counter() - started)
    page_ms = statistics.median(pages) * 1000
    save_ms = statistics.median(saves[30:]) * 1000  # after the first: caches filled
    floor_ms = statistics.median(floor[30:]) * 1000
    return [
        row("server: checklist page, 40 people (ms, median of 30)", page_ms, None, "<=40",
            page_ms <= 40),
        row("server: GET /api/v1/me with a token (ms, median of 200, between the saves)",
            floor_ms),
        row("server: save one person on a 40-person visit (ms, median of 200; baseline /me)",
            save_ms, floor_ms, "<=5", save_ms <= 5),
    ]  # fmt: skip


def run(folder: Path) -> list[dict]:
    app, url, cookie, visit_id, growth, client = _prepare(folder)
    rows = _growth(client, growth)
    rows += _server_cost(app, client, visit_id)
    with app.app_context():
        db.engine.dispose()
    server = Gunicorn("app:create_app()", {"DATABASE_URL": url, "SECRET_KEY": "bench"})
    try:
        asyncio.run(server.wait_ready("/healthz"))
        paths = {
            "inspector home": "/inspector/",
            "checklist 40 people": f"/inspector/visits/{visit_id}",
            "summary": f"/inspector/visits/{visit_id}/summary",
        }
        rows += _page_weight(server.port, cookie, paths)
        rows += _offline_shell(server.port, cookie)
        rows += _lighthouse(server.port, cookie, paths, folder)
    finally:
        server.stop()
    return rows
