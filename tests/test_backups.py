"""`flask backup` and `flask restore`: back up, destroy, restore, compare every row and blob."""

from sqlalchemy import inspect, text

from inspection.extensions import db
from inspection.models import Base
from tests.test_minutes import finalize, ready_visit
from tests.visit_helpers import jpeg, photo


def _snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, blobs' bytes included."""
    with app.app_context():
        tables = {}
        for name in sorted(inspect(db.engine).get_table_names()):
            rows = db.session.execute(text(f'SELECT * FROM "{name}"')).all()
            values = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
            tables[name] = sorted(values, key=repr)
        db.session.remove()
        return tables


def _destroy(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(text(f'DROP TABLE "{table.name}"'))
                conn.execute(text("DROP TABLE alembic_version"))
        db.engine.dispose()


def test_backup_destroy_restore_gives_back_every_row_and_blob(app, client, token, tmp_path):
    lead = token("truongdoan")
    inspection_id = ready_visit(client, lead, app)
    assert photo(client, lead, inspection_id, jpeg(900, 600)).status_code == 201
    assert finalize(client, lead, inspection_id).status_code == 201
    before = _snapshot(app)
    assert len(before["blob"]) >= 4  # photo, thumbnail, signatures, the signed PDF

    runner = app.test_cli_runner()
    target = tmp_path / "backups" / "inspection.backup"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and target.stat().st_size > 10_000

    _destroy(app)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []

    result = runner.invoke(args=["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    after = _snapshot(app)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name

    # The restored app works: the signed minutes download byte for byte.
    response = client.get(
        f"/api/v1/inspections/{inspection_id}/minutes.pdf",
        headers={"Authorization": f"Bearer {lead}"},
    )
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(app, tmp_path):
    before = _snapshot(app)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    result = app.test_cli_runner().invoke(args=["restore", "--yes", str(bogus)])
    assert result.exit_code != 0 and "not a" in result.output
    assert _snapshot(app) == before
