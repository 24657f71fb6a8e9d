"""The queries behind soft delete and `wikibridge purge` (:mod:`wikibridge.tickets.retention`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from wikibridge.models import Article, Attachment, OutboxJob, Ticket, TicketLink, WikiAction
from wikibridge.tickets import states

CHUNK = 500  # values per IN list
BUSY_JOB_STATES = ("pending", "running")


def _chunks(values: Iterable[int]) -> list[list[int]]:
    ordered = sorted(set(values))
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


def live_ticket_count(session: Session) -> int:
    """Tickets not purged (soft-deleted ones count: their content is still there)."""
    stmt = select(func.count()).select_from(Ticket).where(Ticket.purged_at.is_(None))
    return int(session.scalar(stmt) or 0)


def closed_before(session: Session, cutoff: datetime) -> list[tuple[int, str]]:
    """(id, number) of closed, unpurged tickets closed (or, lacking that, last changed)
    before `cutoff`, oldest number first."""
    stmt = (
        select(Ticket.id, Ticket.number)
        .where(
            Ticket.state.in_(states.CLOSED),
            Ticket.purged_at.is_(None),
            func.coalesce(Ticket.closed_at, Ticket.updated_at) < cutoff,
        )
        .order_by(Ticket.number)
    )
    return [(i, n) for i, n in session.execute(stmt).all()]


def merged_into(session: Session, ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(id, number, target id) of the unpurged tickets merged directly into any of `ids`."""
    out: list[tuple[int, str, int]] = []
    for chunk in _chunks(ids):
        stmt = select(Ticket.id, Ticket.number, Ticket.merged_into_id).where(
            Ticket.merged_into_id.in_(chunk), Ticket.purged_at.is_(None)
        )
        out.extend((i, n, t) for i, n, t in session.execute(stmt).all() if t is not None)
    return out


def cited(session: Session, tickets: Sequence[tuple[int, str]]) -> set[int]:
    """Those of these tickets an on-wiki action cites, by id or by number, in any state
    (a refused or failed action was still meant to cite it)."""
    found: set[int] = set()
    by_number = {n: i for i, n in tickets}
    for chunk in _chunks(i for i, _ in tickets):
        stmt = select(WikiAction.ticket_id).where(WikiAction.ticket_id.in_(chunk)).distinct()
        found.update(i for i in session.scalars(stmt) if i is not None)
    numbers = sorted(by_number)
    for start in range(0, len(numbers), CHUNK):
        chunk_n = numbers[start : start + CHUNK]
        stmt_n = select(WikiAction.ticket_number).where(WikiAction.ticket_number.in_(chunk_n))
        found.update(by_number[n] for n in session.scalars(stmt_n.distinct()))
    return found


def busy(session: Session, ids: Iterable[int]) -> set[int]:
    """Those of these tickets with an outbox job waiting or running (a mail, an edit)."""
    found: set[int] = set()
    for chunk in _chunks(ids):
        stmt = (
            select(OutboxJob.ticket_id)
            .where(OutboxJob.ticket_id.in_(chunk), OutboxJob.state.in_(BUSY_JOB_STATES))
            .distinct()
        )
        found.update(i for i in session.scalars(stmt) if i is not None)
    return found


def file_hashes(session: Session, ids: Iterable[int]) -> tuple[set[str], set[str]]:
    """The raw messages and blobs the articles of these tickets point at."""
    raw: set[str] = set()
    blobs: set[str] = set()
    for chunk in _chunks(ids):
        raw.update(
            h
            for h in session.scalars(
                select(Article.raw_sha256).where(
                    Article.ticket_id.in_(chunk), Article.raw_sha256.is_not(None)
                )
            )
            if h
        )
        blobs.update(
            session.scalars(
                select(Attachment.blob_sha256)
                .join(Article, Attachment.article_id == Article.id)
                .where(Article.ticket_id.in_(chunk))
            )
        )
    return raw, blobs


def purge_content(session: Session, ids: Iterable[int], now: datetime) -> dict[str, int]:
    """Delete the articles, attachments, links and finished jobs of these tickets and leave
    each row as a tombstone: number, queue, state and times stay, title and people go."""
    counts = {"articles": 0, "attachments": 0}
    for chunk in _chunks(ids):
        articles = select(Article.id).where(Article.ticket_id.in_(chunk)).scalar_subquery()
        result = session.execute(delete(Attachment).where(Attachment.article_id.in_(articles)))
        counts["attachments"] += int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = session.execute(delete(Article).where(Article.ticket_id.in_(chunk)))
        counts["articles"] += int(result.rowcount or 0)  # type: ignore[attr-defined]
        session.execute(
            delete(TicketLink).where(
                or_(TicketLink.source_id.in_(chunk), TicketLink.target_id.in_(chunk))
            )
        )
        # Finished jobs only (waiting ones keep their ticket out of the purge); their
        # payload may hold a reply's text.
        session.execute(
            delete(OutboxJob).where(
                OutboxJob.ticket_id.in_(chunk), OutboxJob.state.not_in(BUSY_JOB_STATES)
            )
        )
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(chunk))
            .values(
                title="",
                requester="",
                owner_id=None,
                locked_until=None,
                pending_until=None,
                removed_at=func.coalesce(Ticket.removed_at, now),
                purged_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    return counts
