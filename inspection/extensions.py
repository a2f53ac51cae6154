"""Flask extensions: created here, bound to the app in ``create_app``."""

import sqlite3

from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from inspection.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
compress = Compress()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
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
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """Begin SQLite transactions that may write with BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails with "database is locked"
    when another writer committed in between; taking the write lock up front makes
    concurrent saves wait their turn (busy_timeout) instead. Reads stay deferred.
    """
    if connection.dialect.name != "sqlite":
        return
    read_only = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def release_write_lock() -> None:
    """Before slow work that writes nothing (re-encoding a photo, rendering minutes): on
    SQLite, end the transaction, whose BEGIN IMMEDIATE holds the database's one write
    lock, so other requests' saves do not wait meanwhile. Anything read reloads when
    next used. On PostgreSQL, whose locks are per row, nothing changes."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.commit()


def init_app(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
