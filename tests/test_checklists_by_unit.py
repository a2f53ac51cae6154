"""Checklists that fit each unit: several templates limited to unit kinds or to units with a
one-stop desk, items asked only after another answer, typed answers, a late person's
arrival time, and what each of these does to the record, the figures and the minutes."""

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import ChecklistVersion
from inspection.services import checklist, checklist_sheet
from inspection.services.audit import SYSTEM
from tests.test_minutes import finalize, pdf_of, poppler, sign
from tests.visit_helpers import (
    bearer,
    complete_answers,
    record,
    save,
    start,
    unit_id,
    visit_checklist,
)

GENERAL = 12
ONE_STOP = {"OSS-POSTED", "OSS-RECEIPT", "OSS-OVERDUE", "OSS-APOLOGY", "OSS-ONCE", "OSS-CASES"}
SCHOOL = {"SCH-SCHEDULE", "SCH-DUTY", "SCH-DUTY-FIX", "SCH-COVER", "SCH-EXTRA", "SCH-HOTLINE"}


@pytest.fixture
def lead(token):
    return token("truongdoan")


def _codes(body) -> set[str]:
    return {i["code"] for i in body["items"]}


def _offered(client, secret, app, code):
    return client.get(
        f"/api/v1/checklists/current?unit_id={unit_id(app, code)}", headers=bearer(secret)
    )


def test_each_unit_gets_exactly_the_checklists_for_it(client, lead, app):
    school = _offered(client, lead, app, "THCSHC").json
    assert [c["template"] for c in school["checklists"]] == ["CONG-VU", "TRUONG-HOC"]
    assert not _codes(school) & ONE_STOP and _codes(school) >= SCHOOL
    assert len(school["items"]) == GENERAL + len(SCHOOL)
    centre = _offered(client, lead, app, "TTHCC").json
    assert [c["template"] for c in centre["checklists"]] == ["CONG-VU", "MOT-CUA"]
    assert _codes(centre) >= ONE_STOP and not _codes(centre) & SCHOOL
    department = _offered(client, lead, app, "PNV").json
    assert len(department["items"]) == GENERAL
    apology = next(i for i in centre["items"] if i["code"] == "OSS-APOLOGY")
    assert apology["ask_when"] == {"code": "OSS-OVERDUE", "answers": ["fail"]}
    duty = next(i for i in school["items"] if i["code"] == "SCH-DUTY")
    assert duty["answer_type"] == "choice" and len(duty["choices"]) == 3
    missing = client.get("/api/v1/checklists/current?unit_id=999999", headers=bearer(lead))
    assert missing.status_code == 404
    huge = client.get("/api/v1/checklists/current?unit_id=99999999999", headers=bearer(lead))
    assert huge.status_code in (404, 422)


def test_a_unit_account_reads_only_its_own_units_checklist(client, token, app):
    unit = token("donvi1")  # Trung tâm Hành chính công huyện
    own = client.get(
        f"/api/v1/checklists/current?unit_id={unit_id(app, 'TTHCC')}", headers=bearer(unit)
    )
    assert own.status_code == 200
    other = client.get(
        f"/api/v1/checklists/current?unit_id={unit_id(app, 'PNV')}", headers=bearer(unit)
    )
    assert other.status_code == 404


def test_a_school_visit_asks_no_one_stop_item_and_refuses_one(client, lead, app):
    visit = start(client, lead, app, code="THCSHC")
    asked = visit_checklist(client, lead, visit["id"])
    assert [c["template"] for c in asked["checklists"]] == ["CONG-VU", "TRUONG-HOC"]
    assert not _codes(asked) & ONE_STOP
    response = save(
        client,
        lead,
        visit["id"],
        {"version": 1, "unit_items": [{"code": "OSS-POSTED", "outcome": "pass"}]},
    )
    assert response.status_code == 422
    assert "unit_items[0].code" in response.json["error"]["fields"]
    full = record(client, lead, visit["id"])
    answers = complete_answers(full, asked)
    assert save(client, lead, visit["id"], answers).status_code == 200
    assert (
        client.post(f"/api/v1/inspections/{visit['id']}/submit", headers=bearer(lead)).json[
            "status"
        ]
        == "submitted"
    )


def test_the_lead_may_choose_the_checklists(client, lead, app):
    body = {
        "client_id": "chosen",
        "unit_id": unit_id(app, "TTHCC"),
        "kind": "surprise",
        "templates": ["CONG-VU"],
    }
    visit = client.post("/api/v1/inspections", json=body, headers=bearer(lead)).json
    assert _codes(visit_checklist(client, lead, visit["id"])) & ONE_STOP == set()
    body.update(client_id="added", unit_id=unit_id(app, "PNV"), templates=["CONG-VU", "MOT-CUA"])
    visit = client.post("/api/v1/inspections", json=body, headers=bearer(lead)).json
    assert _codes(visit_checklist(client, lead, visit["id"])) >= ONE_STOP
    body.update(client_id="unknown", templates=["NOPE"])
    refused = client.post("/api/v1/inspections", json=body, headers=bearer(lead))
    assert refused.status_code == 422 and "templates" in refused.json["error"]["fields"]
    body.update(client_id="none", templates=[])
    refused = client.post("/api/v1/inspections", json=body, headers=bearer(lead))
    assert refused.status_code == 422 and "templates" in refused.json["error"]["fields"]


def _centre_visit(client, lead, app):
    visit = start(client, lead, app, code="TTHCC")
    full = record(client, lead, visit["id"])
    answers = complete_answers(full, visit_checklist(client, lead, visit["id"]))
    assert save(client, lead, visit["id"], answers).status_code == 200
    return visit["id"]


def _unit_items(client, lead, inspection_id) -> dict:
    return {u["code"]: u for u in record(client, lead, inspection_id)["unit_items"]}


def test_a_conditional_item_is_asked_only_after_its_trigger_fails(client, lead, app):
    inspection_id = _centre_visit(client, lead, app)
    version = record(client, lead, inspection_id)["version"]
    apology = {"code": "OSS-APOLOGY", "outcome": "pass"}
    early = save(client, lead, inspection_id, {"version": version, "unit_items": [apology]})
    assert early.status_code == 422
    assert "OSS-OVERDUE" in early.json["error"]["fields"]["unit_items[0].code"]
    asked = {i["code"]: i["asked"] for i in visit_checklist(client, lead, inspection_id)["items"]}
    assert asked["OSS-APOLOGY"] is False and asked["OSS-OVERDUE"] is True
    submitted = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=bearer(lead))
    assert submitted.status_code == 200  # not asked: never missing


def test_failing_the_trigger_asks_the_item_and_passing_it_clears_the_answer(client, lead, app):
    inspection_id = _centre_visit(client, lead, app)
    version = record(client, lead, inspection_id)["version"]
    fail = {"code": "OSS-OVERDUE", "outcome": "fail", "note": "2 hồ sơ trễ hạn"}
    saved = save(client, lead, inspection_id, {"version": version, "unit_items": [fail]})
    assert saved.status_code == 200
    missing = client.post(f"/api/v1/inspections/{inspection_id}/submit", headers=bearer(lead))
    assert missing.status_code == 422
    assert list(missing.json["error"]["fields"]) == [
        f"u-{next(i for i in checklist_items(app, inspection_id) if i.code == 'OSS-APOLOGY').id}"
    ]
    # Both in one save: the trigger and the item it asks.
    version = saved.json["version"]
    both = {"code": "OSS-APOLOGY", "outcome": "fail", "note": "Không có phiếu xin lỗi"}
    saved = save(client, lead, inspection_id, {"version": version, "unit_items": [both]})
    assert saved.status_code == 200
    assert _unit_items(client, lead, inspection_id)["OSS-APOLOGY"]["outcome"] == "fail"
    # The trigger passes: the item is not asked, and its answer goes.
    passed = {"code": "OSS-OVERDUE", "outcome": "pass"}
    saved = save(
        client, lead, inspection_id, {"version": saved.json["version"], "unit_items": [passed]}
    )
    assert saved.status_code == 200
    apology = _unit_items(client, lead, inspection_id)["OSS-APOLOGY"]
    assert (apology["outcome"], apology["note"]) == (None, "")


def checklist_items(app, inspection_id):
    from inspection.models import Inspection

    with app.app_context():
        visit = db.session.get(Inspection, inspection_id)
        return list(visit.items)


def test_typed_answers_are_checked_by_type(client, lead, app):
    visit = start(client, lead, app, code="THCSHC")
    version = 1

    def one(entry):
        return save(client, lead, visit["id"], {"version": version, "unit_items": [entry]})

    refused = {
        "number out of range": {"code": "SCH-COVER", "number": "-1"},
        "outcome on a number": {"code": "SCH-COVER", "outcome": "pass"},
        "not a choice": {"code": "SCH-DUTY", "text": "Có sổ"},
        "number on a choice": {"code": "SCH-DUTY", "number": "3"},
        "text on a pass/fail": {"code": "SCH-EXTRA", "text": "tốt"},
        "too long": {"code": "SCH-HOTLINE", "text": "0" * 501},
    }
    for why, entry in refused.items():
        response = one(entry)
        assert response.status_code == 422, why
        wrong = next(k for k in ("outcome", "number", "text") if k in entry)
        assert f"unit_items[0].{wrong}" in response.json["error"]["fields"], why
    text_on_outcome = one({"code": "SCH-EXTRA", "text": "tốt"}).json["error"]["fields"]
    assert text_on_outcome["unit_items[0].text"] == (
        "Tiêu chí này trả lời bằng Đạt, Vi phạm hoặc Không áp dụng."
    )
    for entry in (
        {"code": "SCH-COVER", "number": "2"},
        {"code": "SCH-DUTY", "text": "Không có sổ"},
        {"code": "SCH-HOTLINE", "text": "0211 3866 123"},
    ):
        response = one(entry)
        assert response.status_code == 200, response.json
        version = response.json["version"]
    items = _unit_items(client, lead, visit["id"])
    assert items["SCH-COVER"]["number"] == 2 and items["SCH-DUTY"]["text"] == "Không có sổ"
    # A choice triggers its conditional item too.
    asked = {i["code"]: i["asked"] for i in visit_checklist(client, lead, visit["id"])["items"]}
    assert asked["SCH-DUTY-FIX"] is True


def test_a_late_person_gets_an_arrival_time_printed_in_the_minutes(client, lead, app, tmp_path):
    visit = start(client, lead, app, code="TTHCC")
    full = record(client, lead, visit["id"])
    answers = complete_answers(full, visit_checklist(client, lead, visit["id"]))
    person = answers["people"][3]
    person["attendance"] = "present"
    person["arrived_at"] = "08:05"
    refused = save(client, lead, visit["id"], answers)
    assert refused.status_code == 422
    assert "people[3].arrived_at" in refused.json["error"]["fields"]
    person["attendance"] = "late"
    person["arrived_at"] = "8h05"
    assert save(client, lead, visit["id"], answers).status_code == 422
    person["arrived_at"] = "08:05"
    saved = save(client, lead, visit["id"], answers)
    assert saved.status_code == 200
    p3 = record(client, lead, visit["id"])["people"][3]
    assert (p3["attendance"], p3["arrived_at"]) == ("late", "08:05")
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, visit["id"], role).status_code == 200
    assert finalize(client, lead, visit["id"]).status_code == 201
    text = " ".join(poppler("pdftotext", pdf_of(client, lead, visit["id"]), tmp_path).split())
    assert "đến lúc 08 giờ 05" in text


def test_marking_present_clears_the_arrival_time(client, lead, app):
    visit = start(client, lead, app, code="PNV")
    person = record(client, lead, visit["id"])["people"][0]["person_id"]
    body = {
        "version": 1,
        "people": [{"person_id": person, "attendance": "late", "arrived_at": "07:50"}],
    }
    saved = save(client, lead, visit["id"], body)
    assert saved.status_code == 200
    body = {
        "version": saved.json["version"],
        "people": [{"person_id": person, "attendance": "present"}],
    }
    assert save(client, lead, visit["id"], body).status_code == 200
    assert record(client, lead, visit["id"])["people"][0]["arrived_at"] is None


def test_progress_counts_people_not_their_checks(client, lead, app):
    from inspection.models import Inspection
    from inspection.services import results

    visit = start(client, lead, app, code="PNV")
    full = record(client, lead, visit["id"])

    def progress():
        with app.app_context():
            s = results.summary(db.session.get(Inspection, visit["id"]))
            return s["answered"], s["total"]

    assert progress() == (0, 7 + 8)  # the 7 unit items and the 8 people
    body = {
        "version": 1,
        "people": [{"person_id": full["people"][0]["person_id"], "attendance": "present"}],
    }
    saved = save(client, lead, visit["id"], body)
    assert progress() == (0, 7 + 8)  # present, but the checks are not answered yet
    codes = ["UNI-DRESS", "UNI-SHOES", "BADGE-WORN", "BADGE-VALID"]
    body = {
        "version": saved.json["version"],
        "people": [
            {
                "person_id": full["people"][0]["person_id"],
                "items": [{"code": c, "outcome": "pass"} for c in codes],
            },
            {"person_id": full["people"][1]["person_id"], "attendance": "on_duty"},
        ],
    }
    assert save(client, lead, visit["id"], body).status_code == 200
    assert progress() == (2, 7 + 8)


def test_a_visit_keeps_the_versions_it_started_with(client, lead, app):
    visit = start(client, lead, app, code="TTHCC")
    with app.app_context():
        template = checklist.template_by_code("MOT-CUA")
        checklist.revise(
            SYSTEM,
            template,
            item={
                "code": "OSS-WAIT",
                "category": "one_stop",
                "scope": "unit",
                "label_vi": "Có ghế chờ cho người dân",
                "label_en": "Seats for waiting citizens",
            },
        )
        db.session.commit()
    old = visit_checklist(client, lead, visit["id"])
    assert {c["version"] for c in old["checklists"]} == {1} and "OSS-WAIT" not in _codes(old)
    new = start(client, lead, app, code="XHS")
    fresh = visit_checklist(client, lead, new["id"])
    assert [c["version"] for c in fresh["checklists"]] == [1, 2] and "OSS-WAIT" in _codes(fresh)


def test_an_item_code_is_unique_across_checklists(app):
    with app.app_context():
        template = checklist.template_by_code("TRUONG-HOC")
        with pytest.raises(Exception) as refused:
            checklist.revise(
                SYSTEM,
                template,
                item={
                    "code": "SMOKE-SIGN",
                    "category": "smoking",
                    "scope": "unit",
                    "label_vi": "Biển cấm hút thuốc",
                    "label_en": "",
                },
            )
        assert "SMOKE-SIGN" in str(getattr(refused.value, "fields", refused.value))


def test_a_school_visit_counts_and_prints_only_what_it_asked(client, lead, app, auth, tmp_path):
    visit = start(client, lead, app, code="THCSHC")
    asked = visit_checklist(client, lead, visit["id"])
    answers = complete_answers(record(client, lead, visit["id"]), asked)
    for item in answers["unit_items"]:
        if item["code"] == "SCH-DUTY":
            item["text"] = "Ghi chép chưa đầy đủ"
    answers["unit_items"].append({"code": "SCH-DUTY-FIX", "outcome": "fail", "note": "Chưa nhắc"})
    assert save(client, lead, visit["id"], answers).status_code == 200
    for role in ("lead", "unit_rep"):
        assert sign(client, lead, visit["id"], role).status_code == 200
    assert finalize(client, lead, visit["id"]).status_code == 201
    text = " ".join(poppler("pdftotext", pdf_of(client, lead, visit["id"]), tmp_path).split())
    assert "Ghi chép chưa đầy đủ" in text and "Bộ phận một cửa" not in text
    assert "Niêm yết công khai thủ tục hành chính" not in text
    assert "0 tiết" in text  # a number item's answer with its unit
    auth.login("noivu")
    exported = client.get("/office/export/unit_results.csv").get_data(as_text=True)
    codes = {row.split(",")[4] for row in exported.splitlines()[1:]}
    assert codes and not codes & ONE_STOP
    assert {"SCH-DUTY", "SCH-DUTY-FIX", "SCH-COVER"} <= codes


def _sheet(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _versions(template_id) -> int:
    return db.session.scalar(
        select(func.count(ChecklistVersion.id)).filter_by(template_id=template_id)
    )


def test_a_spreadsheet_round_trips_and_an_edit_becomes_the_next_version(app):
    with app.test_request_context():
        for template in checklist.templates():
            version = checklist.latest_version(template)
            report = checklist_sheet.read_sheet(checklist_sheet.export_version(version), template)
            assert report.ok, report.errors
            parsed_items = checklist.normalized(report.items)
            for parsed, item in zip(parsed_items, version.items, strict=True):
                kept = checklist.item_data(item)
                for key in ("code", "label_vi", "answer_type", "applies_to", "ask_when", "choices"):
                    assert parsed[key] == kept[key], (item.code, key)
                assert parsed["number_min"] == kept["number_min"]
                assert parsed["number_unit"] == kept["number_unit"]
        template = checklist.template_by_code("MOT-CUA")
        book = openpyxl.load_workbook(
            io.BytesIO(checklist_sheet.export_version(checklist.latest_version(template)))
        )
        sheet = book.active
        sheet.cell(row=2, column=4).value = "Niêm yết thủ tục, phí, lệ phí và số điện thoại"
        sheet.append(["OSS-SEATS", "Bộ phận một cửa", "Đơn vị", "Có ghế chờ", "", "", "Không"])
        buffer = io.BytesIO()
        book.save(buffer)
        version = checklist_sheet.import_version(SYSTEM, template, buffer.getvalue())
        assert version.number == 2 and version.items[-1].code == "OSS-SEATS"
        assert not version.items[-1].required
        assert version.items[0].label_vi.startswith("Niêm yết thủ tục, phí, lệ phí")


def test_a_spreadsheet_with_problems_lists_every_one_by_row_and_saves_nothing(app):
    header = ["Mã", "Nhóm", "Phạm vi", "Nội dung", "Bắt buộc", "Áp dụng cho", "Hỏi khi",
              "Kiểu trả lời", "Giá trị"]  # fmt: skip
    rows = [
        header,
        ["A-1", "Thuốc lá", "Đơn vị", "Có biển cấm", "Có", "", "", "Đạt/Vi phạm/KAD", ""],
        ["A-1", "Thuốc lá", "Đơn vị", "Trùng mã", "Có", "", "", "", ""],
        ["A-2", "Mưa", "Đơn vị", "Nhóm lạ", "", "", "", "", ""],
        ["A-3", "Khác", "Cả tỉnh", "Phạm vi lạ", "", "Bệnh viện", "", "", ""],
        ["A-4", "Khác", "Đơn vị", "Hỏi khi sai", "", "", "A-9 = Vi phạm", "", ""],
        ["A-5", "Khác", "Đơn vị", "", "", "", "", "Chọn một", "chỉ một"],
        ["A-6", "Khác", "Từng người", "Số cho người", "", "", "", "Số", "0..5 lần"],
        ["A-7", "Khác", "Đơn vị", "Hỏi khi không thể", "", "", "A-1 = Có", "", ""],
        ["A-8", "Khác", "Đơn vị", "Kiểu lạ", "", "", "", "Ngày", ""],
    ]
    with app.test_request_context():
        template = checklist.template_by_code("TRUONG-HOC")
        before = _versions(template.id)
        with pytest.raises(checklist_sheet.SheetImportError) as refused:
            checklist_sheet.import_version(SYSTEM, template, _sheet(rows))
        # Every problem at once, cell by cell and between items, in its row and column.
        found = {(e.row, e.column) for e in refused.value.report.errors}
        assert found == {
            (3, "Mã"),  # A-1 twice
            (4, "Nhóm"),
            (5, "Phạm vi"),
            (5, "Áp dụng cho"),
            (6, "Hỏi khi"),  # no earlier A-9
            (7, "Nội dung"),
            (7, "Giá trị"),  # a choice of one
            (8, "Kiểu trả lời"),  # a number asked of each person
            (9, "Hỏi khi"),  # A-1 is pass/fail: "Có" is none of its answers
            (10, "Kiểu trả lời"),
        }, refused.value.report.errors
        impossible = next(e for e in refused.value.report.errors if e.row == 9)
        assert impossible.message.endswith("các câu trả lời của nó: Đạt / Vi phạm / KAD.")
        db.session.rollback()
        assert _versions(template.id) == before
        # English headers are read too, and an outcome may be written as the page shows it.
        english = ["Code", "Category", "Scope", "Label", "Required", "Applies to", "Ask when",
                   "Answer type", "Values"]  # fmt: skip
        fixed = [english, rows[1], ["A-2", "Khác", "Đơn vị", "Hỏi sau", "", "", "a-1 = vi pham"]]
        version = checklist_sheet.import_version(SYSTEM, template, _sheet(fixed))
        assert version.items[1].ask_when == "A-1=fail"
        # The same file again changes nothing: refused, not a copy.
        with pytest.raises(checklist_sheet.SheetImportError) as refused:
            checklist_sheet.import_version(SYSTEM, template, _sheet(fixed))
        assert refused.value.report.errors[0].message == (
            "Tệp giống hệt phiên bản 2: không có gì thay đổi."
        )
        not_a_sheet = checklist_sheet.read_sheet(b"PK\x03\x04 not a workbook", template)
        assert not not_a_sheet.ok and not_a_sheet.errors[0].row == 0


def test_the_example_sheet_in_the_repository_imports(app):
    from pathlib import Path

    data = (Path(__file__).parent.parent / "examples" / "checklist-mot-cua.xlsx").read_bytes()
    with app.test_request_context():
        report = checklist_sheet.read_sheet(data, checklist.template_by_code("MOT-CUA"))
        assert report.ok, report.errors
        assert {i["code"] for i in report.items} == ONE_STOP


def test_a_retired_checklist_is_asked_on_no_new_visit(client, lead, app):
    with app.app_context():
        template = checklist.template_by_code("MOT-CUA")
        checklist.save_template(
            SYSTEM, template, name=template.name, name_en="", applies_to="one_stop", active=False
        )
        db.session.commit()
    assert not _codes(_offered(client, lead, app, "TTHCC").json) & ONE_STOP
    started = start(client, lead, app, code="TTHCC")
    assert not _codes(visit_checklist(client, lead, started["id"])) & ONE_STOP
