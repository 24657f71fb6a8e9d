"""What the "On-wiki actions" panel of a ticket page shows: the ticket's actions and their
results, and which kinds of action the volunteer may start from it.

The forms offer only what :mod:`.checks` would let through for this queue and volunteer;
:func:`.actions.request_action` checks everything again when a form is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge.access import Scope
from wikibridge.models import Queue, Ticket, WikiAction
from wikibridge.store import wiki_actions as store
from wikibridge.tickets.states import MERGED

from . import sites
from .checks import HIDE_PARTS, PERMISSION_KINDS, RECEIVED_REASONS, kinds_for_queue
from .summaries import KIND_PURPOSES, Notice


@dataclass(frozen=True)
class ActionLine:
    """One recorded action with links to the wiki (None where the wiki cannot be placed)."""

    action: WikiAction
    volunteer: str  # "" for a bot task
    wiki_name: str
    page_url: str | None
    before_url: str | None
    after_url: str | None  # the diff the action made


@dataclass(frozen=True)
class Panel:
    lines: list[ActionLine]
    # The kinds the volunteer may start here; empty: the list only (read-only access, a
    # merged ticket, a queue whose kind takes no action or that names no wiki).
    kinds: tuple[str, ...]
    wiki: str  # the queue's wiki, where the actions take place
    wiki_name: str

    @property
    def permission_kinds(self) -> tuple[str, ...]:
        return tuple(k for k in self.kinds if k in PERMISSION_KINDS)


# The fixed choices of the forms (the same lists the checks accept).
PURPOSES: dict[str, tuple[str, ...]] = {
    kind: tuple(p.name.lower() for p in purposes) for kind, purposes in KIND_PURPOSES.items()
}
NOTICES: tuple[str, ...] = tuple(n.name.lower() for n in Notice)
NOTICES_ABOUT_A_PAGE: tuple[str, ...] = tuple(n.name.lower() for n in Notice if n.needs_page)


def wiki_name(wiki: str) -> str:
    """A short name for a wiki: its site code, or the host of its API URL."""
    if not wiki.startswith(("http://", "https://")):
        return wiki
    try:
        return sites.host(wiki)
    except sites.UnknownWiki:
        return wiki


def line(action: WikiAction, volunteer: str | None) -> ActionLine:
    wiki = action.wiki
    return ActionLine(
        action=action,
        volunteer=volunteer or "",
        wiki_name=wiki_name(wiki),
        page_url=sites.page_url(wiki, action.page),
        before_url=sites.revision_url(wiki, action.revision_before),
        after_url=sites.diff_url(wiki, action.revision_before, action.revision_after),
    )


def panel_for(session: Session, scope: Scope, ticket: Ticket, queue: Queue) -> Panel:
    """The panel of a ticket the scope can see (the caller checked that)."""
    lines = [line(a, name) for a, name in store.for_ticket_page(session, ticket.id)]
    may_start = scope.can_write(queue.id) and ticket.state != MERGED and bool(queue.wiki)
    kinds = kinds_for_queue(queue) if may_start else ()
    return Panel(lines, kinds, queue.wiki, wiki_name(queue.wiki))


__all__ = [
    "HIDE_PARTS",
    "NOTICES",
    "NOTICES_ABOUT_A_PAGE",
    "PURPOSES",
    "RECEIVED_REASONS",
    "ActionLine",
    "Panel",
    "panel_for",
]
