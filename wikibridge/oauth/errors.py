"""What can go wrong in a wiki login; every message is safe to show to the volunteer."""

from __future__ import annotations


class OAuthError(Exception):
    """The wiki login did not succeed; the message says why in plain words."""


class StateMismatch(OAuthError):
    """The callback does not belong to the login this browser started (CSRF, replay, old tab)."""


class InvalidIdentity(OAuthError):
    """The identity the wiki answered with did not pass verification."""


class TokenRevoked(OAuthError):
    """The wiki no longer accepts the access token: the grant was revoked or has expired."""


class TokenExpired(OAuthError):
    """An OAuth 2.0 access token is past its lifetime and must be refreshed."""


class AccountBlocked(OAuthError):
    """The wiki account is blocked, locked or hidden: it may not log in."""

    def __init__(self, username: str = "") -> None:
        self.username = username
        super().__init__(f"The wiki account {username or '(hidden)'} is blocked.")
