"""Flask extensions: created here, bound to the app in ``create_app``."""

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

from inspection.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
compress = Compress()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, record) -> None:
    """Turn on foreign keys and WAL for every SQLite connection.

    synchronous=FULL: an answer the server acknowledged survives a power cut.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLAlchemy emits BEGIN itself (see _sqlite_begin); pysqlite must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        path = {name: file for _, name, file in cursor.execute("PRAGMA database_list")}["main"]
        record.info["writers_queue"] = f"{path}-writers" if path else None
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Connection) -> None:
    """Begin SQLite transactions that may write with BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails with "database is locked"
    when another writer committed in between; taking the write lock up front makes
    concurrent saves wait their turn instead. Reads stay deferred, and so do the requests
    of views marked ``writes_late`` until their first write (``_late_write``).
    """
    if connection.dialect.name != "sqlite":
        return
    if has_request_context() and request.method in ("GET", "HEAD", "OPTIONS"):
        connection.exec_driver_sql("BEGIN")
    elif has_request_context() and (g.get("sqlite_reading") or _late()):
        connection.exec_driver_sql("BEGIN")
        connection.info["late"] = True
    else:
        _begin_immediate(connection)


def _late() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "writes_late", False)


def writes_late(view):
    """Mark a view whose request, on SQLite, reads without the database's one write lock
    and takes it at its first write: the lock is held for the writes alone, not for the
    whole request (the save of an answer, the API's most frequent request).

    What it read may then be older than what it writes over, as on PostgreSQL: the view's
    writes must be guarded by a version (the visit's ``version``, checked by the UPDATE)."""
    view.writes_late = True
    return view


@event.listens_for(Engine, "before_cursor_execute")
def _late_write(connection, _cursor, _statement, _parameters, context, _executemany) -> None:
    """The first write of a ``writes_late`` request: end its read transaction and take the
    write lock (a deferred transaction that read cannot take it once another committed)."""
    if not connection.info.get("late") or context is None:
        return
    if context.isinsert or context.isupdate or context.isdelete:
        if connection.in_nested_transaction():  # its COMMIT would end the savepoint too
            raise RuntimeError("a writes_late request must not first write in a savepoint")
        del connection.info["late"]
        # Under SQLAlchemy's transaction, which goes on: its COMMIT ends the new one.
        connection.connection.dbapi_connection.execute("COMMIT")
        _begin_immediate(connection, raw=True)


def _begin_immediate(connection: Connection, raw: bool = False) -> None:
    if has_request_context():
        _queue(connection.info)
    try:
        if raw:  # inside a statement's execution: not through SQLAlchemy again
            connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    except Exception:
        _leave(connection.info)
        raise


# The threads whose request holds its place at the head of the writers' queue.
_writing: set[int] = set()


def _queue(info: dict) -> None:
    """Wait for this request's turn to write, in the operating system's lock queue.

    SQLite's own wait (busy_timeout) polls, sleeping up to 100 ms between tries, and lets
    a newcomer overtake: under a campaign's load a few saves waited most of a second. A
    blocking flock() on a file beside the database wakes the next waiter as soon as the
    lock is let go. Only requests queue (gunicorn's timeout bounds them; a killed process
    lets go with its files); commands and the worker rely on busy_timeout alone, and BEGIN
    IMMEDIATE stays the lock that counts."""
    path, me = info.get("writers_queue"), threading.get_ident()
    if not path or me in _writing:  # in memory, or already holding it on another connection
        return
    if "writers_file" not in info:  # closed (letting go) when the connection's info is dropped
        info["writers_file"] = open(path, "ab", opener=_private)  # noqa: SIM115
    fcntl.flock(info["writers_file"], fcntl.LOCK_EX)
    info["writer"] = me
    _writing.add(me)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _leave(info: dict) -> None:
    info.pop("late", None)
    holder = info.pop("writer", None)
    if holder is not None:
        _writing.discard(holder)
        fcntl.flock(info["writers_file"], fcntl.LOCK_UN)


@event.listens_for(Pool, "checkin")
def _checked_in(_dbapi_connection, record) -> None:
    """After the commit or rollback (the session gives its connection back then)."""
    if record is not None:
        _leave(record.info)


@event.listens_for(Pool, "invalidate")
def _invalidated(_dbapi_connection, record, _exception) -> None:
    _leave(record.info)


def release_write_lock() -> None:
    """Before slow work that writes nothing (re-encoding a photo, rendering minutes): on
    SQLite, end the transaction, whose BEGIN IMMEDIATE holds the database's one write
    lock, so other requests' saves do not wait meanwhile. Anything read reloads when
    next used. On PostgreSQL, whose locks are per row, nothing changes."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()


@contextmanager
def reading_only() -> Iterator[None]:
    """Run slow work that only reads (rendering and signing minutes) without SQLite's
    write lock: the transaction is ended before (letting the lock go), what runs inside
    reads in a deferred one, and that ends on leaving, so what follows takes the lock
    again and reads afresh (everything read before reloads). A write inside takes the lock
    as a ``writes_late`` request's does. On PostgreSQL, whose locks are per row, nothing
    changes."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    db.session.commit()
    g.sqlite_reading = True
    try:
        yield
    finally:
        g.pop("sqlite_reading", None)
    db.session.commit()


def init_app(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
