"""The SQL of canned responses and news items as admins edit them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import CannedResponse, NewsItem


def all_canned(session: Session) -> list[CannedResponse]:
    """Every canned response: the global ones (no queue) first, then by queue and name."""
    stmt = select(CannedResponse).order_by(
        CannedResponse.queue_id.is_not(None), CannedResponse.queue_id, CannedResponse.name
    )
    return list(session.scalars(stmt))


def canned(session: Session, canned_id: int) -> CannedResponse | None:
    return session.get(CannedResponse, canned_id)


def news(session: Session, news_id: int) -> NewsItem | None:
    return session.get(NewsItem, news_id)


def all_news(session: Session) -> list[NewsItem]:
    stmt = select(NewsItem).order_by(NewsItem.created_at.desc(), NewsItem.id.desc())
    return list(session.scalars(stmt))


def published_news(session: Session, limit: int) -> list[NewsItem]:
    stmt = (
        select(NewsItem)
        .where(NewsItem.published.is_(True))
        .order_by(NewsItem.created_at.desc(), NewsItem.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def add(session: Session, row: CannedResponse | NewsItem) -> None:
    session.add(row)
    session.flush()


def delete(session: Session, row: CannedResponse | NewsItem) -> None:
    session.delete(row)
    session.flush()
