"""Mail ingest throughput: messages per second, durable (fsync'd), on SQLite and PostgreSQL.

Modes:
- pipe:   one `wikibridge ingest` process per message, as a mail server's pipe runs it, with as
          many deliveries at once as the machine has cores; no listener runs, so each process
          stores its message itself;
- pipe-listener: the same pipes while a `wikibridge lmtp` runs: each hands its message over
          to the listener (DATA_DIR/spool/ingest.sock), which group-commits them;
- lmtp:   a running `wikibridge lmtp` listener, messages delivered over LMTP by 20 connections
          at once (LMTP_CLIENTS): a busy Postfix delivers to one destination over as many
          connections as its default_destination_concurrency_limit, 20, which its
          lmtp_destination_concurrency_limit defaults to; the listener stores the messages
          that arrive together with one commit;
- single: the Ingestor in one process, message by message (one commit each);
- batch:  the Ingestor in one process with group commit (100 messages per commit, spooled in
          one fsync'd journal), as the LMTP listener and an mbox import use it; the run ends
          with the spool checkpoint (one sync) that makes the raw files durable;
- batch-x4: four `wikibridge ingest --mbox` processes at once, a quarter of the mail each
          (process start-up included), as several importers or hosts sharing PostgreSQL.

    python -m bench ingest --messages 2000 --databases sqlite,postgres

Every run starts from an empty, migrated database and checks that every message became an
article (no loss), then prints one line per mode and database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from bench.mailgen import messages
from wikibridge import schema
from wikibridge.config import Settings, load_settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.mail import handoff
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import Article

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get(
    "WIKIBRIDGE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class Target:
    """A fresh data directory and database of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.dir = Path(tempfile.mkdtemp(prefix=f"wb-bench-{kind}-"))
        self.pg_name = ""
        if kind == "sqlite":
            self.url = f"sqlite:///{self.dir / 'wikibridge.sqlite3'}"
        else:
            self.pg_name = f"wbbench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            admin.dispose()
            self.url = (
                create_engine(PG_ADMIN)
                .url.set(database=self.pg_name)
                .render_as_string(hide_password=False)
            )
        engine = make_engine(self.url)
        schema.upgrade(engine)
        engine.dispose()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")},
            "WIKIBRIDGE_DATA_DIR": str(self.dir / "data"),
            "WIKIBRIDGE_DATABASE_URL": self.url,
            "WIKIBRIDGE_SECRET_KEY": "bench",
            "PYTHONPATH": str(ROOT),
        }

    def settings(self) -> Settings:
        return load_settings(self.env)

    def articles(self) -> int:
        engine = make_engine(self.url)
        with engine.connect() as conn:
            n = conn.scalar(select(func.count()).select_from(Article))
        engine.dispose()
        return int(n or 0)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            admin.dispose()


def run_single(target: Target, mail: list[bytes]) -> None:
    engine = make_engine(target.url)
    ingestor = Ingestor(target.settings(), make_sessionmaker(engine))
    for raw in mail:
        ingestor.ingest(raw, source="bench")
    engine.dispose()


def run_batch(target: Target, mail: list[bytes], size: int = 100) -> None:
    engine = make_engine(target.url)
    ingestor = Ingestor(target.settings(), make_sessionmaker(engine))
    for start in range(0, len(mail), size):
        ingestor.ingest_many(mail[start : start + size], source="bench")
    ingestor.checkpoint()  # the raw files durable, as a listener does when it stops
    engine.dispose()


def run_pipe(target: Target, mail: list[bytes]) -> None:
    def one(raw: bytes) -> int:
        return subprocess.run(
            [sys.executable, "-m", "wikibridge", "ingest"],
            input=raw,
            env=target.env,
            cwd=ROOT,
            capture_output=True,
            check=False,
        ).returncode

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        codes = set(pool.map(one, mail))
    if codes != {0}:
        raise SystemExit(f"pipe ingest failed with exit codes {codes}")


@contextlib.contextmanager
def lmtp_server(target: Target) -> Iterator[tuple[int, int]]:
    """A running `wikibridge lmtp` listener on the target; yields its port and process id."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "wikibridge", "lmtp", "--host", "127.0.0.1", "--port", str(port)],
        env=target.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        ingest_socket = handoff.socket_path(target.settings().data_dir)
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if ingest_socket.exists():  # bound after the LMTP port
                    break
            except OSError:
                pass
            time.sleep(0.1)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(30)


#: Connections delivering at once in the lmtp mode: Postfix's default concurrency per
#: destination (default_destination_concurrency_limit, which lmtp_destination_concurrency_limit
#: defaults to). Fewer clients leave the listener's group commit with small batches.
LMTP_CLIENTS = 20


def deliver_lmtp(port: int, mail: list[bytes], clients: int = LMTP_CLIENTS) -> None:
    """Deliver the mail over LMTP from several clients at once."""

    def deliver(part: list[bytes]) -> None:
        client = smtplib.LMTP("127.0.0.1", port)
        for raw in part:
            # On the wire, mail has CRLF line ends (smtplib sends bytes as they are).
            wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            client.sendmail("sender@example.net", ["info-en@example.org"], wire)
        client.quit()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(deliver, [mail[i::clients] for i in range(clients)]))


def run_lmtp(target: Target, mail: list[bytes], clients: int = LMTP_CLIENTS) -> None:
    with lmtp_server(target) as (port, _):
        deliver_lmtp(port, mail, clients)


def run_batch4(target: Target, mail: list[bytes], processes: int = 4) -> None:
    """Four `wikibridge ingest --mbox` importers at once, each a quarter of the mail: the
    several-process case (on PostgreSQL they commit side by side). Process start-up counts."""
    import mailbox

    paths = []
    for p in range(processes):
        path = target.dir / f"part{p}.mbox"
        box = mailbox.mbox(str(path))
        for raw in mail[p::processes]:
            box.add(raw)
        box.close()
        paths.append(path)
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "wikibridge", "ingest", "--mbox", str(path)],
            env=target.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for path in paths
    ]
    if any(proc.wait() != 0 for proc in running):
        raise SystemExit("an importer failed")


def run_pipe_listener(target: Target, mail: list[bytes]) -> None:
    with lmtp_server(target):
        run_pipe(target, mail)


MODES: dict[str, Callable[[Target, list[bytes]], None]] = {
    "single": run_single,
    "batch": run_batch,
    "batch-x4": run_batch4,
    "lmtp": run_lmtp,
    "pipe": run_pipe,
    "pipe-listener": run_pipe_listener,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages per run")
    parser.add_argument(
        "--pipe-messages",
        type=int,
        default=200,
        help="messages for the pipe modes (a process each)",
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--modes", default="single,batch,lmtp,pipe,pipe-listener")
    args = parser.parse_args(argv)
    mail = messages(args.messages)
    print(f"{'mode':13} {'database':9} {'messages':>8} {'seconds':>8} {'msg/s':>8}")
    # Every run's files are removed at the end, not between runs: on ext4, creating files and
    # folders within a minute or so of deleting thousands costs far more (the inode allocator
    # skips recently deleted inodes; measured: 1,035 msg/s after a pause, 526-657 right after
    # an earlier run's clean-up). Leave a minute between two invocations for the same reason.
    targets: list[Target] = []
    try:
        for kind in args.databases.split(","):
            for mode in args.modes.split(","):
                batch = mail[: args.pipe_messages] if mode.startswith("pipe") else mail
                target = Target(kind)
                targets.append(target)
                start = time.perf_counter()
                MODES[mode](target, batch)
                seconds = time.perf_counter() - start
                stored = target.articles()
                if stored != len(batch):
                    raise SystemExit(f"{mode}/{kind}: {stored} articles for {len(batch)} messages")
                print(
                    f"{mode:13} {kind:9} {len(batch):>8} {seconds:>8.2f} "
                    f"{len(batch) / seconds:>8.1f}",
                    flush=True,
                )
    finally:
        for target in targets:
            target.remove()


if __name__ == "__main__":
    main()
