"""Who logged in: the claims of the identify JWT (1.0a) or the profile (2.0), checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidIdentity


@dataclass(frozen=True)
class Identity:
    # The wiki's central user id: stable across renames, so volunteers are keyed by it.
    central_id: int
    username: str
    blocked: bool
    editcount: int = 0
    confirmed_email: bool = False
    registered: str = ""
    groups: tuple[str, ...] = ()
    rights: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Identity:
        """Read the user statement the wiki makes (same fields in the JWT and the profile)."""
        central_id = _central_id(claims.get("sub"))
        username = claims.get("username")
        # A hidden (suppressed) user comes without a name and as blocked: never a login.
        hidden = not isinstance(username, str) or not username
        return cls(
            central_id=central_id,
            username=username if isinstance(username, str) else "",
            blocked=hidden or claims.get("blocked") is not False,
            editcount=_int(claims.get("editcount")),
            confirmed_email=claims.get("confirmed_email") is True,
            registered=str(claims.get("registered") or ""),
            groups=_strings(claims.get("groups")),
            rights=_strings(claims.get("rights")),
            grants=_strings(claims.get("grants")),
        )


def _central_id(value: Any) -> int:
    # MediaWiki sends `sub` as a JSON number; accept its decimal string form too.
    if isinstance(value, bool):
        raise InvalidIdentity("The wiki did not say which account logged in.")
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    raise InvalidIdentity("The wiki did not say which account logged in.")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(v for v in value if isinstance(v, str))
