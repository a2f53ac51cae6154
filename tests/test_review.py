"""The office reviews finalized visits; the unit answers remediation requests; the loop closes."""

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import AuditEvent, Minutes, Remediation, RemediationStatus
from tests.test_minutes import finalize, ready_visit
from tests.visit_helpers import bearer, jpeg

DUE = (date.today() + timedelta(days=14)).isoformat()


@pytest.fixture
def finalized(client, token, app):
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)  # TTHCC, donvi1's unit; SMOKE-SIGN failed
    assert finalize(client, lead, inspection_id).status_code == 201
    return inspection_id


def review(client, secret, inspection_id, **body):
    return client.post(
        f"/api/v1/inspections/{inspection_id}/review", json=body, headers=bearer(secret)
    )


def require_fixes(client, secret, inspection_id, *codes, comment="Lắp biển", days=10) -> dict:
    """The office requires fixes of ``codes`` within ``days``; return the answer's JSON."""
    response = review(
        client,
        secret,
        inspection_id,
        decision="remediation_required",
        comment=comment,
        due=(date.today() + timedelta(days=days)).isoformat(),
        item_codes=list(codes or ["SMOKE-SIGN"]),
    )
    assert response.status_code == 201, response.json
    return response.json


def respond(client, secret, remediation_id, text="Đã lắp biển cấm hút thuốc ở tầng 2", files=()):
    data = {"response": text, "file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(
        f"/api/v1/remediations/{remediation_id}/response",
        data=data,
        headers=bearer(secret),
        content_type="multipart/form-data",
    )


def test_an_answer_that_is_no_form_is_a_clear_422(client, token, finalized):
    office, unit = token("noivu"), token("donvi1")
    reviewed = review(
        client,
        office,
        finalized,
        decision="remediation_required",
        comment="Lắp biển",
        due=DUE,
        item_codes=["SMOKE-SIGN"],
    )
    path = f"/api/v1/remediations/{reviewed.json['remediations'][0]['id']}/response"
    for body in ({"json": {"response": "Đã lắp"}}, {}):
        response = client.post(path, headers=bearer(unit), **body)
        assert response.status_code == 422, response.json
        assert "response" in response.json["error"]["fields"]


def test_the_remediation_loop(client, token, finalized, app):
    office, unit = token("noivu"), token("donvi1")
    response = review(
        client,
        office,
        finalized,
        decision="remediation_required",
        comment="Lắp biển cấm hút thuốc",
        due=DUE,
        item_codes=["SMOKE-NONE"],
    )
    assert response.status_code == 201, response.json
    [request] = response.json["remediations"]
    assert request["status"] == "open" and request["item_code"] == "SMOKE-NONE"
    assert request["due_date"] == DUE and not request["overdue"]
    assert review(client, office, finalized, decision="accepted").status_code == 409

    mine = client.get("/api/v1/remediations", headers=bearer(unit)).json["items"]
    assert [r["id"] for r in mine] == [request["id"]]
    assert client.get("/api/v1/remediations", headers=bearer(token("donvi2"))).json["items"] == []
    assert respond(client, token("donvi2"), request["id"]).status_code == 404

    answered = respond(
        client,
        unit,
        request["id"],
        files=[("bien.jpg", jpeg(1200, 900)), ("bao-cao.pdf", b"%PDF-1.4\n%%EOF")],
    )
    assert answered.status_code == 415  # the "PDF" is not a readable PDF; nothing saved
    assert client.get("/api/v1/remediations?status=open", headers=bearer(unit)).json["items"]
    answered = respond(client, unit, request["id"], files=[("bien.jpg", jpeg(1200, 900))])
    assert answered.status_code == 200, answered.json
    assert answered.json["status"] == "answered" and len(answered.json["evidence"]) == 1
    evidence_url = answered.json["evidence"][0]["url"]
    assert client.get(evidence_url, headers=bearer(office)).status_code == 200
    assert client.get(evidence_url, headers=bearer(token("donvi2"))).status_code == 404

    reopened = client.post(
        f"/api/v1/remediations/{request['id']}/decision",
        json={"accept": False},
        headers=bearer(office),
    )
    assert reopened.status_code == 422  # a reopen must say what is missing
    reopened = client.post(
        f"/api/v1/remediations/{request['id']}/decision",
        json={"accept": False, "comment": "Thiếu ảnh tầng 3"},
        headers=bearer(office),
    )
    assert reopened.json["status"] == "reopened"
    assert respond(client, unit, request["id"], "Đã bổ sung tầng 3").json["status"] == "answered"
    accepted = client.post(
        f"/api/v1/remediations/{request['id']}/decision",
        json={"accept": True},
        headers=bearer(office),
    )
    assert accepted.json["status"] == "accepted"
    assert respond(client, unit, request["id"]).status_code == 409
    with app.app_context():
        row = db.session.get(Remediation, request["id"])
        assert row.closed_at is not None and row.status is RemediationStatus.ACCEPTED
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
        assert actions.count("remediation_answered") == 2
        assert "remediation_reopened" in actions and "remediation_accepted" in actions


def test_review_validation(client, token, finalized):
    office = token("noivu")
    for body, field in (
        ({"decision": "maybe"}, "decision"),
        ({"decision": "remediation_required", "comment": "x"}, "due"),
        ({"decision": "remediation_required", "comment": "x", "due": "2000-01-01"}, "due"),
        ({"decision": "remediation_required", "due": DUE}, "comment"),
        (
            {
                "decision": "remediation_required",
                "comment": "x",
                "due": DUE,
                "item_codes": ["NOPE"],
            },
            "item_codes",
        ),
    ):
        response = review(client, office, finalized, **body)
        assert response.status_code == 422 and field in response.json["error"]["fields"], body
    assert review(client, office, finalized, decision="accepted", comment="Tốt").status_code == 201


def test_only_finalized_visits_are_reviewed_and_only_by_the_office(client, token, app):
    lead = token("truongdoan")
    draft = ready_visit(client, lead, app)
    assert review(client, token("noivu"), draft, decision="accepted").status_code == 409
    assert review(client, lead, draft, decision="accepted").status_code == 403
    assert review(client, token("donvi1"), draft, decision="accepted").status_code == 403


def test_overdue_requests(client, token, finalized, app):
    office = token("noivu")
    review(client, office, finalized, decision="remediation_required", comment="Sửa", due=DUE)
    with app.app_context():
        row = db.session.scalar(select(Remediation))
        row.due_date = date.today() - timedelta(days=1)
        db.session.commit()
    overdue = client.get("/api/v1/remediations?status=overdue", headers=bearer(office)).json
    assert [r["overdue"] for r in overdue["items"]] == [True]


def test_unit_acknowledges_its_minutes_once(client, token, finalized, app):
    with app.app_context():
        minutes_id = db.session.scalar(select(Minutes.id))
    unit = token("donvi1")
    first = client.post(f"/api/v1/minutes/{minutes_id}/acknowledge", headers=bearer(unit))
    again = client.post(f"/api/v1/minutes/{minutes_id}/acknowledge", headers=bearer(unit))
    assert first.status_code == 200 and first.json == again.json
    assert (
        client.post(
            f"/api/v1/minutes/{minutes_id}/acknowledge", headers=bearer(token("donvi2"))
        ).status_code
        == 404
    )


def test_pages_of_the_loop(client, token, finalized, app):
    office = app.test_client()
    office.post("/login", data={"username": "noivu", "password": "kiemtra2018"})
    home = office.get("/office/").get_data(as_text=True)
    assert "Trung tâm Hành chính công huyện" in home and f"/office/visits/{finalized}" in home
    page = office.get(f"/office/visits/{finalized}").get_data(as_text=True)
    assert "SMOKE-SIGN" in page
    saved = office.post(
        f"/office/visits/{finalized}",
        data={
            "decision": "remediation_required",
            "item_codes": ["SMOKE-SIGN"],
            "comment": "Bổ sung biển cấm hút thuốc",
            "due": DUE,
        },
    )
    assert saved.status_code == 302
    assert "Cần khắc phục" in office.get(f"/office/visits/{finalized}").get_data(as_text=True)
    assert "Mọi cuộc kiểm tra đã lập biên bản đều đã được xem xét." in office.get(
        "/office/"
    ).get_data(as_text=True)

    unit = app.test_client()
    unit.post("/login", data={"username": "donvi1", "password": "kiemtra2018"})
    home = unit.get("/unit/").get_data(as_text=True)
    assert "Bổ sung biển cấm hút thuốc" in home
    with app.app_context():
        remediation_id = db.session.scalar(select(Remediation.id))
        minutes_id = db.session.scalar(select(Minutes.id))
    assert unit.post(f"/unit/minutes/{minutes_id}/acknowledge").status_code == 302
    assert "đã xác nhận nhận biên bản" in unit.get("/unit/").get_data(as_text=True)
    sent = unit.post(
        f"/unit/remediations/{remediation_id}",
        data={"response": "Đã lắp biển", "files": [(io.BytesIO(jpeg(800, 600)), "anh.jpg")]},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    other = app.test_client()
    other.post("/login", data={"username": "donvi2", "password": "kiemtra2018"})
    assert other.get(f"/unit/remediations/{remediation_id}").status_code == 404
    assert "Đã lắp biển" in office.get(f"/office/remediations/{remediation_id}").get_data(
        as_text=True
    )
    decided = office.post(
        f"/office/remediations/{remediation_id}", data={"accept": "1", "comment": ""}
    )
    assert decided.status_code == 302
    with app.app_context():
        assert db.session.get(Remediation, remediation_id).status is RemediationStatus.ACCEPTED


def test_requiring_remediation_prefills_the_minutes_deadline_and_warns_when_earlier(
    client, token, app
):
    """Issue 17: the review form starts from the deadline the minutes gave the unit."""
    lead = token("truongdoan")
    visit_id = ready_visit(client, lead, app, extra={"remediation_due": "2099-06-30"})
    assert finalize(client, lead, visit_id).status_code == 201
    office = app.test_client()
    office.post("/login", data={"username": "noivu", "password": "kiemtra2018"})
    page = office.get(f"/office/visits/{visit_id}").get_data(as_text=True)
    assert 'value="2099-06-30"' in page
    answer = office.post(
        f"/office/visits/{visit_id}",
        data={"decision": "remediation_required", "comment": "Khắc phục", "due": "2099-06-01"},
        follow_redirects=True,
    )
    assert "sớm hơn hạn biên bản đã ghi" in answer.get_data(as_text=True)


def test_a_request_links_its_visit_and_minutes_and_shows_photo_evidence(
    client, token, finalized, app
):
    """Issue 17: evidence photos show on the page, files open in the browser, and the
    request links back to its visit (office) and its minutes (office and unit)."""
    office, unit = token("noivu"), token("donvi1")
    response = review(
        client,
        office,
        finalized,
        decision="remediation_required",
        comment="Lắp biển",
        due=DUE,
        item_codes=["SMOKE-NONE"],
    )
    [request] = response.json["remediations"]
    answered = respond(client, unit, request["id"], files=[("bien.jpg", jpeg(800, 600))])
    evidence_url = answered.json["evidence"][0]["url"]
    shown = client.get(evidence_url, headers=bearer(office))
    assert shown.headers["Content-Disposition"].startswith("inline;")
    with app.app_context():
        number = db.session.scalar(
            select(Minutes).filter_by(inspection_id=finalized)
        ).display_number
    web = app.test_client()
    web.post("/login", data={"username": "noivu", "password": "kiemtra2018"})
    page = web.get(f"/office/remediations/{request['id']}").get_data(as_text=True)
    assert f'href="/office/visits/{finalized}"' in page and f"Biên bản số {number}" in page
    assert f'<img class="evidence" src="{evidence_url}"' in page
    unit_web = app.test_client()
    unit_web.post("/login", data={"username": "donvi1", "password": "kiemtra2018"})
    unit_page = unit_web.get(f"/unit/remediations/{request['id']}").get_data(as_text=True)
    assert f"Biên bản số {number}" in unit_page and "/office/visits/" not in unit_page


def test_the_unit_portal_says_where_things_stand(client, token, app):
    """Issue 17: the unit's home says what it must do, by when, and what waits on the office."""
    web = app.test_client()
    web.post("/login", data={"username": "donvi1", "password": "kiemtra2018"})

    def standing():
        page = web.get("/unit/").get_data(as_text=True)
        return page.split('id="standing"')[1].split("</section>")[0]

    assert "Hiện không có việc gì đơn vị cần làm." in standing()
    lead, office, unit = token("truongdoan"), token("noivu"), token("donvi1")
    visit_id = ready_visit(client, lead, app)
    assert finalize(client, lead, visit_id).status_code == 201
    assert "1 biên bản cần xác nhận đã nhận." in standing()
    requested = review(
        client,
        office,
        visit_id,
        decision="remediation_required",
        comment="Lắp biển",
        due=DUE,
        item_codes=["SMOKE-NONE", "SMOKE-SIGN", "ALC-NONE"],
    )
    # One request of three items; the office's words once, not copied into each item.
    items = requested.json["remediations"]
    assert len(items) == 3 and len({i["review_id"] for i in items}) == 1
    assert all(i["comment"] == "Lắp biển" and "Lắp biển" not in i["request"] for i in items)
    due = date.fromisoformat(DUE).strftime("%d/%m/%Y")
    assert f"1 yêu cầu cần báo cáo khắc phục</strong> (3 nội dung), hạn sớm nhất {due}." in (
        standing()
    )
    assert respond(client, unit, items[0]["id"]).status_code == 200
    assert "(2 nội dung)" in standing()
    assert "1 báo cáo đang chờ Phòng Nội vụ xem xét." in standing()
