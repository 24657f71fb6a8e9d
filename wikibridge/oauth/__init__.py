"""Wiki login with MediaWiki's Extension:OAuth (1.0a or 2.0), without any web framework.

:func:`wiki_login` builds the client for the configured protocol. A login is three steps:
``start()`` (where to send the browser, and what to keep until it comes back), ``finish()``
(check the callback, trade it for an access token) and ``identify()`` (who that is, verified).
Access tokens are kept encrypted with a :class:`Sealer`.
"""

from __future__ import annotations

from wikibridge.config import Settings

from .endpoints import WikiEndpoints
from .errors import (
    AccountBlocked,
    InvalidIdentity,
    OAuthError,
    StateMismatch,
    TokenExpired,
    TokenRevoked,
)
from .flow import LoginConfig, Started, WikiLogin
from .identity import Identity
from .idtoken import verify_identify_jwt
from .oauth1 import OAuth1Login
from .oauth2 import OAuth2Login
from .sealing import PENDING_LOGIN, TOKENS, Sealer


def login_config(settings: Settings) -> LoginConfig:
    oauth = settings.oauth
    return LoginConfig(
        endpoints=WikiEndpoints(oauth.script_url),
        consumer_key=oauth.consumer_key,
        consumer_secret=oauth.consumer_secret,
        issuer=oauth.canonical_server,
        callback_url=settings.oauth_callback_url,
        timeout=oauth.timeout,
        headers={"User-Agent": settings.wiki.user_agent},
    )


def wiki_login(settings: Settings, protocol: str | None = None) -> WikiLogin:
    """The login client for the configured protocol (or `protocol`, for a stored token)."""
    config = login_config(settings)
    if (protocol or settings.oauth.protocol) == "2.0":
        return OAuth2Login(config)
    return OAuth1Login(config)


__all__ = [
    "PENDING_LOGIN",
    "TOKENS",
    "AccountBlocked",
    "Identity",
    "InvalidIdentity",
    "LoginConfig",
    "OAuth1Login",
    "OAuth2Login",
    "OAuthError",
    "Sealer",
    "Started",
    "StateMismatch",
    "TokenExpired",
    "TokenRevoked",
    "WikiEndpoints",
    "WikiLogin",
    "login_config",
    "verify_identify_jwt",
    "wiki_login",
]
