"""The ledger of automatic answers, for the per-sender daily cap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from wikibridge.models import AutoReply, utcnow

CHUNK = 2000  # addresses per IN list


def sent_today(session: Session, addresses: Iterable[str]) -> dict[str, int]:
    """How many automatic answers went to each of these addresses in the last 24 hours, by
    lower-case address (one query per 2,000 addresses; an address with none is left out)."""
    wanted = sorted({a.lower() for a in addresses if a})
    since = utcnow() - timedelta(days=1)
    counts: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        stmt = (
            select(AutoReply.address, func.count())
            .where(AutoReply.address.in_(wanted[start : start + CHUNK]), AutoReply.sent_at >= since)
            .group_by(AutoReply.address)
        )
        counts.update((address, int(n)) for address, n in session.execute(stmt))
    return counts


def note(session: Session, addresses: Iterable[str], at: datetime) -> None:
    """One answer sent to each address (an address twice: two answers), in one statement."""
    rows = [{"address": a.lower(), "sent_at": at} for a in addresses]
    if rows:
        session.execute(insert(AutoReply), rows)
