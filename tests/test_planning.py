"""The annual plan, scheduled and surprise visits, secrecy of plans, the weighted draw."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import local_today
from inspection.models import AuditEvent, Inspection, InspectionStatus, Unit, VisitPlan
from inspection.services import planning
from inspection.services.audit import Actor
from tests import factories
from tests.visit_helpers import bearer, unit_id


def _login(app, username):
    client = app.test_client()
    assert (
        client.post("/login", data={"username": username, "password": "kiemtra2018"}).status_code
        == 302
    )
    return client


@pytest.fixture
def surprise(app):
    """A surprise visit of donvi1's unit, planned for today with thanhvien as lead."""
    office = _login(app, "noivu")
    with app.app_context():
        lead = factories.demo_user("thanhvien").id
    response = office.post(
        "/office/plan/visits/new",
        data={
            "unit_id": str(unit_id(app)),
            "kind": "surprise",
            "planned_date": local_today().isoformat(),
            "lead": str(lead),
            "secretary": "0",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        visit = db.session.scalar(select(Inspection))
        assert visit.status is InspectionStatus.PLANNED
        return visit.id


def test_a_surprise_plan_is_seen_only_by_the_office_and_its_team(app, surprise, token):
    team_member = _login(app, "thanhvien")
    assert "Trung tâm Hành chính công huyện" in team_member.get("/inspector/").get_data(
        as_text=True
    )
    outsider = _login(app, "truongdoan")
    assert "Trung tâm Hành chính công huyện" not in outsider.get("/inspector/").get_data(
        as_text=True
    )
    unit = _login(app, "donvi1")
    assert "Trung tâm Hành chính công huyện" in unit.get("/unit/").get_data(
        as_text=True
    )  # its name
    assert "đột xuất" not in unit.get("/unit/").get_data(as_text=True).lower()
    client = app.test_client()
    for username in ("truongdoan", "donvi1", "donvi2"):
        headers = bearer(token(username))
        assert client.get(f"/api/v1/inspections/{surprise}", headers=headers).status_code == 404
        listed = client.get("/api/v1/inspections", headers=headers).json["items"]
        assert surprise not in [i["id"] for i in listed], username
    assert (
        client.get(
            f"/api/v1/inspections/{surprise}", headers=bearer(token("thanhvien"))
        ).status_code
        == 200
    )
    office = _login(app, "noivu")
    assert "Trung tâm Hành chính công huyện" in office.get("/office/plan").get_data(as_text=True)
    assert (
        str(surprise)
        not in office.get("/office/export/visits.csv").get_data(as_text=True).split(",")[:1]
    )


def test_the_team_starts_the_planned_visit(app, surprise):
    team_member = _login(app, "thanhvien")
    response = team_member.post(f"/inspector/visits/{surprise}/begin")
    assert response.status_code == 302
    with app.app_context():
        visit = db.session.get(Inspection, surprise)
        assert visit.status is InspectionStatus.DRAFT and visit.started_at
        assert len(visit.people) == 30
    outsider = _login(app, "truongdoan")
    assert outsider.post(f"/inspector/visits/{surprise}/begin").status_code == 404


def test_scheduling_refuses_past_dates_and_bad_teams(app):
    office = _login(app, "noivu")
    with app.app_context():
        lead = factories.demo_user("thanhvien").id
        noivu = factories.demo_user("noivu").id
    past = office.post(
        "/office/plan/visits/new",
        data={
            "unit_id": str(unit_id(app)),
            "kind": "scheduled",
            "planned_date": (local_today() - timedelta(days=1)).isoformat(),
            "lead": str(lead),
        },
    )
    assert "Chọn ngày hôm nay hoặc sau" in past.get_data(as_text=True)
    not_inspector = office.post(
        "/office/plan/visits/new",
        data={
            "unit_id": str(unit_id(app)),
            "kind": "scheduled",
            "planned_date": local_today().isoformat(),
            "lead": str(noivu),
        },
    )
    assert not_inspector.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Inspection)) is None


def test_the_annual_plan_is_saved_per_unit_and_quarter(app):
    office = _login(app, "noivu")
    page = office.get("/office/plan?year=2018").get_data(as_text=True)
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(code="XHS"))
    assert f'name="u{unit.id}_q1"' in page
    response = office.post(
        "/office/plan?year=2018", data={f"u{unit.id}_q1": "2", f"u{unit.id}_q3": "1"}
    )
    assert response.status_code == 302
    with app.app_context():
        plan = db.session.scalar(select(VisitPlan).filter_by(year=2018, unit_id=unit.id))
        assert (plan.q1, plan.q2, plan.q3, plan.q4) == (2, 0, 1, 0)
    bad = office.post("/office/plan?year=2018", data={f"u{unit.id}_q1": "-3"})
    assert bad.status_code == 200


def test_the_draw_favours_units_not_visited_for_long(app):
    with app.app_context():
        centre = db.session.scalar(select(Unit).filter_by(code="TTHCC"))
        visit = factories.inspection(centre, factories.demo_user("truongdoan"))
        visit.status = InspectionStatus.FINALIZED
        db.session.flush()
        today = local_today()
        weights = {u.code: w for u, w in planning.draw_weights(today)}
        assert weights["TTHCC"] == 1 and weights["XHS"] == planning.NEVER_VISITED_DAYS
        drawn = [planning.draw_surprise(Actor(1), today, random.Random(n)).code for n in range(60)]
        assert drawn.count("TTHCC") <= 1
        db.session.commit()
    office = _login(app, "noivu")
    response = office.post("/office/plan/draw")
    assert response.status_code == 302 and "kind=surprise" in response.location
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).filter_by(action="surprise_drawn")).all()
        assert events[-1].user_id is not None and events[-1].detail["weight"] > 0


def test_the_lead_sees_a_visit_planned_for_tomorrow_on_his_home(app):
    """Issue 17: home lists the coming planned visits of the next 14 days, under today's."""
    office = _login(app, "noivu")
    with app.app_context():
        lead = factories.demo_user("truongdoan").id
    for days, kind in ((1, "scheduled"), (20, "scheduled")):
        response = office.post(
            "/office/plan/visits/new",
            data={
                "unit_id": str(unit_id(app)),
                "kind": kind,
                "planned_date": (local_today() + timedelta(days=days)).isoformat(),
                "lead": str(lead),
                "secretary": "0",
            },
        )
        assert response.status_code == 302
    home = _login(app, "truongdoan").get("/inspector/").get_data(as_text=True)
    coming = home.split("Sắp tới (14 ngày tới)")[1]
    tomorrow = (local_today() + timedelta(days=1)).strftime("%d/%m/%Y")
    later = (local_today() + timedelta(days=20)).strftime("%d/%m/%Y")
    assert "Trung tâm Hành chính công huyện" in coming and tomorrow in coming
    assert later not in home  # beyond two weeks: on the office's plan, not yet on his home
