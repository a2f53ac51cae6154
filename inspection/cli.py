"""Flask commands: ``flask --app app <command>``."""

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.models import Minutes, Role, Unit, User
from inspection.pdf import signing
from inspection.services import accounts, backups, demo, demo_history, notifications, org
from inspection.services import minutes as minutes_service
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
@click.option(
    "--history/--no-history",
    default=True,
    help="Also issue the 2018 visits (needs the signing certificate: make-cert).",
)
def seed_demo(if_empty: bool, history: bool) -> None:
    """Create the demo organisation of the Bình Xuyên story (safe to run twice)."""
    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("Database already has users; demo data not added.")
        return
    created = demo.seed()
    db.session.commit()
    click.echo("Demo data: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
    if history:
        signer = signing.configured_signer(current_app.config)
        port = os.environ.get("PORT", "5000")  # make run's port, printed on the minutes
        base_url = current_app.config.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}"
        issued = demo_history.seed_history(signer=signer, base_url=base_url)
        db.session.commit()
        click.echo(f"Demo history of {demo_history.YEAR}: {issued} minutes issued.")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", help="Unit code, for role 'unit'.")
@click.option("--email", default="", help="Where the account is told what needs it.")
@click.password_option()
def create_user(
    username: str, full_name: str, role: str, unit_code: str | None, email: str, password: str
):
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
            email=email,
        )
    except ServiceError as exc:
        raise click.ClickException(
            f"{exc.message} " + "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        ) from exc
    db.session.commit()
    click.echo(f"Created {role} account {username}.")


@click.command("make-cert")
@click.option("--if-missing", is_flag=True, help="Do nothing when the certificate exists.")
@with_appcontext
def make_cert(if_missing: bool) -> None:
    """Create a self-signed certificate for signing minutes (development and demos only)."""
    path = Path(current_app.config["SIGNING_P12_PATH"])
    if if_missing and path.exists():
        click.echo(f"Signing certificate present: {path}")
        return
    if if_missing and current_app.config.get("SIGNING_PKCS11_MODULE"):
        click.echo("Signing on the PKCS#11 token (SIGNING_PKCS11_MODULE): no file made.")
        return
    passphrase = current_app.config.get("SIGNING_P12_PASSPHRASE")
    if passphrase is None:
        passphrase = secrets.token_urlsafe(24)
        signing.passphrase_file(str(path)).write_text(passphrase)
        signing.passphrase_file(str(path)).chmod(0o600)
    settings = org.get_settings()
    organisation = settings.org_name if settings else "Kiểm tra công vụ"
    common_name = settings.issuing_body if settings else "Đoàn kiểm tra công vụ"
    signing.make_certificate(path, passphrase.encode(), organisation, common_name)
    click.echo(f"Self-signed signing certificate written to {path} (not for production).")


def _summary(counts: dict[str, int]) -> str:
    return f"{len(counts)} tables, {sum(counts.values()):,} rows"


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the whole database (blobs included) to PATH."""
    try:
        counts = backups.backup(path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {path}: {_summary(counts)}, {path.stat().st_size:,} bytes.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup at PATH (stop the app first)."""
    if not yes:
        click.confirm(
            f"Replace every row of {db.engine.url.render_as_string()} with {path}?", abort=True
        )
    try:
        counts = backups.restore(path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored from {path}: {_summary(counts)}.")


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads sending messages.")
def worker_command(workers: int) -> None:
    """Run the job queue's worker: messages after each commit, and the minute's sweep."""
    from flask import current_app

    from inspection import queue

    click.echo("Worker started: messages go out as they are queued (Ctrl+C stops).")
    queue.consumer(current_app._get_current_object(), workers).run()


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send what waits in the outbox and is due (by SMTP, or to instance/mail/)."""
    sent = notifications.sweep()
    click.echo(f"{sent} messages sent.")


@click.command("send-reminders")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Remind as if it were this day (the schedule uses today).",
)
@with_appcontext
def send_reminders_command(today) -> None:
    """Queue the reminders the hourly schedule would: deadlines in 3 days, and passed."""
    made = notifications.remind(today.date() if today else None)
    db.session.commit()
    click.echo(f"{made} reminders queued.")


@click.group("minutes")
def minutes_group() -> None:
    """Issued minutes: keeping their signatures verifiable for the long term."""


@minutes_group.command("extend-ltv")
@click.option(
    "--days",
    default=180,
    show_default=True,
    help="Extend files whose last timestamp's certificate ends within this many days.",
)
@click.option("--dry-run", is_flag=True, help="List what would be extended; change nothing.")
@with_appcontext
def extend_ltv_command(days: int, dry_run: bool) -> None:
    """Re-timestamp stored minutes before their last timestamp's certificate expires.

    Each file gets the validation data of its last timestamp and a new document timestamp
    from SIGNING_TSA_URL, appended as an incremental update (B-LTA). The signed bytes are
    never rewritten; every earlier file stays stored and verifiable. The worker does this
    every night; this command does it by hand.
    """
    config = current_app.config
    options = signing.Options.of(config)
    if not options.tsa_url and not dry_run:
        raise click.ClickException("Set SIGNING_TSA_URL: extending needs a time-stamping service.")
    total = db.session.scalar(select(func.count(Minutes.id)))
    done = failed = 0
    for step in minutes_service.extend_due(
        SYSTEM, days=days, options=options, trusted=signing.trust_for_extension(config),
        dry_run=dry_run,
    ):  # fmt: skip
        name = f"{step.minutes.display_number} ({step.minutes.year})"
        if step.error:
            failed += 1
            cause = "as above" if step.again else step.error  # the cause is said once
            click.echo(f"{name}: NOT extended: {cause}", err=True)
            continue
        done += 1
        if step.added is None:
            valid = step.until.date().isoformat() if step.until else "-"
            click.echo(f"{name}: {step.level}, last timestamp valid until {valid}: due")
        else:
            click.echo(
                f"{name}: {step.level} -> {step.added.level}, new timestamp valid"
                f" until {step.added.timestamp_until.date().isoformat()}"
            )
    verb = "due" if dry_run else "extended"
    good = total - done - failed
    click.echo(f"{done} minutes {verb}, {failed} failed, {good} not due within {days} days.")
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    commands = (
        init_db,
        seed_demo,
        create_user,
        make_cert,
        backup_command,
        restore_command,
        send_mail_command,
        send_reminders_command,
        worker_command,
        minutes_group,
    )
    for command in commands:
        app.cli.add_command(command)
