"""Databases for benchmarks: a SQLite file in a directory, or a new PostgreSQL database."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "WIKIBRIDGE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def create_database(kind: str, directory: Path) -> str:
    """A new, empty database of ``kind`` (sqlite or postgres) for ``directory``; its URL.

    An existing one of the same name is dropped first: generating is repeatable.
    """
    if kind == "sqlite":
        path = directory / "wikibridge.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = "wbbench_" + hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:10]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return create_engine(PG_ADMIN).url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database that :func:`create_database` made (SQLite's file goes with
    its directory)."""
    if not url.startswith("postgresql"):
        return
    name = create_engine(url).url.database
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
