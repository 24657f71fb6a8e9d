"""Ticket states (Znuny's) and the transitions a volunteer may make between them."""

from __future__ import annotations

NEW = "new"
OPEN = "open"
PENDING_REMINDER = "pending reminder"
PENDING_CLOSE_OK = "pending auto close+"
PENDING_CLOSE_FAIL = "pending auto close-"
CLOSED_OK = "closed successful"
CLOSED_FAIL = "closed unsuccessful"
MERGED = "merged"

STATES = (
    NEW,
    OPEN,
    PENDING_REMINDER,
    PENDING_CLOSE_OK,
    PENDING_CLOSE_FAIL,
    CLOSED_OK,
    CLOSED_FAIL,
    MERGED,
)
PENDING = (PENDING_REMINDER, PENDING_CLOSE_OK, PENDING_CLOSE_FAIL)
CLOSED = (CLOSED_OK, CLOSED_FAIL)
OPEN_STATES = (NEW, OPEN, *PENDING)
# Pending states need a time: the reminder is due, or the ticket closes itself, then.
NEEDS_TIME = PENDING

_ACTIVE = (OPEN, *PENDING, *CLOSED)
TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset(_ACTIVE),
    OPEN: frozenset(s for s in _ACTIVE if s != OPEN),
    PENDING_REMINDER: frozenset(s for s in _ACTIVE if s != PENDING_REMINDER),
    PENDING_CLOSE_OK: frozenset(s for s in _ACTIVE if s != PENDING_CLOSE_OK),
    PENDING_CLOSE_FAIL: frozenset(s for s in _ACTIVE if s != PENDING_CLOSE_FAIL),
    CLOSED_OK: frozenset({OPEN, CLOSED_FAIL}),
    CLOSED_FAIL: frozenset({OPEN, CLOSED_OK}),
    MERGED: frozenset(),  # final: a merged ticket lives on in its target
}


def can_change(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def after_follow_up(current: str) -> str:
    """The state a ticket takes when the requester writes again (Znuny's follow-up default)."""
    if current == NEW:
        return NEW
    if current in PENDING or current in CLOSED:
        return OPEN
    return current
