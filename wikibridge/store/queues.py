"""Queues, their addresses and routing rules."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import QUEUE_SEPARATOR, Queue, QueueAddress, RoutingRule


def by_name(session: Session, name: str) -> Queue | None:
    return session.scalars(select(Queue).where(Queue.name == name)).one_or_none()


def ensure(session: Session, name: str, kind: str = "info", **fields: object) -> Queue:
    """The queue with this full name, created with its parents when missing."""
    queue = by_name(session, name)
    if queue is not None:
        return queue
    parent_id = None
    if QUEUE_SEPARATOR in name:
        parent = ensure(session, name.rsplit(QUEUE_SEPARATOR, 1)[0], kind)
        parent_id = parent.id
    queue = Queue(name=name, kind=kind, parent_id=parent_id, **fields)
    session.add(queue)
    session.flush()
    return queue


def add_address(session: Session, queue: Queue, address: str, display_name: str = "") -> None:
    session.add(QueueAddress(queue_id=queue.id, address=address.lower(), display_name=display_name))
    session.flush()


def by_addresses(session: Session, addresses: Iterable[str]) -> Queue | None:
    """The queue of the first of these addresses that belongs to a queue, in the order given."""
    wanted = [a.lower() for a in addresses if a]
    if not wanted:
        return None
    rows = session.execute(
        select(QueueAddress.address, QueueAddress.queue_id).where(QueueAddress.address.in_(wanted))
    ).all()
    found = {address: queue_id for address, queue_id in rows}
    for address in wanted:
        if address in found:
            return session.get(Queue, found[address])
    return None


def addresses_of(session: Session, queue_id: int) -> list[QueueAddress]:
    stmt = select(QueueAddress).where(QueueAddress.queue_id == queue_id).order_by(QueueAddress.id)
    return list(session.scalars(stmt))


def address_map(session: Session) -> dict[str, int]:
    """Every queue address (lower case) with its queue id."""
    return dict(session.execute(select(QueueAddress.address, QueueAddress.queue_id)).all())


def auto_ack_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Queue.id).where(Queue.auto_ack.is_(True))))


def name_map(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Queue.name, Queue.id)).all())


def routing_rules(session: Session) -> list[RoutingRule]:
    stmt = (
        select(RoutingRule)
        .where(RoutingRule.enabled.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return list(session.scalars(stmt))


def by_ids(session: Session, ids: Iterable[int]) -> list[Queue]:
    """These queues, ordered by name (so a parent comes right before its children)."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(session.scalars(select(Queue).where(Queue.id.in_(wanted)).order_by(Queue.name)))
