"""The counts the database keeps per queue and state agree with counting the tickets."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tests.webapp import helpers
from wikibridge.models import Ticket, TicketCountDelta, utcnow
from wikibridge.store import listing, ticket_counts
from wikibridge.tickets import states
from wikibridge.tickets.listing import BUCKETS


def counted(session: Session) -> dict[tuple[int, str], int]:
    rows = session.execute(
        select(Ticket.queue_id, Ticket.state, func.count())
        .where(Ticket.removed_at.is_(None))
        .group_by(Ticket.queue_id, Ticket.state)
    )
    return {(q, s): n for q, s, n in rows}


def kept(session: Session, queue_ids: list[int]) -> dict[tuple[int, str], int]:
    return ticket_counts.counts(session, queue_ids, states.STATES)


def test_counts_follow_every_change_and_survive_compaction(session: Session) -> None:
    info = helpers.queue(session, "info-en")
    press = helpers.queue(session, "press")
    queue_ids = [info.id, press.id]
    made = [helpers.ticket(session, info, f"T{i}") for i in range(6)]
    helpers.ticket(session, press, "P")
    session.commit()
    assert (
        kept(session, queue_ids) == counted(session) == {(info.id, "new"): 6, (press.id, "new"): 1}
    )

    made[0].state = states.OPEN
    made[1].state = states.CLOSED_OK
    made[2].queue_id = press.id  # moved
    made[3].removed_at = utcnow()  # soft-deleted
    made[4].state = states.PENDING_REMINDER
    made[4].queue_id = press.id  # both at once
    session.commit()
    assert kept(session, queue_ids) == counted(session)

    made[3].removed_at = None  # restored
    session.execute(delete(Ticket).where(Ticket.id == made[5].id))  # purged
    session.commit()
    assert kept(session, queue_ids) == counted(session)

    rows = session.scalar(select(func.count()).select_from(TicketCountDelta))
    assert ticket_counts.compact(session) == rows
    session.commit()
    after = session.scalar(select(func.count()).select_from(TicketCountDelta))
    assert after == len(counted(session)) < rows
    assert kept(session, queue_ids) == counted(session)

    dashboard = listing.counts_by_queue(session, queue_ids, BUCKETS)
    assert dashboard[info.id] == {"new": 1, "open": 1, "pending": 0}
    assert dashboard[press.id] == {"new": 2, "open": 0, "pending": 1}


def test_compacting_nothing_is_harmless(session: Session) -> None:
    assert ticket_counts.compact(session) == 0
    session.commit()
    assert ticket_counts.counts(session, [1, 2], states.STATES) == {}
