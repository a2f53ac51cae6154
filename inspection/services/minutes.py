"""Issuing minutes (number, render, sign, store, freeze the visit) and reading them."""

import logging
import secrets
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from inspection.extensions import db, reading_only
from inspection.i18n import LOCAL_TZ
from inspection.models import (
    Inspection,
    InspectionStatus,
    Minutes,
    MinutesFile,
    User,
    utcnow,
)
from inspection.pdf import render, signing
from inspection.services import (
    audit,
    blobs,
    document,
    notifications,
    numbering,
    org,
    policy,
    results,
    signatures,
    stats,
    visits,
)
from inspection.services.errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)


# ---- finalizing ----


# What a verification code is written with: letters and digits a reader cannot confuse
# (no 0/O, 1/i/l/I), and nothing a line may break at or a reader may take for code.
VERIFY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def new_verify_code() -> str:
    """12 characters, about 69 bits: printed on the minutes, typed or scanned to check them."""
    return "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(12))


# How many times a finalize renders again when its number was taken while it rendered.
FINALIZE_ATTEMPTS = 3


@dataclass(frozen=True)
class _Draft:
    """Minutes rendered for a number and a version of the visit, not yet issued."""

    number: int
    year: int
    issuing_abbr: str
    display: str
    code: str
    issued_at: datetime
    visit_version: int
    supersedes: Minutes | None
    html: str
    files: dict  # the stored files the minutes show, read before the render
    place_name: str


def finalize(
    actor: audit.Actor,
    inspection: Inspection,
    *,
    signer,
    base_url: str,
    supersedes: Minutes | None = None,
    locale: str = "vi",
    version: int | None = None,
    issued_at: datetime | None = None,
) -> Minutes:
    """Issue the minutes: number, render, sign, store, and freeze the visit, all or nothing.

    ``version`` is the visit version the phone shows: when the server's differs, the phone
    has not seen everything that would be issued (Conflict). Raises Conflict (409) naming
    what is missing or who must sign again.

    Rendering and signing take about a second. On SQLite the checks, the render and the
    signature run without the write lock (``reading_only``: nothing of the finalize is
    written yet), so that other visits' saves do not wait on it meanwhile; the number is
    then taken, under the lock and on what is stored then, only if it is still the
    next one and the visit has not changed, or the minutes are rendered again (the last
    attempt keeps the lock, so a finalize always ends). On PostgreSQL the counter row
    stays locked instead. The caller commits once; if anything
    here fails, nothing of the finalize is written and the number is not used.
    """
    options = signing.Options.of(current_app.config)
    for attempt in range(1, FINALIZE_ATTEMPTS + 1):
        # The last attempt keeps the lock: it wins.
        with reading_only() if attempt < FINALIZE_ATTEMPTS else nullcontext():
            draft = _draft(inspection, base_url, supersedes, locale, version, issued_at)
            pdf = signing.sign(
                render.html_to_pdf(draft.html, draft.files),
                signer,
                reason=f"Biên bản số {draft.display}",
                location=draft.place_name,
                signing_time=draft.issued_at.replace(microsecond=0),
                options=options,
            )
        if (
            inspection.version == draft.visit_version
            and inspection.status in policy.EDITABLE
            and numbering.take(draft.issuing_abbr, draft.year, draft.number)
        ):
            return _issue(actor, inspection, draft, pdf, options, base_url)
        log.info("minutes %s: the number or the visit changed while rendering", draft.display)
    raise Conflict(str(_l("Other minutes were being issued at the same moment: try again.")))


def _draft(
    inspection: Inspection,
    base_url: str,
    supersedes: Minutes | None,
    locale: str,
    version: int | None,
    issued_at: datetime | None,
) -> _Draft:
    """Check the visit may be issued, and render its minutes with the next number."""
    visits.ensure_editable(inspection)
    if version is not None and version != inspection.version:
        raise results.version_conflict(
            inspection,
            _l(
                "The visit changed since this phone last saw it (version %(current)d):"
                " reload the page and check what will be issued.",
                current=inspection.version,
            ),
        )
    if supersedes is None and inspection.amends_minutes_id is not None:
        supersedes = db.session.get(Minutes, inspection.amends_minutes_id)
    if supersedes is not None and superseded_by(supersedes) is not None:
        raise Conflict(str(_l("These minutes were already superseded.")))
    missing = signatures.missing_for_finalize(inspection, locale)
    if missing:
        raise Conflict(
            str(_l("The minutes cannot be issued yet: %(n)d things are missing.", n=len(missing))),
            missing,
        )
    settings = org.get_settings()
    now = issued_at or utcnow()  # given only when recording history (the demo's 2018)
    year = now.astimezone(LOCAL_TZ).year
    number = numbering.peek(settings.issuing_abbr, year)
    code = new_verify_code()
    display = Minutes.format_number(number, settings.issuing_abbr)
    html = render.render_html(
        document.document_data(
            inspection,
            number=display,
            verify_code=code,
            verify_url=f"{base_url.rstrip('/')}/verify/{code}",
            issued_at=now,
            supersedes=supersedes,
        )
    )
    return _Draft(
        number=number,
        year=year,
        issuing_abbr=settings.issuing_abbr,
        display=display,
        code=code,
        issued_at=now,
        visit_version=inspection.version,
        supersedes=supersedes,
        html=html,
        files=render.files_of(html),
        place_name=settings.place_name,
    )


def _issue(
    actor: audit.Actor,
    inspection: Inspection,
    draft: _Draft,
    pdf: bytes,
    options: signing.Options,
    base_url: str,
) -> Minutes:
    """Store the signed minutes under their number, and freeze the visit."""
    blob = blobs.put(pdf, "application/pdf")
    supersedes, now = draft.supersedes, draft.issued_at
    minutes = Minutes(
        inspection_id=inspection.id,
        number=draft.number,
        year=draft.year,
        issuing_abbr=draft.issuing_abbr,
        verify_code=draft.code,
        pdf_sha256=blob.sha256,
        supersedes_id=supersedes.id if supersedes else None,
        created_at=now,
        created_by_id=actor.user_id,
    )
    db.session.add(minutes)
    # Without a TSA the file is B-B, known without reading it back.
    level = signing.level_of(pdf) if options.tsa_url else signing.Level("B-B", None)
    minutes.files.append(
        MinutesFile(
            sha256=blob.sha256,
            added_at=now,
            level=level.name,
            timestamp_until=level.timestamp_until,
        )
    )
    if supersedes is not None:
        # The replaced visit becomes history: it leaves every figure, list and export.
        supersedes.inspection.superseded_at = now
        stats.forget(supersedes.inspection_id)
    inspection.status = InspectionStatus.FINALIZED
    inspection.ended_at = inspection.ended_at or now
    inspection.finished_at = now
    db.session.flush()
    stats.materialize(inspection.id)
    audit.record(actor, "minutes_issued", minutes, number=draft.display, sha256=blob.sha256)
    # In this transaction: a finalize rolled back tells nobody.
    notifications.minutes_issued(minutes, base_url, supersedes)
    log.info("minutes %s issued for inspection %s", draft.display, inspection.id)
    return minutes


# ---- long-term validation ----


def _bytes(sha256: str) -> bytes:
    stored = blobs.read(sha256)
    if stored is None:
        raise NotFound(f"blob {sha256} is missing")
    return stored[0]


def due_for_extension(horizon: datetime) -> list[tuple[Minutes, MinutesFile]]:
    """Minutes, with their current file, whose file has no document timestamp valid past
    ``horizon``: its last timestamp's certificate ends before then, or it has none yet,
    or the file was issued before its level was recorded (migration 0018)."""
    return list(
        db.session.execute(
            select(Minutes, MinutesFile)
            .join(MinutesFile, MinutesFile.sha256 == Minutes.pdf_sha256)
            .where(
                (MinutesFile.level.is_(None))
                | (MinutesFile.level != "B-LTA")
                | (MinutesFile.timestamp_until < horizon)
            )
            .order_by(Minutes.id)
        )
    )


def current_file(minutes: Minutes) -> MinutesFile:
    return db.session.scalar(select(MinutesFile).filter_by(sha256=minutes.pdf_sha256))


def extend(actor: audit.Actor, minutes: Minutes, *, options, trusted) -> MinutesFile:
    """Re-timestamp the minutes' current file (signing.extend) and make the result the
    file served. The earlier files stay stored and verifiable. The caller commits.

    Two runs at once (the worker on two machines, or it and the command) cannot both
    extend the same file: the switch to the new file is a compare-and-set, and the
    second raises Conflict.
    """
    before = minutes.pdf_sha256
    previous = current_file(minutes)
    pdf = signing.extend(_bytes(before), options, trusted)
    level = signing.level_of(pdf)
    if (
        previous is not None
        and previous.level == "B-LTA"
        and previous.timestamp_until is not None
        and level.timestamp_until <= previous.timestamp_until
    ):
        raise TsaNotRenewed(
            str(
                _l(
                    "The time-stamping service still signs with a certificate that ends on"
                    " %(date)s, as the last timestamp's does: a new timestamp would end no"
                    " later, so none was added. Ask the service for its renewed certificate"
                    " or set SIGNING_TSA_URL to another service.",
                    date=previous.timestamp_until.date().isoformat(),
                )
            )
        )
    blob = blobs.put(pdf, "application/pdf")
    switched = db.session.execute(
        update(Minutes)
        .where(Minutes.id == minutes.id, Minutes.pdf_sha256 == before)
        .values(pdf_sha256=blob.sha256)
        .execution_options(synchronize_session=False)
    ).rowcount
    if switched != 1:
        raise Conflict(str(_l("These minutes were extended meanwhile.")))
    db.session.expire(minutes, ["pdf_sha256"])
    added = MinutesFile(
        minutes_id=minutes.id,
        sha256=blob.sha256,
        added_at=utcnow(),
        level=level.name,
        timestamp_until=level.timestamp_until,
    )
    db.session.add(added)
    audit.record(
        actor,
        "minutes_extended",
        minutes,
        number=minutes.display_number,
        sha256=blob.sha256,
        previous_sha256=before,
        level=level.name,
        timestamp_until=added.timestamp_until.isoformat() if added.timestamp_until else "",
    )
    return added


@dataclass
class Extension:
    """One file looked at by extend_due: extended (``added``), failed (``error``), or
    listed only (a dry run). ``level`` and ``until`` are the file's before extending."""

    minutes: Minutes
    level: str
    until: datetime | None
    added: MinutesFile | None = None
    error: str = ""
    again: bool = False  # the same error as the file before (not tried: the TSA's answer)


class TsaNotRenewed(ServiceError):
    """The TSA answers with the certificate the last timestamp already has: a new
    timestamp would end no later, so nothing is added (and no other file will gain)."""

    status = 409
    code = "tsa_not_renewed"


def extend_due(
    actor: audit.Actor, *, days: int, options, trusted, dry_run: bool = False
) -> Iterator[Extension]:
    """Extend every file whose last timestamp ends within ``days`` (or that has none),
    committing each on its own: one that fails leaves the others extended. A dry run
    reads the files and changes nothing."""
    horizon = utcnow() + timedelta(days=days)
    refused = ""  # the TSA still signs with the same certificate: so for every file
    for minutes, before in due_for_extension(horizon):
        level, until = before.level, before.timestamp_until
        if level is None:  # issued before levels were recorded: read it now
            read = signing.level_of(_bytes(before.sha256))
            level, until = read.name, read.timestamp_until
            if not dry_run:
                before.level, before.timestamp_until = level, until
                db.session.commit()
            if level == "B-LTA" and until >= horizon:
                continue
        if dry_run:
            yield Extension(minutes, level, until)
            continue
        if refused:
            yield Extension(minutes, level, until, error=refused, again=True)
            continue
        try:
            added = extend(actor, minutes, options=options, trusted=trusted)
        except TsaNotRenewed as exc:
            db.session.rollback()
            refused = exc.message
            yield Extension(minutes, level, until, error=refused)
            continue
        except (signing.ExtensionFailed, ServiceError) as exc:
            db.session.rollback()
            yield Extension(minutes, level, until, error=str(getattr(exc, "message", exc)))
            continue
        db.session.commit()
        yield Extension(minutes, level, until, added)


# ---- reading ----


def readable(user: User, minutes_id: int) -> Minutes:
    minutes = db.session.get(Minutes, minutes_id)
    if minutes is None or not policy.may_read_minutes(user, minutes.inspection):
        raise NotFound(str(_l("Not found.")))
    return minutes


def current_for(inspection_id: int) -> Minutes | None:
    """Return the visit's minutes in force (the newest; earlier ones are superseded)."""
    return db.session.scalar(
        select(Minutes).filter_by(inspection_id=inspection_id).order_by(Minutes.id.desc()).limit(1)
    )


def superseded_by(minutes: Minutes) -> Minutes | None:
    return db.session.scalar(select(Minutes).filter_by(supersedes_id=minutes.id))


def correction_of(inspection: Inspection) -> Inspection | None:
    """Return the issued correction that replaced this visit's minutes, if any."""
    if inspection.superseded_at is None:
        return None
    return db.session.scalar(
        select(Inspection)
        .join(Minutes, Minutes.id == Inspection.amends_minutes_id)
        .where(Minutes.inspection_id == inspection.id, Inspection.counts)
    )


def replacements(minutes_ids: list[int]) -> dict[int, Minutes]:
    """Return the minutes that replaced each of ``minutes_ids`` (those replaced), in one query."""
    if not minutes_ids:
        return {}
    rows = db.session.scalars(select(Minutes).where(Minutes.supersedes_id.in_(minutes_ids)))
    return {m.supersedes_id: m for m in rows}


def filename(minutes: Minutes) -> str:
    return f"Bien-ban-{minutes.number:02d}-BB-{minutes.year}.pdf"


def by_code(code: str) -> Minutes | None:
    return db.session.scalar(select(Minutes).filter_by(verify_code=code))
