"""Verification of the JWT that MediaWiki's Special:OAuth/identify answers with (OAuth 1.0a).

The wiki signs the token with HS256 and the consumer secret; anyone who can reach the callback
could otherwise present any claims. Every claim that binds the token to this consumer, this wiki
and this very identify request is checked: aud (our consumer key), iss (the wiki's canonical
server), nonce (the oauth_nonce we signed the identify request with), iat and exp.
"""

from __future__ import annotations

import hmac
import time

import jwt

from .errors import InvalidIdentity
from .identity import Identity

# MediaWiki only ever signs identify tokens with HS256; any other alg (none, RS256 with the
# secret as a "public key", ...) is an attack or a misconfiguration.
ALGORITHM = "HS256"
# Clock difference tolerated between the wiki and us; the wiki sets exp = iat + 100 s.
LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "nonce"]


def verify_identify_jwt(
    token: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    issuer: str,
    nonce: str,
    leeway: int = LEEWAY_SECONDS,
    now: float | None = None,
) -> Identity:
    """The identity in `token`, or :class:`InvalidIdentity` when any check fails."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidIdentity("The wiki's answer is not an identity token.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidIdentity("The identity token is not signed the way the wiki signs it.")
    try:
        claims = jwt.decode(
            token,
            consumer_secret,
            algorithms=[ALGORITHM],
            audience=consumer_key,
            issuer=issuer,
            leeway=leeway,
            options={
                "require": REQUIRED_CLAIMS,
                "strict_aud": True,
                # MediaWiki's sub is a number, which PyJWT's own check would refuse.
                "verify_sub": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidIdentity("The identity token has a bad signature.") from None
    except jwt.InvalidAudienceError:
        raise InvalidIdentity("The identity token was issued to another application.") from None
    except jwt.InvalidIssuerError:
        raise InvalidIdentity("The identity token was issued by another wiki.") from None
    except jwt.InvalidTokenError as e:
        raise InvalidIdentity(f"The identity token is not valid: {e}.") from None

    current = time.time() if now is None else now
    issued = claims["iat"]
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise InvalidIdentity("The identity token has no valid issue time.")
    # PyJWT refuses an iat in the future but accepts any age; a stale token may be a replay.
    if issued > current + leeway or issued < current - leeway:
        raise InvalidIdentity("The identity token was not issued just now.")
    if not isinstance(claims["nonce"], str) or not hmac.compare_digest(
        claims["nonce"].encode(), nonce.encode()
    ):
        raise InvalidIdentity("The identity token answers another request (nonce).")
    return Identity.from_claims(claims)
