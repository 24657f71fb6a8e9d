"""Sessions for requests that change nothing (both databases): they read, and refuse to write.

On PostgreSQL they hold no transaction between statements (no BEGIN, no ROLLBACK around a
page), so nothing could roll a write back: a write is refused before it reaches the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.db import WriteRefused, make_request_sessionmaker
from wikibridge.models import Queue
from wikibridge.store import queues


@pytest.fixture
def queue_id(session_factory: sessionmaker[Session]) -> int:
    with session_factory.begin() as s:
        return queues.ensure(s, "info-en", "info").id


def queue_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Queue)) or 0)


def test_reads(engine: Engine, queue_id: int) -> None:
    with make_request_sessionmaker(engine)() as s:
        queue = s.get(Queue, queue_id)
        assert queue is not None and queue.name == "info-en"


def test_a_flush_is_refused_and_nothing_is_written(
    engine: Engine, session_factory: sessionmaker[Session], queue_id: int
) -> None:
    before = queue_count(session_factory)
    with make_request_sessionmaker(engine)() as s:
        queue = s.get(Queue, queue_id)
        assert queue is not None
        queue.name = "renamed"
        s.add(Queue(name="sneaked-in", kind="info"))
        with pytest.raises(WriteRefused):
            s.flush()
    with session_factory() as s:
        assert s.get(Queue, queue_id).name == "info-en"  # type: ignore[union-attr]
    assert queue_count(session_factory) == before


def test_statements_that_write_are_refused(
    engine: Engine, session_factory: sessionmaker[Session], queue_id: int
) -> None:
    before = queue_count(session_factory)
    with make_request_sessionmaker(engine)() as s:
        with pytest.raises(WriteRefused):
            s.execute(update(Queue).where(Queue.id == queue_id).values(name="renamed"))
        with pytest.raises(WriteRefused):
            s.execute(insert(Queue).values(name="sneaked-in", kind="info"))
    with session_factory() as s:
        assert s.get(Queue, queue_id).name == "info-en"  # type: ignore[union-attr]
    assert queue_count(session_factory) == before


def test_postgres_holds_no_transaction_between_statements(engine: Engine, queue_id: int) -> None:
    """PostgreSQL: each statement on its own; SQLite keeps its read-only BEGIN."""
    with make_request_sessionmaker(engine)() as s:
        s.get(Queue, queue_id)
        driver = s.connection().connection.driver_connection
        if engine.dialect.name == "postgresql":
            assert driver.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
        else:
            assert driver.in_transaction  # type: ignore[union-attr]
    # The connection goes back to the pool as it came: writers still get transactions.
    with engine.connect() as conn:
        conn.execute(select(1))
        assert conn.in_transaction()
        if engine.dialect.name == "postgresql":
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
