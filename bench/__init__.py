"""Benchmarks: `make bench` prints a table and writes bench/results.json. Never run in tests."""

from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from app import create_app
from inspection.extensions import db
from inspection.services import demo


def row(figure: str, value: float, baseline=None, budget: str = "-", ok: bool = True) -> dict:
    """One line of the table: the ratio is value / baseline when there is a baseline."""
    return {
        "figure": figure,
        "value": value,
        "baseline": baseline,
        "ratio": value / baseline if baseline else None,
        "budget": budget,
        "pass": bool(ok),
    }


def demo_app(database: Path, **overrides) -> Flask:
    """The app on a new SQLite file at ``database``, migrated and seeded with the demo."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            **overrides,
        }
    )
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()
    return app
