"""Sending one message: over SMTP when SMTP_URL is set, else as an .eml file under
MAIL_DIR, so `make run` shows what would have been sent."""

import os
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from inspection.models import Outbox

# Headers are not folded below RFC 5322's limit of 998: Python's folding of encoded words
# drops the space between two of them ("đã xác" arrived as "đãxác" in a subject).
POLICY = policy.SMTP.clone(max_line_length=998)


class MailError(Exception):
    """The message was not handed over; the outbox tries again later."""


def message_of(row: Outbox, sender: str, host: str = "kiem-tra.local") -> EmailMessage:
    """The outbox row as an email: plain text with an HTML alternative. Its Message-ID
    names the row, so a copy sent again after a crash is recognisably the same."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = row.address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = f"<outbox-{row.id}@{host}>" if row.id else make_msgid()
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def send(message: EmailMessage, config, ident: int) -> None:
    """Hand the message (outbox row ``ident``) over, or raise MailError."""
    url = config.get("SMTP_URL") or ""
    if not url:
        _write(message, Path(config["MAIL_DIR"]), ident)
        return
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError(f"SMTP_URL must be smtp://… or smtps://…, not {parts.scheme}://")
    query = parse_qs(parts.query)
    try:
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                parts.hostname, parts.port or 465, timeout=20, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=20)
        with client:
            if query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc


def _write(message: EmailMessage, folder: Path, ident: int) -> None:
    """Write the message once, named by its row: a second attempt replaces the same file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ident:08d}.eml"
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
