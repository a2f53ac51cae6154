"""Flask commands: ``flask --app app <command>``."""

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Role, Unit, User
from inspection.services import accounts, demo
from inspection.services.audit import SYSTEM
from inspection.services.errors import ServiceError


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema by applying every migration."""
    upgrade()
    click.echo("Database is at the latest migration.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
def seed_demo(if_empty: bool) -> None:
    """Create the demo organisation of the Bình Xuyên story (safe to run twice)."""
    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("Database already has users; demo data not added.")
        return
    created = demo.seed()
    db.session.commit()
    click.echo("Demo data: " + ", ".join(f"{k} +{v}" for k, v in created.items()))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", help="Unit code, for role 'unit'.")
@click.password_option()
def create_user(username: str, full_name: str, role: str, unit_code: str | None, password: str):
    """Create an account (the first administrator of a new organisation, for example)."""
    unit_id = None
    if unit_code:
        unit = db.session.scalar(select(Unit).filter_by(code=unit_code.upper()))
        if unit is None:
            raise click.ClickException(f"No unit with code {unit_code}.")
        unit_id = unit.id
    try:
        accounts.create_user(
            SYSTEM,
            username=username,
            full_name=full_name,
            password=password,
            role=Role(role),
            unit_id=unit_id,
        )
    except ServiceError as exc:
        raise click.ClickException(
            f"{exc.message} " + "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        ) from exc
    db.session.commit()
    click.echo(f"Created {role} account {username}.")


def init_app(app: Flask) -> None:
    for command in (init_db, seed_demo, create_user):
        app.cli.add_command(command)
