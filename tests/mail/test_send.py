"""Outgoing mail: message construction, and delivery to a real SMTP server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from tests.smtpserver import PASSWORD, USERNAME, SmtpServer, TlsFiles, free_port
from wikibridge.config import SmtpSettings
from wikibridge.mail.send import (
    HeaderError,
    PermanentSendError,
    TemporarySendError,
    build_message,
    compose_body,
    send,
)
from wikibridge.models import Article

NUMBER = "2016060210016939"
SENDER = "Wikimedia VRT <info-en@example.org>"


def article(**fields: object) -> Article:
    values: dict[str, object] = {
        "id": 7,
        "ticket_id": 1,
        "kind": "outbound",
        "to": "Jane Doe <jane@example.net>",
        "cc": "",
        "subject": f"[Ticket#{NUMBER}] Re: Photo of the town hall",
        "body_text": "Thank you, the permission is in order.",
        "message_id": f"{NUMBER}.abc@tickets.example.org",
        "in_reply_to": "orig@mail.example.net",
        "references": "first@mail.example.net orig@mail.example.net",
        "flags": [],
        "created_at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    }
    values.update(fields)
    return Article(**values)


def reparse(msg: object) -> object:
    from email.message import EmailMessage

    assert isinstance(msg, EmailMessage)
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


# -- construction ---------------------------------------------------------------------------


def test_headers_of_a_reply() -> None:
    msg = build_message(
        article(cc="press@example.com"),
        sender=SENDER,
        salutation="Dear requester,",
        signature="-- \nVolunteer Response Team",
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["From"] == SENDER
    assert parsed["To"] == "Jane Doe <jane@example.net>"
    assert parsed["Cc"] == "press@example.com"
    assert parsed["Subject"] == f"[Ticket#{NUMBER}] Re: Photo of the town hall"
    assert parsed["Message-ID"] == f"<{NUMBER}.abc@tickets.example.org>"
    assert parsed["In-Reply-To"] == "<orig@mail.example.net>"
    assert parsed["References"] == "<first@mail.example.net> <orig@mail.example.net>"
    assert parsed["Date"] == "Mon, 06 May 2024 07:08:09 +0000"
    assert parsed["Auto-Submitted"] is None
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    body = parsed.get_content()
    assert body == (
        "Dear requester,\n\nThank you, the permission is in order.\n\n"
        "-- \nVolunteer Response Team\n"
    )


def test_the_same_article_gives_the_same_message() -> None:
    a = article()
    assert build_message(a, sender=SENDER).as_bytes() == build_message(a, sender=SENDER).as_bytes()


def test_auto_reply_is_marked() -> None:
    msg = build_message(article(flags=["auto_reply"]), sender=SENDER)
    assert msg["Auto-Submitted"] == "auto-replied"


def test_utf8_subject_body_and_display_name() -> None:
    msg = build_message(
        article(subject=f"[Ticket#{NUMBER}] Größe der Datei – 写真", body_text="Grüße, Jürgen 👋"),
        sender="Équipe VRT <info-fr@example.org>",
    )
    raw = msg.as_bytes()
    raw.decode("ascii")  # every header is encoded; the body is transfer-encoded
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == f"[Ticket#{NUMBER}] Größe der Datei – 写真"
    assert parsed["From"].addresses[0].display_name == "Équipe VRT"
    assert "Grüße, Jürgen 👋" in parsed.get_content()


def test_no_reply_headers_for_a_new_message() -> None:
    msg = build_message(article(in_reply_to="", references=""), sender=SENDER)
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None


def test_compose_body_skips_empty_parts_and_normalises_newlines() -> None:
    assert compose_body("Hello\r\nthere", "", "") == "Hello\nthere\n"
    assert compose_body("Body", "Hi,", "") == "Hi,\n\nBody\n"


def test_subject_line_breaks_cannot_add_headers() -> None:
    msg = build_message(
        article(subject=f"[Ticket#{NUMBER}] hello\r\nBcc: victim@example.com"), sender=SENDER
    )
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert b"\nBcc:" not in raw
    assert parsed["Subject"] == f"[Ticket#{NUMBER}] hello Bcc: victim@example.com"


@pytest.mark.parametrize(
    "fields",
    [
        {"to": "jane@example.net\r\nBcc: victim@example.com"},
        {"cc": "a@example.net\nX-Evil: 1"},
        {"message_id": "x@y\r\nBcc: victim@example.com"},
        {"in_reply_to": "a@b\nBcc: victim@example.com"},
        {"references": "a@b\r\n c@d"},
        {"to": "not an address"},
        {"to": "", "cc": ""},
        {"message_id": "no-at-sign"},
    ],
)
def test_unsafe_or_invalid_headers_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(HeaderError):
        build_message(article(**fields), sender=SENDER)


@pytest.mark.parametrize(
    "sender", ["VRT <info@example.org>\r\nBcc: victim@example.com", "", "a@x, b@y"]
)
def test_bad_sender_is_refused(sender: str) -> None:
    with pytest.raises(HeaderError):
        build_message(article(), sender=sender)


def test_header_errors_are_permanent() -> None:
    assert issubclass(HeaderError, PermanentSendError)


# -- delivery -------------------------------------------------------------------------------


def smtp(port: int, **kw: object) -> SmtpSettings:
    values: dict[str, object] = {"host": "127.0.0.1", "port": port, "timeout": 5.0}
    values.update(kw)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def test_send_plain(smtp_server: SmtpServer) -> None:
    msg = build_message(article(cc="press@example.com"), sender=SENDER)
    assert send(smtp(smtp_server.port), msg) == {}
    [got] = smtp_server.received
    assert got.mail_from == "info-en@example.org"
    assert sorted(got.rcpt_tos) == ["jane@example.net", "press@example.com"]
    assert got.message["Message-ID"] == f"<{NUMBER}.abc@tickets.example.org>"


def test_nothing_listening_is_temporary() -> None:
    msg = build_message(article(), sender=SENDER)
    with pytest.raises(TemporarySendError, match="cannot connect"):
        send(smtp(free_port()), msg)


def test_a_silent_server_times_out_temporarily() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(TemporarySendError, match="timed out"):
            send(smtp(port, timeout=0.3), build_message(article(), sender=SENDER))


def test_every_recipient_refused_with_5xx_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.collector.refuse_rcpt["*"] = "550 5.1.1 No such user here"
    with pytest.raises(PermanentSendError, match="550 5.1.1 No such user here") as e:
        send(smtp(smtp_server.port), build_message(article(), sender=SENDER))
    assert "jane@example.net" in str(e.value)
    assert smtp_server.received == []


def test_recipient_refused_with_4xx_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.collector.refuse_rcpt["*"] = "450 4.2.1 Mailbox busy, try later"
    with pytest.raises(TemporarySendError, match="450"):
        send(smtp(smtp_server.port), build_message(article(), sender=SENDER))


def test_some_recipients_refused_is_reported_not_raised(smtp_server: SmtpServer) -> None:
    smtp_server.collector.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
    refused = send(
        smtp(smtp_server.port), build_message(article(cc="gone@example.com"), sender=SENDER)
    )
    assert list(refused) == ["gone@example.com"]
    assert refused["gone@example.com"][0] == 550
    [got] = smtp_server.received
    assert got.rcpt_tos == ["jane@example.net"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("554 5.7.1 Message refused", PermanentSendError),
        ("451 4.3.0 Try again", TemporarySendError),
    ],
)
def test_data_refusals(smtp_server: SmtpServer, reply: str, error: type[Exception]) -> None:
    smtp_server.collector.refuse_data = reply
    with pytest.raises(error, match=reply.split()[0]):
        send(smtp(smtp_server.port), build_message(article(), sender=SENDER))


# -- TLS and login --------------------------------------------------------------------------


@pytest.fixture
def starttls_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    server = SmtpServer(security="starttls", tls=tls_files, require_auth=True).start()
    yield server
    server.stop()


@pytest.fixture
def tls_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    server = SmtpServer(security="tls", tls=tls_files).start()
    yield server
    server.stop()


def test_starttls_with_login(starttls_server: SmtpServer, tls_files: TlsFiles) -> None:
    settings = smtp(starttls_server.port, security="starttls", username=USERNAME, password=PASSWORD)
    send(settings, build_message(article(), sender=SENDER), ssl_context=tls_files.client_context())
    assert len(starttls_server.received) == 1
    assert starttls_server.collector.logins == [USERNAME]


def test_wrong_password_is_temporary(starttls_server: SmtpServer, tls_files: TlsFiles) -> None:
    settings = smtp(starttls_server.port, security="starttls", username=USERNAME, password="x")
    with pytest.raises(TemporarySendError, match="refused the login"):
        send(
            settings,
            build_message(article(), sender=SENDER),
            ssl_context=tls_files.client_context(),
        )
    assert starttls_server.received == []


def test_starttls_never_falls_back_to_plain_text(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporarySendError, match="STARTTLS"):
        send(smtp(smtp_server.port, security="starttls"), build_message(article(), sender=SENDER))
    assert smtp_server.received == []


def test_implicit_tls(tls_server: SmtpServer, tls_files: TlsFiles) -> None:
    settings = smtp(tls_server.port, security="tls")
    send(settings, build_message(article(), sender=SENDER), ssl_context=tls_files.client_context())
    [got] = tls_server.received
    assert got.message["Subject"] == f"[Ticket#{NUMBER}] Re: Photo of the town hall"


def test_untrusted_certificate_is_refused(tls_server: SmtpServer) -> None:
    # The system's trust store does not know the test's self-signed certificate.
    with pytest.raises(TemporarySendError, match="CERTIFICATE_VERIFY_FAILED"):
        send(smtp(tls_server.port, security="tls"), build_message(article(), sender=SENDER))
    assert tls_server.received == []
