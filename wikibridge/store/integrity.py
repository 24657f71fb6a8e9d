"""What backup, restore and `wikibridge check` read: counts, and the files the rows point at."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from wikibridge.models import (
    Article,
    Attachment,
    AuditEvent,
    OutboxJob,
    Queue,
    Ticket,
    Volunteer,
    WikiAction,
)

CHUNK = 500  # values per IN list

# The counts a backup's manifest records and a restore is compared with.
COUNTED = {
    "tickets": Ticket,
    "articles": Article,
    "attachments": Attachment,
    "queues": Queue,
    "volunteers": Volunteer,
    "audit_events": AuditEvent,
    "outbox_jobs": OutboxJob,
    "wiki_actions": WikiAction,
}


def counts(session: Session) -> dict[str, int]:
    out = {
        name: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in COUNTED.items()
    }
    out["raw_messages"] = int(
        session.scalar(select(func.count(Article.raw_sha256.distinct()))) or 0
    )
    out["blobs"] = int(session.scalar(select(func.count(Attachment.blob_sha256.distinct()))) or 0)
    return out


def raw_hashes(session: Session) -> set[str]:
    """The SHA-256 of every raw message an article points at."""
    stmt = select(Article.raw_sha256).where(Article.raw_sha256.is_not(None))
    return {h for h in session.scalars(stmt.execution_options(yield_per=5000)) if h}


def blob_hashes(session: Session) -> set[str]:
    """The SHA-256 of every attachment blob."""
    stmt = select(Attachment.blob_sha256).distinct()
    return set(session.scalars(stmt.execution_options(yield_per=5000)))


def raw_referenced(session: Session, hashes: Iterable[str]) -> set[str]:
    """Those of `hashes` an article points at now."""
    return _referenced(session, Article.raw_sha256, hashes)


def blobs_referenced(session: Session, hashes: Iterable[str]) -> set[str]:
    return _referenced(session, Attachment.blob_sha256, hashes)


def _referenced(
    session: Session, column: InstrumentedAttribute[str | None], hashes: Iterable[str]
) -> set[str]:
    wanted = sorted(set(hashes))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        stmt = select(column).where(column.in_(chunk)).distinct()
        found.update(h for h in session.scalars(stmt) if h)
    return found


def export_snapshot(connection: Connection) -> str:
    """PostgreSQL: the id of this (repeatable read) transaction's snapshot, for pg_dump
    --snapshot, so the dump and the manifest's counts and hashes see the same database."""
    return str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
