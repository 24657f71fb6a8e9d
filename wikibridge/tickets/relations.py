"""Operations between tickets: merge, split an article off, link and unlink.

Merging keeps every article where it is: the merged ticket gets the state "merged" and points at
its target, whose page lists the tickets merged into it. Splitting *moves* the article to a new
ticket in the same queue (mail answering it then threads to the new ticket); both tickets get
an audit event naming the other. Links are stored once per pair; "parent" and "child" are kept
as one kind, from the child to the parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.models import Ticket, TicketLink, utcnow
from wikibridge.store import articles, audit, links, tickets

from . import states
from .guards import (
    Actor,
    OperationRefused,
    acting,
    refuse_if_merged,
    writable,
)

LINK_KINDS = ("related", "parent", "child")
_HOOK = re.compile(r"\[Ticket#\s*\d+\]\s*")


def _other(session: Session, actor: Actor, number: str) -> Ticket:
    """A second ticket named in a form: refused (not 404) when it is not visible."""
    number = (number or "").strip()
    found = access.ticket(session, actor.scope, number) if number else None
    if found is None:
        raise OperationRefused(
            "There is no ticket %(number)s you have access to.", number=number[:40]
        )
    return found


def merge(session: Session, actor: Actor, number: str, target_number: str) -> Ticket:
    """Merge the ticket into another one; returns the target."""
    source = writable(session, actor, number, lock_row=False)
    target = _other(session, actor, target_number)
    if target.id == source.id:
        raise OperationRefused("A ticket cannot be merged into itself.")
    if not actor.scope.can_write(target.queue_id):
        raise OperationRefused(
            "You need write access to the queue of Ticket#%(number)s to merge into it.",
            number=target.number,
        )
    # Both rows locked in id order, then every check again: two merges of the same pair in
    # opposite directions cannot both pass.
    tickets.lock_rows(session, [source.id, target.id])
    refuse_if_merged(session, source)
    now = utcnow()
    acting(session, actor, source, now)
    if source.id in _chain(session, target):
        raise OperationRefused(
            "Merging would make a cycle: Ticket#%(target)s is merged into Ticket#%(number)s.",
            target=target.number,
            number=source.number,
        )
    if target.state == states.MERGED or target.merged_into_id is not None:
        final = tickets.final_ticket(session, target)
        raise OperationRefused(
            "Ticket#%(number)s is itself merged into Ticket#%(final)s; merge into that one.",
            number=target.number,
            final=final.number,
        )
    old_state = source.state
    source.state = states.MERGED
    source.merged_into_id = target.id
    source.pending_until = None
    source.locked_until = None
    target.updated_at = now
    audit.record(
        session,
        "merged_into",
        ticket_id=source.id,
        volunteer_id=actor.volunteer_id,
        ticket=target.number,
        from_state=old_state,
    )
    audit.record(
        session,
        "merged_from",
        ticket_id=target.id,
        volunteer_id=actor.volunteer_id,
        ticket=source.number,
    )
    return target


def _chain(session: Session, ticket: Ticket) -> set[int]:
    """The ids on the merged-into chain from this ticket on (itself included), bounded."""
    seen = {ticket.id}
    current = ticket
    while current.merged_into_id is not None and len(seen) < tickets.MAX_MERGE_DEPTH:
        nxt = session.get(Ticket, current.merged_into_id)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        current = nxt
    return seen


def split(session: Session, actor: Actor, number: str, article_id: int) -> Ticket:
    """Move one article of the ticket to a new ticket in the same queue; returns the new one."""
    ticket = writable(session, actor, number)
    acting(session, actor, ticket, utcnow())
    article = articles.of_ticket(session, ticket.id, article_id)
    if article is None:
        raise OperationRefused(
            "That article is not part of Ticket#%(number)s.", number=ticket.number
        )
    if articles.count_for_ticket(session, ticket.id) < 2:
        raise OperationRefused("A ticket's only article cannot be split off.")
    title = _HOOK.sub("", article.subject).strip() or ticket.title
    requester = article.sender_address if article.kind == "inbound" else ticket.requester
    new = tickets.create(
        session,
        number=tickets.next_number(session, actor.settings.system_id),
        title=title,
        queue_id=ticket.queue_id,
        requester=requester or ticket.requester,
    )
    article.ticket_id = new.id
    audit.record(
        session,
        "article_split",
        ticket_id=ticket.id,
        volunteer_id=actor.volunteer_id,
        article_id=article.id,
        to_ticket=new.number,
    )
    audit.record(
        session,
        "split_from",
        ticket_id=new.id,
        volunteer_id=actor.volunteer_id,
        article_id=article.id,
        from_ticket=ticket.number,
    )
    return new


def link(session: Session, actor: Actor, number: str, other_number: str, kind: str) -> TicketLink:
    """Link the ticket to another visible one: `kind` says what the other is to this one."""
    ticket = writable(session, actor, number)  # first: outside the scope everything is 404
    if kind not in LINK_KINDS:
        raise OperationRefused("A link is one of: %(kinds)s.", kinds=", ".join(LINK_KINDS))
    other = _other(session, actor, other_number)
    if other.id == ticket.id:
        raise OperationRefused("A ticket cannot be linked to itself.")
    refuse_if_merged(session, other)
    acting(session, actor, ticket, utcnow())
    if links.between(session, ticket.id, other.id) is not None:
        raise OperationRefused(
            "Ticket#%(number)s is already linked to Ticket#%(other)s.",
            number=ticket.number,
            other=other.number,
        )
    if kind == "related":
        made = links.add(session, ticket.id, other.id, "related")
    elif kind == "parent":  # the other ticket is this one's parent
        made = links.add(session, ticket.id, other.id, "parent")
    else:  # the other ticket is this one's child
        made = links.add(session, other.id, ticket.id, "parent")
    _record(session, actor, "linked", made, ticket, other)
    return made


def unlink(session: Session, actor: Actor, number: str, link_id: int) -> Ticket:
    """Remove a link of the ticket (the audit log keeps it); returns the other ticket."""
    ticket = writable(session, actor, number)
    found = links.get(session, link_id)
    if found is None or ticket.id not in (found.source_id, found.target_id):
        raise OperationRefused("Ticket#%(number)s has no such link.", number=ticket.number)
    acting(session, actor, ticket, utcnow())
    other_id = found.target_id if found.source_id == ticket.id else found.source_id
    other = session.get(Ticket, other_id)
    assert other is not None
    _record(session, actor, "unlinked", found, ticket, other)
    links.remove(session, found.id)
    return other


@dataclass(frozen=True)
class LinkView:
    """A link as one ticket sees it: what the other ticket is to this one."""

    id: int
    kind: str  # related, parent or child
    other: Ticket


def kind_seen_from(found: TicketLink, ticket_id: int) -> str:
    if found.kind != "parent":
        return found.kind
    return "parent" if found.source_id == ticket_id else "child"


def links_of(session: Session, scope: access.Scope, ticket: Ticket) -> list[LinkView]:
    """The ticket's links to tickets the scope covers (links to others stay unseen)."""
    rows = links.for_ticket(session, ticket.id)
    ids = {r.target_id if r.source_id == ticket.id else r.source_id for r in rows}
    others = tickets.by_ids(session, ids)
    out = []
    for row in rows:
        other = others.get(row.target_id if row.source_id == ticket.id else row.source_id)
        if other is None or other.removed_at is not None or not scope.can_see(other.queue_id):
            continue
        out.append(LinkView(row.id, kind_seen_from(row, ticket.id), other))
    return out


def _record(
    session: Session, actor: Actor, action: str, row: TicketLink, ticket: Ticket, other: Ticket
) -> None:
    for this, that in ((ticket, other), (other, ticket)):
        audit.record(
            session,
            action,
            ticket_id=this.id,
            volunteer_id=actor.volunteer_id,
            ticket=that.number,
            kind=kind_seen_from(row, this.id),
        )
