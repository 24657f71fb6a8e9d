"""Handing a piped message over to a running `wikibridge lmtp`, over a unix socket.

The mail server starts `wikibridge ingest` once per message. Importing SQLAlchemy and the
models costs most of a second; this module is what the pipe loads instead, when a listener
runs: standard library only, and none of wikibridge's heavy modules. The listener stores the
message with the same group commit as its LMTP deliveries and answers once it is committed.

The protocol, one request per connection::

    client: WBINGEST 1 <length> <queue, percent-encoded, may be empty>\\n
    server: ready\\n                         (or: refused <reason>\\n, and it closes)
    client: <length> bytes: the message exactly as the pipe read it
    server: stored <ticket> <article>\\n | duplicate <ticket> <article>\\n
            | quarantined <sha256> <reason>\\n | tempfail <reason>\\n

"ready" is the point of no return for the client: before it nothing was handed over, so the
pipe may store the message itself; after it the listener may have stored it (see
:class:`ReplyLost`). The server refuses a message bigger than the configured maximum before
reading it, so its memory stays bounded; the pipe then handles it as it always did.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .ingest import Outcome

log = logging.getLogger(__name__)

MAGIC = b"WBINGEST"
VERSION = 1
SOCKET_NAME = "ingest.sock"
MAX_LINE = 1024  # a header or reply line; queue names are short
EX_TEMPFAIL = 75  # as wikibridge.mail.ingest, which is too heavy to import here
# The client: a listener that does not say "ready" within this time is treated as absent
# (the pipe stores the message itself); the reply comes after the batch's commit.
READY_TIMEOUT = 10.0
REPLY_TIMEOUT = 300.0
# The server: a client that stalls this long in one read or write is dropped, and the whole
# message must arrive within IO_TIMEOUT plus one second per MIN_RATE bytes.
IO_TIMEOUT = 30.0
MIN_RATE = 1024 * 1024
STORE_TIMEOUT = 600.0
MAX_CLIENTS = 32
# sun_path holds 108 bytes on Linux, 104 on the BSDs, with the terminating NUL.
MAX_SOCKET_PATH = 103


def socket_path(data_dir: Path) -> Path:
    """Where the listener accepts handoffs: beside the spool it writes to."""
    return data_dir / "spool" / SOCKET_NAME


class HandoffError(Exception):
    """The listener cannot serve handoffs (the socket is in use, or its path is bad)."""


class NotHandedOver(Exception):
    """Nothing was handed over (no listener, refused, or broken before "ready"): the pipe
    stores the message itself."""


class ReplyLost(Exception):
    """The message was sent but no reply came: the listener may or may not have stored it."""


@dataclass(frozen=True)
class Reply:
    status: str  # stored, duplicate, quarantined, tempfail
    ticket: str = ""
    article: str = ""
    sha256: str = ""
    reason: str = ""

    @property
    def exit_code(self) -> int:
        return EX_TEMPFAIL if self.status == "tempfail" else 0

    def report(self) -> tuple[str, str]:
        """The lines `wikibridge ingest` prints (stdout, stderr), the same as when it stores
        the message itself."""
        if self.status in ("stored", "duplicate"):
            return f"{self.status} ticket {self.ticket} article {self.article}", ""
        if self.status == "quarantined":
            return "", f"quarantined {self.sha256}: {self.reason}"
        return "", f"wikibridge ingest: temporary failure, will be retried: {self.reason}"

    def line(self) -> bytes:
        if self.status in ("stored", "duplicate"):
            text = f"{self.status} {self.ticket} {self.article}"
        elif self.status == "quarantined":
            text = f"quarantined {self.sha256} {_one_line(self.reason)}"
        else:
            text = f"tempfail {_one_line(self.reason)}"
        return text.encode("utf-8", "replace")[: MAX_LINE - 1] + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> Reply:
        text = line.decode("utf-8", "replace").rstrip("\n")
        status, _, rest = text.partition(" ")
        if status in ("stored", "duplicate"):
            ticket, _, article = rest.partition(" ")
            if ticket and article:
                return cls(status, ticket=ticket, article=article)
        elif status == "quarantined":
            sha, _, reason = rest.partition(" ")
            return cls(status, sha256=sha, reason=reason)
        elif status == "tempfail":
            return cls(status, reason=rest)
        raise ValueError(f"unexpected reply {text[:80]!r}")


def reply_for(outcome: Outcome) -> Reply:
    if outcome.status == "quarantined":
        return Reply("quarantined", sha256=outcome.sha256, reason=outcome.reason)
    return Reply(outcome.status, ticket=outcome.ticket_number, article=str(outcome.article_id))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def request_header(length: int, queue: str) -> bytes:
    return b"%s %d %d %s\n" % (MAGIC, VERSION, length, quote(queue, safe="").encode("ascii"))


def parse_header(line: bytes) -> tuple[int, str]:
    """(length, queue) of a request line; ValueError for anything else."""
    parts = line.rstrip(b"\n").split(b" ", 3)
    if len(parts) != 4 or parts[0] != MAGIC:
        raise ValueError("not a wikibridge handoff request")
    if parts[1] != str(VERSION).encode():
        raise ValueError(f"protocol version {parts[1][:10]!r} not supported")
    if not parts[2].isdigit():
        raise ValueError("bad length")
    return int(parts[2]), unquote(parts[3].decode("ascii"), errors="strict")


def _read_line(conn: socket.socket, buffer: bytearray, deadline: float) -> bytes:
    """One line (without reading past it when the peer waits for our answer)."""
    while b"\n" not in buffer:
        if len(buffer) > MAX_LINE:
            raise ValueError("line too long")
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.recv(MAX_LINE)
        if not chunk:
            raise ConnectionError("connection closed")
        buffer += chunk
    end = buffer.index(b"\n") + 1
    line = bytes(buffer[:end])
    del buffer[:end]
    return line


# -- the client: `wikibridge ingest` ------------------------------------------------------


def hand_over(path: Path, raw: bytes, queue: str = "") -> Reply:
    """Have the listener on ``path`` store ``raw``; its reply, once the message is committed.

    Raises :class:`NotHandedOver` when the pipe must store the message itself, and
    :class:`ReplyLost` when the message was sent but the answer did not come.
    """
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise NotHandedOver(f"socket path too long: {path}")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        buffer = bytearray()
        try:
            conn.settimeout(READY_TIMEOUT)
            conn.connect(os.fspath(path))
            conn.sendall(request_header(len(raw), queue))
            answer = _read_line(conn, buffer, time.monotonic() + READY_TIMEOUT)
        except (OSError, ValueError) as e:  # absent, refused, timed out, closed
            raise NotHandedOver(str(e) or type(e).__name__) from None
        if answer != b"ready\n":
            raise NotHandedOver(answer.decode("utf-8", "replace").strip()[:200])
        try:
            conn.settimeout(REPLY_TIMEOUT)
            conn.sendall(raw)
            return Reply.parse(_read_line(conn, buffer, time.monotonic() + REPLY_TIMEOUT))
        except (OSError, ValueError) as e:
            raise ReplyLost(str(e) or type(e).__name__) from None
    finally:
        conn.close()


# -- the server: part of `wikibridge lmtp` --------------------------------------------------

Submit = Callable[[bytes, str], "Future[Outcome]"]


class HandoffServer:
    """Accepts handoffs on a unix socket, one thread per connection, at most ``max_clients``
    at once (more wait in the listen backlog); each message goes to ``submit`` (the
    listener's group commit) and is answered once its batch is committed."""

    def __init__(
        self,
        path: Path,
        submit: Submit,
        *,
        max_bytes: int,
        mode: int = 0o660,
        max_clients: int = MAX_CLIENTS,
        io_timeout: float = IO_TIMEOUT,
    ) -> None:
        self.path = path
        self.submit = submit
        self.max_bytes = max_bytes
        self.mode = mode
        self.io_timeout = io_timeout
        self._slots = threading.BoundedSemaphore(max_clients)
        self._sock: socket.socket | None = None
        self._inode = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._clients: set[threading.Thread] = set()

    @property
    def busy(self) -> int:
        """Connections being served right now."""
        with self._lock:
            return len(self._clients)

    def start(self) -> None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            raise HandoffError(f"the socket path {self.path} is longer than a unix socket allows")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(self.path)
        # Bound under a temporary name and renamed once its mode is set: the socket is never
        # reachable with the permissions the umask would give it.
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(temporary))
            os.chmod(temporary, self.mode)
            sock.listen(128)
            os.replace(temporary, self.path)
        except BaseException:
            sock.close()
            temporary.unlink(missing_ok=True)
            raise
        self._inode = os.stat(self.path).st_ino
        sock.settimeout(0.25)  # the accept loop looks at the stop flag this often
        self._sock = sock
        self._thread = threading.Thread(target=self._accept_loop, name="handoff", daemon=True)
        self._thread.start()

    def stop_accepting(self) -> None:
        """New pipes find no listener (and store their messages themselves)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:
            if os.stat(self.path).st_ino == self._inode:  # not a newer listener's socket
                self.path.unlink()
        except FileNotFoundError:
            pass

    def close(self, grace: float = 30.0) -> None:
        """Stop accepting, then let the connections being served finish (up to ``grace``)."""
        self.stop_accepting()
        deadline = time.monotonic() + grace
        with self._lock:
            clients = list(self._clients)
        for thread in clients:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            if not self._slots.acquire(timeout=0.25):
                continue  # every slot busy: new connections wait in the backlog
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                self._slots.release()
                continue
            except OSError:
                self._slots.release()
                if not self._stopping.is_set():
                    log.exception("handoff: accept failed")
                    time.sleep(0.25)
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._clients.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._serve_one(conn)
        except (OSError, ValueError) as e:
            # A client that broke off or spoke nonsense: it got no "stored" answer, so the
            # mail server still has its message. Nothing to clean up here.
            log.info("handoff: dropped a connection: %s", e or type(e).__name__)
        except Exception:
            log.exception("handoff: unexpected error")
        finally:
            conn.close()
            with self._lock:
                self._clients.discard(threading.current_thread())
            self._slots.release()

    def _serve_one(self, conn: socket.socket) -> None:
        buffer = bytearray()
        line = _read_line(conn, buffer, time.monotonic() + self.io_timeout)
        try:
            length, queue = parse_header(line)
        except ValueError as e:
            self._send(conn, f"refused {e}\n".encode())
            return
        if length > self.max_bytes:
            # Not read at all: the pipe handles it as it always did (it keeps it in the
            # quarantine with the reason, as the Ingestor does with any oversize message).
            self._send(conn, b"refused message bigger than max_message_bytes\n")
            return
        if self._stopping.is_set():
            self._send(conn, b"refused shutting down\n")
            return
        self._send(conn, b"ready\n")
        raw = self._read_exact(conn, buffer, length)
        try:
            outcome = self.submit(raw, queue).result(timeout=STORE_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - TempFail, or our bug: the mail server retries
            log.warning("handoff: temporary failure: %s", e)
            reply = Reply("tempfail", reason=str(e) or type(e).__name__)
        else:
            log.info("handoff: %s: %s", outcome.status, outcome.sha256)
            reply = reply_for(outcome)
        self._send(conn, reply.line())

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.settimeout(self.io_timeout)
        conn.sendall(data)

    def _read_exact(self, conn: socket.socket, buffer: bytearray, length: int) -> bytes:
        if len(buffer) > length:
            raise ValueError("more bytes than announced")
        data = bytearray(length)
        view = memoryview(data)
        view[: len(buffer)] = buffer
        got = len(buffer)
        deadline = time.monotonic() + self.io_timeout + length / MIN_RATE
        while got < length:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the message took too long to arrive")
            conn.settimeout(min(left, self.io_timeout))
            n = conn.recv_into(view[got:])
            if not n:
                raise ConnectionError("connection closed before the whole message arrived")
            got += n
        return bytes(data)


def _remove_stale(path: Path) -> None:
    """Remove the socket a listener that is gone left behind; refuse to take over one that
    still answers, or a file that is not a socket."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise HandoffError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return
    except OSError as e:
        raise HandoffError(f"cannot tell whether {path} is in use: {e}") from None
    finally:
        probe.close()
    raise HandoffError(f"another listener answers on {path}")
