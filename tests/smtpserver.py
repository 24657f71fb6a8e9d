"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives.

It can refuse recipients or messages with a given reply, speak STARTTLS or implicit TLS with a
self-signed certificate made for the test run, and require a login.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USERNAME = "wikibridge"
PASSWORD = "s3cret"


def free_port() -> int:
    """A loopback port nothing listens on (until someone binds it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        # As a mail program stores it: with the wire's CRLF line ends turned into LF.
        msg = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Collector:
    """The aiosmtpd handler: keeps every accepted message; refuses on request."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply; "*": all
    refuse_data: str = ""  # e.g. "554 5.7.1 message refused"
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.refuse_rcpt.get(address.lower()) or self.refuse_rcpt.get("*")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_data:
            return self.refuse_data
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USERNAME, PASSWORD)
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


class SmtpServer:
    """aiosmtpd on 127.0.0.1; `security` is plain, starttls or tls (as in SmtpSettings)."""

    def __init__(
        self,
        port: int | None = None,
        *,
        security: str = "plain",
        tls: TlsFiles | None = None,
        require_auth: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.security = security
        self.collector = Collector()
        kwargs: dict[str, Any] = {}
        if security == "starttls":
            assert tls is not None
            kwargs.update(tls_context=tls.server_context(), require_starttls=True)
        elif security == "tls":
            assert tls is not None
            kwargs.update(ssl_context=tls.server_context())
        if require_auth:
            kwargs.update(authenticator=self.collector.authenticate, auth_required=True)
        self._controller = Controller(
            self.collector, hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs
        )
        self.running = False

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def start(self) -> SmtpServer:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server, already running."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, made once per test run."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    files = TlsFiles(where / "cert.pem", where / "key.pem")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(files.key),
            "-out",
            str(files.cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return files
