"""Canned responses: text a volunteer starts a reply from."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wikibridge.models import CannedResponse


def for_queues(session: Session, queue_ids: Iterable[int]) -> list[CannedResponse]:
    """The canned responses of these queues and the global ones (no queue), by name."""
    wanted = list(queue_ids)
    stmt = (
        select(CannedResponse)
        .where(or_(CannedResponse.queue_id.is_(None), CannedResponse.queue_id.in_(wanted)))
        .order_by(CannedResponse.name, CannedResponse.id)
    )
    return list(session.scalars(stmt))


def add(session: Session, canned: CannedResponse) -> CannedResponse:
    session.add(canned)
    session.flush()
    return canned
