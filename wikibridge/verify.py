"""Public verification: what anyone may learn about a cited ticket, without logging in.

Only permission-free facts leave this module: whether a number is well-formed, whether a ticket
has it, a coarse status, the kind of its queue, and the on-wiki actions recorded against it
(wiki, page, revision, the volunteer's wiki username, the time). Never a subject, body, sender,
requester, participant or queue name. A missing ticket and a ticket with nothing public have
the same keys: only ``exists`` (and the fields it implies) differ.

The checks the citation watcher makes for every citation found on the wiki are in
:mod:`wikibridge.citations` and re-exported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from wikibridge.citations import (
    Citation,
    CitationResult,
    check_citation,
    check_citations,
    number_problem,
    wiki_key,
)
from wikibridge.models import Ticket
from wikibridge.store import access as access_store
from wikibridge.store import tickets as ticket_store
from wikibridge.store import verify as store
from wikibridge.store import volunteers
from wikibridge.tickets import states

__all__ = [
    "Citation",
    "CitationResult",
    "PublicAction",
    "RevisionCheck",
    "TicketFacts",
    "check_citation",
    "check_citations",
    "check_revision",
    "coarse_status",
    "ticket_facts",
]

# Removed tickets show only that: no queue kind, no actions.
REMOVED = "removed"


@dataclass(frozen=True)
class PublicAction:
    kind: str  # revert, permission, permission_received, hide, notice
    wiki: str
    page: str
    revision: int | None  # the revision the action made (None: no edit, e.g. a hide)
    volunteer: str | None  # wiki username; None when the bot account acted for the team
    time: datetime | None


@dataclass(frozen=True)
class TicketFacts:
    number: str
    valid: bool
    exists: bool
    status: str | None = None  # open, closed, merged or removed; None when it does not exist
    queue_kind: str | None = None  # permissions, info, press, ...
    merged_into: str | None = None  # the number it lives on in, when merged
    actions: tuple[PublicAction, ...] = field(default_factory=tuple)
    problem: str = ""  # why the number is not valid

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the same keys whatever the answer."""
        data = asdict(self)
        for action in data["actions"]:
            action["time"] = _iso(action["time"])
        data["actions"] = list(data["actions"])
        return data


@dataclass(frozen=True)
class RevisionCheck:
    number: str
    wiki: str
    revision: int
    recorded: bool  # a done action of this ticket made this revision
    editor: str | None  # the volunteer's wiki username (None: not recorded, or the bot)
    by_bot: bool  # made by the bot account for the team
    editor_had_access: bool  # the volunteer had access to the ticket's queue at the time
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def coarse_status(ticket: Ticket) -> str:
    if ticket.removed_at is not None:
        return REMOVED
    if ticket.state == states.MERGED:
        return "merged"
    if ticket.state in states.CLOSED:
        return "closed"
    return "open"


def ticket_facts(session: Session, number: str) -> TicketFacts:
    problem = number_problem(number)
    if problem:
        return TicketFacts(number=number, valid=False, exists=False, problem=problem)
    found = store.ticket_with_done_actions(session, number)
    if found is None:
        return TicketFacts(number=number, valid=True, exists=False)
    ticket, kind, actions = found
    status = coarse_status(ticket)
    if status == REMOVED:
        return TicketFacts(number=number, valid=True, exists=True, status=status)
    merged_into = None
    if ticket.merged_into_id is not None:
        final = ticket_store.final_ticket(session, ticket)
        merged_into = final.number if final.id != ticket.id else None
    public = tuple(
        PublicAction(
            kind=a.kind,
            wiki=a.wiki,
            page=a.page,
            revision=a.revision_after,
            volunteer=a.username,  # None when the bot account acted for the team
            time=a.done_at,
        )
        for a in actions
    )
    return TicketFacts(
        number=number,
        valid=True,
        exists=True,
        status=status,
        queue_kind=kind,
        merged_into=merged_into,
        actions=public,
    )


def check_revision(session: Session, number: str, wiki: str, revid: int) -> RevisionCheck:
    """Is revision `revid` on `wiki` an edit recorded for ticket `number`, made by a volunteer
    who had access to the ticket's queue when it was made? An empty `wiki` matches any wiki."""

    def answer(reason: str, **found: Any) -> RevisionCheck:
        values: dict[str, Any] = {
            "recorded": False,
            "editor": None,
            "by_bot": False,
            "editor_had_access": False,
            "ok": False,
        }
        values.update(found)
        return RevisionCheck(number=number, wiki=wiki, revision=revid, reason=reason, **values)

    problem = number_problem(number)
    if problem:
        return answer(problem)
    found = store.ticket_and_queue_kind(session, number)
    if found is None:
        return answer("no such ticket")
    ticket = found[0]
    if ticket.removed_at is not None:
        return answer("ticket was removed")
    wanted = wiki_key(wiki) if wiki else None
    matches = [
        a
        for a in store.actions_with_revision(session, ticket.id, revid)
        if wanted is None or wiki_key(a.wiki) == wanted
    ]
    if not matches:
        return answer(f"revision {revid} is not an edit recorded for ticket {number}")
    action = matches[0]
    if action.volunteer_id is None:
        return answer(
            "an edit the bot account made for the team", recorded=True, by_bot=True, ok=True
        )
    editor = volunteers.usernames(session, [action.volunteer_id]).get(action.volunteer_id)
    when = action.done_at or action.created_at
    had = access_store.had_access(session, action.volunteer_id, ticket.queue_id, when)
    if not had:
        return answer(
            "the editor had no access to the ticket's queue when the edit was made",
            recorded=True,
            editor=editor,
        )
    return answer(
        "an edit by a volunteer with access to the ticket's queue",
        recorded=True,
        editor=editor,
        editor_had_access=True,
        ok=True,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
