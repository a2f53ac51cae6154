"""The dashboard and exports on a province's five years: about two million result rows.

500 units with 25 people each; visits spread over five years; each visit answers the 10
unit items of the default checklist and, for 25 people, attendance plus 4 person items.
Rows go in with executemany, straight into SQLite, so the generator itself stays quick.
"""

import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from inspection.extensions import db
from inspection.services import checklist, demo, exports, stats

UNITS, PEOPLE, YEARS = 500, 25, 5
TARGET_ROWS = 2_000_000
OUTCOMES = ("pass",) * 17 + ("fail", "na")
ATTENDANCE = ("present",) * 16 + ("late", "absent_excused", "absent_unexcused", "on_duty")


def _fill(app, target_rows: int) -> dict:
    rng = random.Random(2018)
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
        visit_id, person_id, rows = 1_000_000, 10_000_000, 0
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
        return {"visits": visit_id - 1_000_000, "result_rows": rows}


def _time(fn, runs=3) -> float:
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
        count = sum(1 for _ in exports.csv_lines("person_results", filters))
        elapsed = (time.perf_counter() - start) * 1000
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return elapsed, count - 1, peak


def run(folder: Path) -> list[dict]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'scale.sqlite'}",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
    started = time.perf_counter()
    size = _fill(app, TARGET_ROWS)
    fill_s = time.perf_counter() - started

    client = app.test_client()
    client.post("/login", data={"username": "noivu", "password": demo.DEMO_PASSWORD})
    pages = {
        "dashboard, all 5 years": "/office/dashboard",
        "dashboard, one year": "/office/dashboard?date_from=2023-01-01&date_to=2023-12-31",
        "dashboard, one unit": "/office/dashboard?unit=100007",
    }
    rows = [
        {
            "figure": f"scale: {size['result_rows']:,} result rows, {size['visits']:,} visits "
            f"(fill s)",
            "value": fill_s,
            "baseline": None,
            "ratio": None,
            "budget": "-",
            "pass": True,
        }
    ]
    for name, url in pages.items():
        assert client.get(url).status_code == 200
        ms = _time(lambda url=url: client.get(url))
        rows.append(
            {
                "figure": f"{name} (ms, median of 3)",
                "value": ms,
                "baseline": None,
                "ratio": None,
                "budget": "<500",
                "pass": ms < 500,
            }
        )
    month = stats.Filters(
        date_from=datetime(2023, 1, 1).date(), date_to=datetime(2023, 1, 31).date()
    )
    year = stats.Filters(
        date_from=datetime(2023, 1, 1).date(), date_to=datetime(2023, 12, 31).date()
    )
    small_ms, small_rows, small_peak = _export_peak(app, month)
    large_ms, large_rows, large_peak = _export_peak(app, year)
    rows += [
        {
            "figure": f"CSV export, 1 month: {small_rows:,} rows (ms)",
            "value": small_ms,
            "baseline": None,
            "ratio": None,
            "budget": "-",
            "pass": True,
        },
        {
            "figure": f"CSV export, 1 year: {large_rows:,} rows (ms)",
            "value": large_ms,
            "baseline": None,
            "ratio": None,
            "budget": "-",
            "pass": True,
        },
        {
            "figure": "CSV export peak memory, 1 year (MB)",
            "value": large_peak,
            "baseline": small_peak,
            "ratio": large_peak / small_peak if small_peak else None,
            "budget": "flat (<2x)",
            "pass": large_peak < 2 * small_peak + 1,
        },
    ]
    return rows
