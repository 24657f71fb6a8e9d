"""Volunteers' API tokens, looked up by the hash of the token."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import ApiToken


def add(session: Session, token: ApiToken) -> ApiToken:
    session.add(token)
    session.flush()
    return token


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def of_volunteer(session: Session, volunteer_id: int) -> list[ApiToken]:
    """The volunteer's tokens, current ones first, newest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.volunteer_id == volunteer_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def get_of_volunteer(session: Session, volunteer_id: int, token_id: int) -> ApiToken | None:
    stmt = select(ApiToken).where(ApiToken.id == token_id, ApiToken.volunteer_id == volunteer_id)
    return session.scalars(stmt).first()
