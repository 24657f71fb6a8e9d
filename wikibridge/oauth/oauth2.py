"""Wiki login with OAuth 2.0: authorization code with state and PKCE (S256), then the profile."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import requests
from oauthlib.oauth2 import OAuth2Error, TokenExpiredError
from requests_oauthlib import OAuth2Session

from .errors import OAuthError, StateMismatch, TokenExpired, TokenRevoked
from .flow import LoginConfig, Started, raise_for_wiki_error, unreachable
from .identity import Identity


def code_verifier() -> str:
    # RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]; 64 random bytes give 86.
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuth2Login:
    protocol = "2.0"

    def __init__(self, config: LoginConfig) -> None:
        self.config = config

    def _session(self, **kwargs: Any) -> OAuth2Session:
        c = self.config
        session = OAuth2Session(c.consumer_key, redirect_uri=c.callback_url, **kwargs)
        session.headers.update(c.headers)
        return session

    def start(self) -> Started:
        state = secrets.token_urlsafe(32)
        verifier = code_verifier()
        try:
            with self._session() as session:
                url, _ = session.authorization_url(
                    self.config.endpoints.oauth2_authorize,
                    state=state,
                    code_challenge=code_challenge(verifier),
                    code_challenge_method="S256",
                )
        except OAuth2Error as e:  # InsecureTransportError: the wiki must use https
            raise OAuthError(f"Wiki login cannot start: {e.description}") from None
        return Started(authorize_url=url, pending={"state": state, "verifier": verifier})

    def finish(self, args: Mapping[str, str], pending: Mapping[str, str]) -> dict[str, Any]:
        returned = args.get("state", "")
        expected = pending.get("state", "")
        if not (returned and expected and hmac.compare_digest(returned, expected)):
            raise StateMismatch("This login answer does not belong to the login you started.")
        if args.get("error"):
            raise OAuthError("The login was not approved on the wiki.")
        code = args.get("code", "")
        if not code:
            raise OAuthError("The wiki did not confirm the login (no code).")
        c = self.config
        try:
            with self._session(state=expected) as session:
                # client_id and client_secret in the body, as MediaWiki expects them.
                token: dict[str, Any] = session.fetch_token(
                    c.endpoints.oauth2_token,
                    code=code,
                    client_secret=c.consumer_secret,
                    include_client_id=True,
                    code_verifier=pending.get("verifier", ""),
                    timeout=c.timeout,
                )
        except requests.RequestException as e:
            raise unreachable(e) from None
        except (OAuth2Error, ValueError):
            raise OAuthError("The wiki did not complete the login; please try again.") from None
        if not token.get("access_token"):
            raise OAuthError("The wiki did not complete the login; please try again.")
        return dict(token)

    def identify(self, token: Mapping[str, Any]) -> Identity:
        c = self.config
        try:
            with self._session(token=dict(token)) as session:
                response = session.get(c.endpoints.oauth2_profile, timeout=c.timeout)
        except TokenExpiredError:
            raise TokenExpired("The access token has expired.") from None
        except requests.RequestException as e:
            raise unreachable(e) from None
        raise_for_wiki_error(response)
        try:
            profile = response.json()
        except ValueError:
            raise OAuthError("The wiki's profile answer was not readable.") from None
        if not isinstance(profile, dict):
            raise OAuthError("The wiki's profile answer was not readable.")
        return Identity.from_claims(profile)

    def refresh(self, token: Mapping[str, Any]) -> dict[str, Any]:
        c = self.config
        refresh_token = token.get("refresh_token")
        if not refresh_token:
            raise TokenRevoked("The wiki login has expired; please log in again.")
        try:
            with self._session() as session:
                fresh: dict[str, Any] = session.refresh_token(
                    c.endpoints.oauth2_token,
                    refresh_token=refresh_token,
                    client_id=c.consumer_key,
                    client_secret=c.consumer_secret,
                    include_client_id=True,
                    timeout=c.timeout,
                )
        except requests.RequestException as e:
            raise unreachable(e) from None
        except (OAuth2Error, ValueError):
            raise TokenRevoked("The wiki login has expired; please log in again.") from None
        return dict(fresh)
