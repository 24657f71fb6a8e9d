"""A persistent LMTP listener that the mail server (Postfix, Exim) delivers to.

LMTP (RFC 2033) differs from SMTP in one way that matters here: after the message data the
server sends one reply *per accepted recipient*, and the client matches them up in order.
aiosmtpd's ``LMTP`` class sends only one (it reuses SMTP's DATA code), which a client with
two recipients reads as "no answer for the second one" and then waits or fails. The
:class:`LmtpServer` below repeats the final reply once per recipient. The message is stored
once for all its recipients, so they all get the same answer: 250 when it is stored (or was
already stored, or kept in quarantine) and 451 when it cannot be stored now, so the mail
server keeps it and tries again later (the spool keeps a copy too).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller, UnixSocketController
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax

from .batcher import BatchingIngestor
from .data import Refused, read_data
from .envelope import plain_address
from .handoff import HandoffServer
from .ingest import Ingestor, Outcome, TempFail

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8024
TEMPFAIL_REPLY = "451 4.3.0 temporary failure, try again later"


class LmtpServer(LMTP):
    """aiosmtpd's LMTP with one reply per recipient after DATA, as RFC 2033 requires, and
    the message data read in pieces (:mod:`.data`) instead of line by line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("decode_data"):
            raise ValueError("LmtpServer hands the handler bytes: decode_data is not supported")
        super().__init__(*args, **kwargs)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # MAIL FROM and RCPT TO: a plain address without aiosmtpd's costly header parser.
        plain = plain_address(arg)
        if plain is None:
            return super()._getaddr(arg)
        address, rest = plain
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None  # what aiosmtpd's parser answers for a too long local part
        return address, rest

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # The checks of aiosmtpd's smtp_DATA, each answering the DATA command itself: once.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        recipients = len(self.envelope.rcpt_tos)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            status = await self._receive()
        except asyncio.CancelledError:
            log.info("lmtp: connection lost during DATA")
            self._writer.close()
            raise
        except Exception as error:  # noqa: BLE001 - answered below, like aiosmtpd does
            status = await self.handle_exception(error)
        self._set_post_data_state()
        # The final reply -- stored, too big, line too long, or an error -- concerns the
        # message, which every recipient shares: each gets it.
        for _ in range(recipients):
            await self.push(status)

    async def _receive(self) -> str:
        """Read the data and pass it to the handler; the reply for the message."""
        content = await read_data(
            self._reader, max_bytes=self.data_size_limit, max_line=self.line_length_limit
        )
        if isinstance(content, Refused):
            return content.reply
        assert self.envelope is not None
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        return "250 OK" if status is MISSING else str(status)


class LmtpHandler:
    """aiosmtpd handler: stores each delivered message with the Ingestor."""

    def __init__(self, ingestor: Ingestor, *, workers: int = 4) -> None:
        self.ingestor = ingestor
        # Storing blocks (disk fsync, database): it runs in a thread, the event loop stays free
        # to talk to the other connections, and messages that arrive meanwhile are stored
        # together with one commit (group commit). `workers` is kept for the command line.
        self.batcher = BatchingIngestor(ingestor, source="lmtp")
        self._lock = threading.Lock()
        self._busy = 0

    @property
    def busy(self) -> int:
        """Deliveries being stored right now."""
        with self._lock:
            return self._busy

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # Every recipient is accepted: the mail server decided to deliver here, and routing
        # files mail for an unknown address in the fallback queue rather than losing it.
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        raw = add_delivery_headers(content, envelope.mail_from, envelope.rcpt_tos)
        with self._lock:
            self._busy += 1
        try:
            outcome = await asyncio.wrap_future(self.batcher.submit(raw))
        except TempFail as e:
            log.warning("lmtp: temporary failure for %s: %s", envelope.rcpt_tos, e)
            return TEMPFAIL_REPLY
        except Exception:  # noqa: BLE001 - our bug must not bounce mail: let the MTA retry
            log.exception("lmtp: unexpected error storing a message for %s", envelope.rcpt_tos)
            return TEMPFAIL_REPLY
        finally:
            with self._lock:
                self._busy -= 1
        log.info(
            "lmtp: %s for %s: %s", outcome.status, ", ".join(envelope.rcpt_tos), outcome.sha256
        )
        return reply_for(outcome)

    def handoff_server(self, path: Path, *, max_bytes: int, mode: int = 0o660) -> HandoffServer:
        """A listener for `wikibridge ingest` pipes that feeds the same group commit."""
        return HandoffServer(
            path,
            lambda raw, queue: self.batcher.submit(raw, queue=queue, source="pipe"),
            max_bytes=max_bytes,
            mode=mode,
        )

    def close(self) -> None:
        self.batcher.close()


def reply_for(outcome: Outcome) -> str:
    if outcome.status == "stored":
        return f"250 2.0.0 Ok: stored as ticket {outcome.ticket_number}"
    if outcome.status == "duplicate":
        return f"250 2.0.0 Ok: already stored as ticket {outcome.ticket_number}"
    # Quarantined: kept on our side with a reason; a retry by the mail server would not help.
    return f"250 2.0.0 Ok: kept in quarantine as {outcome.sha256[:16]}"


def add_delivery_headers(raw: bytes, mail_from: str | None, recipients: list[str]) -> bytes:
    """Prepend Return-Path and one Delivered-To per envelope recipient, as Postfix does.

    Routing reads Delivered-To before To and Cc, so a message sent to a queue's address
    through a list or as Bcc still reaches that queue. The headers depend only on the
    envelope, so a retried delivery has the same bytes and is recognised as a duplicate.
    """
    end = raw.find(b"\n")
    newline = b"\r\n" if end > 0 and raw[end - 1 : end] == b"\r" else b"\n"
    lines = [b"Return-Path: <" + _header_safe(mail_from or "") + b">"]
    lines += [b"Delivered-To: " + _header_safe(r) for r in recipients]
    return newline.join(lines) + newline + raw


def _header_safe(address: str) -> bytes:
    # Envelope addresses come from the client: no line breaks or other controls in a header.
    cleaned = "".join(c for c in address if c > " " and c not in "<>\x7f")
    return cleaned.encode("utf-8", "replace")


class _LmtpFactory:
    handler: Any
    SMTP_kwargs: dict[str, Any]

    def factory(self) -> LmtpServer:
        return LmtpServer(self.handler, **self.SMTP_kwargs)


class LmtpController(_LmtpFactory, Controller):
    """An LMTP listener on host:port, running in a thread."""


class LmtpUnixController(_LmtpFactory, UnixSocketController):
    """An LMTP listener on a unix socket, running in a thread."""


def make_controller(
    handler: LmtpHandler,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    socket_path: Path | None = None,
    max_message_bytes: int | None = None,
) -> LmtpController | LmtpUnixController:
    kwargs: dict[str, Any] = {
        "server_hostname": socket.gethostname(),  # not getfqdn(): that may wait for DNS
        "ident": "wikibridge LMTP",
        # Announced with SIZE: the mail server rejects bigger mail up front and tells the
        # sender, instead of us holding it in memory.
        "data_size_limit": max_message_bytes,
    }
    if socket_path is not None:
        return LmtpUnixController(handler, unix_socket=socket_path, **kwargs)
    return LmtpController(handler, hostname=host, port=port, **kwargs)


def serve(
    controller: LmtpController | LmtpUnixController,
    handler: LmtpHandler,
    stop: threading.Event,
    *,
    grace: float = 30.0,
    on_start: Callable[[], None] = lambda: None,
    handoff: HandoffServer | None = None,
) -> None:
    """Listen until ``stop`` is set, then shut down without cutting a store short.

    ``handoff``: also take messages from `wikibridge ingest` pipes, into the same batches.
    """
    try:
        controller.start()
    except BaseException:
        handler.close()
        raise
    try:
        if handoff is not None:
            handoff.start()
    except BaseException:
        controller.stop()
        handler.close()
        raise
    try:
        on_start()
        while not stop.wait(1.0):
            pass
    finally:
        # Stop accepting connections first, then give deliveries being stored time to
        # finish and answer. One cut off after all is still safe: the spool has it, the
        # mail server retries, and the retry is recognised as a duplicate.
        server = controller.server
        if server is not None:
            controller.loop.call_soon_threadsafe(server.close)
        if handoff is not None:
            handoff.stop_accepting()  # pipes that come now store their messages themselves
        deadline = time.monotonic() + grace
        while (handler.busy or (handoff and handoff.busy)) and time.monotonic() < deadline:
            time.sleep(0.1)
        controller.stop()
        if handoff is not None:
            handoff.close(max(0.0, deadline - time.monotonic()))
        handler.close()
        if isinstance(controller, LmtpUnixController):
            Path(controller.unix_socket).unlink(missing_ok=True)
