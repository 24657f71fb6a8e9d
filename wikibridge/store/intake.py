"""The statements of mail intake, a batch at a time.

Ingest stores messages in groups (one transaction for up to a hundred). Looking every message
up on its own and inserting it through the ORM's unit of work cost more than everything else
together, so here the lookups take one query per batch and the inserts one multi-row
statement per table, with the new ids read back in the order of the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from wikibridge.models import Article, Attachment, Ticket, TicketCounter
from wikibridge.tickets.numbers import format_number

from .dialect import insert_for, is_postgres

# Bound parameters per IN list: well below SQLite's limit of 32,766 and PostgreSQL's 65,535.
CHUNK = 2000

TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
ARTICLES: Table = Article.__table__  # type: ignore[assignment]
ATTACHMENTS: Table = Attachment.__table__  # type: ignore[assignment]
COUNTERS: Table = TicketCounter.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class KnownArticle:
    id: int
    ticket_id: int
    raw_sha256: str | None
    message_id: str


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: str
    state: str
    queue_id: int
    requester: str
    merged_into_id: int | None


def _chunks(values: Iterable[str | int]) -> list[list[Any]]:
    unique = sorted(set(values), key=str)
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def known_articles(
    session: Session, shas: Iterable[str], message_ids: Iterable[str]
) -> list[KnownArticle]:
    """Stored articles with one of these raw hashes or Message-IDs (all of them, no limit)."""
    a = ARTICLES.c
    found: dict[int, KnownArticle] = {}
    conditions = [a.raw_sha256.in_(part) for part in _chunks(shas)]
    conditions += [a.message_id.in_(part) for part in _chunks(m for m in message_ids if m)]
    for cond in conditions:
        stmt = select(a.id, a.ticket_id, a.raw_sha256, a.message_id).where(cond)
        for row in session.execute(stmt):
            found[row.id] = KnownArticle(row.id, row.ticket_id, row.raw_sha256, row.message_id)
    return sorted(found.values(), key=lambda k: k.id)


def ticket_rows(
    session: Session, ids: Iterable[int] = (), numbers: Iterable[str] = ()
) -> list[TicketRow]:
    """The threading columns of the tickets with these ids or numbers."""
    t = TICKETS.c
    conditions = [t.id.in_(part) for part in _chunks(ids)]
    conditions += [t.number.in_(part) for part in _chunks(numbers)]
    if not conditions:
        return []
    stmt = select(t.id, t.number, t.state, t.queue_id, t.requester, t.merged_into_id).where(
        or_(*conditions)
    )
    return [TicketRow(*row) for row in session.execute(stmt)]


def participates(session: Session, ticket_id: int, address: str) -> bool:
    """Whether a stored article of the ticket was sent by or to this (lower-case) address;
    the same test as :func:`wikibridge.store.tickets.is_participant` after the requester."""
    a = ARTICLES.c
    stmt = (
        select(a.id)
        .where(
            a.ticket_id == ticket_id,
            or_(
                a.sender_address == address,
                a.to.icontains(address, autoescape=True),
                a.cc.icontains(address, autoescape=True),
            ),
        )
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def allocate_numbers(session: Session, system_id: str, count: int, now: datetime) -> list[str]:
    """`count` consecutive DateChecksum numbers of the day, with one atomic statement.

    The counter row stays locked until the caller's transaction ends, so numbers are unique
    and never reused, also with many ingest processes on several machines.
    """
    if count <= 0:
        return []
    day = now.strftime("%Y%m%d")
    stmt = insert_for(session, COUNTERS).values(day=day, value=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day"], set_={"value": COUNTERS.c.value + count}
    ).returning(COUNTERS.c.value)
    last = int(session.execute(stmt).scalar_one())
    return [format_number(now.date(), system_id, v) for v in range(last - count + 1, last + 1)]


def insert_returning_ids(
    session: Session, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert rows (all with the same keys) with one statement; their new ids, in row order."""
    if not rows:
        return []
    if not is_postgres(session):
        return _insert_after_last_id(session, table, rows)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(stmt, list(rows))]


def _insert_after_last_id(
    session: Session, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """SQLite: the rows get the ids after the largest, which is what SQLite itself gives a
    table without AUTOINCREMENT. SQLite returns RETURNING rows in no promised order, so
    SQLAlchemy would insert them one statement each to tell whose id is whose; here they go
    in with one executemany. Writers hold SQLite's lock from BEGIN IMMEDIATE on (wikibridge.db),
    so no one else takes these ids; if one did, the primary key would refuse the insert."""
    last = session.execute(select(func.max(table.c.id))).scalar_one_or_none() or 0
    ids = list(range(last + 1, last + 1 + len(rows)))
    session.execute(insert(table), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def insert_tickets(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    return insert_returning_ids(session, TICKETS, rows)


def insert_articles(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    return insert_returning_ids(session, ARTICLES, rows)


def insert_attachments(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    insert_rows(session, ATTACHMENTS, rows)


def set_states(session: Session, changes: dict[int, tuple[str, datetime]]) -> None:
    """Write tickets' new state and change time, in id order (two concurrent batches lock
    the rows they share in the same order, so they cannot deadlock on them)."""
    if not changes:
        return
    stmt = (
        update(TICKETS)
        .where(TICKETS.c.id == bindparam("_id"))
        .values(state=bindparam("_state"), updated_at=bindparam("_updated"))
    )
    rows = [
        {"_id": tid, "_state": state, "_updated": at}
        for tid, (state, at) in sorted(changes.items())
    ]
    session.connection().execute(stmt, rows)
