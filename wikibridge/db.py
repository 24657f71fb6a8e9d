"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from wikibridge.store import word_pairs


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, full fsync on commit, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # a commit is on disk when it returns
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    word_pairs.register(dbapi_conn)  # the article_pairs triggers call it


def _sqlite_begin(conn: Any) -> None:
    # Readers take no lock in WAL mode; writers must start as writers, or a transaction that
    # read an older snapshot fails with "database is locked" instead of waiting its turn.
    if conn.get_execution_options().get("read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions for writing (the default), or read-only ones that never take SQLite's write lock."""
    bind = engine.execution_options(read_only=True) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


class WriteRefused(RuntimeError):
    """A write through a session that must only read (a request that changes nothing)."""


def make_request_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Read-only sessions for requests that change nothing (the web app's GET pages).

    On PostgreSQL each statement runs on its own (AUTOCOMMIT): at READ COMMITTED every statement
    takes its own snapshot inside a transaction too, so a reader loses nothing, and it saves the
    BEGIN and the ROLLBACK, two of a verify lookup's round trips. Nothing could roll back a write
    then, so these sessions refuse to write at all (:class:`WriteRefused`). SQLite keeps its
    read-only BEGIN. Not for readers that stream with ``yield_per``: PostgreSQL's server-side
    cursors need a transaction.
    """
    bind = engine.execution_options(read_only=True)
    if engine.dialect.name == "postgresql":
        bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    sessions = sessionmaker(bind, expire_on_commit=False)
    event.listen(sessions, "before_flush", _refuse_flush)
    event.listen(sessions, "do_orm_execute", _refuse_dml)
    return sessions


def _refuse_flush(_session: Session, _context: Any, _instances: Any) -> None:
    raise WriteRefused("a read-only session cannot write (changes are for POST requests)")


def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteRefused("a read-only session cannot write (changes are for POST requests)")
