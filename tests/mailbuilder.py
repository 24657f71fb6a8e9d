"""Build test messages the way mail clients send them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)


def make_mail(
    *,
    sender: str = "Jane Reader <jane@example.net>",
    to: str = "info-en@example.org",
    subject: str = "Error in the article about Ada Lovelace",
    body: str = "Hello, the birth date in the article is wrong.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 21, 12, 0, next(_counter) % 60, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.net")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    # After set_content, which drops the Content-* headers it does not write itself.
    for name, value in (headers or {}).items():
        msg[name] = value
    for filename, ctype, data in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
