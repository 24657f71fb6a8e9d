"""The queries behind public verification (:mod:`wikibridge.verify`, :mod:`wikibridge.citations`).

Nothing here returns a subject, body, sender or requester: the article text is only searched,
inside the database, for a page title, and the answer is a yes or no.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, select, text, true
from sqlalchemy.orm import Session

from wikibridge.models import Queue, Ticket, Volunteer, WikiAction

from .dialect import is_postgres

# Merge chains are short; this stops a loop should a broken chain point back at itself.
MAX_MERGE_DEPTH = 20
CHAIN_CHUNK = 2000  # numbers or ids per IN list
# Article text searched for a page title: the start of each body (mail quoting a whole
# thread can be long; a permission statement names its file near the top).
MAX_SCAN_CHARS = 200_000
# Actions that count as "recorded": done, or queued and about to be done.
RECORDED_STATES = ("done", "queued")
# Done actions a public lookup shows: the newest ones.
PUBLIC_ACTIONS = 200


@dataclass(frozen=True)
class ChainTicket:
    """A cited ticket (depth 0) or a ticket it was merged into (depth 1, 2, ...)."""

    id: int
    depth: int
    queue_id: int
    queue_kind: str
    removed: bool


def cited_tickets(session: Session, numbers: Iterable[str]) -> dict[str, list[ChainTicket]]:
    """Number -> the ticket and the tickets it was merged into, nearest first.

    One query for the cited tickets, by number; then one per step along merge chains, by id,
    only while a chain goes on (most tickets were never merged). A recursive query did this
    in one statement, but PostgreSQL planned its join step as a hash join over every ticket:
    two sequential scans of the table per call, whatever the number of citations.
    """
    wanted = sorted(set(numbers))
    out: dict[str, list[ChainTicket]] = {}
    following: dict[str, int] = {}  # cited number -> the next ticket of its chain
    for start in range(0, len(wanted), CHAIN_CHUNK):
        part = wanted[start : start + CHAIN_CHUNK]
        for row in session.execute(_chain_step(Ticket.number.in_(part))):
            out[row.number] = [ChainTicket(row.id, 0, row.queue_id, row.kind, bool(row.removed))]
            if row.merged_into_id is not None:
                following[row.number] = row.merged_into_id
    depth = 0
    while following and depth < MAX_MERGE_DEPTH:
        depth += 1
        ids = sorted(set(following.values()))
        found = {
            row.id: row
            for start in range(0, len(ids), CHAIN_CHUNK)
            for row in session.execute(_chain_step(Ticket.id.in_(ids[start : start + CHAIN_CHUNK])))
        }
        after: dict[str, int] = {}
        for cited, ticket_id in following.items():
            step = found.get(ticket_id)
            if step is None:
                continue
            out[cited].append(
                ChainTicket(step.id, depth, step.queue_id, step.kind, bool(step.removed))
            )
            if step.merged_into_id is not None:
                after[cited] = step.merged_into_id
        following = after
    return out


def _chain_step(condition: ColumnElement[bool]) -> Select[str, int, int | None, int, str, bool]:
    return (
        select(
            Ticket.number,
            Ticket.id,
            Ticket.merged_into_id,
            Ticket.queue_id,
            Queue.kind,
            Ticket.removed_at.is_not(None).label("removed"),
        )
        .join(Queue, Queue.id == Ticket.queue_id)
        .where(condition)
    )


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
    needles in its lower-cased subject or the start of its body.

    One statement of a fixed shape, whatever the number of questions: they travel as one JSON
    parameter, unpacked by the database (json_each, jsonb_to_recordset), so a batch of
    hundreds costs one round trip and no SQL compilation per question.
    """
    asked = [
        (i, sorted(set(ticket_ids)), [n for n in dict.fromkeys(needles) if n])
        for i, (ticket_ids, needles) in enumerate(questions)
    ]
    asked = [(i, ids, needles) for i, ids, needles in asked if ids and needles]
    if not asked:
        return [False] * len(questions)
    if is_postgres(session):
        stmt = _MENTION_PG
        rows: list[dict[str, Any]] = [{"i": i, "t": ids, "n": n} for i, ids, n in asked]
    else:
        stmt = _MENTION_SQLITE
        rows = [{"i": i, "t": t, "n": n} for i, ids, needles in asked for t in ids for n in needles]
    found = set(session.scalars(stmt, {"questions": json.dumps(rows), "scan": MAX_SCAN_CHARS}))
    return [i in found for i in range(len(questions))]


# One row per question, its tickets and needles as arrays. The LATERAL ... LIMIT 1 makes
# PostgreSQL look up each question's articles by ticket (the index) and stop at the first
# that names the file: as a plain join it estimated the JSON rows badly and scanned every
# article (0.3 s for 500 citations at a quarter of a million tickets). Each article is
# lower-cased once for all of its question's needles (OFFSET 0 keeps that subquery apart).
_MENTION_PG = text(
    """
    SELECT q.i
    FROM jsonb_to_recordset(CAST(:questions AS jsonb)) AS q(i integer, t integer[], n text[])
    CROSS JOIN LATERAL (
        SELECT 1
        FROM articles a
        CROSS JOIN LATERAL (
            SELECT lower(a.subject) AS subject, lower(substr(a.body_text, 1, :scan)) AS body
            OFFSET 0
        ) AS low
        WHERE a.ticket_id = ANY (q.t)
          AND EXISTS (
            SELECT 1 FROM unnest(q.n) AS needle(n)
            WHERE strpos(low.subject, needle.n) > 0 OR strpos(low.body, needle.n) > 0
          )
        LIMIT 1
    ) AS hit
    """
)
_MENTION_SQLITE = text(
    """
    SELECT DISTINCT json_extract(q.value, '$.i')
    FROM json_each(:questions) AS q
    JOIN articles a ON a.ticket_id = json_extract(q.value, '$.t')
    WHERE instr(lower(a.subject), json_extract(q.value, '$.n')) > 0
       OR instr(lower(substr(a.body_text, 1, :scan)), json_extract(q.value, '$.n')) > 0
    """
)


def ticket_and_queue_kind(session: Session, number: str) -> tuple[Ticket, str] | None:
    row = session.execute(
        select(Ticket, Queue.kind)
        .join(Queue, Queue.id == Ticket.queue_id)
        .where(Ticket.number == number)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True)
class DoneAction:
    """A done action's public columns, with the acting volunteer's wiki username."""

    kind: str
    wiki: str
    page: str
    revision_after: int | None
    done_at: datetime | None
    volunteer_id: int | None
    username: str | None  # None when the bot account acted (no volunteer)


def ticket_with_done_actions(
    session: Session, number: str
) -> tuple[Ticket, str, list[DoneAction]] | None:
    """The ticket with this number, its queue's kind, and its newest done actions (at most
    ``PUBLIC_ACTIONS``, oldest first) with the volunteers' usernames; None when there is no such
    ticket. One statement, so a public lookup costs one round trip."""
    rows = session.execute(_ticket_with_done_actions(), {"number": number}).all()
    if not rows:
        return None
    actions = [DoneAction(*row[3:]) for row in rows if row[2] is not None]
    return rows[0][0], rows[0][1], actions


@cache
def _ticket_with_done_actions() -> Select[Any]:
    """The statement behind :func:`ticket_with_done_actions`, built once per process: building
    it took a quarter of a worker's time on public lookups (measured), and it never changes.

    The newest actions are a derived table keyed by an uncorrelated subquery for the ticket's
    id (computed once; the index on (ticket_id, id) serves the newest first), joined to the
    ticket's row, one row per action. A removed ticket matches no actions, so none of them even
    leave the database.
    """
    wanted = bindparam("number", type_=String)
    live_id = select(Ticket.id).where(Ticket.number == wanted, Ticket.removed_at.is_(None))
    newest = (
        select(
            WikiAction.id,
            WikiAction.kind,
            WikiAction.wiki,
            WikiAction.page,
            WikiAction.revision_after,
            WikiAction.done_at,
            WikiAction.volunteer_id,
        )
        .where(WikiAction.ticket_id == live_id.scalar_subquery(), WikiAction.state == "done")
        .order_by(WikiAction.id.desc())
        .limit(PUBLIC_ACTIONS)
        .subquery("newest")
    )
    return (
        select(
            Ticket,
            Queue.kind,
            newest.c.id,
            newest.c.kind,
            newest.c.wiki,
            newest.c.page,
            newest.c.revision_after,
            newest.c.done_at,
            newest.c.volunteer_id,
            Volunteer.username,
        )
        .join(Queue, Queue.id == Ticket.queue_id)
        .outerjoin(newest, true())
        .outerjoin(Volunteer, Volunteer.id == newest.c.volunteer_id)
        .where(Ticket.number == wanted)
        .order_by(newest.c.id)
    )


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
