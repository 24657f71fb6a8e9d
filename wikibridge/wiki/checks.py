"""What must hold before an on-wiki action is queued, checked before any call to the wiki.

In order: the action and its parameters are well-formed; the cited ticket exists (and is not
removed or merged away); the volunteer is approved, active and has read-write (or admin) access
to the ticket's queue -- a grant on a queue covers the queues below it ("info-en" covers
"info-en::Wikipedia"), the same rule as everywhere else; the action fits the queue's kind. Only
then is the wiki asked, read-only, whether the target page (and revision) exists.

A failed check raises :class:`ActionRefused` with a sentence for the volunteer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from wikibridge.models import ACCESS_LEVELS, WIKI_ACTION_KINDS, Queue, Ticket, Volunteer, WikiAction
from wikibridge.store import tickets as ticket_store
from wikibridge.store import wiki_actions as store
from wikibridge.tickets.numbers import is_valid

from . import sites
from .base import PageReader, WikiError
from .summaries import KIND_PURPOSES, Notice, Purpose, checked_title

WRITE_LEVELS = ("rw", "admin")
PERMISSION_KINDS = ("permission", "permission_received")
# Queues whose tickets are not correspondence about wiki content.
NO_ACTION_QUEUES = ("spam", "system")
HIDE_PARTS = ("content", "comment", "user")
RECEIVED_REASONS = ("", "insufficient", "unclear licence", "not from the copyright holder")
# Bots act for the team; hiding revisions needs a person's own account and rights.
BOT_KINDS = ("permission", "permission_received", "notice")


class ActionRefused(Exception):
    """The action may not be taken; ``reason`` says why. ``action`` is the refused WikiAction
    recorded in the caller's session (commit it to keep the record)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.action: WikiAction | None = None


@dataclass(frozen=True)
class Plan:
    """An action that passed the checks."""

    ticket: Ticket
    queue: Queue
    kind: str
    wiki: str
    api_url: str
    page: str
    purpose: Purpose
    params: dict[str, Any] = field(default_factory=dict)


def check_local(
    session: Session,
    ticket: Ticket | str,
    volunteer: Volunteer | None,
    kind: str,
    params: Mapping[str, Any],
) -> Plan:
    """Every check that needs no wiki: parameters, ticket, access, queue kind."""
    if kind not in WIKI_ACTION_KINDS:
        raise ActionRefused(f"unknown action {kind!r}")
    if volunteer is None and kind not in BOT_KINDS:
        raise ActionRefused(f"a {kind} action needs a volunteer's own account, not the bot's")
    found = _ticket(session, ticket)
    queue = session.get(Queue, found.queue_id)
    if queue is None:
        raise ActionRefused(f"the queue of ticket {found.number} does not exist")
    if volunteer is not None:
        _check_access(session, volunteer, queue)
    refusal = kind_refusal(queue, kind)
    if refusal is not None:
        raise ActionRefused(refusal)
    wiki = str(params.get("wiki") or queue.wiki)
    if not wiki:
        raise ActionRefused(f"queue {queue.name!r} names no wiki to act on")
    try:
        api_url = sites.api_url(wiki)
        clean = _params(kind, params, volunteer)
        page = checked_title(str(params.get("page", "")))
        purpose = _purpose(kind, params.get("purpose"))
    except (ValueError, TypeError) as e:
        raise ActionRefused(str(e)) from e
    return Plan(found, queue, kind, wiki, api_url, page, purpose, clean)


def kind_refusal(queue: Queue, kind: str) -> str | None:
    """Why an action of this kind does not fit the queue's kind (None: it fits)."""
    if kind in PERMISSION_KINDS and queue.kind != "permissions":
        return (
            f"permission actions are taken only from permissions queues; "
            f"{queue.name!r} is a {queue.kind} queue"
        )
    if queue.kind in NO_ACTION_QUEUES:
        return f"no on-wiki actions are taken from the {queue.kind} queue"
    return None


def kinds_for_queue(queue: Queue) -> tuple[str, ...]:
    """The kinds of action that fit the queue's kind (what a ticket page may offer)."""
    return tuple(kind for kind in WIKI_ACTION_KINDS if kind_refusal(queue, kind) is None)


def check_wiki(plan: Plan, reader: PageReader) -> Plan:
    """The read-only checks against the wiki: the page (and revision) exist."""
    try:
        page = reader.page(plan.page)
        if not page.exists:
            if plan.kind != "notice" or not plan.page.lower().startswith("user talk:"):
                raise ActionRefused(f"the page {plan.page!r} does not exist on {plan.wiki}")
            user = plan.page.split(":", 1)[1]
            if not reader.user_exists(user):
                raise ActionRefused(f"the user {user!r} does not exist on {plan.wiki}")
        if page.redirect:
            raise ActionRefused(
                f"the page {plan.page!r} is a redirect on {plan.wiki}: act on the page it leads to"
            )
        revid = plan.params.get("revision")
        if revid is not None:
            revision = reader.revision(int(revid))
            if revision is None or revision.title != page.title:
                raise ActionRefused(f"revision {revid} is not a revision of {page.title!r}")
    except WikiError as e:
        raise ActionRefused(f"the wiki could not be asked about the page: {e.reason}") from e
    return Plan(
        plan.ticket,
        plan.queue,
        plan.kind,
        plan.wiki,
        plan.api_url,
        page.title,
        plan.purpose,
        plan.params,
    )


def _ticket(session: Session, ticket: Ticket | str) -> Ticket:
    if isinstance(ticket, str):
        if not is_valid(ticket):
            raise ActionRefused(f"{ticket!r} is not a valid ticket number")
        found = ticket_store.by_number(session, ticket)
        if found is None:
            raise ActionRefused(f"ticket {ticket} does not exist")
        ticket = found
    if ticket.removed_at is not None:
        raise ActionRefused(f"ticket {ticket.number} was removed")
    if ticket.merged_into_id is not None:
        final = ticket_store.final_ticket(session, ticket)
        raise ActionRefused(f"ticket {ticket.number} was merged into {final.number}; cite that")
    return ticket


def _check_access(session: Session, volunteer: Volunteer, queue: Queue) -> None:
    if not (volunteer.approved and volunteer.active):
        raise ActionRefused(f"{volunteer.username} is not an approved, active volunteer")
    path = store.queue_path(session, queue.id)
    levels = store.access_levels(session, volunteer.id, [q.id for q in path])
    # The highest grant on the queue or an ancestor counts (rw on "a" beats ro on "a::b").
    best = max(
        (ACCESS_LEVELS.index(level) for level in levels.values() if level in ACCESS_LEVELS),
        default=-1,
    )
    if best < 0 or ACCESS_LEVELS[best] not in WRITE_LEVELS:
        raise ActionRefused(
            f"{volunteer.username} has no read-write access to queue {queue.name!r}"
        )


def _purpose(kind: str, name: Any) -> Purpose:
    allowed = KIND_PURPOSES[kind]
    if name is None or name == "":
        return allowed[0]
    for purpose in allowed:
        if purpose.name.lower() == str(name).lower():
            return purpose
    choices = ", ".join(p.name.lower() for p in allowed)
    raise ValueError(f"a {kind} action's purpose is one of {choices}, not {name!r}")


def _params(kind: str, params: Mapping[str, Any], volunteer: Volunteer | None) -> dict[str, Any]:
    """The kind's own parameters, checked and normalised; stored with the action."""
    clean: dict[str, Any] = {}
    if kind == "revert":
        if ("user" in params) == ("revision" in params):
            raise ValueError(
                "a revert names either the user whose edits to roll back or one revision to undo"
            )
        if "user" in params:
            clean["user"] = checked_title(str(params["user"]))
        else:
            clean["revision"] = _revid(params["revision"])
    elif kind == "hide":
        clean["revision"] = _revid(params.get("revision"))
        parts = params.get("parts", ("content",))
        parts = tuple(parts.split("|")) if isinstance(parts, str) else tuple(parts)
        if not parts or not set(parts) <= set(HIDE_PARTS):
            raise ValueError(f"the parts to hide are some of {', '.join(HIDE_PARTS)}")
        clean["parts"] = [p for p in HIDE_PARTS if p in parts]
    elif kind == "notice":
        names = {n.name.lower(): n for n in Notice}
        notice = names.get(str(params.get("notice", "")).lower())
        if notice is None:
            raise ValueError(f"the notice is one of {', '.join(names)}")
        clean["notice"] = notice.name.lower()
        if notice.needs_page:
            clean["about"] = checked_title(str(params.get("about", "")))
    elif kind in PERMISSION_KINDS:
        if kind == "permission_received":
            reason = str(params.get("reason", ""))
            if reason not in RECEIVED_REASONS:
                raise ValueError(f"the reason is one of {', '.join(map(repr, RECEIVED_REASONS))}")
            clean["reason"] = reason
        if volunteer is None:  # a bot tags for the volunteer who checked the permission
            clean["agent"] = checked_title(str(params.get("agent", "")))
    return clean


def _revid(value: Any) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or int(value) <= 0:
        raise ValueError(f"{value!r} is not a revision id")
    return int(value)
