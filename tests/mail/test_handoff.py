"""`wikibridge ingest` handing its message over to a running `wikibridge lmtp`.

The pipe and the listener are real processes, as the mail server runs them. Whether the pipe
took the fast path is read from ``python -X importtime``: it lists every module the process
imported, and the fast path must not have needed SQLAlchemy or click.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import ROOT
from tests.mail.listener import answers, running_listener
from tests.mailbuilder import make_mail
from tests.mailservers import free_port
from wikibridge.config import Settings
from wikibridge.mail import handoff
from wikibridge.mail.ingest import Ingestor
from wikibridge.mail.spool import Spool
from wikibridge.models import Article, Queue, Ticket
from wikibridge.store import queues

DATABASE_DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/wikibridge"


@dataclass
class Piped:
    code: int
    stdout: str
    stderr: str
    imported: set[str]  # top-level packages the process imported

    @property
    def handed_over(self) -> bool:
        return not self.imported & {"sqlalchemy", "click"}


def pipe(raw: bytes, env: dict[str, str], *args: str) -> Piped:
    """One `wikibridge ingest` process, as the mail server's pipe starts it."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wikibridge", "ingest", *args],
        input=raw,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    lines = proc.stderr.decode("utf-8", "replace").splitlines()
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in lines
        if line.startswith("import time:")
    }
    other = "\n".join(line for line in lines if not line.startswith("import time:"))
    return Piped(proc.returncode, proc.stdout.decode(), other, imported)


def articles(sessions: sessionmaker[Session]) -> list[Article]:
    with sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def queue_of(sessions: sessionmaker[Session], article: Article) -> str:
    with sessions() as session:
        ticket = session.get(Ticket, article.ticket_id)
        assert ticket is not None
        queue = session.get(Queue, ticket.queue_id)
        assert queue is not None
        return queue.name


def stored_bytes(settings: Settings, article: Article) -> bytes:
    assert article.raw_sha256
    return Spool(settings.data_dir).read(article.raw_sha256)


# A message as a pipe may get it: bare LF line ends, a CR inside, no final newline, a
# non-ASCII byte, a "From " line the mail server may prepend -- the bytes must stay as they are.
ODD = (
    b"From sender@example.net Sat Nov 21 10:00:00 2026\n"
    + make_mail(subject="Odd bytes", body="caf\u00e9 \r in the middle", message_id="<odd@x>")
    + b"\xff no final newline"
)


def test_pipe_hands_the_message_over_and_the_listener_stores_it(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        queues.ensure(session, "permissions-commons", "permissions")
    with running_listener(settings_env, settings.data_dir):
        path = handoff.socket_path(settings.data_dir)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        result = pipe(ODD, settings_env, "--queue", "permissions-commons")
        assert result.code == 0, result.stderr
        assert result.handed_over, sorted(result.imported)
        again = pipe(ODD, settings_env)
    assert not path.exists()  # removed when the listener stopped

    [article] = articles(session_factory)
    assert result.stdout == f"stored ticket {_number(session_factory)} article {article.id}\n"
    assert again.code == 0 and again.stdout.startswith("duplicate ticket ")
    assert stored_bytes(settings, article) == ODD
    assert queue_of(session_factory, article) == "permissions-commons"


def _number(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        return session.scalars(select(Ticket.number)).one()


def test_many_pipes_at_once_share_the_listener(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    mails = [
        make_mail(subject=f"Question {i}", body=f"Body {i}", message_id=f"<many-{i}@x>")
        for i in range(200)
    ]
    with running_listener(settings_env, settings.data_dir), ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda raw: pipe(raw, settings_env), mails))
    assert {r.code for r in results} == {0}, [r.stderr for r in results if r.code][:3]
    assert all(r.handed_over for r in results)
    stored = articles(session_factory)
    assert len(stored) == 200
    with session_factory() as session:
        numbers = list(session.scalars(select(Ticket.number)))
    assert len(numbers) == len(set(numbers)) == 200
    assert {stored_bytes(settings, a) for a in stored} == set(mails)


def test_without_a_listener_the_pipe_stores_the_message_itself(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    raw = make_mail(subject="Nobody listening")
    result = pipe(raw, settings_env)
    assert result.code == 0, result.stderr
    assert not result.handed_over  # the full ingest ran here
    [article] = articles(session_factory)
    assert result.stdout == f"stored ticket {_number(session_factory)} article {article.id}\n"

    # A listener that was stopped, or killed and left its socket behind: the same.
    with running_listener(settings_env, settings.data_dir) as proc:
        pass
    assert proc.proc.returncode == 0
    _stale_socket(handoff.socket_path(settings.data_dir))
    second = pipe(make_mail(subject="Listener gone"), settings_env)
    assert second.code == 0 and not second.handed_over, second.stderr
    assert len(articles(session_factory)) == 2


def _stale_socket(path: Path) -> None:
    """What a killed listener leaves: a socket file nobody accepts on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    assert path.exists() and not answers(path)


def test_database_down_the_pipe_tempfails_and_the_spool_keeps_the_message(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        queues.ensure(session, "permissions-commons", "permissions")
    down = {**settings_env, "WIKIBRIDGE_DATABASE_URL": DATABASE_DOWN}
    raw = make_mail(subject="While the database is down", message_id="<down@x>")
    with running_listener(down, settings.data_dir):
        result = pipe(raw, settings_env, "--queue=permissions-commons")
    assert result.code == 75
    assert result.handed_over  # the listener answered: no second try in the pipe
    assert "temporary failure, will be retried" in result.stderr
    assert articles(session_factory) == []
    [waiting] = Spool(settings.data_dir).pending()
    assert waiting.queue == "permissions-commons" and waiting.source == "pipe"

    reprocess = subprocess.run(
        [sys.executable, "-m", "wikibridge", "spool", "reprocess"],
        env={**settings_env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert reprocess.returncode == 0, reprocess.stderr
    [article] = articles(session_factory)
    assert stored_bytes(settings, article) == raw
    assert queue_of(session_factory, article) == "permissions-commons"
    # The mail server's retry, through a listener that works again: recognised.
    with running_listener(settings_env, settings.data_dir):
        retry = pipe(raw, settings_env, "--queue=permissions-commons")
    assert retry.code == 0 and retry.stdout.startswith("duplicate ticket "), retry.stderr
    assert len(articles(session_factory)) == 1


def test_a_stale_socket_is_replaced_and_a_live_one_is_not_taken_over(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    path = handoff.socket_path(settings.data_dir)
    _stale_socket(path)
    with running_listener(settings_env, settings.data_dir):
        inode = os.stat(path).st_ino
        second = subprocess.run(
            [sys.executable, "-m", "wikibridge", "lmtp", "--port", str(free_port())],
            env={**settings_env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"another listener answers on {path}" in second.stderr
        assert os.stat(path).st_ino == inode  # the running listener keeps its socket
        result = pipe(make_mail(subject="After the stale socket"), settings_env)
        assert result.code == 0 and result.handed_over, result.stderr
    assert len(articles(session_factory)) == 1


def test_oversize_mail_is_quarantined_as_without_a_listener(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    small = {**settings_env, "WIKIBRIDGE_MAIL_MAX_MESSAGE_BYTES": "2000"}
    big = make_mail(subject="Too big", body="x" * 5000)
    with running_listener(small, settings.data_dir):
        result = pipe(big, small)
    # Refused before the listener read it; the pipe keeps it in the quarantine, as always.
    assert result.code == 0
    assert "exceeds max_message_bytes" in result.stderr
    assert articles(session_factory) == []
    assert [e.reason for e in Spool(settings.data_dir).quarantined()] == [
        f"message of {len(big)} bytes exceeds max_message_bytes"
    ]


def test_lost_reply_the_pipe_stores_it_and_gets_a_duplicate(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """The listener stored the message, then the connection broke before the reply: the
    pipe's own store finds the same bytes and answers "duplicate" -- one article."""
    ingestor = Ingestor(settings, session_factory)
    path = handoff.socket_path(settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(60)

    def store_and_hang_up() -> None:
        conn, _ = server.accept()
        with conn:
            buffer = bytearray()
            length, queue = handoff.parse_header(
                handoff._read_line(conn, buffer, time.monotonic() + 10)
            )
            conn.sendall(b"ready\n")
            while len(buffer) < length:
                buffer += conn.recv(65536)
            ingestor.ingest(bytes(buffer), queue=queue)

    thread = threading.Thread(target=store_and_hang_up)
    thread.start()
    try:
        result = pipe(make_mail(subject="Reply lost"), settings_env)
    finally:
        thread.join(60)
        server.close()
    assert result.code == 0, result.stderr
    [article] = articles(session_factory)
    assert result.stdout == f"duplicate ticket {_number(session_factory)} article {article.id}\n"


# -- the protocol and the server, in this process ------------------------------------------


def test_request_header_round_trip() -> None:
    for queue in ("", "info-en", "a queue with spaces", "caf\u00e9/\n%"):
        line = handoff.request_header(1234, queue)
        assert line.count(b"\n") == 1
        assert handoff.parse_header(line) == (1234, queue)
    for bad in (b"HELO x\n", b"WBINGEST 2 10 \n", b"WBINGEST 1 -1 \n", b"WBINGEST 1 10\n"):
        with pytest.raises(ValueError):
            handoff.parse_header(bad)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wb-handoff-") as tmp:
        yield Path(tmp)


def test_a_stalled_client_is_dropped_and_others_are_served(short_dir: Path) -> None:
    from concurrent.futures import Future

    from wikibridge.mail.ingest import Outcome

    def submit(raw: bytes, queue: str) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        future.set_result(Outcome("stored", "0" * 64, ticket_number=queue, article_id=len(raw)))
        return future

    path = short_dir / "ingest.sock"
    server = handoff.HandoffServer(path, submit, max_bytes=100, max_clients=1, io_timeout=0.5)
    server.start()
    try:
        stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stalled.connect(str(path))
        stalled.sendall(b"WBINGEST 1 10 q\nonly")  # and then nothing
        # The only slot is taken until the stalled client is dropped, then this one is served.
        reply = handoff.hand_over(path, b"x" * 7, "T1")
        assert reply == handoff.Reply("stored", ticket="T1", article="7")
        stalled.settimeout(5)
        assert stalled.recv(100) == b"ready\n" and stalled.recv(100) == b""  # hung up on
        stalled.close()
        with pytest.raises(handoff.NotHandedOver, match="bigger than max_message_bytes"):
            handoff.hand_over(path, b"x" * 101)
    finally:
        server.close()
    assert not path.exists()
    with pytest.raises(handoff.NotHandedOver):
        handoff.hand_over(path, b"x")


def test_only_a_plain_ingest_of_standard_input_takes_the_fast_path() -> None:
    from wikibridge.entry import pipe_queue

    assert pipe_queue(["ingest"]) == ""
    assert pipe_queue(["ingest", "--queue", "info-en"]) == "info-en"
    assert pipe_queue(["ingest", "--queue=info-en"]) == "info-en"
    for other in (
        [],
        ["status"],
        ["ingest", "--mbox", "x.mbox"],
        ["ingest", "--help"],
        ["ingest", "--queue"],
        ["ingest", "--queue", "a", "--mbox", "x"],
    ):
        assert pipe_queue(other) is None, other


def test_a_data_directory_too_deep_for_a_socket_leaves_the_pipe_in_process(
    settings_env: dict[str, str], session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 60)
    env = {**settings_env, "WIKIBRIDGE_DATA_DIR": str(deep)}
    assert len(str(handoff.socket_path(deep))) > handoff.MAX_SOCKET_PATH
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikibridge", "lmtp", "--port", str(free_port())],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the LMTP listener runs; only the handoff is left out
            if "listening on" in line or "too long" in line:
                break
        assert "too long for a unix socket" in line
        result = pipe(make_mail(subject="Deep"), env)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert result.code == 0 and not result.handed_over, result.stderr
    assert len(articles(session_factory)) == 1
