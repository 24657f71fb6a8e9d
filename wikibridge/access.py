"""Who may see what: the one authorisation decision of wikibridge.

A volunteer sees the queues granted to them (ro, rw or admin) and every queue below those in the
queue tree: access to "info-en" covers "info-en::Wikipedia". A volunteer who is not approved, or
no longer active, sees nothing. Every list, count, search, export and lookup of a ticket or an
attachment takes a :class:`Scope` from :func:`scope_for` and goes through the functions here;
what is outside the scope is reported as absent (``None``), so callers answer 404, not 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy.orm import Session

from wikibridge.models import Attachment, Queue, Ticket, Volunteer
from wikibridge.store import access as store_access
from wikibridge.store import articles, queues, tickets

WRITE_LEVELS = ("rw", "admin")


@dataclass(frozen=True)
class Scope:
    """What one volunteer may see, decided once per request or job."""

    volunteer_id: int | None
    levels: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def queue_ids(self) -> list[int]:
        return sorted(self.levels)

    def can_see(self, queue_id: int) -> bool:
        return queue_id in self.levels

    def can_write(self, queue_id: int) -> bool:
        return self.levels.get(queue_id) in WRITE_LEVELS

    def is_queue_admin(self, queue_id: int) -> bool:
        return self.levels.get(queue_id) == "admin"


NOBODY = Scope(None)


def may_work(volunteer: Volunteer | None) -> bool:
    """Whether a volunteer may see any queue at all (approved and active)."""
    return volunteer is not None and volunteer.approved and volunteer.active


def scope_for(session: Session, volunteer: Volunteer | None) -> Scope:
    if volunteer is None or not may_work(volunteer):
        return NOBODY
    levels = store_access.queue_levels(session, volunteer.id)
    return Scope(volunteer.id, MappingProxyType(levels))


def visible_queues(session: Session, scope: Scope) -> list[Queue]:
    return queues.by_ids(session, scope.queue_ids)


def queue(session: Session, scope: Scope, queue_id: int) -> Queue | None:
    if not scope.can_see(queue_id):
        return None
    return session.get(Queue, queue_id)


def ticket(session: Session, scope: Scope, number: str) -> Ticket | None:
    """The ticket with this number, if the scope covers its queue and it is not removed."""
    if not number.isdigit():
        return None
    found = tickets.by_number(session, number)
    if found is None or found.removed_at is not None or not scope.can_see(found.queue_id):
        return None
    return found


def attachment(
    session: Session, scope: Scope, number: str, attachment_id: int
) -> Attachment | None:
    """An attachment reached through its ticket: ticket visible -> article of that ticket."""
    found = ticket(session, scope, number)
    if found is None:
        return None
    return articles.attachment_of_ticket(session, found.id, attachment_id)
