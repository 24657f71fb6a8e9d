"""What both login protocols share: their configuration, their shape, the wiki's error answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from wikibridge import __version__

from .endpoints import WikiEndpoints
from .errors import AccountBlocked, OAuthError, TokenRevoked
from .identity import Identity

# Error keys with which MediaWiki refuses an access token that is unknown, revoked or not for
# this wiki; the blocked-user one is told apart so the volunteer gets the right page.
BLOCKED_ERRORS = ("mwoauth-invalid-authorization-blocked-user",)
REVOKED_ERRORS = (
    "mwoauth-invalid-authorization",
    "mwoauthdatastore-access-token-not-found",
    "invalid_token",
    "access_denied",
)


@dataclass(frozen=True)
class LoginConfig:
    endpoints: WikiEndpoints
    consumer_key: str
    consumer_secret: str
    issuer: str  # the wiki's canonical server, the `iss` of identify tokens
    callback_url: str
    timeout: float = 15.0
    # Wikimedia's policy asks clients for a User-Agent that says who they are.
    headers: Mapping[str, str] = field(
        default_factory=lambda: {"User-Agent": f"wikibridge/{__version__}"}
    )


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and what to keep (sealed) until it comes back."""

    authorize_url: str
    pending: dict[str, str]


class WikiLogin(Protocol):
    protocol: str

    def start(self) -> Started: ...

    def finish(self, args: Mapping[str, str], pending: Mapping[str, str]) -> dict[str, Any]:
        """Check the callback against `pending` and trade it for an access token."""
        ...

    def identify(self, token: Mapping[str, Any]) -> Identity:
        """Who the access token belongs to, as the wiki says now."""
        ...

    def refresh(self, token: Mapping[str, Any]) -> dict[str, Any]:
        """A fresh access token for an expired one (OAuth 2.0)."""
        ...


def raise_for_wiki_error(response: requests.Response) -> None:
    """Turn the wiki's refusals into our errors; return quietly on success."""
    error = _error_key(response)
    if error.startswith(BLOCKED_ERRORS):
        raise AccountBlocked()
    if response.status_code == 401 or error.startswith(REVOKED_ERRORS):
        raise TokenRevoked("The wiki no longer accepts this login; please log in again.")
    if error or response.status_code >= 400:
        raise OAuthError(
            f"The wiki answered with an error ({error or response.status_code}); "
            "please try again later."
        )


def _error_key(response: requests.Response) -> str:
    # Special:OAuth answers errors as {"error": key, "message": text}, with status 200 on
    # older wikis; the REST endpoints use an HTTP status and a similar body.
    if not response.text.lstrip().startswith("{"):
        return ""
    try:
        body = json.loads(response.text)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error") or body.get("errorKey") or ""
    return error if isinstance(error, str) else "unknown"


def unreachable(error: Exception) -> OAuthError:
    return OAuthError(f"The wiki could not be reached ({type(error).__name__}); try again later.")
