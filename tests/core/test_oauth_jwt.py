"""The identify JWT check, one refusal per test; sealing; identities; the [oauth] settings."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from wikibridge.config import ConfigError, load_settings
from wikibridge.oauth import (
    PENDING_LOGIN,
    TOKENS,
    Identity,
    InvalidIdentity,
    OAuthError,
    Sealer,
    verify_identify_jwt,
)
from wikibridge.oauth.oauth2 import code_challenge

KEY = "0123456789abcdef0123456789abcdef"
SECRET = "fedcba9876543210fedcba9876543210fedcba98"
ISS = "https://meta.wikimedia.org"
NONCE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def claims(**changes: Any) -> dict[str, Any]:
    """What MediaWiki's identify answers, with `changes`."""
    now = int(time.time())
    base = {
        "iss": ISS,
        "sub": 12345,
        "aud": KEY,
        "exp": now + 100,
        "iat": now,
        "username": "Alice",
        "editcount": 99,
        "confirmed_email": True,
        "blocked": False,
        "registered": "20120101000000",
        "groups": ["*", "user", "autoconfirmed"],
        "rights": ["read", "edit"],
        "grants": ["mwoauth-authonly"],
        "nonce": NONCE,
    }
    return {**base, **changes}


def verify(token: str) -> Identity:
    return verify_identify_jwt(
        token, consumer_key=KEY, consumer_secret=SECRET, issuer=ISS, nonce=NONCE
    )


def signed(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_genuine_token_gives_the_identity() -> None:
    identity = verify(signed(claims()))
    assert identity.central_id == 12345 and identity.username == "Alice"
    assert not identity.blocked and "autoconfirmed" in identity.groups
    assert identity.grants == ("mwoauth-authonly",)


def test_bad_signature_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="bad signature"):
        verify(signed(claims(), secret="another consumer's secret, 40 characters"))


def test_wrong_audience_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="another application"):
        verify(signed(claims(aud="ffffffffffffffffffffffffffffffff")))


def test_wrong_issuer_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="another wiki"):
        verify(signed(claims(iss="https://evil.example")))


def test_stale_iat_is_refused() -> None:
    # Still before exp (a replayed token with a generous exp): the age alone refuses it.
    old = int(time.time()) - 600
    with pytest.raises(InvalidIdentity, match="not issued just now"):
        verify(signed(claims(iat=old, exp=int(time.time()) + 100)))


def test_future_iat_is_refused() -> None:
    future = int(time.time()) + 600
    with pytest.raises(InvalidIdentity):
        verify(signed(claims(iat=future, exp=future + 100)))


def test_nonce_mismatch_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="nonce"):
        verify(signed(claims(nonce="another request's nonce")))


def test_alg_none_is_refused() -> None:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    with pytest.raises(InvalidIdentity, match="not signed the way"):
        verify(unsigned)


def test_other_algorithms_are_refused() -> None:
    token = jwt.encode(claims(), SECRET * 2, algorithm="HS512")
    with pytest.raises(InvalidIdentity, match="not signed the way"):
        verify(token)


def test_expired_token_and_missing_claims_are_refused() -> None:
    now = int(time.time())
    with pytest.raises(InvalidIdentity):
        verify(signed(claims(iat=now - 30, exp=now - 200)))
    for name in ("sub", "nonce", "iat", "aud"):
        payload = claims()
        del payload[name]
        with pytest.raises(InvalidIdentity):
            verify(signed(payload))


def test_identities_from_claims() -> None:
    assert Identity.from_claims({"sub": "42", "username": "B", "blocked": False}).central_id == 42
    hidden = Identity.from_claims({"sub": 7, "blocked": True})  # a suppressed user
    assert hidden.blocked and hidden.username == ""
    assert Identity.from_claims({"sub": 7, "username": "C"}).blocked  # unknown: refused
    for sub in (None, 0, -3, "x1", True):
        with pytest.raises(InvalidIdentity):
            Identity.from_claims({"sub": sub, "username": "D", "blocked": False})


def test_sealing_keeps_data_secret_and_separate() -> None:
    tokens = Sealer("k" * 48, TOKENS)
    blob = tokens.seal({"key": "access-token-key", "secret": "access-token-secret"})
    assert b"access-token" not in blob
    assert tokens.open(blob) == {"key": "access-token-key", "secret": "access-token-secret"}
    with pytest.raises(OAuthError):
        Sealer("k" * 48, PENDING_LOGIN).open(blob)  # another purpose, another key
    with pytest.raises(OAuthError):
        tokens.open(blob[:-4] + b"AAAA")
    with pytest.raises(OAuthError):
        tokens.open(blob, max_age=-1)


def test_pkce_challenge_is_rfc_7636_s256() -> None:
    # The example of RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_oauth_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "wb.toml"
    cfg.write_text(
        'public_url = "https://tickets.example.org"\n[oauth]\n'
        'wiki_url = "https://meta.wikimedia.org/w/index.php"\nconsumer_key = "k"\n'
        'protocol = "2.0"\n'
    )
    s = load_settings(
        {"WIKIBRIDGE_CONFIG": str(cfg), "WIKIBRIDGE_OAUTH_CONSUMER_SECRET": "from-the-env"}
    )
    assert s.oauth.configured and s.oauth.protocol == "2.0"
    assert s.oauth.consumer_secret == "from-the-env"
    assert s.oauth.script_url == "https://meta.wikimedia.org/w"
    assert s.oauth.canonical_server == "https://meta.wikimedia.org"
    assert s.oauth.display_name == "meta.wikimedia.org"
    assert s.oauth_callback_url == "https://tickets.example.org/oauth/callback"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WIKIBRIDGE_OAUTH_PROTOCOL": "3"}, "oauth.protocol"),
        ({"WIKIBRIDGE_OAUTH_WIKI_URL": "meta.wikimedia.org/w"}, "oauth.wiki_url"),
        ({"WIKIBRIDGE_OAUTH_RECHECK_SECONDS": "-1"}, "recheck_seconds"),
    ],
)
def test_oauth_settings_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"WIKIBRIDGE_DATA_DIR": str(tmp_path), **env})
