"""Issue 18: webhooks. Events go to a real HTTP receiver on 127.0.0.1, which checks each
signature with the `standardwebhooks` library (a verifier no one here wrote)."""

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as Verifier

from inspection import schemas
from inspection.extensions import db
from inspection.models import Outbox, OutboxStatus, utcnow
from inspection.services import notifications
from tests.test_minutes import finalize, ready_visit
from tests.test_review import require_fixes, respond
from tests.visit_helpers import bearer


class Receiver:
    """An HTTP endpoint that keeps what it receives and answers the statuses it is told."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []  # the next answers; 204 when empty
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/kiem-tra"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list[dict]:
        """Every payload received, each verified (raises if a signature is wrong)."""
        verifier = Verifier(secret)
        return [verifier.verify(body, headers) for headers, body in self.received]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def register(client, secret, url, events, **extra):
    return client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events, **extra},
        headers=bearer(secret),
    )


def _sweep(app, **kwargs) -> int:
    with app.app_context():
        return notifications.sweep(**kwargs)


def test_minutes_issued_reaches_a_webhook_signed(client, token, app, receiver):
    admin = token("admin")
    created = register(
        client, admin, receiver.url, ["minutes.issued", "visit.reviewed"], description="VBĐH"
    )
    assert created.status_code == 201, created.json
    secret = created.json["secret"]
    assert secret.startswith("whsec_") and created.json["events"] == [
        "minutes.issued",
        "visit.reviewed",
    ]
    listed = client.get("/api/v1/webhooks", headers=bearer(admin)).json["items"]
    assert [w["url"] for w in listed] == [receiver.url] and "secret" not in listed[0]

    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 201
    issued = response.json["minutes"]
    assert _sweep(app) == 2  # the unit's mail (to instance/mail here) and the event
    [event] = receiver.events(secret)
    schemas.MinutesEvent.model_validate(event)  # the payload is what the document says
    assert event["type"] == "minutes.issued"
    data = event["data"]
    assert data["minutes"]["number"] == issued["number"]
    assert data["minutes"]["sha256"] == issued["sha256"]
    assert data["minutes"]["verify_url"] == issued["verify_url"]
    assert data["inspection"]["id"] == inspection_id
    assert data["inspection"]["unit"]["name"].startswith("Trung tâm Hành chính công")
    headers = receiver.received[0][0]
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    # A forged body fails the independent verifier.
    forged = receiver.received[0][1].replace(b"minutes.issued", b"minutes.issuex")
    with pytest.raises(Exception, match="signature"):
        Verifier(secret).verify(forged, headers)
    # Nothing else subscribed is sent: the review comes when the office decides.
    require_fixes(client, token("noivu"), inspection_id)
    _sweep(app)
    review_event = receiver.events(secret)[-1]
    schemas.ReviewEvent.model_validate(review_event)
    assert review_event["data"]["review"]["decision"] == "remediation_required"
    assert [e["type"] for e in receiver.events(secret)] == ["minutes.issued", "visit.reviewed"]

    # The delivery log, on the API and on the administrator's page.
    detail = client.get(f"/api/v1/webhooks/{created.json['id']}", headers=bearer(admin)).json
    assert [d["event"] for d in detail["deliveries"]] == ["visit.reviewed", "minutes.issued"]
    attempt = detail["deliveries"][1]["attempts"][0]
    assert attempt["status_code"] == 204 and attempt["ok"] and attempt["duration_ms"] >= 0
    assert detail["deliveries"][1]["webhook_id"] == headers["webhook-id"]
    page = app.test_client()
    page.post("/login", data={"username": "admin", "password": "kiemtra2018"})
    html = page.get(f"/admin/webhooks/{created.json['id']}").get_data(as_text=True)
    assert "HTTP 204" in html and headers["webhook-id"] in html


def test_every_event_of_the_remediation_loop(client, token, app, receiver):
    admin, lead, office, unit = (token(u) for u in ("admin", "truongdoan", "noivu", "donvi1"))
    secret = register(client, admin, receiver.url, list(schemas.WEBHOOK_EVENTS)).json["secret"]
    inspection_id = ready_visit(client, lead, app)
    assert finalize(client, lead, inspection_id).status_code == 201
    [remediation] = require_fixes(client, office, inspection_id)["remediations"]
    assert respond(client, unit, remediation["id"]).status_code == 200
    decide = f"/api/v1/remediations/{remediation['id']}/decision"
    client.post(decide, json={"accept": False, "comment": "Thiếu ảnh"}, headers=bearer(office))
    assert respond(client, unit, remediation["id"], "Đã bổ sung ảnh").status_code == 200
    client.post(decide, json={"accept": True}, headers=bearer(office))
    # A correction replaces the minutes: the new ones are issued, the old superseded.
    amended = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead))
    assert amended.status_code == 201, amended.json
    _sweep(app)
    events = receiver.events(secret)
    assert [e["type"] for e in events] == [
        "minutes.issued",
        "visit.reviewed",
        "remediation.required",
        "remediation.answered",
        "remediation.required",  # reopened: required again
        "remediation.answered",
        "remediation.closed",
    ]
    for event in events:
        schemas.EVENT_SHAPES[event["type"]].model_validate(event)
    assert events[4]["data"]["remediation"]["status"] == "reopened"
    assert events[6]["data"]["remediation"]["closed_at"]
    # The ids are the outbox's: distinct, and the same header on every retry.
    assert len({h["webhook-id"] for h, _ in receiver.received}) == len(events)


def test_a_failing_endpoint_is_retried_with_backoff_and_logged(client, token, app, receiver):
    admin = token("admin")
    created = register(client, admin, receiver.url, ["minutes.issued"]).json
    receiver.statuses = [500, 302]  # an error, then a redirect (not followed)
    ping = client.post(f"/api/v1/webhooks/{created['id']}/ping", headers=bearer(admin))
    assert ping.status_code == 202
    assert _sweep(app) == 0
    with app.app_context():
        row = db.session.scalar(select(Outbox).filter_by(webhook_id=created["id"]))
        assert row.status is OutboxStatus.PENDING and row.last_error.startswith("HTTP 500")
        assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert _sweep(app, now=utcnow() + timedelta(minutes=2)) == 0  # the 302
    assert _sweep(app, now=utcnow() + timedelta(minutes=10)) == 1  # a 204 at last
    detail = client.get(f"/api/v1/webhooks/{created['id']}", headers=bearer(admin)).json
    [delivery] = detail["deliveries"]
    assert delivery["webhook_id"] == ping.json["webhook_id"] and delivery["status"] == "sent"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 302, 204]
    assert [a["ok"] for a in delivery["attempts"]] == [False, False, True]
    # The three requests carried one webhook-id: a receiver deduplicates on it.
    assert {h["webhook-id"] for h, _ in receiver.received} == {ping.json["webhook_id"]}
    assert json.loads(receiver.received[0][1])["type"] == "webhook.ping"
    # Deleted: gone with its log; later events are not recorded for it.
    deleted = client.delete(f"/api/v1/webhooks/{created['id']}", headers=bearer(admin))
    assert deleted.status_code == 204
    gone = client.get(f"/api/v1/webhooks/{created['id']}", headers=bearer(admin))
    assert gone.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Outbox).filter_by(channel="webhook")) is None
    # Their ids are never given again: a receiver deduplicating on webhook-id drops nothing.
    other = register(client, admin, receiver.url, ["minutes.issued"]).json
    assert other["id"] > created["id"]
    again = client.post(f"/api/v1/webhooks/{other['id']}/ping", headers=bearer(admin)).json
    assert int(again["webhook_id"][4:]) > int(ping.json["webhook_id"][4:])


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/hook", "địa chỉ nội bộ"),
        ("http://10.1.2.3/hook", "địa chỉ nội bộ"),
        ("http://[::1]/hook", "địa chỉ nội bộ"),
        ("http://169.254.169.254/latest", "địa chỉ nội bộ"),
        ("http://localhost/hook", "địa chỉ nội bộ"),
        ("ftp://example.org/hook", "http://"),
        ("https://user:pw@93.184.216.34/hook", "mật khẩu"),
        ("https://no-such-host.invalid/hook", "Không tìm thấy"),
        ("http://127.0.0.1:99999/hook", "cổng"),
    ],
)
def test_targets_that_are_refused(client, token, app, url, words):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    response = register(client, token("admin"), url, ["minutes.issued"])
    assert response.status_code == 422, response.json
    assert words in response.json["error"]["fields"]["url"]
    with app.app_context():
        from inspection.models import Webhook

        assert db.session.scalar(select(Webhook)) is None


def test_a_public_address_is_taken_and_bad_bodies_are_clear_422s(client, token, app):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    admin = token("admin")
    ok = register(client, admin, "https://93.184.216.34/hook", ["minutes.issued"])
    assert ok.status_code == 201, ok.json
    for body in (
        {"url": "https://93.184.216.34/hook", "events": []},
        {"url": "https://93.184.216.34/hook", "events": ["minutes.eaten"]},
        {"url": "", "events": ["minutes.issued"]},
        {"events": ["minutes.issued"]},
        {"url": "https://93.184.216.34/" + "a" * 2000, "events": ["minutes.issued"]},
    ):
        response = client.post("/api/v1/webhooks", json=body, headers=bearer(admin))
        assert response.status_code == 422, (body, response.json)
    assert (
        client.post("/api/v1/webhooks", json=body, headers=bearer(token("noivu"))).status_code
        == 403
    )


def test_the_openapi_document_describes_each_event(client):
    document = client.get("/api/v1/openapi.json").json
    assert set(document["webhooks"]) == set(schemas.WEBHOOK_EVENTS)
    issued = document["webhooks"]["minutes.issued"]["post"]
    assert issued["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MinutesEvent"
    }
    assert {p["name"] for p in issued["parameters"]} == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    minutes = document["components"]["schemas"]["EventMinutes"]
    assert {"number", "sha256", "verify_url", "pdf_url"} <= set(minutes["properties"])
    assert "/api/v1/webhooks" in document["paths"]


def test_the_administrator_registers_on_the_page_and_sees_the_secret_once(app, receiver):
    page = app.test_client()
    page.post("/login", data={"username": "admin", "password": "kiemtra2018"})
    response = page.post(
        "/admin/webhooks",
        data={"url": receiver.url, "events": ["minutes.issued", "remediation.closed"]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "whsec_" in html
    again = page.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in again and "whsec_" not in again
    refused = page.post("/admin/webhooks", data={"url": "gopher://x", "events": []})
    text = refused.get_data(as_text=True)
    assert "Chọn ít nhất một sự kiện." in text and "http://" in text


def test_a_planned_surprise_visit_is_sent_nowhere(client, token, app, receiver):
    register(client, token("admin"), receiver.url, list(schemas.WEBHOOK_EVENTS))
    office = app.test_client()
    office.post("/login", data={"username": "noivu", "password": "kiemtra2018"})
    drawn = office.post("/office/plan/draw")
    assert drawn.status_code == 302 and "kind=surprise" in drawn.location
    with app.app_context():
        from inspection.models import Inspection, InspectionStatus, User

        lead = db.session.scalar(select(User.id).filter_by(username="truongdoan"))
    unit_id = int(drawn.location.split("unit_id=")[1].split("&")[0])
    planned = office.post(
        "/office/plan/visits/new",
        data={
            "unit_id": unit_id,
            "kind": "surprise",
            "planned_date": (date.today() + timedelta(days=5)).isoformat(),
            "lead": lead,
        },
    )
    assert planned.status_code == 302, planned.get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(select(Inspection).filter_by(status=InspectionStatus.PLANNED))
        assert visit.unit_id == unit_id and visit.kind.value == "surprise"
        # No mail to the unit, no event anywhere: only the team knows.
        assert db.session.scalar(select(db.func.count(Outbox.id))) == 0
