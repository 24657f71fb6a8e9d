"""Volunteers' sealed OAuth access tokens: at most one current (not revoked) per volunteer."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wikibridge.models import OAUTH_PROTOCOLS, OAuthToken, utcnow


def current(session: Session, volunteer_id: int) -> OAuthToken | None:
    stmt = (
        select(OAuthToken)
        .where(OAuthToken.volunteer_id == volunteer_id, OAuthToken.revoked_at.is_(None))
        .order_by(OAuthToken.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def revoke_all(session: Session, volunteer_id: int) -> int:
    """Mark every current token of the volunteer as revoked; how many there were."""
    stmt = (
        update(OAuthToken)
        .where(OAuthToken.volunteer_id == volunteer_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    result = session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def replace(session: Session, volunteer_id: int, protocol: str, sealed: bytes) -> OAuthToken:
    """Store a new login's token; the volunteer's older ones are revoked."""
    if protocol not in OAUTH_PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(OAUTH_PROTOCOLS)}")
    revoke_all(session, volunteer_id)
    token = OAuthToken(volunteer_id=volunteer_id, protocol=protocol, sealed=sealed)
    session.add(token)
    session.flush()
    return token


def reseal(session: Session, token: OAuthToken, sealed: bytes) -> None:
    """Keep a refreshed token (OAuth 2.0) in place of the expired one."""
    token.sealed = sealed
    session.flush()
