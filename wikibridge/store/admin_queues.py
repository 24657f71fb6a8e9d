"""The SQL of queue administration: the whole tree, addresses and every routing rule."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wikibridge.models import Queue, QueueAddress, RoutingRule


def all_queues(session: Session) -> list[Queue]:
    return list(session.scalars(select(Queue).order_by(Queue.name)))


def get(session: Session, queue_id: int) -> Queue | None:
    return session.get(Queue, queue_id)


def add(session: Session, queue: Queue) -> Queue:
    session.add(queue)
    session.flush()
    return queue


def name_taken(session: Session, names: list[str], except_ids: list[int]) -> str | None:
    """The first of these full names held by a queue other than `except_ids`, if any."""
    if not names:
        return None
    stmt = select(Queue.name).where(Queue.name.in_(names))
    if except_ids:
        stmt = stmt.where(Queue.id.not_in(except_ids))
    return session.scalars(stmt.order_by(Queue.name).limit(1)).first()


def address(session: Session, value: str) -> QueueAddress | None:
    stmt = select(QueueAddress).where(QueueAddress.address == value.lower())
    return session.scalars(stmt).one_or_none()


def address_by_id(session: Session, address_id: int) -> QueueAddress | None:
    return session.get(QueueAddress, address_id)


def add_address(session: Session, queue_id: int, value: str, display_name: str) -> QueueAddress:
    row = QueueAddress(queue_id=queue_id, address=value.lower(), display_name=display_name)
    session.add(row)
    session.flush()
    return row


def delete_address(session: Session, row: QueueAddress) -> None:
    session.delete(row)
    session.flush()


def all_rules(session: Session) -> list[RoutingRule]:
    """Every routing rule, disabled ones too, in the order ingest tries them."""
    stmt = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    return list(session.scalars(stmt))


def rule(session: Session, rule_id: int) -> RoutingRule | None:
    return session.get(RoutingRule, rule_id)


def add_rule(session: Session, row: RoutingRule) -> RoutingRule:
    """A new rule, placed after every existing one."""
    last = session.scalar(select(func.max(RoutingRule.position)))
    row.position = (last or 0) + 1
    session.add(row)
    session.flush()
    return row
