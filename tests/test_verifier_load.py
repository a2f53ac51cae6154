"""The public verifier stays cheap: a PDF built to be slow to parse is answered within 3 s
by a real server, while inspectors' saves go on (SQLite's write lock is not held)."""

import http.client
import io
import json
import threading
import time
import uuid

import pytest
import requests

from inspection.extensions import db
from inspection.pdf import signing
from tests.test_crash import Server
from tests.visit_helpers import record, start


def hostile_pdf(fields: int) -> bytes:
    """A PDF whose AcroForm lists ``fields`` signature fields with broken signatures.

    Written compactly (no field names, no /Filter), as a probe did: pyHanko reads such a
    file rather than refusing it at once, so its unbounded check takes tens of seconds.
    """
    parts, offsets = [b"%PDF-1.7\n"], []
    size = [len(parts[0])]

    def obj(number: int, body: bytes) -> None:
        offsets.append(size[0])
        parts.append(b"%d 0 obj" % number + body + b"endobj\n")
        size[0] += len(parts[-1])

    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(fields))
    obj(1, b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[" + kids + b"]/SigFlags 3>>>>")
    obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>")
    obj(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>")
    for i in range(fields):
        obj(
            4 + i,
            b"<</FT/Sig/V<</SubFilter/adbe.pkcs7.detached/ByteRange[0 1 2 3]/Contents<00>>>>>",
        )
    start_xref = size[0]
    table = [b"xref\n0 %d\n" % (len(offsets) + 1), b"0000000000 65535 f \n"]
    table += [b"%010d 00000 n \n" % offset for offset in offsets]
    trailer = b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
    return b"".join([*parts, *table, trailer % (len(offsets) + 1, start_xref)])


def test_a_check_over_its_time_is_stopped_and_said_so():
    data = hostile_pdf(60000)
    started = time.monotonic()
    result = signing.check_bounded(data, [], seconds=0.05)  # far below a real parse
    assert time.monotonic() - started < 2
    assert not result.valid and result.reason == "too costly to check"


@pytest.fixture
def served(app, client, token, tmp_path):
    lead = token("truongdoan")
    visits = []
    for _ in range(10):
        visit = start(client, lead, app)
        visits.append((visit["id"], record(client, lead, visit["id"])["people"][0]["person_id"]))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    server = Server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log")
    server.start()
    yield server, lead, visits
    server.stop()


def test_the_hostile_pdf_is_answered_in_3_s_while_saves_go_on(served):
    server, lead, visits = served
    base = f"http://127.0.0.1:{server.port}"
    data = hostile_pdf(90000)  # the probe's 90,000 fields, under the 12 MB upload limit
    assert len(data) < 12 * 1024 * 1024
    outcome = {}

    def verify():
        started = time.monotonic()
        response = requests.post(
            f"{base}/api/v1/minutes/verify",
            files={"file": ("bien-ban.pdf", io.BytesIO(data), "application/pdf")},
            timeout=30,
        )
        outcome["seconds"] = time.monotonic() - started
        outcome["answer"] = (response.status_code, response.json())

    saves = []

    def save(inspection_id, person_id):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        body = {"version": 1, "people": [{"person_id": person_id, "note": str(uuid.uuid4())}]}
        conn.request(
            "PUT",
            f"/api/v1/inspections/{inspection_id}/results",
            json.dumps(body),
            {"Content-Type": "application/json", "Authorization": f"Bearer {lead}"},
        )
        saves.append(conn.getresponse().status)

    checker = threading.Thread(target=verify)
    checker.start()
    time.sleep(0.2)  # the upload is being checked
    savers = [threading.Thread(target=save, args=visit) for visit in visits]
    for thread in savers:
        thread.start()
    for thread in [checker, *savers]:
        thread.join(60)
    status, answer = outcome["answer"]
    assert status == 200 and answer["valid"] is False
    assert outcome["seconds"] < 3, outcome["seconds"]
    assert saves == [200] * 10, saves
    log = server.log_path.read_text()
    assert "uploaded PDF not checked" in log  # it reached the costly path and was cut off
    assert log.count("Traceback") == 0 and len(log) < 200_000  # no traceback per field
