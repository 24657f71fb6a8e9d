"""Wiki login with OAuth 1.0a: initiate, authorize, token, then identify (a signed JWT)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import requests
from requests_oauthlib import OAuth1, OAuth1Session

from .errors import OAuthError, StateMismatch, TokenRevoked
from .flow import LoginConfig, Started, raise_for_wiki_error, unreachable
from .identity import Identity
from .idtoken import verify_identify_jwt

# MediaWiki takes "oob" from every consumer and then sends the browser to the callback URL
# registered with the consumer; a URL here would only work for consumers registered with
# "callback is a prefix".
CALLBACK = "oob"


class OAuth1Login:
    protocol = "1.0a"

    def __init__(self, config: LoginConfig) -> None:
        self.config = config

    def _session(self, **tokens: str) -> OAuth1Session:
        c = self.config
        session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, **tokens)
        session.headers.update(c.headers)
        return session

    def start(self) -> Started:
        c = self.config
        try:
            with self._session(callback_uri=CALLBACK) as session:
                answer = session.fetch_request_token(c.endpoints.initiate, timeout=c.timeout)
        except requests.RequestException as e:
            raise unreachable(e) from None
        except ValueError:
            raise OAuthError(
                "The wiki refused to start a login; check oauth.consumer_key and "
                "oauth.consumer_secret, and that the consumer is approved."
            ) from None
        if answer.get("oauth_callback_confirmed") != "true" or not answer.get("oauth_token_secret"):
            raise OAuthError("The wiki's answer to the login request was incomplete.")
        token = answer["oauth_token"]
        return Started(
            authorize_url=c.endpoints.authorize(token, c.consumer_key),
            pending={"token": token, "secret": answer["oauth_token_secret"]},
        )

    def finish(self, args: Mapping[str, str], pending: Mapping[str, str]) -> dict[str, Any]:
        # The request token is this protocol's state: the callback must name the one we got.
        returned = args.get("oauth_token", "")
        verifier = args.get("oauth_verifier", "")
        expected = pending.get("token", "")
        if not (returned and expected and hmac.compare_digest(returned, expected)):
            raise StateMismatch("This login answer does not belong to the login you started.")
        if not verifier:
            raise OAuthError("The wiki did not confirm the login (no verifier).")
        c = self.config
        try:
            with self._session(
                resource_owner_key=expected,
                resource_owner_secret=pending.get("secret", ""),
                verifier=verifier,
            ) as session:
                answer = session.fetch_access_token(c.endpoints.token, timeout=c.timeout)
        except requests.RequestException as e:
            raise unreachable(e) from None
        except ValueError:
            raise OAuthError("The wiki did not complete the login; please try again.") from None
        if not answer.get("oauth_token") or not answer.get("oauth_token_secret"):
            raise OAuthError("The wiki did not complete the login; please try again.")
        return {"key": answer["oauth_token"], "secret": answer["oauth_token_secret"]}

    def identify(self, token: Mapping[str, Any]) -> Identity:
        c = self.config
        # Our own nonce, so we can check that the JWT answers this very request.
        nonce = secrets.token_hex(16)
        auth = OAuth1(
            c.consumer_key,
            client_secret=c.consumer_secret,
            resource_owner_key=str(token.get("key", "")),
            resource_owner_secret=str(token.get("secret", "")),
            nonce=nonce,
        )
        try:
            response = requests.get(
                c.endpoints.identify, auth=auth, headers=dict(c.headers), timeout=c.timeout
            )
        except requests.RequestException as e:
            raise unreachable(e) from None
        raise_for_wiki_error(response)
        return verify_identify_jwt(
            response.text.strip(),
            consumer_key=c.consumer_key,
            consumer_secret=c.consumer_secret,
            issuer=c.issuer,
            nonce=nonce,
        )

    def refresh(self, token: Mapping[str, Any]) -> dict[str, Any]:
        # OAuth 1.0a access tokens do not expire; one the wiki refuses was revoked.
        raise TokenRevoked("The wiki no longer accepts this login; please log in again.")
