"""Who may see what: the one authorisation decision of wikibridge.

A volunteer sees the queues granted to them (ro, rw or admin) and every queue below those in the
queue tree: access to "info-en" covers "info-en::Wikipedia". A volunteer who is not approved, or
no longer active, sees nothing. Every list, count, search, export and lookup of a ticket or an
attachment takes a :class:`Scope` from :func:`scope_for` and goes through the functions here;
what is outside the scope is reported as absent (``None``), so callers answer 404, not 403.

Administration is decided here too. A global admin (``Volunteer.is_admin``) may do everything;
a queue admin (level "admin" on a queue, inherited like any grant) manages access and settings
of that queue and the queues below it. What reaches a queue (routing rules, addresses), who is
a volunteer at all (approval, deactivation), global canned responses and news are global.
Seeing tickets is never implied by being an admin: a global admin grants themselves access like
anyone else, and the grant is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    admin: bool = False  # a global admin (approved, active and is_admin)

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
    return Scope(volunteer.id, MappingProxyType(levels), admin=volunteer.is_admin)


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


def is_global_admin(scope: Scope) -> bool:
    return scope.volunteer_id is not None and scope.admin


def can_admin_queue(scope: Scope, queue_id: int) -> bool:
    """Settings, sub-queues, canned responses and grants of this queue (and those below)."""
    return is_global_admin(scope) or scope.is_queue_admin(queue_id)


def can_admin_any(scope: Scope) -> bool:
    """Whether the admin pages exist for this volunteer at all."""
    return is_global_admin(scope) or any(level == "admin" for level in scope.levels.values())


def administered_queue_ids(scope: Scope, all_queue_ids: Iterable[int]) -> list[int]:
    """The queues among `all_queue_ids` this scope may administer."""
    return [q for q in all_queue_ids if can_admin_queue(scope, q)]


def can_manage_volunteers(scope: Scope) -> bool:
    """Approve (after identification), reject, deactivate and reactivate volunteers."""
    return is_global_admin(scope)


def can_manage_routing(scope: Scope) -> bool:
    """Routing rules and queue addresses: they decide which queue sees which mail."""
    return is_global_admin(scope)


def can_manage_news(scope: Scope) -> bool:
    return is_global_admin(scope)


def can_admin_canned(scope: Scope, queue_id: int | None) -> bool:
    """A queue's canned responses are its admins'; global ones (no queue) global admins'."""
    return is_global_admin(scope) if queue_id is None else can_admin_queue(scope, queue_id)


def can_place_queue(scope: Scope, parent_id: int | None) -> bool:
    """Whether a queue may be created or moved under `parent_id` (None: the top level)."""
    return is_global_admin(scope) if parent_id is None else can_admin_queue(scope, parent_id)
