"""A wiki's OAuth provider on loopback, speaking MediaWiki's Extension:OAuth endpoints.

Built on oauthlib's provider classes and served over https (a certificate made here, trusted
through REQUESTS_CA_BUNDLE), so the app under test talks to it as to a real wiki:

- OAuth 1.0a under ``/w/index.php?title=Special:OAuth/<initiate|authorize|token|identify>``;
  ``initiate`` takes oauth_callback=oob and the wiki then redirects to the registered callback;
  ``identify`` answers a JWT (HS256, consumer secret) with MediaWiki's claims: iss (canonical
  server), sub (central id, a number), aud (consumer key), exp = iat + 100, iat, nonce (the
  identify request's oauth_nonce), username, editcount, confirmed_email, blocked, registered,
  groups, rights, grants; errors as ``{"error": key, "message": text}`` with status 200.
- OAuth 2.0 under ``/w/rest.php/oauth2/<authorize|access_token|resource/profile>``, with the
  client secret in the body and PKCE (S256) required; a refused bearer token answers 401.

The wiki user who "is logged in" and approves every request is ``state.approve_as``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from oauthlib.oauth1 import WebApplicationServer as OAuth1Server
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2 import WebApplicationServer as OAuth2Server
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.oauth_validators import (
    OAUTH2_LIFETIME,
    MediaWikiOAuth1Validator,
    MediaWikiOAuth2Validator,
    WikiOAuthState,
    WikiUser,
)

CONSUMER_KEY = "0123456789abcdef0123456789abcdef"
CONSUMER_SECRET = "fedcba9876543210fedcba9876543210fedcba98"
GRANTS = ["mwoauth-authonly"]


@dataclass
class Answer:
    status: int
    body: str | bytes | None
    headers: dict[str, str]


class WikiProvider:
    """The WSGI app; `jwt_claims` and `jwt_key` let a test make the wiki lie."""

    def __init__(self, state: WikiOAuthState, canonical_server: str) -> None:
        self.state = state
        self.canonical_server = canonical_server
        self.oauth1 = OAuth1Server(MediaWikiOAuth1Validator(state))
        self.oauth2 = OAuth2Server(
            MediaWikiOAuth2Validator(state), token_expires_in=OAUTH2_LIFETIME
        )
        self.jwt_claims: dict[str, Any] = {}
        self.jwt_key: str | None = None
        self.last_authorize: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:  # one request at a time: the state is plain dicts
            answer = self.route(request)
        response = Response(answer.body, answer.status, answer.headers)
        return response(environ, start_response)

    def route(self, request: Request) -> Answer:
        args = (request.url, request.method, request.get_data(as_text=True), dict(request.headers))
        if request.path == "/w/index.php":
            title = request.args.get("title", "")
            subpage = title.removeprefix("Special:OAuth/") if title.startswith("Special:") else ""
            if subpage == "initiate":
                return Answer(*_flip(self.oauth1.create_request_token_response(*args)))
            if subpage == "authorize":
                return self.authorize1(request, args)
            if subpage == "token":
                return Answer(*_flip(self.oauth1.create_access_token_response(*args)))
            if subpage == "identify":
                return self.identify(args)
        if request.path == "/w/rest.php/oauth2/authorize":
            return self.authorize2(request, args)
        if request.path == "/w/rest.php/oauth2/access_token":
            return Answer(*_flip(self.oauth2.create_token_response(*args)))
        if request.path == "/w/rest.php/oauth2/resource/profile":
            return self.profile(args)
        return Answer(404, "no such page", {})

    def authorize1(self, request: Request, args: tuple[Any, ...]) -> Answer:
        # MediaWiki wants both the request token and the consumer key here.
        self.last_authorize = dict(request.args)
        if request.args.get("oauth_consumer_key") != self.state.consumer_key:
            return Answer(400, "mwoauthserver-bad-consumer-key", {})
        return Answer(*_flip(self.oauth1.create_authorization_response(*args)))

    def identify(self, args: tuple[Any, ...]) -> Answer:
        valid, request = self.oauth1.validate_protected_resource_request(*args)
        if not valid:
            return _json(
                200,
                error="mwoauthdatastore-access-token-not-found",
                message="No approved grant was found for that authorization token.",
            )
        now = int(time.time())
        claims = {
            "iss": self.canonical_server,
            "aud": request.client_key,
            "exp": now + 100,
            "iat": now,
            **self.statement(request.wiki_user),
            "nonce": request.nonce,
            **self.jwt_claims,
        }
        token = jwt.encode(claims, self.jwt_key or self.state.consumer_secret, algorithm="HS256")
        return Answer(200, token, {"Content-Type": "application/json"})

    def authorize2(self, request: Request, args: tuple[Any, ...]) -> Answer:
        self.last_authorize = dict(request.args)
        try:
            scopes, _ = self.oauth2.validate_authorization_request(*args)
            headers, body, status = self.oauth2.create_authorization_response(
                *args, scopes=scopes, credentials={"wiki_user": self.state.approve_as}
            )
        except OAuth2Error as e:
            return _json(e.status_code, error=e.error, message=e.description)
        return Answer(status, body, headers)

    def profile(self, args: tuple[Any, ...]) -> Answer:
        valid, request = self.oauth2.verify_request(*args, scopes=[])
        if not valid:
            return _json(
                401,
                error="mwoauth-invalid-authorization",
                message="The authorization headers in your request are not valid.",
            )
        return _json(200, **self.statement(request.wiki_user))

    def statement(self, username: str) -> dict[str, Any]:
        """MediaWiki's UserStatementProvider::getUserProfile()."""
        user: WikiUser = self.state.user(username)
        return {
            "sub": user.central_id,
            "username": user.username,
            "editcount": user.editcount,
            "confirmed_email": True,
            "blocked": user.blocked,
            "registered": user.registered,
            "groups": list(user.groups),
            "rights": ["read", "edit"],
            "grants": GRANTS,
        }


def _flip(result: tuple[dict[str, str], Any, int]) -> tuple[int, Any, dict[str, str]]:
    headers, body, status = result
    return status, body, headers


def _json(status: int, **body: Any) -> Answer:
    return Answer(status, json.dumps(body), {"Content-Type": "application/json"})


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: the file is both the server's and the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test wiki")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "wiki.crt", folder / "wiki.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class RunningWiki:
    provider: WikiProvider
    script_url: str  # https://127.0.0.1:PORT/w
    ca_file: Path

    @property
    def state(self) -> WikiOAuthState:
        return self.provider.state


@contextmanager
def running_wiki(folder: Path, callback_url: str) -> Iterator[RunningWiki]:
    """Serve the provider on a free loopback port until the block ends."""
    cert, key = make_certificate(folder)
    state = WikiOAuthState(CONSUMER_KEY, CONSUMER_SECRET, callback_url)
    provider = WikiProvider(state, canonical_server="")
    server = make_server("127.0.0.1", 0, provider, threaded=True, ssl_context=(str(cert), str(key)))
    provider.canonical_server = f"https://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningWiki(provider, f"{provider.canonical_server}/w", cert)
    finally:
        server.shutdown()
        thread.join(timeout=10)
