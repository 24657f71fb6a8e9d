"""A point-in-time copy of the database, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the whole file in one
step under a read transaction, so writers in other processes carry on (WAL) and the copy is
one consistent state. PostgreSQL: ``pg_dump --format=custom`` inside a repeatable-read
transaction whose snapshot it shares (``--snapshot``), so the dump and what this process reads
in that transaction (counts, the files the rows point at) are the same point in time.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session

from wikibridge.files import fsync_dir
from wikibridge.store import integrity

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"


class DatabaseCopyError(Exception):
    """The database could not be copied or restored; the message says why."""


def dialect(engine: Engine) -> str:
    return engine.dialect.name  # "sqlite" or "postgresql"


def dump_name(name: str) -> str:
    if name == "sqlite":
        return SQLITE_FILE
    if name == "postgresql":
        return PG_FILE
    raise DatabaseCopyError(f"backups are written for SQLite and PostgreSQL, not {name}")


@contextmanager
def snapshot(engine: Engine, target: Path) -> Iterator[Session]:
    """Write the database's current state to `target`; yield a session reading that state."""
    if dialect(engine) == "sqlite":
        yield from _sqlite_snapshot(engine, target)
    elif dialect(engine) == "postgresql":
        yield from _pg_snapshot(engine, target)
    else:
        dump_name(dialect(engine))


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseCopyError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_snapshot(engine: Engine, target: Path) -> Iterator[Session]:
    source = sqlite3.connect(_sqlite_path(engine), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # pages=-1: one step. In steps, every write by another process would restart the copy.
        source.backup(copy, pages=-1)
        # The copy is one self-contained file: no -wal beside it in the backup.
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.commit()
    finally:
        copy.close()
        source.close()
    with open(target, "rb+") as f:
        os.fsync(f.fileno())
    reader = create_engine(f"sqlite:///{target}")
    try:
        with Session(reader) as session:
            yield session
    finally:
        reader.dispose()


def _pg_snapshot(engine: Engine, target: Path) -> Iterator[Session]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = integrity.export_snapshot(conn)
            _pg_tool(
                engine,
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={target}",
            )
            with Session(bind=conn) as session:
                yield session


def restore(engine: Engine, dump: Path) -> None:
    """Put a copy back into the (empty) database of `engine`."""
    if dialect(engine) == "sqlite":
        _sqlite_restore(engine, dump)
    elif dialect(engine) == "postgresql":
        _pg_tool(
            engine,
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            str(dump),
        )
    else:
        dump_name(dialect(engine))


def _sqlite_restore(engine: Engine, dump: Path) -> None:
    path = _sqlite_path(engine)
    engine.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.restore.tmp")
    shutil.copyfile(dump, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    # The empty database's journal must not be replayed onto the restored file.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _pg_tool(engine: Engine, tool: str, *args: str) -> None:
    """Run pg_dump or pg_restore on the engine's database; the password goes in the
    environment, not on the command line, where every user of the machine could read it."""
    if shutil.which(tool) is None:
        raise DatabaseCopyError(
            f"{tool} is not installed: install the PostgreSQL client programs "
            "(Debian: postgresql-client) of the server's major version or newer"
        )
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    command = [tool, f"--dbname={conninfo}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = " ".join(result.stderr.strip().splitlines()[:3]) or f"exit {result.returncode}"
        raise DatabaseCopyError(f"{tool} failed: {message}")
