"""Articles and attachments."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wikibridge.models import Article, Attachment


def by_raw_sha256(session: Session, sha256: str) -> Article | None:
    return session.scalars(select(Article).where(Article.raw_sha256 == sha256)).one_or_none()


def by_hash_or_message_id(
    session: Session, sha256: str, message_id: str
) -> tuple[Article | None, bool]:
    """The article with these raw bytes, and whether another article has this Message-ID:
    one query for the two checks every inbound message needs."""
    cond = Article.raw_sha256 == sha256
    if message_id:
        cond = cond | (Article.message_id == message_id)
    rows = list(session.scalars(select(Article).where(cond).limit(20)))
    same = next((a for a in rows if a.raw_sha256 == sha256), None)
    return same, any(a.message_id == message_id and a is not same for a in rows)


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


def attachments_for_ticket(session: Session, ticket_id: int) -> list[Attachment]:
    """All attachments of a ticket's articles, in one query."""
    stmt = (
        select(Attachment)
        .join(Article, Article.id == Attachment.article_id)
        .where(Article.ticket_id == ticket_id)
        .order_by(Attachment.article_id, Attachment.id)
    )
    return list(session.scalars(stmt))


def attachment_of_ticket(session: Session, ticket_id: int, attachment_id: int) -> Attachment | None:
    """An attachment, only if it belongs to an article of this ticket."""
    stmt = (
        select(Attachment)
        .join(Article, Article.id == Attachment.article_id)
        .where(Attachment.id == attachment_id, Article.ticket_id == ticket_id)
    )
    return session.scalars(stmt).one_or_none()


def of_ticket(session: Session, ticket_id: int, article_id: int) -> Article | None:
    """An article, only if it belongs to this ticket."""
    stmt = select(Article).where(Article.id == article_id, Article.ticket_id == ticket_id)
    return session.scalars(stmt).one_or_none()


def count_for_ticket(session: Session, ticket_id: int) -> int:
    stmt = select(func.count()).select_from(Article).where(Article.ticket_id == ticket_id)
    return int(session.scalar(stmt) or 0)


def last_inbound(session: Session, ticket_id: int) -> Article | None:
    """The newest mail received on a ticket: the one a reply answers."""
    stmt = (
        select(Article)
        .where(Article.ticket_id == ticket_id, Article.kind == "inbound")
        .order_by(Article.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def newest_inbound(session: Session, ticket_id: int, limit: int = 50) -> list[Article]:
    """The newest mails received on a ticket, newest first."""
    stmt = (
        select(Article)
        .where(Article.ticket_id == ticket_id, Article.kind == "inbound")
        .order_by(Article.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def attachments_of_article(session: Session, article_id: int) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.article_id == article_id).order_by(Attachment.id)
    return list(session.scalars(stmt))
