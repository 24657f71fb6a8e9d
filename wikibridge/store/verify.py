"""The queries behind public verification (:mod:`wikibridge.verify`, :mod:`wikibridge.citations`).

Nothing here returns a subject, body, sender or requester: the article text is only searched,
inside the database, for a page title, and the answer is a yes or no.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from wikibridge.models import Article, Queue, Ticket, WikiAction

# Merge chains are short; this stops a loop should a broken chain point back at itself.
MAX_MERGE_DEPTH = 20
# Article text searched for a page title: the start of each body (mail quoting a whole
# thread can be long; a permission statement names its file near the top).
MAX_SCAN_CHARS = 200_000
# Actions that count as "recorded": done, or queued and about to be done.
RECORDED_STATES = ("done", "queued")


@dataclass(frozen=True)
class ChainTicket:
    """A cited ticket (depth 0) or a ticket it was merged into (depth 1, 2, ...)."""

    id: int
    depth: int
    queue_id: int
    queue_kind: str
    removed: bool


def cited_tickets(session: Session, numbers: Iterable[str]) -> dict[str, list[ChainTicket]]:
    """Number -> the ticket and the tickets it was merged into, nearest first; one query."""
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    chain = (
        select(
            Ticket.number.label("cited"),
            Ticket.id.label("ticket_id"),
            Ticket.merged_into_id.label("next_id"),
            literal(0).label("depth"),
        )
        .where(Ticket.number.in_(wanted))
        .cte("chain", recursive=True)
    )
    target = aliased(Ticket)
    chain = chain.union_all(
        select(chain.c.cited, target.id, target.merged_into_id, chain.c.depth + 1)
        .join(chain, target.id == chain.c.next_id)
        .where(chain.c.depth < MAX_MERGE_DEPTH)
    )
    stmt = (
        select(
            chain.c.cited,
            Ticket.id,
            chain.c.depth,
            Ticket.queue_id,
            Queue.kind,
            Ticket.removed_at.is_not(None),
        )
        .join(Ticket, Ticket.id == chain.c.ticket_id)
        .join(Queue, Queue.id == Ticket.queue_id)
        .order_by(chain.c.cited, chain.c.depth)
    )
    out: dict[str, list[ChainTicket]] = {}
    for cited, ticket_id, depth, queue_id, kind, removed in session.execute(stmt).all():
        out.setdefault(cited, []).append(
            ChainTicket(ticket_id, int(depth), queue_id, kind, bool(removed))
        )
    return out


def actions_on_pages(
    session: Session, ticket_ids: Iterable[int], pages: Iterable[str]
) -> list[tuple[int, str, str]]:
    """(ticket id, wiki, page) of recorded actions of these tickets on any of these pages."""
    ids = sorted(set(ticket_ids))
    titles = sorted(set(pages))
    if not ids or not titles:
        return []
    stmt = (
        select(WikiAction.ticket_id, WikiAction.wiki, WikiAction.page)
        .where(
            WikiAction.ticket_id.in_(ids),
            WikiAction.page.in_(titles),
            WikiAction.state.in_(RECORDED_STATES),
        )
        .distinct()
    )
    return [(t, w, p) for t, w, p in session.execute(stmt).all() if t is not None]


def articles_mention(
    session: Session, questions: Sequence[tuple[Sequence[int], Sequence[str]]]
) -> list[bool]:
    """For each (ticket ids, needles): whether an article of those tickets has one of the
    needles (lower case) in its subject or the start of its body. One query, one row."""
    if not questions:
        return []
    columns = []
    for i, (ticket_ids, needles) in enumerate(questions):
        if not ticket_ids or not needles:
            columns.append(literal(False).label(f"q{i}"))
            continue
        subject = func.lower(Article.subject)
        body = func.lower(func.substr(Article.body_text, 1, MAX_SCAN_CHARS))
        found = exists().where(
            Article.ticket_id.in_(list(ticket_ids)),
            or_(
                *(
                    col.contains(needle, autoescape=True)
                    for needle in needles
                    for col in (subject, body)
                )
            ),
        )
        columns.append(found.label(f"q{i}"))
    row = session.execute(select(*columns)).one()
    return [bool(v) for v in row]


def ticket_and_queue_kind(session: Session, number: str) -> tuple[Ticket, str] | None:
    row = session.execute(
        select(Ticket, Queue.kind)
        .join(Queue, Queue.id == Ticket.queue_id)
        .where(Ticket.number == number)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def done_actions(session: Session, ticket_id: int, limit: int = 200) -> list[WikiAction]:
    """The newest done actions of a ticket, oldest first."""
    stmt = (
        select(WikiAction)
        .where(WikiAction.ticket_id == ticket_id, WikiAction.state == "done")
        .order_by(WikiAction.id.desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(stmt).all()))


def actions_with_revision(session: Session, ticket_id: int, revid: int) -> list[WikiAction]:
    """Done actions of a ticket that made this revision (on whatever wiki)."""
    stmt = (
        select(WikiAction)
        .where(
            WikiAction.ticket_id == ticket_id,
            WikiAction.revision_after == revid,
            WikiAction.state == "done",
        )
        .order_by(WikiAction.id)
        .limit(20)
    )
    return list(session.scalars(stmt))
