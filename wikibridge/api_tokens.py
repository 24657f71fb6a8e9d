"""Personal API tokens: made by a volunteer, shown once, stored as a SHA-256 hash, revocable.

A token is ``wbt_`` followed by 43 random URL-safe characters (256 bits). Knowing the hash
does not give the token, and the lookup is by hash, so a token is never compared as text.
Who may see what through the API is decided by :mod:`wikibridge.access`, exactly as for the
web pages: a token only says which volunteer is asking.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from wikibridge.models import ApiToken, Volunteer, utcnow
from wikibridge.store import api_tokens as store
from wikibridge.store import audit, volunteers

PREFIX = "wbt_"
MAX_NAME = 100
MAX_TOKEN_CHARS = 200
# last_used_at is written at most this often per token: a busy script costs no write per call.
TOUCH_EVERY = timedelta(minutes=1)


class TokenRefused(Exception):
    """The token cannot be made; `reason` tells the volunteer why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to the volunteer once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: Session, volunteer: Volunteer, name: str) -> NewToken:
    """A new token for the volunteer (the caller commits and shows `secret` once)."""
    name = " ".join(name.split())
    if not name:
        raise TokenRefused("Give the token a name, e.g. the script that will use it.")
    if len(name) > MAX_NAME:
        raise TokenRefused(f"The name can have at most {MAX_NAME} characters.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = store.add(
        session, ApiToken(volunteer_id=volunteer.id, name=name, token_hash=hash_token(secret))
    )
    audit.record(session, "api_token_created", volunteer_id=volunteer.id, token_id=token.id)
    return NewToken(token, secret)


def revoke(session: Session, volunteer: Volunteer, token_id: int) -> ApiToken | None:
    """Revoke one of the volunteer's own tokens; None if they have no such token."""
    token = store.get_of_volunteer(session, volunteer.id, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, "api_token_revoked", volunteer_id=volunteer.id, token_id=token.id)
        session.flush()
    return token


def of_volunteer(session: Session, volunteer: Volunteer) -> list[ApiToken]:
    return store.of_volunteer(session, volunteer.id)


def lookup(session: Session, secret: str) -> tuple[ApiToken, Volunteer] | None:
    """The current (not revoked) token with this secret and its volunteer, or None."""
    if not secret.startswith(PREFIX) or len(secret) > MAX_TOKEN_CHARS:
        return None
    token = store.by_hash(session, hash_token(secret))
    if token is None or token.revoked_at is not None:
        return None
    volunteer = volunteers.get(session, token.volunteer_id)
    if volunteer is None:
        return None
    return token, volunteer


def needs_touch(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(session: Session, token_id: int, now: datetime) -> None:
    """Note that a token was used (the caller commits)."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now
        session.flush()
