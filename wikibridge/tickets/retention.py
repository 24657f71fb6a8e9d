"""Retention: soft delete of a ticket, and the purge of old closed tickets.

Soft delete (a queue admin, from the ticket page) sets ``removed_at``: the ticket vanishes from
lists, search and the API, its row and content stay, and public verification says "removed".

A purge (`wikibridge purge`) goes further for closed tickets older than a cutoff: their
articles, attachments, links and finished jobs are deleted and the row stays as a tombstone
(number, queue, state, times; ``purged_at`` set), so the number is never given out again and
verification still says "removed", not "no such ticket". Never purged:

- a ticket an on-wiki action cites (a WikiAction row names it, by id or number, in any state),
  or one a cited ticket was merged into, since a citation of a merged ticket is checked
  against the tickets it lives on in;
- a ticket with an outbox job still waiting or running;
- a ticket that is not closed (merged tickets go with the ticket they were merged into).

A purge removing more than ``tickets.purge_max_share`` of the tickets is refused unless
explicitly allowed: a mistyped cutoff must not empty the system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.models import Ticket, utcnow
from wikibridge.store import audit, retention, tickets

from .guards import Actor, OperationRefused, writable

MAX_MERGE_DEPTH = tickets.MAX_MERGE_DEPTH


def remove(session: Session, actor: Actor, number: str) -> Ticket:
    """Soft-delete a ticket: a queue admin's decision, recorded in the audit log."""
    ticket = writable(session, actor, number)
    if not access.can_admin_queue(actor.scope, ticket.queue_id):
        raise OperationRefused("Only an admin of the ticket's queue can delete it.")
    now = utcnow()
    ticket.removed_at = now
    ticket.locked_until = None
    ticket.updated_at = now
    audit.record(session, "ticket_removed", ticket_id=ticket.id, volunteer_id=actor.volunteer_id)
    return ticket


class PurgeRefused(Exception):
    """The purge would remove too much; the message says how much and how to go on."""


@dataclass
class PurgePlan:
    cutoff: datetime
    selected: list[tuple[int, str]] = field(default_factory=list)  # closed tickets to purge
    riding: list[tuple[int, str]] = field(default_factory=list)  # merged into those
    kept_cited: list[str] = field(default_factory=list)
    kept_busy: list[str] = field(default_factory=list)
    live_total: int = 0  # tickets not purged before

    @property
    def ids(self) -> list[int]:
        return [i for i, _ in self.selected + self.riding]

    @property
    def numbers(self) -> list[str]:
        return sorted(n for _, n in self.selected + self.riding)

    @property
    def count(self) -> int:
        return len(self.selected) + len(self.riding)

    @property
    def share(self) -> float:
        return self.count / self.live_total if self.live_total else 0.0


@dataclass
class PurgeResult:
    tickets: int
    articles: int
    attachments: int
    raw_hashes: set[str]
    blob_hashes: set[str]


def plan_purge(session: Session, cutoff: datetime) -> PurgePlan:
    """What a purge with this cutoff would delete, and what it keeps and why."""
    plan = PurgePlan(cutoff=cutoff, live_total=retention.live_ticket_count(session))
    candidates = retention.closed_before(session, cutoff)
    if not candidates:
        return plan
    # Each candidate with the tickets merged into it (at any depth): they go or stay together.
    root_of = {i: i for i, _ in candidates}
    members: list[tuple[int, str]] = list(candidates)
    frontier = [i for i, _ in candidates]
    for _ in range(MAX_MERGE_DEPTH):
        children = [c for c in retention.merged_into(session, frontier) if c[0] not in root_of]
        if not children:
            break
        for child, number, parent in children:
            root_of[child] = root_of[parent]
            members.append((child, number))
        frontier = [c[0] for c in children]
    number_of = dict(members)
    cited_roots = {root_of[i] for i in retention.cited(session, members)}
    busy_roots = {root_of[i] for i in retention.busy(session, number_of)} - cited_roots
    kept = cited_roots | busy_roots
    roots = {i for i, _ in candidates}
    plan.selected = [(i, n) for i, n in candidates if i not in kept]
    plan.riding = [(i, n) for i, n in members if i not in roots and root_of[i] not in kept]
    plan.kept_cited = sorted(number_of[i] for i in cited_roots)
    plan.kept_busy = sorted(number_of[i] for i in busy_roots)
    return plan


def refuse_if_large(plan: PurgePlan, max_share: float, allow_large: bool) -> None:
    if allow_large or plan.share <= max_share:
        return
    raise PurgeRefused(
        f"the purge would remove {plan.count} of {plan.live_total} tickets "
        f"({plan.share:.1%}), more than tickets.purge_max_share ({max_share:.1%}): "
        "check the cutoff, or add --allow-large if that is really meant"
    )


def execute_purge(session: Session, plan: PurgePlan, *, by: str) -> PurgeResult:
    """Purge what the plan selected; the caller commits, then removes the files no longer
    referenced (:func:`wikibridge.maintenance.purge.remove_unreferenced`). Plan and purge
    belong in one transaction, with the rows locked, so nothing cites them meanwhile."""
    ids = plan.ids
    for start in range(0, len(ids), retention.CHUNK):
        tickets.lock_rows(session, ids[start : start + retention.CHUNK])
    members = plan.selected + plan.riding
    if retention.cited(session, members) or retention.busy(session, ids):
        raise PurgeRefused("tickets of the purge were cited or got work meanwhile: run it again")
    raw, blobs = retention.file_hashes(session, ids)
    now = utcnow()
    counts = retention.purge_content(session, ids, now)
    cutoff = plan.cutoff.isoformat(timespec="seconds")
    for ticket_id, number in members:
        audit.record(session, "ticket_purged", ticket_id=ticket_id, number=number, cutoff=cutoff)
    audit.record(
        session,
        "tickets_purged",
        by=by,
        cutoff=cutoff,
        tickets=plan.count,
        numbers=plan.numbers,
        articles=counts["articles"],
        attachments=counts["attachments"],
        kept_cited=len(plan.kept_cited),
        kept_busy=len(plan.kept_busy),
    )
    return PurgeResult(plan.count, counts["articles"], counts["attachments"], raw, blobs)
