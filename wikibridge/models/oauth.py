"""Volunteers' wiki access tokens, kept server-side and encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

OAUTH_PROTOCOLS = ("1.0a", "2.0")


class OAuthToken(Base):
    """One access token a volunteer's login obtained. The token itself (key and secret, or
    access and refresh token) is sealed with a key derived from the app's secret_key: a copy of
    the database alone does not let anyone act on the wiki as a volunteer."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_current", "volunteer_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    protocol: Mapped[str] = mapped_column(String(8))  # one of OAUTH_PROTOCOLS
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer login replaces it, at logout, or when the wiki refuses it.
    revoked_at: Mapped[datetime | None]
