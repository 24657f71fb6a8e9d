"""oauthlib request validators for the test wiki's OAuth provider (see tests/oauth_provider.py).

They keep everything in one :class:`WikiOAuthState` and accept exactly one consumer, as a wiki
with one registered consumer would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from oauthlib.common import Request
from oauthlib.oauth1 import RequestValidator as OAuth1Validator
from oauthlib.oauth2 import RequestValidator as OAuth2Validator

OAUTH2_LIFETIME = 4 * 3600  # MediaWiki's access tokens live four hours


@dataclass
class WikiUser:
    central_id: int
    username: str
    blocked: bool = False
    groups: tuple[str, ...] = ("*", "user", "autoconfirmed")
    editcount: int = 1234
    registered: str = "20120101000000"


@dataclass
class WikiOAuthState:
    """The wiki's side of every login: its consumer, its users, and the tokens it gave out."""

    consumer_key: str
    consumer_secret: str
    callback_url: str  # as registered with the consumer
    users: dict[str, WikiUser] = field(default_factory=dict)
    approve_as: str = ""  # the user logged in on the wiki, who approves every request
    request_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # 1.0a
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # 2.0
    bearer_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # 2.0
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh -> username
    nonces: set[tuple[str, str]] = field(default_factory=set)

    def user(self, name: str) -> WikiUser:
        return self.users[name]

    def revoke_all(self) -> None:
        """The volunteer revokes the grant on Special:OAuthManageMyGrants."""
        for token in (*self.access_tokens.values(), *self.bearer_tokens.values()):
            token["revoked"] = True
        self.refresh_tokens.clear()


class MediaWikiOAuth1Validator(OAuth1Validator):
    def __init__(self, wiki: WikiOAuthState) -> None:
        super().__init__()
        self.wiki = wiki

    # MediaWiki's keys and secrets are 32 and 40 hex digits, longer than oauthlib's defaults.
    client_key_length = request_token_length = access_token_length = (20, 64)
    nonce_length = verifier_length = (10, 64)
    dummy_client = "dummyconsumer00000000000000000000"
    dummy_request_token = "dummyrequest000000000000000000000"
    dummy_access_token = "dummyaccess0000000000000000000000"

    def validate_client_key(self, client_key: str, request: Request) -> bool:
        return client_key == self.wiki.consumer_key

    def get_client_secret(self, client_key: str, request: Request) -> str:
        return self.wiki.consumer_secret if client_key == self.wiki.consumer_key else "dummy"

    def validate_timestamp_and_nonce(
        self, client_key: str, timestamp: str, nonce: str, request: Request, **_: Any
    ) -> bool:
        if abs(time.time() - int(timestamp)) > 300 or (client_key, nonce) in self.wiki.nonces:
            return False
        self.wiki.nonces.add((client_key, nonce))
        return True

    def get_default_realms(self, client_key: str, request: Request) -> list[str]:
        return []

    def validate_requested_realms(self, client_key: str, realms: Any, request: Request) -> bool:
        return True

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Request) -> bool:
        # "oob" means: the callback registered with the consumer.
        return redirect_uri == "oob"

    def save_request_token(self, token: dict[str, str], request: Request) -> None:
        self.wiki.request_tokens[token["oauth_token"]] = {
            "secret": token["oauth_token_secret"],
            "client_key": request.client_key,
        }

    def verify_request_token(self, token: str, request: Request) -> bool:
        return token in self.wiki.request_tokens

    def get_realms(self, token: str, request: Request) -> list[str]:
        return []

    def verify_realms(self, token: str, realms: Any, request: Request) -> bool:
        return True

    def save_verifier(self, token: str, verifier: dict[str, str], request: Request) -> None:
        entry = self.wiki.request_tokens[token]
        entry["verifier"] = verifier["oauth_verifier"]
        entry["user"] = self.wiki.approve_as

    def get_redirect_uri(self, token: str, request: Request) -> str:
        return self.wiki.callback_url

    def validate_request_token(self, client_key: str, token: str, request: Request) -> bool:
        entry = self.wiki.request_tokens.get(token)
        return entry is not None and entry["client_key"] == client_key

    def get_request_token_secret(self, client_key: str, token: str, request: Request) -> str:
        entry = self.wiki.request_tokens.get(token)
        return entry["secret"] if entry else "dummy"

    def validate_verifier(
        self, client_key: str, token: str, verifier: str, request: Request
    ) -> bool:
        entry = self.wiki.request_tokens.get(token)
        return entry is not None and entry.get("verifier") == verifier

    def invalidate_request_token(self, client_key: str, token: str, request: Request) -> None:
        self.wiki.request_tokens.pop(token, None)

    def save_access_token(self, token: dict[str, str], request: Request) -> None:
        self.wiki.access_tokens[token["oauth_token"]] = {
            "secret": token["oauth_token_secret"],
            # The request token it replaces names the user who approved it.
            "user": self.wiki.request_tokens[request.resource_owner_key]["user"],
            "revoked": False,
        }

    def validate_access_token(self, client_key: str, token: str, request: Request) -> bool:
        entry = self.wiki.access_tokens.get(token)
        if entry is None or entry["revoked"]:
            return False
        request.wiki_user = entry["user"]
        return True

    def get_access_token_secret(self, client_key: str, token: str, request: Request) -> str:
        entry = self.wiki.access_tokens.get(token)
        return entry["secret"] if entry else "dummy"

    def validate_realms(self, client_key: str, token: str, request: Request, **_: Any) -> bool:
        return True


class MediaWikiOAuth2Validator(OAuth2Validator):
    """A confidential client with a secret; PKCE (S256) is required of it too."""

    def __init__(self, wiki: WikiOAuthState) -> None:
        super().__init__()
        self.wiki = wiki

    def validate_client_id(self, client_id: str, request: Request, *a: Any, **k: Any) -> bool:
        return client_id == self.wiki.consumer_key

    def validate_redirect_uri(self, client_id: str, uri: str, request: Request, *a: Any) -> bool:
        return uri == self.wiki.callback_url

    def get_default_redirect_uri(self, client_id: str, request: Request, *a: Any) -> str:
        return self.wiki.callback_url

    def validate_response_type(self, client_id: str, rtype: str, *a: Any, **k: Any) -> bool:
        return rtype == "code"

    def validate_scopes(self, client_id: str, scopes: Any, *a: Any, **k: Any) -> bool:
        return True

    def get_default_scopes(self, client_id: str, request: Request, *a: Any) -> list[str]:
        return ["basic"]

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        return True

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Request, *a: Any
    ) -> None:
        self.wiki.codes[code["code"]] = {
            "client_id": client_id,
            "redirect_uri": request.redirect_uri,
            "user": request.wiki_user,
            "challenge": request.code_challenge,
            "method": request.code_challenge_method,
        }

    def client_authentication_required(self, request: Request, *a: Any, **k: Any) -> bool:
        return True

    def authenticate_client(self, request: Request, *a: Any, **k: Any) -> bool:
        if (request.client_id, request.client_secret) != (
            self.wiki.consumer_key,
            self.wiki.consumer_secret,
        ):
            return False
        request.client = type("Client", (), {"client_id": request.client_id})()
        return True

    def validate_code(self, client_id: str, code: str, client: Any, request: Request) -> bool:
        entry = self.wiki.codes.get(code)
        if entry is None or entry["client_id"] != client_id:
            return False
        request.user = entry["user"]
        request.scopes = ["basic"]
        return True

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        entry = self.wiki.codes.get(code)
        return entry["challenge"] if entry else None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        entry = self.wiki.codes.get(code)
        return entry["method"] if entry else None

    def confirm_redirect_uri(
        self, client_id: str, code: str, uri: str, client: Any, *a: Any, **k: Any
    ) -> bool:
        entry = self.wiki.codes.get(code)
        return entry is not None and entry["redirect_uri"] == uri

    def validate_grant_type(self, client_id: str, grant: str, *a: Any, **k: Any) -> bool:
        return grant in ("authorization_code", "refresh_token")

    def invalidate_authorization_code(self, client_id: str, code: str, *a: Any) -> None:
        self.wiki.codes.pop(code, None)

    def save_bearer_token(self, token: dict[str, Any], request: Request, *a: Any) -> None:
        self.wiki.bearer_tokens[token["access_token"]] = {
            "user": request.user,
            "expires_at": time.time() + token["expires_in"],
            "revoked": False,
        }
        if token.get("refresh_token"):
            self.wiki.refresh_tokens[token["refresh_token"]] = request.user

    def validate_bearer_token(self, token: str, scopes: Any, request: Request) -> bool:
        entry = self.wiki.bearer_tokens.get(token)
        if entry is None or entry["revoked"] or entry["expires_at"] < time.time():
            return False
        request.wiki_user = entry["user"]
        return True

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Request, *a: Any
    ) -> bool:
        user = self.wiki.refresh_tokens.pop(refresh_token, None)
        if user is None:
            return False
        request.user = user
        return True

    def get_original_scopes(self, refresh_token: str, request: Request, *a: Any) -> list[str]:
        return ["basic"]
