"""On-wiki actions: record, look up, complete; and the queue access the checks need."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wikibridge.models import Queue, QueueAccess, Volunteer, WikiAction, utcnow

# Deeper than any real queue tree; stops a loop should a broken tree point back at itself.
MAX_QUEUE_DEPTH = 20


def add(session: Session, **fields: Any) -> WikiAction:
    action = WikiAction(**fields)
    session.add(action)
    session.flush()
    return action


def get(session: Session, action_id: int) -> WikiAction | None:
    return session.get(WikiAction, action_id)


def for_ticket(session: Session, ticket_id: int) -> list[WikiAction]:
    stmt = select(WikiAction).where(WikiAction.ticket_id == ticket_id).order_by(WikiAction.id)
    return list(session.scalars(stmt))


def for_ticket_page(session: Session, ticket_id: int) -> list[tuple[WikiAction, str | None]]:
    """The ticket's actions, newest first, each with its volunteer's name (None: a bot task).

    One query whatever the number of actions or volunteers.
    """
    stmt = (
        select(WikiAction, Volunteer.username)
        .outerjoin(Volunteer, Volunteer.id == WikiAction.volunteer_id)
        .where(WikiAction.ticket_id == ticket_id)
        .order_by(WikiAction.id.desc())
    )
    return [(action, name) for action, name in session.execute(stmt).all()]


def by_revision(session: Session, wiki: str, revid: int) -> list[WikiAction]:
    """Actions that made this revision (what an editor verifying an edit asks about)."""
    stmt = (
        select(WikiAction)
        .where(WikiAction.revision_after == revid, WikiAction.wiki == wiki)
        .order_by(WikiAction.id)
    )
    return list(session.scalars(stmt))


def queue_path(session: Session, queue_id: int) -> list[Queue]:
    """The queue and its ancestors, nearest first ("a::b::c", "a::b", "a")."""
    path: list[Queue] = []
    queue = session.get(Queue, queue_id)
    while queue is not None and len(path) < MAX_QUEUE_DEPTH and queue not in path:
        path.append(queue)
        queue = session.get(Queue, queue.parent_id) if queue.parent_id is not None else None
    return path


def access_levels(session: Session, volunteer_id: int, queue_ids: list[int]) -> dict[int, str]:
    """The volunteer's direct live (not revoked) grants on these queues: queue id -> level."""
    if not queue_ids:
        return {}
    stmt = select(QueueAccess.queue_id, QueueAccess.level).where(
        QueueAccess.volunteer_id == volunteer_id,
        QueueAccess.queue_id.in_(queue_ids),
        QueueAccess.revoked_at.is_(None),
    )
    return {queue_id: level for queue_id, level in session.execute(stmt).all()}


def set_revision_before(session: Session, action_id: int, revid: int) -> None:
    """Remember the page's revision before the first attempt to edit (kept on later attempts:
    a retry looks for its earlier attempt's edit among the revisions after it)."""
    session.execute(
        update(WikiAction)
        .where(WikiAction.id == action_id, WikiAction.revision_before.is_(None))
        .values(revision_before=revid)
        .execution_options(synchronize_session=False)
    )


def note_error(session: Session, action_id: int, error: str) -> None:
    """A failed attempt that will be tried again: the action stays queued, the reason is shown."""
    session.execute(
        update(WikiAction)
        .where(WikiAction.id == action_id, WikiAction.state == "queued")
        .values(error=error[:4000])
        .execution_options(synchronize_session=False)
    )


def finish(
    session: Session,
    action_id: int,
    *,
    state: str,
    error: str = "",
    revision_before: int | None = None,
    revision_after: int | None = None,
) -> bool:
    """Complete a queued action once; False when it was completed already (by another run)."""
    values: dict[str, Any] = {
        "state": state,
        "error": error[:4000],
        "revision_after": revision_after,
        "done_at": utcnow(),
    }
    if revision_before is not None:
        values["revision_before"] = revision_before
    result = session.execute(
        update(WikiAction)
        .where(WikiAction.id == action_id, WikiAction.state == "queued")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
