"""The administrator adds units and staff, manages accounts, settings and the checklist."""

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    ChecklistVersion,
    OrgSettings,
    Role,
    StaffMember,
    Unit,
    User,
)
from inspection.services import checklist


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_admin_adds_a_unit_and_a_staff_member(admin, app):
    response = admin.post(
        "/admin/units/new",
        data={
            "code": "xbh",
            "name": "Ủy ban nhân dân xã Bá Hiến",
            "kind": "commune",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(code="XBH"))
        assert unit.name == "Ủy ban nhân dân xã Bá Hiến"
    response = admin.post(
        f"/admin/units/{unit.id}/staff/new",
        data={
            "full_name": "Đặng Thị Huyền",
            "position": "Công chức Tư pháp - Hộ tịch",
            "category": "cong_chuc",
            "badge_no": "XBH-001",
            "active": "y",
        },
    )
    assert response.status_code == 302
    page = admin.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    assert "Đặng Thị Huyền" in page and "XBH-001" in page


def test_duplicate_unit_code_is_refused_and_the_form_keeps_what_was_typed(admin, app):
    response = admin.post(
        "/admin/units/new",
        data={"code": "PNV", "name": "Tên mới gõ dở", "kind": "department", "address": "Số 5"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Mã này đã được dùng." in page
    assert "Tên mới gõ dở" in page and "Số 5" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Unit.code == "PNV")) == 1


def test_invalid_unit_kind_is_a_form_error(admin):
    response = admin.post("/admin/units/new", data={"code": "X1", "name": "X", "kind": "castle"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_duplicate_badge_in_a_unit_is_refused(admin, app):
    with app.app_context():
        person = db.session.scalar(select(StaffMember).where(StaffMember.badge_no == "PNV-002"))
        unit_id = person.unit_id
    response = admin.post(
        f"/admin/units/{unit_id}/staff/new",
        data={"full_name": "Người Mới", "category": "cong_chuc", "badge_no": "PNV-002"},
    )
    assert "Một người khác trong đơn vị đã có số thẻ này." in response.get_data(as_text=True)


def test_admin_creates_a_unit_account_that_must_name_its_unit(admin, app):
    data = {
        "username": "donvi3",
        "full_name": "Bùi Văn Long",
        "role": "unit",
        "unit_id": "0",
        "password": "matkhau-2026x",
        "active": "y",
    }
    response = admin.post("/admin/users/new", data=data)
    assert "Tài khoản đơn vị phải gắn với một đơn vị." in response.get_data(as_text=True)
    with app.app_context():
        unit_id = db.session.scalar(select(Unit.id).filter_by(code="XTH"))
    response = admin.post("/admin/users/new", data={**data, "unit_id": str(unit_id)})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="donvi3"))
        assert user.role is Role.UNIT and user.unit_id == unit_id


def test_new_account_password_must_meet_the_policy(admin):
    response = admin.post(
        "/admin/users/new",
        data={"username": "moi", "full_name": "A", "role": "inspector", "password": "abc"},
    )
    assert "Ít nhất 10 ký tự." in response.get_data(as_text=True)


def test_disabling_an_account_logs_it_out(admin, app):
    other = app.test_client()
    other.post("/login", data={"username": "thanhvien", "password": "kiemtra2018"})
    assert other.get("/inspector/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="thanhvien"))
    admin.post(
        f"/admin/users/{user.id}/edit",
        data={
            "username": "thanhvien",
            "full_name": user.full_name,
            "role": "inspector",
            "unit_id": "0",
        },  # "active" unticked
    )
    assert other.get("/inspector/").status_code == 302


def test_organisation_settings_are_editable(admin, app):
    data = {
        "org_name": "Sở Nội vụ tỉnh Phú Thọ",
        "parent_body": "UBND TỈNH PHÚ THỌ",
        "issuing_body": "ĐOÀN KIỂM TRA CÔNG VỤ",
        "issuing_abbr": "ĐKTCV",
        "office_name": "Sở Nội vụ",
        "place_name": "Phú Thọ",
        "legal_basis": "Quyết định số 1/QĐ-SNV",
    }
    assert admin.post("/admin/settings", data=data).status_code == 302
    with app.app_context():
        settings = db.session.get(OrgSettings, 1)
        assert (settings.parent_body, settings.issuing_abbr, settings.place_name) == (
            "UBND TỈNH PHÚ THỌ",
            "ĐKTCV",
            "Phú Thọ",
        )
    bad = admin.post("/admin/settings", data={**data, "issuing_abbr": "BB/X"})
    assert bad.status_code == 200


def _versions(app):
    """The general template's versions."""
    with app.app_context():
        general = checklist.default_template()
        return db.session.scalar(
            select(func.count(ChecklistVersion.id)).filter_by(template_id=general.id)
        )


def test_editing_the_checklist_creates_a_new_version_and_keeps_the_old(admin, app):
    assert _versions(app) == 1
    with app.app_context():
        old = checklist.current_version()
        old_id, old_label = old.id, next(i for i in old.items if i.code == "SMOKE-SIGN").label_vi
    page = admin.get("/admin/checklists/1/items/SMOKE-SIGN/edit").get_data(as_text=True)
    assert old_label.replace('"', "&#34;") in page
    response = admin.post(
        "/admin/checklists/1/items/SMOKE-SIGN/edit",
        data={
            "code": "SMOKE-SIGN",
            "category": "smoking",
            "scope": "unit",
            "label_vi": "Có biển cấm hút thuốc lá tại mọi tầng",
            "label_en": "No-smoking signs on every floor",
            "legal_basis": "Thông tư 11/2023/TT-BYT",
            "required": "y",
            "note": "Theo TT 11",
        },
    )
    assert response.status_code == 302
    assert _versions(app) == 2
    with app.app_context():
        new = checklist.current_version()
        assert new.number == 2 and new.id != old_id
        item = next(i for i in new.items if i.code == "SMOKE-SIGN")
        assert item.label_vi == "Có biển cấm hút thuốc lá tại mọi tầng"
        assert [i.code for i in new.items] == [
            i.code for i in db.session.get(ChecklistVersion, old_id).items
        ]
        assert (
            next(
                i for i in db.session.get(ChecklistVersion, old_id).items if i.code == "SMOKE-SIGN"
            ).label_vi
            == old_label
        )
    assert "Phiên bản 2" in admin.get("/admin/checklists/1").get_data(as_text=True)
    assert "phiên bản cũ" in admin.get("/admin/checklists/1/v1").get_data(as_text=True)


def test_adding_moving_and_removing_items(admin, app):
    admin.post(
        "/admin/checklists/1/items/new",
        data={
            "code": "HOURS-POSTED",
            "category": "premises",
            "scope": "unit",
            "label_vi": "Niêm yết giờ làm việc",
            "label_en": "Working hours posted",
            "position": "1",
            "required": "y",
        },
    )
    with app.app_context():
        assert checklist.current_version().items[0].code == "HOURS-POSTED"
    duplicate = admin.post(
        "/admin/checklists/1/items/new",
        data={
            "code": "ATTITUDE",
            "category": "attitude",
            "scope": "unit",
            "label_vi": "x",
            "label_en": "x",
        },
    )
    assert "Mã này đã được dùng." in duplicate.get_data(as_text=True)
    admin.post("/admin/checklists/1/items/ALC-RULE/remove")
    with app.app_context():
        version = checklist.current_version()
        assert version.number == 3
        assert "ALC-RULE" not in [i.code for i in version.items]


def test_unit_accounts_are_labelled_as_units_not_as_a_checklist_scope(client, auth):
    """Role.UNIT and ItemScope.UNIT share the value "unit": each keeps its own label."""
    auth.login("admin")
    page = client.get("/admin/users").text
    assert "donvi1 · Đơn vị được kiểm tra" in page and "Một lần mỗi cuộc" not in page


def test_a_condition_is_written_as_the_page_shows_answers(admin, app):
    """Issue 17: "OSS-OVERDUE = Vi phạm" in the item form, as in the spreadsheet; the form
    shows a stored condition the same way."""
    page = admin.get("/admin/checklists/2/items/OSS-APOLOGY/edit").get_data(as_text=True)
    assert 'value="OSS-OVERDUE = Vi phạm"' in page
    saved = admin.post(
        "/admin/checklists/2/items/new",
        data={
            "code": "OSS-CALL",
            "category": "one_stop",
            "scope": "unit",
            "label_vi": "Đã gọi điện báo người dân về hồ sơ trễ hạn",
            "answer_type": "outcome",
            "ask_when": "oss-overdue = vi phạm | KAD",
            "required": "y",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with app.app_context():
        version = checklist.latest_version(checklist.template_by_code("MOT-CUA"))
        assert version.items[-1].ask_when == "OSS-OVERDUE=fail|na"
    refused = admin.post(
        "/admin/checklists/2/items/new",
        data={
            "code": "OSS-BAD",
            "category": "one_stop",
            "scope": "unit",
            "label_vi": "Sai",
            "answer_type": "outcome",
            "ask_when": "OSS-OVERDUE = Có",
        },
    )
    assert "các câu trả lời của nó: Đạt / Vi phạm / KAD" in refused.get_data(as_text=True)


def test_an_account_has_an_email_address(admin, app):
    """Issue 18: where an account is told what needs it; checked, shown, in the API."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="donvi1"))
        assert user.email == "donvi1@binhxuyen.example"  # the demo's, an RFC 2606 name
        user_id = user.id
    form = {
        "username": "donvi1",
        "full_name": "Đỗ Quang Minh",
        "role": "unit",
        "unit_id": str(user.unit_id),
        "active": "y",
    }
    refused = admin.post(f"/admin/users/{user_id}/edit", data={**form, "email": "không-phải@"})
    assert "Nhập địa chỉ thư điện tử" in refused.get_data(as_text=True)
    saved = admin.post(
        f"/admin/users/{user_id}/edit", data={**form, "email": " Minh.Do@TTHCC.BinhXuyen.Example "}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).email == "Minh.Do@tthcc.binhxuyen.example"
    api = app.test_client()  # no session: the token alone
    token = api.post("/api/v1/tokens", json={"username": "donvi1", "password": "kiemtra2018"}).json[
        "token"
    ]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["email"] == "Minh.Do@tthcc.binhxuyen.example"
