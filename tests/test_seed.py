"""The demo organisation: complete, realistic and safe to seed twice."""

from datetime import date

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


def test_the_demo_checklists_are_domain_md_split_by_unit(ctx):
    """DOMAIN.md's checklist for every unit, its one-stop items for units with a desk, and
    a checklist for schools; the desks are where Bình Xuyên had them."""
    from inspection.models import Unit

    templates = {t.code: t for t in checklist.templates()}
    assert list(templates) == ["CONG-VU", "MOT-CUA", "TRUONG-HOC"]
    general = [i.code for i in checklist.latest_version(templates["CONG-VU"]).items]
    assert general == [
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
    ]
    one_stop = checklist.latest_version(templates["MOT-CUA"]).items
    assert [i.code for i in one_stop][:3] == ["OSS-POSTED", "OSS-RECEIPT", "OSS-OVERDUE"]
    assert {"OSS-ONCE", "OSS-APOLOGY"} <= {i.code for i in one_stop}
    overdue = one_stop[2]
    assert overdue.number_label_vi and "118/2025" in overdue.legal_basis
    assert templates["MOT-CUA"].applies_to == "one_stop"
    assert templates["TRUONG-HOC"].applies_to == "school"
    person = {i.code for i in checklist.current_version().items if i.scope is ItemScope.PERSON}
    assert person == {"ATT-PRESENT", "UNI-DRESS", "UNI-SHOES", "BADGE-WORN", "BADGE-VALID"}
    desks = {u.code for u in db.session.scalars(select(Unit).filter_by(has_one_stop=True))}
    assert desks == {"TTHCC", "XHS", "XTH", "XQL", "TTHC", "TTGK"}


def test_the_demo_history_tells_the_2018_story(app, client, auth, token):
    from inspection.models import Inspection, Minutes, Remediation, RemediationStatus, Signature
    from inspection.pdf import signing
    from inspection.services import demo_history, stats
    from tests.visit_helpers import bearer, signature_data_url

    with app.app_context():
        signer = signing.configured_signer(app.config)
        assert demo_history.seed_history(signer=signer, base_url="http://localhost") == 19
        db.session.commit()
        assert demo_history.seed_history(signer=signer, base_url="http://localhost") == 0
        numbers = [
            m.display_number for m in db.session.scalars(select(Minutes).order_by(Minutes.id))
        ]
        assert numbers == [f"{n:02d}/BB-ĐKT" for n in range(1, 20)]
        assert {m.year for m in db.session.scalars(select(Minutes))} == {2018}
        states = dict(
            db.session.execute(
                select(Remediation.status, func.count()).group_by(Remediation.status)
            ).all()
        )
        assert set(states) == set(RemediationStatus)
        refused = db.session.scalar(
            select(func.count()).select_from(Signature).where(Signature.refused)
        )
        assert refused == 1
        superseded = db.session.scalar(
            select(func.count())
            .select_from(Inspection)
            .where(Inspection.superseded_at.is_not(None))
        )
        assert superseded == 1
        assert stats.latest_year() == 2018
        # Discipline improves: the second half of the year complies more than the first.
        first = stats.compliance(stats.Filters(date(2018, 1, 1), date(2018, 6, 30)))
        second = stats.compliance(stats.Filters(date(2018, 7, 1), date(2018, 12, 31)))

        def rate(figures):
            rows = figures["by_unit"]
            return 1 - sum(r["failed"] for r in rows) / sum(r["checked"] for r in rows)

        assert rate(second) > rate(first)
        one_stop = {r["unit_id"]: r["rate"] for r in stats.one_stop(stats.Filters())}
        tthcc = db.session.scalar(select(Unit.id).filter_by(code="TTHCC"))
        assert one_stop[tthcc] == 97.5  # the latest reading (17/9/2018), the article's figure

    # A 2018 visit corrected today still belongs to 2018: the pages keep opening on it.
    lead = token("truongdoan")
    copy = client.post(
        f"/api/v1/inspections/{_visit_of(app, 'TTHCC', 9)}/amend", headers=bearer(lead)
    ).json
    for role in ("lead", "unit_rep"):
        signed = client.put(
            f"/api/v1/inspections/{copy['id']}/signatures/{role}",
            json={"name": "Nguyễn Văn Hùng", "image": signature_data_url()},
            headers=bearer(lead),
        )
        assert signed.status_code == 200
    assert (
        client.post(f"/api/v1/inspections/{copy['id']}/finalize", headers=bearer(lead)).status_code
        == 201
    )
    auth.login("noivu")
    page = client.get("/office/dashboard").get_data(as_text=True)
    assert 'value="2018-01-01"' in page and "Không có số liệu" not in page
    with app.app_context():  # the article's one-stop figures, on 17/9/2018's visit
        visit = db.session.get(Inspection, _visit_of(app, "TTHCC", 9))
        assert "1.312 hồ sơ" in visit.findings and "97,5%" in visit.findings
        rate = next(r for r in visit.unit_results if r.item.code == "OSS-OVERDUE")
        assert rate.number_value == 97.5


def _visit_of(app, code, month):
    from inspection.models import Inspection

    with app.app_context():
        visits = db.session.scalars(
            select(Inspection).join(Unit).where(Unit.code == code).order_by(Inspection.started_at)
        ).all()
        return next(v.id for v in visits if v.started_at.month == month)
