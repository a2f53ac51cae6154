"""The demo organisation: complete, realistic and safe to seed twice."""

from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import (
    ChecklistItem,
    ItemScope,
    OrgSettings,
    Role,
    StaffMember,
    Unit,
    UnitKind,
    User,
)
from inspection.services import checklist, demo


def _counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (OrgSettings, Unit, StaffMember, User, ChecklistItem)
    }


def test_seed_twice_changes_nothing(ctx):
    before = _counts()
    assert demo.seed() == {"settings": 0, "units": 0, "staff": 0, "users": 0, "checklists": 0}
    assert _counts() == before


def test_seed_command_only_if_empty(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not added" in result.output


def test_seed_command_on_an_empty_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert "users +7" in result.output, result.output


def test_demo_organisation_tells_the_binh_xuyen_story(ctx):
    settings = db.session.get(OrgSettings, 1)
    assert settings.parent_body == "UBND HUYỆN BÌNH XUYÊN"
    assert settings.issuing_body == "ĐOÀN KIỂM TRA CÔNG VỤ"
    assert settings.issuing_abbr == "ĐKT"
    assert settings.place_name == "Bình Xuyên"


def test_units_cover_the_kinds_with_realistic_rosters(ctx):
    units = db.session.scalars(select(Unit)).all()
    assert len(units) >= 10
    kinds = {u.kind for u in units}
    assert {
        UnitKind.DEPARTMENT,
        UnitKind.ADMIN_CENTRE,
        UnitKind.COMMUNE,
        UnitKind.TOWN,
        UnitKind.SCHOOL,
        UnitKind.OTHER,
    } <= kinds
    assert "Trung tâm Hành chính công huyện" in {u.name for u in units}
    for unit in units:
        assert 8 <= len(unit.staff) <= 40, unit.name
        names = [s.full_name for s in unit.staff]
        assert all(len(n.split()) >= 3 for n in names)
    assert any(
        "ư" in s.full_name or "ơ" in s.full_name or "ạ" in s.full_name
        for u in units
        for s in u.staff
    )


def test_demo_accounts(ctx):
    users = {u.username: u for u in db.session.scalars(select(User))}
    expected = {
        "admin": Role.ADMIN,
        "noivu": Role.OFFICE,
        "truongdoan": Role.INSPECTOR,
        "thanhvien": Role.INSPECTOR,
        "thuky": Role.INSPECTOR,
        "donvi1": Role.UNIT,
        "donvi2": Role.UNIT,
    }
    assert {name: users[name].role for name in expected} == expected
    assert users["donvi1"].unit.name == "Trung tâm Hành chính công huyện"
    assert users["donvi2"].unit.kind is UnitKind.COMMUNE


def test_default_checklist_is_domain_md(ctx):
    version = checklist.current_version()
    codes = [i.code for i in version.items]
    assert codes == [
        "ATT-PRESENT",
        "UNI-DRESS",
        "UNI-SHOES",
        "BADGE-WORN",
        "BADGE-VALID",
        "SMOKE-NONE",
        "SMOKE-SIGN",
        "ALC-NONE",
        "ALC-RULE",
        "ADV-NONE",
        "PREM-SIGNS",
        "ATTITUDE",
        "OSS-POSTED",
        "OSS-RECEIPT",
        "OSS-OVERDUE",
    ]
    person = {i.code for i in version.items if i.scope is ItemScope.PERSON}
    assert person == {"ATT-PRESENT", "UNI-DRESS", "UNI-SHOES", "BADGE-WORN", "BADGE-VALID"}
    overdue = version.items[-1]
    assert overdue.number_label_vi and "118/2025" in overdue.legal_basis
