"""Queries per request stay flat as a visit grows (no N+1): counted, not timed."""

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from inspection.extensions import db
from inspection.models import PersonResult
from tests.visit_helpers import bearer, record, start


@pytest.fixture
def queries():
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(Engine, "before_cursor_execute", count)
    yield counter
    event.remove(Engine, "before_cursor_execute", count)


def test_a_save_and_the_checklist_page_cost_the_same_queries_for_8_or_40_people(
    client, app, token, auth, queries
):
    lead = token("truongdoan")
    auth.login()
    cost = {}
    for code in ("PNV", "TTHC"):  # the demo's smallest (8) and largest (40) units
        visit = start(client, lead, app, code=code)
        full = record(client, lead, visit["id"])
        with app.app_context():
            people = db.session.scalar(
                select(db.func.count(PersonResult.id)).filter_by(inspection_id=visit["id"])
            )
        body = {
            "version": full["version"],
            "people": [{"person_id": full["people"][0]["person_id"], "attendance": "late"}],
        }
        queries["n"] = 0
        saved = client.put(
            f"/api/v1/inspections/{visit['id']}/results", json=body, headers=bearer(lead)
        )
        assert saved.status_code == 200
        save_queries = queries["n"]
        queries["n"] = 0
        assert client.get(f"/inspector/visits/{visit['id']}").status_code == 200
        cost[people] = (save_queries, queries["n"])
    (small, small_cost), (large, large_cost) = sorted(cost.items())
    assert (small, large) == (8, 40)
    assert small_cost == large_cost, cost
    assert large_cost[0] <= 15 and large_cost[1] <= 15, cost
