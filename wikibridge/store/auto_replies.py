"""The ledger of automatic answers, for the per-sender daily cap."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wikibridge.models import AutoReply, utcnow


def sent_today(session: Session, address: str) -> int:
    since = utcnow() - timedelta(days=1)
    stmt = (
        select(func.count())
        .select_from(AutoReply)
        .where(AutoReply.address == address.lower(), AutoReply.sent_at >= since)
    )
    return int(session.scalar(stmt) or 0)


def note(session: Session, address: str) -> None:
    session.add(AutoReply(address=address.lower()))
