"""The dashboard and exports on a province's five years: about two million result rows.

500 units with 25 people each; visits spread over five years; each visit answers the 10
unit items of the default checklist and, for 25 people, attendance plus 4 person items.
Rows go in with executemany, straight into SQLite, so the generator itself stays quick.
"""

import asyncio
import gc
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench import demo_app, row
from inspection.extensions import db
from inspection.services import checklist, demo, exports, stats

UNITS, PEOPLE, YEARS = 500, 25, 5
TARGET_ROWS = 2_000_000
OUTCOMES = ("pass",) * 17 + ("fail", "na")
ATTENDANCE = ("present",) * 16 + ("late", "absent_excused", "absent_unexcused", "on_duty")


def _fill(app, target_rows: int, part: int = 0) -> dict:
    """Add about ``target_rows`` answers; ``part`` numbers successive fills (ids, seed)."""
    rng = random.Random(2018 + part)
    with app.app_context():
        version = checklist.current_version()
        unit_items = [i.id for i in version.items if i.scope.value == "unit"]
        person_items = [i.id for i in version.items if i.scope.value == "person"]
        per_visit = len(unit_items) + PEOPLE * len(person_items)
        visits_per_unit = max(1, round(target_rows / per_visit / UNITS))
        lead = db.session.execute(text("SELECT id FROM user WHERE username='truongdoan'")).scalar()
        db.session.remove()  # release the session's write lock before the bulk load
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        cur.execute("BEGIN")
        if part == 0:
            cur.executemany(
                "INSERT INTO unit (id, code, name, kind, address, active, created_at) "
                "VALUES (?, ?, ?, 'commune', '', 1, '2020-01-01')",
                [(100000 + u, f"S{u}", f"Ủy ban nhân dân xã Thử {u}") for u in range(UNITS)],
            )
            cur.executemany(
                "INSERT INTO staff_member (id, unit_id, full_name, position, category, active, "
                "created_at) VALUES (?, ?, ?, 'Công chức', 'cong_chuc', 1, '2020-01-01')",
                [
                    (1_000_000 + u * PEOPLE + p, 100000 + u, f"Người {u}-{p}")
                    for u in range(UNITS)
                    for p in range(PEOPLE)
                ],
            )
        start = datetime(2021, 1, 1, 1, tzinfo=UTC)
        first_visit = visit_id = 1_000_000 * (part + 1)
        person_id, rows = 100_000_000 * (part + 1), 0
        for u in range(UNITS):
            visits, unit_rows, people, person_rows = [], [], [], []
            for _ in range(visits_per_unit):  # spread over the five years
                visit_id += 1
                at = start + timedelta(days=rng.randrange(YEARS * 365), hours=rng.randrange(9))
                stamp = at.strftime("%Y-%m-%d %H:%M:%S")
                visits.append(
                    (visit_id, 100000 + u, stamp, stamp, version.id, lead, f"s{visit_id}")
                )
                unit_rows += [(visit_id, i, rng.choice(OUTCOMES)) for i in unit_items]
                for p in range(PEOPLE):
                    person_id += 1
                    people.append(
                        (person_id, visit_id, 1_000_000 + u * PEOPLE + p, rng.choice(ATTENDANCE))
                    )
                    person_rows += [(person_id, i, rng.choice(OUTCOMES)) for i in person_items]
            cur.executemany(
                "INSERT INTO inspection (id, unit_id, kind, status, started_at, finished_at, "
                "checklist_version_id, created_by_id, client_id, version, findings, assessment, "
                "requests, unit_comments, created_at, updated_at) VALUES "
                "(?, ?, 'scheduled', 'finalized', ?, ?, ?, ?, ?, 1, '', '', '', '', "
                "'2021-01-01', '2021-01-01')",
                visits,
            )
            cur.executemany(
                "INSERT INTO unit_item_result (inspection_id, item_id, outcome, note, updated_at) "
                "VALUES (?, ?, ?, '', '2021-01-01')",
                unit_rows,
            )
            cur.executemany(
                "INSERT INTO person_result (id, inspection_id, staff_id, full_name, position, "
                "attendance, note, updated_at) VALUES (?, ?, ?, 'x', '', ?, '', '2021-01-01')",
                people,
            )
            cur.executemany(
                "INSERT INTO person_item_result (person_result_id, item_id, outcome, note) "
                "VALUES (?, ?, ?, '')",
                person_rows,
            )
            rows += len(unit_rows) + len(person_rows)
        cur.execute("COMMIT")
        raw.close()
        stats.rebuild()  # the figures that issuing each visit's minutes would have written
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        return {"visits": visit_id - first_visit, "result_rows": rows}


def _time(fn, runs=5) -> float:
    """Median of ``runs`` timings after one warm-up, with the garbage collector settled."""
    fn()
    gc.collect()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _export_peak(app, filters) -> tuple[float, int, float]:
    """Stream a CSV export; return its time (ms), its rows and the peak Python memory (MB)."""
    with app.app_context():
        tracemalloc.start()
        start = time.perf_counter()
        lines = exports.csv_lines("person_results", filters)
        count = sum(chunk.count("\r\n") for chunk in lines)  # chunks of whole lines
        elapsed = (time.perf_counter() - start) * 1000
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return elapsed, count - 1, peak


def _worker_peak_mb(master_pid: int) -> float:
    """The largest peak resident size (VmHWM) among gunicorn's workers, in MB."""
    peak = 0
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def _export_through_gunicorn(database: Path, cookie: str) -> list[dict]:
    """Download the person-results CSV of one month and one year through gunicorn (the
    README's configuration, one worker so its peak memory is the export's)."""
    import requests

    from bench.server import Gunicorn

    server = Gunicorn(
        "app:create_app()",
        {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench", "WEB_CONCURRENCY": "1"},
    )
    measured = {}
    try:
        asyncio.run(server.wait_ready("/healthz"))
        base = f"http://127.0.0.1:{server.port}/office/export/person_results.csv"
        for label, query in (
            ("1 month", "date_from=2023-01-01&date_to=2023-01-31"),
            ("1 year", "date_from=2023-01-01&date_to=2023-12-31"),
        ):
            started = time.perf_counter()
            size = lines = 0
            with requests.get(
                f"{base}?{query}", cookies={"session": cookie}, stream=True, timeout=600
            ) as response:
                response.raise_for_status()
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            measured[label] = (
                time.perf_counter() - started,
                lines - 1,
                size,
                _worker_peak_mb(server.process.pid),
            )
    finally:
        server.stop()
    (m_s, m_rows, _m_size, m_peak), (y_s, y_rows, y_size, y_peak) = measured.values()
    return [
        row(f"CSV through gunicorn, 1 month: {m_rows:,} rows (s)", m_s),
        row(f"CSV through gunicorn, 1 year: {y_rows:,} rows, {y_size / 2**20:.0f} MB (s)",
             y_s, None, "<=10", y_s <= 10),
        row("CSV through gunicorn, worker peak RSS after 1 year (MB; baseline after 1 month)",
             y_peak, m_peak, "flat (<1.2x)", y_peak < 1.2 * m_peak),
    ]  # fmt: skip


PAGES = {
    "dashboard, all 5 years": "/office/dashboard",
    "dashboard, one year": "/office/dashboard?date_from=2023-01-01&date_to=2023-12-31",
    "dashboard, one unit": "/office/dashboard?unit=100007",
}


def run(folder: Path) -> list[dict]:
    app = demo_app(folder / "scale.sqlite")
    client = app.test_client()
    client.post("/login", data={"username": "noivu", "password": demo.DEMO_PASSWORD})

    # Growth: fill to 0.5M, 1M and 2M answers, timing the dashboard at each size.
    rows, total_rows, total_visits, fill_s, previous = [], 0, 0, 0.0, None
    for part, add in enumerate((TARGET_ROWS // 4, TARGET_ROWS // 4, TARGET_ROWS // 2)):
        started = time.perf_counter()
        size = _fill(app, add, part)
        fill_s += time.perf_counter() - started
        total_rows += size["result_rows"]
        total_visits += size["visits"]
        timings = {}
        for name, url in PAGES.items():
            assert client.get(url).status_code == 200
            timings[name] = _time(lambda url=url: client.get(url))
        label = f"{total_rows / 1e6:.1f}M rows"
        ms = timings["dashboard, all 5 years"]
        if previous is None:
            rows.append(row(f"growth: dashboard all years, {label} (ms)", ms))
            previous = (total_rows, ms)
        else:
            # At worst linear in the data: time ratio <= rows ratio (+10% for noise),
            # against the smallest size (a wider window than step by step: less noise).
            base_rows, base_ms = previous
            limit = total_rows / base_rows * 1.1
            rows.append(
                row(f"growth: dashboard all years, {label} (ms; baseline {base_rows / 1e6:.1f}M)",
                     ms, base_ms, f"ratio<={limit:.1f}", ms / base_ms <= limit)
            )  # fmt: skip
    rows.insert(
        0,
        row(f"scale: {total_rows:,} result rows, {total_visits:,} visits (fill s)", fill_s),
    )
    for name, ms in timings.items():
        rows.append(row(f"{name} (ms, median of 5)", ms, budget="<500", ok=ms < 500))
    month = stats.Filters(
        date_from=datetime(2023, 1, 1).date(), date_to=datetime(2023, 1, 31).date()
    )
    year = stats.Filters(
        date_from=datetime(2023, 1, 1).date(), date_to=datetime(2023, 12, 31).date()
    )
    rows += _export_through_gunicorn(folder / "scale.sqlite", client.get_cookie("session").value)
    small_ms, small_rows, small_peak = _export_peak(app, month)
    large_ms, large_rows, large_peak = _export_peak(app, year)
    rows += [
        row(f"CSV export, 1 month: {small_rows:,} rows (ms)", small_ms),
        row(f"CSV export, 1 year: {large_rows:,} rows (ms)", large_ms),
        row("CSV export peak memory, 1 month (MB)", small_peak),
        row("CSV export peak memory, 1 year (MB; baseline 1 month)", large_peak, small_peak,
             "flat (<2x)", large_peak < 2 * small_peak + 1),
    ]  # fmt: skip
    return rows
