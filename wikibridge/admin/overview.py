"""Who has access to what: for every queue, each volunteer whose grant covers it.

A grant on a queue covers the queues below it, and the highest level wins, exactly as
:func:`wikibridge.store.access.queue_levels` decides for one volunteer; here the same rule is
applied to everyone at once, with the queue each level comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import ACCESS_LEVELS, QueueAccess, Volunteer
from wikibridge.store import admin_queues, admin_volunteers

from . import tree
from .base import require
from .volunteers import status_of

_RANK = {level: rank for rank, level in enumerate(ACCESS_LEVELS, start=1)}


@dataclass(frozen=True)
class Holder:
    volunteer: Volunteer
    level: str
    source: str  # the name of the queue the grant is on
    inherited: bool

    @property
    def effective(self) -> bool:
        """Whether the grant opens anything now (approved and active volunteer)."""
        return access.may_work(self.volunteer)

    @property
    def status(self) -> str:
        return status_of(self.volunteer)


@dataclass(frozen=True)
class QueueHolders:
    node: tree.Node
    holders: list[Holder]


def who_has_access(session: Session, scope: Scope) -> list[QueueHolders]:
    """Every queue this scope administers with everyone who can see it, highest level first."""
    require(access.can_admin_any(scope))
    queues = admin_queues.all_queues(session)
    parents = {q.id: q.parent_id for q in queues}
    names = {q.id: q.name for q in queues}
    people = {v.id: v for v in admin_volunteers.all_volunteers(session)}
    grants: dict[int, list[QueueAccess]] = {}
    for g in admin_volunteers.all_grants(session):
        grants.setdefault(g.queue_id, []).append(g)
    out = []
    for node in tree.ordered(queues):
        if not access.can_admin_queue(scope, node.queue.id):
            continue
        best: dict[int, tuple[int, int]] = {}  # volunteer id -> (rank, queue id of the grant)
        for queue_id in tree.ancestors(node.queue.id, parents):
            for g in grants.get(queue_id, []):
                rank = _RANK.get(g.level, 0)
                if rank > best.get(g.volunteer_id, (0, 0))[0]:
                    best[g.volunteer_id] = (rank, queue_id)
        holders = [
            Holder(people[vid], ACCESS_LEVELS[rank - 1], names[qid], qid != node.queue.id)
            for vid, (rank, qid) in best.items()
            if vid in people
        ]
        holders.sort(key=lambda h: (-_RANK[h.level], h.volunteer.username.casefold()))
        out.append(QueueHolders(node, holders))
    return out
