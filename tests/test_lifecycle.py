"""One current record per visit: figures, lists and exports over a small history, against
numbers worked out by hand, before and after a correction.

The history (minutes issued through the real finalize path):
- V1, TTHCC (30 people), October: everyone present; SMOKE-SIGN fails; person 0 fails
  BADGE-WORN; the unit's representative refuses to sign.
- V2, TTHCC, November: person 1 late; person 0 fails BADGE-WORN again (a repeat).
- V3, XHS (24 people), November: person 2 absent without leave (nothing else checked on
  them); PREM-SIGNS fails.
- A draft at XHS that never counts.
- Reviews: V1 requires two fixes (one left open and overdue, one answered), V3 two (one
  accepted, one reopened), V2 one (open).
- Then V2 is corrected (only its assessment changes) and the correction is issued;
  person 0 leaves the TTHCC roster.

By hand, per visit (checked / failed):
- V1: unit items 11/1 (the one-stop desk's number item and its conditional item, not
  asked, count nothing); attendance 30/0; 30 people at their post x 4 items 120/1 -> 161/2
- V2: unit items 11/0; attendance 30/1 (late); 120/1 -> 161/2
- V3: unit items 11/1; attendance 24/1 (absent); 23 at their post x 4 = 92/0 -> 127/2
Total 449/6: TTHCC 322/4, XHS 127/2. Categories: smoking 6/1, premises 6/1, alcohol 6/0,
attitude 3/0, one stop 12/0, badge 166/2 (2 items x 83 at their post), uniform 166/0,
attendance 84/2. Attendance: rostered 84, present 82, late 1, absent without leave 1.
"""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import LOCAL_TZ
from inspection.models import Inspection, Remediation, StaffMember
from tests.test_minutes import finalize, sign
from tests.visit_helpers import bearer, complete_answers, record, save, start, visit_checklist

CATEGORIES = {
    "smoking": (6, 1),
    "premises": (6, 1),
    "alcohol": (6, 0),
    "attitude": (3, 0),
    "one_stop": (12, 0),  # 4 pass/fail items on 3 visits (OSS-CASES is a number)
    "badge": (166, 2),
    "uniform": (166, 0),
    "attendance": (84, 2),
}


def _visit(client, lead, app, code, month, change, refuse=False):
    """Start, answer (complete_answers, then ``change``), date it, sign, issue."""
    visit = start(client, lead, app, code=code)
    full = record(client, lead, visit["id"])
    checklist = visit_checklist(client, lead, full["id"])
    answers = complete_answers(full, checklist)
    change(answers)
    assert save(client, lead, visit["id"], answers).status_code == 200
    with app.app_context():  # the visit took place in ``month`` of 2026, 09:00
        row = db.session.get(Inspection, visit["id"])
        row.started_at = datetime(2026, month, 10, 9, 0, tzinfo=LOCAL_TZ)
        row.ended_at = row.started_at + timedelta(hours=2)
        db.session.commit()
    sign(client, lead, visit["id"], "lead")
    if refuse:
        sign(client, lead, visit["id"], "unit_rep", refused=True, reason="Không đồng ý")
    else:
        sign(client, lead, visit["id"], "unit_rep")
    response = finalize(client, lead, visit["id"])
    assert response.status_code == 201, response.json
    return visit["id"], full


def _fail(answers, code, person=None):
    entries = answers["unit_items"] if person is None else answers["people"][person]["items"]
    next(e for e in entries if e["code"] == code)["outcome"] = "fail"


def _v1(a):
    _fail(a, "SMOKE-SIGN")
    _fail(a, "BADGE-WORN", person=0)


def _v2(a):
    a["people"][1]["attendance"] = "late"
    _fail(a, "BADGE-WORN", person=0)


def _v3(a):
    a["people"][2] = {"person_id": a["people"][2]["person_id"], "attendance": "absent_unexcused"}
    _fail(a, "PREM-SIGNS")


def _review(client, office, inspection_id, codes):
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/review",
        json={
            "decision": "remediation_required",
            "comment": "Khắc phục",
            "due": "2099-01-31",
            "item_codes": codes,
        },
        headers=bearer(office),
    )
    assert response.status_code == 201, response.json
    return [r["id"] for r in response.json["remediations"]]


@pytest.fixture
def history(client, token, app):
    lead, office = token("truongdoan"), token("noivu")
    v1, v1_full = _visit(client, lead, app, "TTHCC", 10, _v1, refuse=True)
    v2, _ = _visit(client, lead, app, "TTHCC", 11, _v2)
    v3, _ = _visit(client, lead, app, "XHS", 11, _v3)
    start(client, lead, app, code="XHS")  # a draft: never counts
    open_overdue, answered = _review(client, office, v1, ["SMOKE-SIGN", "BADGE-WORN"])
    accepted, reopened = _review(client, office, v3, ["PREM-SIGNS", "ATT-PRESENT"])
    _review(client, office, v2, ["BADGE-WORN"])
    unit1, unit2 = token("donvi1"), token("donvi2")
    for remediation, unit in ((answered, unit1), (accepted, unit2), (reopened, unit2)):
        response = client.post(
            f"/api/v1/remediations/{remediation}/response",
            data={"response": "Đã khắc phục"},
            headers=bearer(unit),
        )
        assert response.status_code == 200, response.json
    for remediation, accept in ((accepted, True), (reopened, False)):
        response = client.post(
            f"/api/v1/remediations/{remediation}/decision",
            json={"accept": accept, "comment": "Chưa đủ"},
            headers=bearer(office),
        )
        assert response.status_code == 200, response.json
    with app.app_context():
        db.session.get(Remediation, open_overdue).due_date = date(2026, 11, 1)
        db.session.commit()
    return {"v1": v1, "v2": v2, "v3": v3, "lead": lead, "office": office, "person0": v1_full}


def _figures(client, office) -> dict:
    body = client.get("/api/v1/stats", headers=bearer(office)).json
    return {
        "categories": {r["category"]: (r["checked"], r["failed"]) for r in body["by_category"]},
        "units": sorted((r["checked"], r["failed"]) for r in body["by_unit"]),
        "attendance": body["attendance"],
    }


def _csv(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _amend(client, lead, inspection_id):
    copy = client.post(f"/api/v1/inspections/{inspection_id}/amend", headers=bearer(lead)).json
    full = record(client, lead, copy["id"])
    change = {"version": full["version"], "assessment": "Đã sửa nhận xét."}
    assert save(client, lead, copy["id"], change).status_code == 200
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, copy["id"], role).status_code == 200
    assert finalize(client, lead, copy["id"]).status_code == 201
    return copy["id"]


def test_figures_lists_and_exports_count_each_visit_once(client, auth, token, app, history):
    office = history["office"]
    before = _figures(client, office)
    assert before["categories"] == CATEGORIES
    assert before["units"] == [(127, 2), (322, 4)]
    assert before["attendance"] == {
        "rostered": 84,
        "present": 82,
        "late": 1,
        "absent_excused": 0,
        "absent_unexcused": 1,
        "on_duty": 0,
    }

    corrected = _amend(client, history["lead"], history["v2"])
    with app.app_context():  # person 0 leaves the roster after the visits
        staff_id = record_staff(app, history["person0"])
        db.session.get(StaffMember, staff_id).active = False
        db.session.commit()

    # The stats API: the same figures as before the correction.
    assert _figures(client, office) == before

    auth.login("noivu")
    counted = {history["v1"], corrected, history["v3"]}
    # Exports: each visit once, the correction in place of what it replaced.
    visits = _csv(client, "/office/export/visits.csv")
    assert {int(r[0]) for r in visits[1:]} == counted
    units = _csv(client, "/office/export/unit_results.csv")
    # 12 answers each: the 11 pass/fail items and OSS-CASES (a number)
    assert len(units) - 1 == 3 * 12 and {int(r[0]) for r in units[1:]} == counted
    people = _csv(client, "/office/export/person_results.csv")
    assert {int(r[0]) for r in people[1:]} == counted
    # One row per person and item answered, attendance's derived item included: V1 and the
    # correction 30 x 5 each; V3 23 at their post x 5, plus the absent person's attendance.
    assert len(people) - 1 == 150 + 150 + 23 * 5 + 1
    book = openpyxl.load_workbook(
        io.BytesIO(client.get("/office/export/visits.xlsx").data), read_only=True
    )
    assert {row[0] for row in book.active.iter_rows(min_row=2, values_only=True)} == counted

    # The dashboard and the report.
    page = client.get("/office/dashboard").get_data(as_text=True)
    assert "98,8%" in page  # TTHCC: 1 - 4/322 = 98.76% -> 98,8%
    assert "98,4%" in page  # XHS: 1 - 2/127 = 98.43% -> 98,4%
    for path in ("/office/report", "/office/report.pdf"):
        report = client.get(path)
        assert report.status_code == 200
    report = client.get("/office/report").get_data(as_text=True)
    assert _cell(report, "Số cuộc kiểm tra đã lập biên bản") == "3"
    # Open: V1's SMOKE-SIGN (overdue), V3's reopened one, V2's; answered: V1's BADGE-WORN.
    assert _cell(report, "Yêu cầu đang mở") == "3"
    assert _cell(report, "Quá hạn") == "1"
    assert _cell(report, "Đã trả lời, chờ xem xét") == "1"
    text = _pdf_text(client.get("/office/report.pdf").data)
    assert "Số cuộc kiểm tra đã lập biên bản 3" in text
    # Repeat findings: person 0 failed BADGE-WORN on V1 and V2 (counted once despite V2's
    # correction), and is named though no longer on the roster.
    repeat = page.split("Vi phạm lặp lại", 1)[1].split("</table>", 1)[0]
    rows = [r for r in repeat.split("<tr>")[2:] if "/office/people/" in r]
    assert len(rows) == 1 and f"/office/people/{staff_id}" in rows[0]
    assert "<td>Đeo thẻ</td><td>2</td></tr>" in rows[0]  # the item's name, not its code

    # A person's history: V1 and the correction, not the replaced visit.
    person = client.get(f"/office/people/{staff_id}").get_data(as_text=True)
    assert f"/office/visits/{corrected}" in person
    assert f'/office/visits/{history["v2"]}"' not in person

    # The plan's done counts: TTHCC 2 in Q4 (not 3), XHS 1 (the page shows these rows).
    with app.app_context():
        from inspection.services import planning

        done = {r["unit"].code: r["done"] for r in planning.plan_rows(2026)}
    assert done["TTHCC"] == [0, 0, 0, 2] and done["XHS"] == [0, 0, 0, 1]

    # The inbox: the replaced visit left it; the correction waits for review.
    home = client.get("/office/").get_data(as_text=True)
    inbox = home.split("<h2", 1)[0]
    assert f'/office/visits/{corrected}"' in inbox
    assert f'/office/visits/{history["v2"]}"' not in inbox
    old = client.get(f"/office/visits/{history['v2']}").get_data(as_text=True)
    assert 'id="superseded"' in old and f"/office/visits/{corrected}" in old

    # The unit's portal shows the replaced minutes as such.
    auth.logout()
    auth.login("donvi1")
    portal = client.get("/unit/").get_data(as_text=True)
    assert "đã được thay thế bởi Biên bản số 04/BB-ĐKT" in portal


def record_staff(app, full) -> int:
    return full["people"][0]["staff_id"]


def _cell(page: str, label: str) -> str:
    """The value next to ``label`` in a two-column table row."""
    row = page.split(label, 1)[1].split("</tr>", 1)[0]
    return row.split("<td", 1)[1].split(">", 1)[1].split("<", 1)[0].strip()


def _pdf_text(data: bytes) -> str:
    from tests.clerk import pages

    with pages(data) as pdf:
        return " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)


def test_no_superseded_visit_is_counted_by_the_one_definition(app, history, client):
    corrected = _amend(client, history["lead"], history["v2"])
    with app.app_context():
        counted = set(db.session.scalars(select(Inspection.id).where(Inspection.counts)))
        assert counted == {history["v1"], corrected, history["v3"]}
        assert db.session.get(Inspection, history["v2"]).superseded_at is not None


def test_a_correction_asks_before_it_opens(client, token, app):
    """Issue 17: one tap explains that a correction issues new minutes replacing the old;
    a second confirms."""
    from tests.test_minutes import finalize, ready_visit

    lead = token("truongdoan")
    visit_id = ready_visit(client, lead, app)
    number = finalize(client, lead, visit_id).json["minutes"]["number"]
    web = app.test_client()
    web.post("/login", data={"username": "truongdoan", "password": "kiemtra2018"})
    page = web.get(f"/inspector/visits/{visit_id}/summary").get_data(as_text=True)
    step = page.split('<details class="confirm" id="amend">')[1].split("</details>")[0]
    assert f"thay thế biên bản số {number}" in step and "Đồng ý, mở bản sửa" in step
