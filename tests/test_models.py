"""Database constraints hold, and the migrations build exactly the models' schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from inspection.extensions import db
from inspection.models import (
    Base,
    Minutes,
    Role,
    TeamMember,
    TeamRole,
    User,
)
from inspection.services import accounts
from tests import factories


def test_migrations_match_models(ctx):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def _fails(statement_or_callable):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        if callable(statement_or_callable):
            statement_or_callable()
        else:
            db.session.execute(text(statement_or_callable))
        db.session.flush()


def test_unit_code_is_unique(ctx):
    factories.unit(code="DUP")
    _fails(lambda: factories.unit(code="DUP"))


def test_unit_account_needs_a_unit_and_others_must_not_have_one(ctx):
    unit = factories.unit()
    _fails(lambda: factories.user(Role.UNIT))
    _fails(lambda: factories.user(Role.INSPECTOR, unit=unit))
    assert factories.user(Role.UNIT, unit=unit).unit_id == unit.id


def test_badge_number_unique_within_a_unit_only(ctx):
    a, b = factories.unit(), factories.unit()
    factories.staff(a, badge_no="B-1")
    factories.staff(b, badge_no="B-1")
    factories.staff(a, badge_no=None)
    factories.staff(a, badge_no=None)
    _fails(lambda: factories.staff(a, badge_no="B-1"))


def test_enum_columns_are_checked_by_the_database(ctx):
    _fails("UPDATE unit SET kind = 'castle' WHERE id = (SELECT min(id) FROM unit)")
    _fails('UPDATE "user" SET role = \'root\' WHERE id = (SELECT min(id) FROM "user")')


def test_foreign_keys_are_enforced(ctx):
    _fails(
        "INSERT INTO staff_member (unit_id, full_name, position, category, active, created_at)"
        " VALUES (999999, 'X', '', 'can_bo', TRUE, CURRENT_TIMESTAMP)"
    )


def test_one_client_id_per_creator_and_one_lead_per_visit(ctx):
    unit = factories.unit()
    lead = factories.demo_user("truongdoan")
    visit = factories.inspection(unit, lead, client_id="abc")
    _fails(lambda: factories.inspection(unit, lead, client_id="abc"))
    other = factories.demo_user("thanhvien")
    factories.inspection(unit, other, client_id="abc")  # another user's key may repeat

    def second_lead():
        db.session.add(TeamMember(inspection_id=visit.id, user_id=other.id, role=TeamRole.LEAD))

    _fails(second_lead)
    db.session.add(TeamMember(inspection_id=visit.id, user_id=other.id, role=TeamRole.MEMBER))
    db.session.flush()


def test_inspection_version_is_an_optimistic_lock(ctx):
    visit = factories.inspection(factories.unit(), factories.demo_user("truongdoan"))
    db.session.commit()
    assert visit.version == 1
    visit.findings = "Có người hút thuốc"
    db.session.commit()
    assert visit.version == 2
    # Someone else saved version 3 meanwhile: a save based on version 2 must fail.
    db.session.execute(text("UPDATE inspection SET version = 3 WHERE id = :id"), {"id": visit.id})
    visit.findings = "stale"
    from sqlalchemy.orm.exc import StaleDataError

    with pytest.raises(StaleDataError):
        db.session.commit()


def test_minutes_numbers_unique_per_body_and_year(ctx):
    visit = factories.inspection(factories.unit(), factories.demo_user("truongdoan"))
    db.session.execute(
        text(
            "INSERT INTO blob (sha256, content_type, size, data, created_at)"
            " VALUES ('ab', 'application/pdf', 1, :data, CURRENT_TIMESTAMP)"
        ),
        {"data": b"\x00"},
    )

    def minutes(number, year, code):
        db.session.add(
            Minutes(
                inspection_id=visit.id,
                number=number,
                year=year,
                issuing_abbr="ĐKT",
                verify_code=code,
                pdf_sha256="ab",
                created_by_id=visit.created_by_id,
            )
        )

    minutes(7, 2018, "c1")
    minutes(7, 2019, "c2")
    db.session.flush()
    _fails(lambda: minutes(7, 2018, "c3"))


def test_passwords_are_stored_as_argon2(ctx):
    user = factories.demo_user("admin")
    assert user.password_hash.startswith("$argon2id$")
    assert accounts.check_password(user, "kiemtra2018")
    assert not accounts.check_password(user, "kiemtra2019")


def test_user_session_id_carries_the_epoch(ctx):
    user = db.session.get(User, factories.demo_user("admin").id)
    assert user.get_id() == f"{user.id}:0"
