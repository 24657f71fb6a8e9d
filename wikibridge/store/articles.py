"""Articles and attachments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import Article, Attachment


def by_raw_sha256(session: Session, sha256: str) -> Article | None:
    return session.scalars(select(Article).where(Article.raw_sha256 == sha256)).one_or_none()


def with_message_id(session: Session, message_id: str) -> list[Article]:
    if not message_id:
        return []
    stmt = select(Article).where(Article.message_id == message_id).order_by(Article.id).limit(20)
    return list(session.scalars(stmt))


def add(session: Session, article: Article, attachments: list[Attachment] | None = None) -> Article:
    session.add(article)
    session.flush()
    for attachment in attachments or []:
        attachment.article_id = article.id
        session.add(attachment)
    return article


def for_ticket(session: Session, ticket_id: int) -> list[Article]:
    stmt = select(Article).where(Article.ticket_id == ticket_id).order_by(Article.id)
    return list(session.scalars(stmt))
