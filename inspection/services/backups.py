"""Whole-database backups and restores: every row, blobs included (they live in the DB).

SQLite uses its online backup API, so a backup taken while the app serves requests is a
consistent snapshot. PostgreSQL uses pg_dump's custom format and pg_restore, in one
transaction. A restore replaces the whole database, then brings the schema to the
latest migration, so a backup from an older release restores into a newer one.
"""

import os
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, table

from inspection.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """The backup or restore could not be done; the message says why, plainly."""


def _dialect() -> str:
    return db.engine.dialect.name


def row_counts() -> dict[str, int]:
    """Return rows per table, to report what a backup or restore holds."""
    names = inspect(db.engine).get_table_names()
    return {
        name: db.session.scalar(select(func.count()).select_from(table(name))) for name in names
    }


def _sqlite_path() -> Path:
    return Path(db.engine.url.database)


def _pg_env() -> dict[str, str]:
    """libpq settings for pg_dump/pg_restore (the password stays out of the process list)."""
    url = db.engine.url
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(
            f"{command[0]} is not installed (apt-get install postgresql-client)."
        ) from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def backup(target: Path) -> dict[str, int]:
    """Write a consistent copy of the whole database to ``target``; return rows per table."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    counts = row_counts()
    db.session.remove()
    fd, partial = tempfile.mkstemp(prefix=".backup-", dir=target.parent)
    os.close(fd)
    try:
        if _dialect() == "sqlite":
            source = sqlite3.connect(_sqlite_path())
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("The copy failed SQLite's integrity check.")
            finally:
                copy.close()
                source.close()
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"])
        os.replace(partial, target)  # a backup file is either whole or absent
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return counts


def _check_sqlite_backup(source: Path) -> None:
    with open(source, "rb") as f:
        if f.read(16) != SQLITE_MAGIC:
            raise BackupError("This file is not a SQLite backup of this application.")
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables or "inspection" not in tables:
            raise BackupError("This SQLite file is not a backup of this application.")
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("The backup file is damaged (integrity check failed).")
    finally:
        conn.close()


def restore(source: Path) -> dict[str, int]:
    """Replace the whole database with the backup at ``source``; return rows per table."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    db.session.remove()
    db.engine.dispose()
    if _dialect() == "sqlite":
        _check_sqlite_backup(source)
        backup_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(_sqlite_path())
        try:
            backup_conn.backup(live)  # page by page, under the live database's write lock
        finally:
            live.close()
            backup_conn.close()
    else:
        with open(source, "rb") as f:
            if f.read(5) != b"PGDMP":
                raise BackupError("This file is not a pg_dump backup of this application.")
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={db.engine.url.database}", str(source)])  # fmt: skip
    db.engine.dispose()
    upgrade()
    return row_counts()
