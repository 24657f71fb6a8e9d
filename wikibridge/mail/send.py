"""Outgoing mail: the message for an outbound article, and its delivery over SMTP.

Building is pure (no database, no network), so the message for an article is the same on every
attempt: the same Message-ID and Date, which lets a recipient's mail system recognise a copy
sent twice after a worker died between the SMTP send and marking its job done.

Delivery failures come in two kinds: :class:`TemporarySendError` (try again later: connection
refused, timeouts, 4xx replies, our own TLS or login settings) and :class:`PermanentSendError`
(the server refused the message or every recipient with a 5xx reply: retrying cannot help).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from wikibridge.config import SmtpSettings
from wikibridge.models import Article, utcnow

_LINE_BREAK = re.compile(r"[\r\n]+\s*")
_MESSAGE_ID = re.compile(r"[^<>\s]+@[^<>\s]+")


class SendError(Exception):
    """Delivery failed; `permanent` says whether trying again can help."""

    permanent = False


class TemporarySendError(SendError):
    permanent = False


class PermanentSendError(SendError):
    permanent = True


class HeaderError(PermanentSendError):
    """A header value cannot be sent safely (a line break, a malformed address or id)."""


@dataclass(frozen=True)
class OutgoingFile:
    """A file attached to an outgoing message."""

    filename: str
    content_type: str
    data: bytes


_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def build_message(
    article: Article,
    *,
    sender: str,
    salutation: str = "",
    signature: str = "",
    date: datetime | None = None,
    files: Sequence[OutgoingFile] = (),
) -> EmailMessage:
    """The RFC 5322 message for an outbound article, sent from `sender` ("Name <address>").

    The body is plain text in UTF-8: the salutation, the article's text, the signature (articles
    written by ``queue_outbound`` already contain the queue's, so the worker passes none).
    `files` are attached after the text.
    Free text (the subject) is put on one line; an address or Message-ID with a line break is
    refused, so that nothing a requester wrote can add a header.
    """
    msg = EmailMessage()
    msg["From"] = _single_address(sender, "From")
    to = _address_list(article.to, "To")
    cc = _address_list(article.cc, "Cc")
    if not to and not cc:
        raise HeaderError(f"article {article.id} has no recipient")
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = _one_line(article.subject)
    msg["Date"] = format_datetime(date or article.created_at or utcnow())
    msg["Message-ID"] = _msg_id(article.message_id, "Message-ID")
    in_reply_to = _msg_ids(article.in_reply_to, "In-Reply-To")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to[0]
    references = _msg_ids(article.references, "References")
    if references:
        msg["References"] = " ".join(references)
    if "auto_reply" in (article.flags or []):
        # RFC 3834: other systems must not answer this automatically (no mail loops).
        msg["Auto-Submitted"] = "auto-replied"
    body = compose_body(article.body_text, salutation, signature)
    # 7-bit clean on the wire: not every relay announces 8BITMIME.
    cte = "7bit" if body.isascii() and _short_lines(body) else "quoted-printable"
    msg.set_content(body, charset="utf-8", cte=cte)
    for file in files:
        _attach(msg, file)
    return msg


def _attach(msg: EmailMessage, file: OutgoingFile) -> None:
    content_type = file.content_type.lower().split(";", 1)[0].strip()
    if not _CONTENT_TYPE.fullmatch(content_type) or content_type.startswith(
        ("multipart/", "message/")
    ):
        content_type = "application/octet-stream"
    maintype, subtype = content_type.split("/", 1)
    msg.add_attachment(
        file.data, maintype=maintype, subtype=subtype, filename=_one_line(file.filename)
    )


def compose_body(body: str, salutation: str = "", signature: str = "") -> str:
    parts = [p.strip("\r\n") for p in (salutation, body, signature)]
    text = "\n\n".join(p for p in parts if p.strip())
    return text.replace("\r\n", "\n").replace("\r", "\n") + "\n"


def _short_lines(text: str) -> bool:
    return all(len(line) <= 998 for line in text.split("\n"))


def _one_line(value: str) -> str:
    return _LINE_BREAK.sub(" ", value or "").strip()


def _refuse_line_breaks(value: str, header: str) -> None:
    if "\r" in value or "\n" in value:
        raise HeaderError(f"the {header} header contains a line break: {value!r}")


def _parse_addresses(value: str, header: str) -> list[Address]:
    _refuse_line_breaks(value, header)
    out: list[Address] = []
    for name, addr in getaddresses([value]):
        if not addr and not name:
            continue
        if not addr or addr.count("@") != 1 or any(c in addr for c in '<>,; \t"\\'):
            raise HeaderError(f"the {header} header has an invalid address: {value!r}")
        local, domain = addr.rsplit("@", 1)
        if not local or not domain:
            raise HeaderError(f"the {header} header has an invalid address: {value!r}")
        out.append(Address(display_name=name, username=local, domain=domain))
    return out


def _single_address(value: str, header: str) -> Address:
    addresses = _parse_addresses(value, header)
    if len(addresses) != 1:
        raise HeaderError(f"the {header} header must be one address, not {value!r}")
    return addresses[0]


def _address_list(value: str, header: str) -> tuple[Address, ...]:
    return tuple(_parse_addresses(value or "", header))


def _msg_id(value: str, header: str) -> str:
    _refuse_line_breaks(value, header)
    bare = value.strip().strip("<>")
    if not _MESSAGE_ID.fullmatch(bare):
        raise HeaderError(f"the {header} header has an invalid message id: {value!r}")
    return f"<{bare}>"


def _msg_ids(value: str, header: str) -> list[str]:
    _refuse_line_breaks(value or "", header)
    return [_msg_id(part, header) for part in (value or "").replace(",", " ").split()]


def recipients(msg: EmailMessage) -> list[str]:
    """The envelope recipients: every address in To, Cc and Bcc."""
    fields: Iterable[str] = (str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, []))
    return [addr for _name, addr in getaddresses(list(fields)) if addr]


def send(
    smtp: SmtpSettings, msg: EmailMessage, *, ssl_context: ssl.SSLContext | None = None
) -> dict[str, tuple[int, bytes]]:
    """Deliver `msg` to the SMTP server in the settings.

    Returns the recipients the server refused when it accepted the message for the others
    (those cannot be retried without sending a second copy to the rest). Raises
    :class:`PermanentSendError` or :class:`TemporarySendError` otherwise. `ssl_context`
    defaults to the system's trusted certificates (SSL_CERT_FILE can name another bundle).
    """
    where = f"{smtp.host}:{smtp.port}"
    try:
        conn = _connect(smtp, ssl_context)
    except smtplib.SMTPAuthenticationError as e:
        raise TemporarySendError(
            f"the SMTP server {where} refused the login ({e.smtp_code}): "
            "check smtp.username and smtp.password"
        ) from e
    except (OSError, smtplib.SMTPException) as e:
        # Refusals before MAIL FROM (greeting, EHLO, STARTTLS, TLS certificate) are about our
        # settings or the server, not this message: an operator can fix them, so try again.
        raise TemporarySendError(f"cannot connect to the SMTP server {where}: {_text(e)}") from e
    try:
        try:
            return conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            raise _refused_error(e.recipients) from e
        except smtplib.SMTPResponseException as e:
            raise _response_error(e, f"the SMTP server {where} refused the message") from e
        except (OSError, smtplib.SMTPException) as e:
            raise TemporarySendError(
                f"sending to the SMTP server {where} failed: {_text(e)}"
            ) from e
    finally:
        _close(conn)


def _connect(smtp: SmtpSettings, context: ssl.SSLContext | None) -> smtplib.SMTP:
    """An open, secured and logged-in connection."""
    if smtp.security in ("starttls", "tls") and context is None:
        context = ssl.create_default_context()
    conn: smtplib.SMTP
    if smtp.security == "tls":
        conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        conn.ehlo()
        if smtp.security == "starttls":
            # Never fall back to plain text: smtplib raises when STARTTLS is not offered.
            conn.starttls(context=context)
            conn.ehlo()
        if smtp.username:
            conn.login(smtp.username, smtp.password)
    except BaseException:
        _close(conn)
        raise
    return conn


def _close(conn: smtplib.SMTP) -> None:
    # After the server accepted the message, nothing here may turn the send into a failure.
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _refused_error(refused: dict[str, tuple[int, bytes]]) -> SendError:
    detail = "; ".join(f"{addr}: {code} {_decode(text)}" for addr, (code, text) in refused.items())
    message = f"the SMTP server refused every recipient: {detail}"
    if refused and all(code >= 500 for code, _reply in refused.values()):
        return PermanentSendError(message)
    return TemporarySendError(message)


def _response_error(e: smtplib.SMTPResponseException, what: str) -> SendError:
    """MAIL FROM or DATA refused: 5xx is final for this message, 4xx is worth a retry."""
    message = f"{what}: {e.smtp_code} {_decode(e.smtp_error)}"
    if e.smtp_code >= 500:
        return PermanentSendError(message)
    return TemporarySendError(message)


def _decode(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return _one_line(text)


def _text(e: BaseException) -> str:
    return _one_line(str(e)) or type(e).__name__
