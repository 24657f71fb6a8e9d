"""With the database down, `wikibridge ingest` exits 75 and keeps the message in the spool;
after recovery `wikibridge spool reprocess` stores it exactly once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.cli import wikibridge
from tests.databases import in_ci
from tests.mailbuilder import make_mail
from tests.pgserver import PrivateServer, server_bin
from wikibridge.db import make_engine
from wikibridge.mail.spool import Spool
from wikibridge.models import Article


def articles(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Article))
    engine.dispose()
    return int(n or 0)


def env_for(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")}
    env.update(
        WIKIBRIDGE_DATA_DIR=str(tmp_path / "data"),
        WIKIBRIDGE_DATABASE_URL=url,
        WIKIBRIDGE_SECRET_KEY="test",
    )
    return env


def check_outage_and_recovery(env: dict[str, str], url: str, stop: object, start: object) -> None:
    raw = make_mail(subject="Sent while the database was down")
    assert wikibridge("db", "upgrade", env=env).returncode == 0
    stop()  # type: ignore[operator]
    result = wikibridge("ingest", env=env, stdin=raw)
    assert result.returncode == 75, result.stderr.decode()
    assert b"temporary failure" in result.stderr
    spool = Spool(Path(env["WIKIBRIDGE_DATA_DIR"]))
    [waiting] = spool.pending()
    assert spool.read(waiting.sha256) == raw
    status = wikibridge("status", env=env)
    assert status.returncode != 0 and b"cannot reach the database" in status.stderr

    start()  # type: ignore[operator]
    result = wikibridge("spool", "reprocess", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"1 message(s) reprocessed: 1 stored" in result.stdout
    # The mail server's own retry of the same message must not store it a second time.
    again = wikibridge("ingest", env=env, stdin=raw)
    assert again.returncode == 0 and again.stdout.startswith(b"duplicate")
    assert wikibridge("spool", "reprocess", env=env).stdout.startswith(b"0 message(s)")
    assert articles(url) == 1
    assert spool.pending() == []
    assert spool.raw.get(waiting.sha256) == raw


def test_sqlite_unwritable(tmp_path: Path) -> None:
    db = tmp_path / "data" / "wikibridge.sqlite3"
    url = f"sqlite:///{db}"
    moved = tmp_path / "moved.sqlite3"

    def stop() -> None:
        # The database file is gone and a directory stands in its place: SQLite cannot open it.
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{db}{suffix}")
            if p.exists():
                p.rename(Path(f"{moved}{suffix}"))
        db.mkdir()

    def start() -> None:
        db.rmdir()
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{moved}{suffix}")
            if p.exists():
                p.rename(Path(f"{db}{suffix}"))

    check_outage_and_recovery(env_for(tmp_path, url), url, stop, start)


@pytest.fixture
def private_pg(tmp_path: Path) -> PrivateServer:
    if server_bin() is None:
        if in_ci():
            pytest.fail("PostgreSQL server binaries are missing (CI=true: never skip)")
        pytest.skip("PostgreSQL server binaries are missing")
    server = PrivateServer()
    server.init()
    server.start()
    yield server  # type: ignore[misc]
    server.remove()


def test_postgres_stopped(tmp_path: Path, private_pg: PrivateServer) -> None:
    engine = make_engine(private_pg.url)
    with engine.connect() as conn:
        conn.execute(text("select 1"))
    engine.dispose()
    check_outage_and_recovery(
        env_for(tmp_path, private_pg.url), private_pg.url, private_pg.stop, private_pg.start
    )
