"""The lists a volunteer works from: the dashboard's counts and a queue's tickets, page by page.

Everything is limited to a :class:`wikibridge.access.Scope`. Queue pages use keyset pagination
on (sort column, id): a page is as fast deep in a queue as at its top, and tickets that change
while a volunteer pages through do not shift the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Queue, Ticket
from wikibridge.store import listing

from . import states

# Dashboard columns: state buckets counted per queue.
BUCKETS: dict[str, tuple[str, ...]] = {
    "new": (states.NEW,),
    "open": (states.OPEN,),
    "pending": states.PENDING,
}

# Queue view filters: name -> states (None: every state).
STATE_FILTERS: dict[str, tuple[str, ...] | None] = {
    "open": states.OPEN_STATES,
    "new": (states.NEW,),
    "pending": states.PENDING,
    "closed": states.CLOSED,
    "merged": (states.MERGED,),
    "all": None,
}
DEFAULT_FILTER = "open"


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool
    label: str


# The only orders a queue can be shown in.
SORTS: dict[str, Sort] = {
    "updated": Sort("updated_at", True, "recently changed first"),
    "waiting": Sort("updated_at", False, "longest waiting first"),
    "newest": Sort("created_at", True, "newest first"),
    "oldest": Sort("created_at", False, "oldest first"),
}
DEFAULT_SORT = "updated"
PAGE_SIZE = 25
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class QueueSummary:
    queue: Queue
    level: str
    counts: dict[str, int]


def dashboard(session: Session, scope: Scope) -> list[QueueSummary]:
    """The visible queues with their new/open/pending counts (one grouped count query)."""
    visible = access.visible_queues(session, scope)
    counts = listing.counts_by_queue(session, scope.queue_ids, BUCKETS)
    empty = dict.fromkeys(BUCKETS, 0)
    return [QueueSummary(q, scope.levels[q.id], counts.get(q.id, empty)) for q in visible]


def owned_open(session: Session, scope: Scope, limit: int = 100) -> list[Ticket]:
    """Open tickets the volunteer owns, in the queues they still may see."""
    if scope.volunteer_id is None:
        return []
    return listing.owned(session, scope.volunteer_id, scope.queue_ids, states.OPEN_STATES, limit)


def encode_cursor(value: datetime, ticket_id: int) -> str:
    micros = (value - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{ticket_id}"


def decode_cursor(text: str) -> tuple[datetime, int] | None:
    """The position after which the next page starts; None when the text is not a cursor."""
    micros, sep, ticket_id = text.partition(".")
    if not sep or not micros.lstrip("-").isdigit() or not ticket_id.isdigit():
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(ticket_id)
    except OverflowError:
        return None


@dataclass(frozen=True)
class Page:
    queue: Queue
    tickets: list[Ticket]
    state: str
    sort: str
    next_cursor: str | None


def queue_page(
    session: Session,
    scope: Scope,
    queue_id: int,
    *,
    state: str = DEFAULT_FILTER,
    sort: str = DEFAULT_SORT,
    after: str = "",
    size: int = PAGE_SIZE,
) -> Page | None:
    """One page of a queue's tickets; None when the queue is not visible in the scope.

    Unknown filters and orders fall back to the defaults; only allowlisted columns are sorted on.
    Raises ValueError for a cursor that is not one.
    """
    found = access.queue(session, scope, queue_id)
    if found is None:
        return None
    state = state if state in STATE_FILTERS else DEFAULT_FILTER
    sort = sort if sort in SORTS else DEFAULT_SORT
    position = None
    if after:
        position = decode_cursor(after)
        if position is None:
            raise ValueError("not a page cursor")
    order = SORTS[sort]
    rows = listing.queue_page(
        session,
        found.id,
        states=STATE_FILTERS[state],
        column=order.column,
        descending=order.descending,
        after=position,
        limit=size + 1,
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, order.column), last.id)
    return Page(found, rows, state, sort, next_cursor)
