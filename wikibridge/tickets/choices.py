"""Which actions the ticket page offers a volunteer: only those the operations would accept
(the operations check again; this only keeps forms that cannot succeed off the page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Queue, utcnow
from wikibridge.store import volunteers

from . import states
from .compose import REPLY_STATES
from .detail import TicketDetail
from .guards import lock_holder
from .relations import LINK_KINDS


@dataclass(frozen=True)
class Choices:
    can_write: bool = False  # write access, and the ticket is not merged
    can_act: bool = False  # ... and nobody else holds its lock
    mine: bool = False  # the volunteer holds the lock
    locked_by: str = ""  # who else holds the lock
    locked_until: datetime | None = None
    can_release: bool = False
    next_states: list[str] = field(default_factory=list)
    reply_states: tuple[str, ...] = REPLY_STATES
    pending_states: tuple[str, ...] = states.PENDING
    move_targets: list[Queue] = field(default_factory=list)
    link_kinds: tuple[str, ...] = LINK_KINDS
    can_split: bool = False
    can_remove: bool = False  # a queue admin may (soft-)delete the ticket


NOTHING = Choices()


def choices_for(session: Session, scope: Scope, detail: TicketDetail) -> Choices:
    ticket = detail.ticket
    if not scope.can_write(ticket.queue_id) or ticket.state == states.MERGED:
        return NOTHING
    holder = lock_holder(ticket, utcnow())
    mine = holder is not None and holder == scope.volunteer_id
    other = holder is not None and not mine
    locked_by = volunteers.usernames(session, [holder]).get(holder, "") if other and holder else ""
    can_act = not other
    targets = [
        q
        for q in access.visible_queues(session, scope)
        if scope.can_write(q.id) and q.id != ticket.queue_id
    ]
    allowed = [s for s in states.STATES if states.can_change(ticket.state, s)]
    if ticket.state in states.PENDING:
        allowed.insert(0, ticket.state)  # a new pending time
    return Choices(
        can_write=True,
        can_act=can_act,
        mine=mine,
        locked_by=locked_by,
        locked_until=ticket.locked_until if holder is not None else None,
        can_release=mine or (other and scope.is_queue_admin(ticket.queue_id)),
        next_states=allowed if can_act else [],
        move_targets=targets if can_act else [],
        can_split=can_act and len(detail.articles) > 1,
        can_remove=can_act and access.can_admin_queue(scope, ticket.queue_id),
    )
