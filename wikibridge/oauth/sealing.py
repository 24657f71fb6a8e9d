"""Encryption of OAuth secrets at rest: access tokens in the database, pending logins in the
session cookie (which is signed, not encrypted, so the browser could read it otherwise).

Fernet (AES-128-CBC with HMAC-SHA256, timestamped) with a key derived by HKDF from the app's
secret_key; a distinct `purpose` gives each use its own key, so a blob sealed for one use never
opens as another.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import OAuthError

TOKENS = "oauth access tokens"
PENDING_LOGIN = "oauth pending login"


def derive_key(secret_key: str, purpose: str) -> bytes:
    # No salt: secret_key is a long random value, and HKDF's info separates the purposes.
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"wikibridge {purpose} v1".encode(),
    )
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


class Sealer:
    def __init__(self, secret_key: str, purpose: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is needed to encrypt OAuth tokens")
        self._fernet = Fernet(derive_key(secret_key, purpose))

    def seal(self, data: Mapping[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(dict(data), sort_keys=True).encode())

    def open(self, blob: bytes | str, max_age: int | None = None) -> dict[str, Any]:
        """The sealed data; :class:`OAuthError` when tampered with, from another key, or older
        than `max_age` seconds."""
        try:
            data = json.loads(self._fernet.decrypt(blob, ttl=max_age))
        except (InvalidToken, ValueError, TypeError):
            data = None
        if not isinstance(data, dict):
            raise OAuthError("The stored login data could not be read; please log in again.")
        return data
