"""What the bots need to know from the tickets, and the record of a bot's edit on its ticket.

The rules, kept simple and the same for every bot:

- A ticket *names* a file when the subject or plain-text body of one of its articles contains
  the file's title, ``File:Name.ext`` (or ``Image:``), also inside a link or a web address
  (``…/wiki/File:Name.ext``), with one of the usual file extensions.
- Only tickets of the permissions queues acting on the bot's wiki count, and only live ones
  (not removed, not merged away).
- A ticket *confirms* the files it names when it is closed successful: closing a permissions
  ticket successfully is the volunteer's word that the permission is in order.
  :func:`files_awaiting_tag` lists the (ticket, file) pairs of tickets closed in the last days
  that have no permission action yet; the ticket's owner is named as the volunteer who
  verified it (the bot itself when the ticket has no owner).
- A file pending permission is left alone while a ticket naming it (or cited by its
  {{Permission received}}, or mentioning its bare name "Name.ext") is open, or has confirmed
  it; otherwise it is tagged {{No permission since}} once it has waited :data:`PENDING_DAYS`
  days.

Domain functions: they read through :mod:`wikibridge.store` and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy.orm import Session

from wikibridge.models import Queue, Ticket, WikiAction, utcnow
from wikibridge.store import audit
from wikibridge.store import bot_tasks as store
from wikibridge.store import tickets as ticket_store
from wikibridge.store import volunteers as volunteer_store
from wikibridge.store import wiki_actions as action_store
from wikibridge.tickets.numbers import is_valid
from wikibridge.tickets.states import CLOSED_OK, OPEN_STATES

from . import checks, sites
from .actions import record_refusal
from .checks import ActionRefused, Plan
from .permission import WaitingTag

PENDING_DAYS = 30
FILE_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "svg", "tif", "tiff", "webp", "xcf", "pdf", "djvu", "stl"),
    *("ogg", "ogv", "oga", "opus", "webm", "mp3", "wav", "flac", "mid", "mpg", "mpeg"),
)
# "File:" and the shortest run of title characters that ends in a file extension.
_TITLE_CHAR = r"[^\[\]{}|<>#\n\r\t/\"]"
_FILE = re.compile(
    rf"(?<![\w-])(?:File|Image):([^\s\[\]{{}}|<>#/\"]{_TITLE_CHAR}{{0,239}}?"
    rf"\.(?:{'|'.join(FILE_EXTENSIONS)}))(?![\w-])",
    re.IGNORECASE,
)
# An action that exists in these states needs no second one; a failed one is tried again.
SETTLED_STATES = ("queued", "done", "refused")


# -- files named in tickets ---------------------------------------------------------------------


def normal_file_title(name: str) -> str:
    """``File:Name.ext`` as the wiki spells it: spaces for underscores, a capital first letter."""
    name = " ".join(name.replace("_", " ").split())
    if ":" in name and name.split(":", 1)[0].strip().lower() in ("file", "image"):
        name = name.split(":", 1)[1].strip()
    return "File:" + name[:1].upper() + name[1:]


def file_titles(text: str) -> list[str]:
    """The files a text names, in order, each once."""
    if "%" in text:
        text = unquote(text)
    found: dict[str, None] = {}
    for match in _FILE.finditer(text):
        found.setdefault(normal_file_title(match.group(1)), None)
    return list(found)


def same_wiki(a: str, b: str) -> bool:
    """Whether two wiki identifiers (site codes or API URLs) name one wiki."""
    try:
        return sites.api_url(a).lower() == sites.api_url(b).lower()
    except sites.UnknownWiki:
        return False


def permission_queues(session: Session, wiki: str) -> list[Queue]:
    """The permissions queues acting on this wiki."""
    return [q for q in store.queues_of_kind(session, "permissions") if same_wiki(q.wiki, wiki)]


def files_named(session: Session, tickets: Iterable[Ticket]) -> dict[str, list[Ticket]]:
    """File title -> the tickets naming it, from one read of the tickets' articles."""
    by_id = {t.id: t for t in tickets}
    named: dict[str, list[Ticket]] = {}
    for ticket_id, subject, body in store.article_texts(session, by_id):
        for title in file_titles(f"{subject}\n{body}"):
            holders = named.setdefault(title, [])
            if by_id[ticket_id] not in holders:
                holders.append(by_id[ticket_id])
    return named


# -- tag_permissions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileToTag:
    number: str
    title: str
    agent: str  # the volunteer named in {{PermissionTicket|user=}}


def files_awaiting_tag(
    session: Session, wiki: str, *, closed_since: datetime, bot_user: str
) -> list[FileToTag]:
    """(ticket, file) pairs of tickets that confirmed a permission since ``closed_since`` and
    have no permission action for that file yet (one that failed is tried again)."""
    queue_ids = [q.id for q in permission_queues(session, wiki)]
    tickets = store.live_tickets(session, queue_ids, [CLOSED_OK], changed_since=closed_since)
    named = files_named(session, tickets)
    settled = {
        (a.ticket_id, normal_file_title(a.page))
        for a in store.actions_of_kind(session, [t.id for t in tickets], "permission")
        if a.state in SETTLED_STATES
    }
    owners = volunteer_store.usernames(session, [t.owner_id for t in tickets])
    todo = [
        FileToTag(ticket.number, title, owners.get(ticket.owner_id or 0, bot_user))
        for title, holders in named.items()
        for ticket in holders
        if (ticket.id, title) not in settled
    ]
    return sorted(todo, key=lambda f: (f.title, f.number))


def check_bot_action(session: Session, number: str, kind: str, page: str, **params: str) -> Plan:
    """The checks of a volunteer's action, for the bot (no volunteer). A refusal is recorded in
    the session, as for a volunteer, and raised as ActionRefused."""
    params = {"page": page, **params}
    try:
        return checks.check_local(session, number, None, kind, params)
    except ActionRefused as refusal:
        refusal.action = record_refusal(session, number, None, kind, params, refusal.reason)
        raise


def record_bot_action(
    session: Session,
    plan: Plan,
    *,
    summary: str,
    revision_before: int | None,
    revision_after: int | None,
    error: str = "",
) -> WikiAction:
    """Record an edit the bot made itself (no outbox job) on its ticket, done or failed
    (``error``), with an audit event like the worker's."""
    state = "failed" if error else "done"
    action = action_store.add(
        session,
        ticket_id=plan.ticket.id,
        ticket_number=plan.ticket.number,
        volunteer_id=None,
        kind=plan.kind,
        wiki=plan.wiki,
        page=plan.page,
        params=plan.params,
        summary=summary,
        state=state,
        error=error,
        revision_before=revision_before,
        revision_after=revision_after,
        done_at=utcnow(),
    )
    detail: dict[str, Any] = {"kind": plan.kind, "page": plan.page, "revision": revision_after}
    if error:
        detail["reason"] = error
    audit.record(
        session, f"wiki_action_{state}", ticket_id=plan.ticket.id, action_id=action.id, **detail
    )
    session.flush()
    return action


# -- pending_sweeper ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    tag: bool  # True: tag {{No permission since}} and notify the uploader
    reason: str
    number: str = ""  # the ticket the reason is about
    since: date | None = None  # when the wait began


class PendingSweep:
    """Verdicts on files pending permission on one wiki; the tickets are read once.

    Tickets naming the file as ``File:Name.ext`` are found in that one read. Before a file is
    tagged, the database is also asked for tickets that mention its bare name ("Name.ext"),
    as a mail may: a file is never tagged while a ticket about it is open.
    """

    def __init__(self, session: Session, wiki: str, *, closed_since: datetime) -> None:
        self.queue_ids = [q.id for q in permission_queues(session, wiki)]
        tickets = [
            *store.live_tickets(session, self.queue_ids, OPEN_STATES),
            *store.live_tickets(session, self.queue_ids, [CLOSED_OK], changed_since=closed_since),
        ]
        self.named: Mapping[str, Sequence[Ticket]] = files_named(session, tickets)

    def verdict(
        self,
        session: Session,
        title: str,
        tags: Sequence[WaitingTag],
        *,
        last_edit: date,
        today: date,
        days: int = PENDING_DAYS,
    ) -> Verdict:
        """What to do with a file carrying these pending/received tags. The wait is counted
        from the earliest date a tag gives, else from the page's last edit."""
        title = normal_file_title(title)
        tickets = list(self.named.get(title, ()))
        for tag in tags:
            cited = _live(session, tag.number)
            if cited is not None:
                tickets.append(cited)
        held = _held(tickets)
        if held is not None:
            return held
        since = min((t.since for t in tags if t.since is not None), default=last_edit)
        if (today - since).days < days:
            return Verdict(False, f"waiting since {since.isoformat()}", since=since)
        name = title.split(":", 1)[1]
        forms = {name, name.replace(" ", "_")}
        mentioning = store.tickets_mentioning(
            session, self.queue_ids, forms, [*OPEN_STATES, CLOSED_OK]
        )
        return _held(mentioning) or Verdict(
            True, f"no permission since {since.isoformat()}", since=since
        )


def _held(tickets: Sequence[Ticket]) -> Verdict | None:
    """An open ticket holds a file back, else one that confirmed it."""
    for ticket in tickets:
        if ticket.state in OPEN_STATES:
            return Verdict(False, f"ticket {ticket.number} is open", ticket.number)
    for ticket in tickets:
        if ticket.state == CLOSED_OK:
            return Verdict(False, f"ticket {ticket.number} confirmed it", ticket.number)
    return None


def _live(session: Session, number: str) -> Ticket | None:
    if not is_valid(number):
        return None
    ticket = ticket_store.by_number(session, number)
    if ticket is not None:
        ticket = ticket_store.final_ticket(session, ticket)
    if ticket is None or ticket.removed_at is not None:
        return None
    return ticket


# -- volunteer_list -----------------------------------------------------------------------------


def listed_volunteers(session: Session) -> list[str]:
    """Approved, active volunteers who opted in to the public list, sorted as people read."""
    return sorted(store.listed_volunteers(session), key=lambda name: (name.casefold(), name))
