"""API error codes, as sentences a volunteer can act on, and whether to try again later."""

from __future__ import annotations

from .base import WikiError

# API error codes -> (sentence for the volunteer, retry later?). Prefix matches end in "-".
_ERRORS: dict[str, tuple[str, bool]] = {
    "editconflict": ("edit conflict: the page changed after it was read", False),
    "abusefilter-": ("the wiki's abuse filter stopped the edit", False),
    "blocked": ("the account is blocked on this wiki", False),
    "autoblocked": ("the account's address is blocked on this wiki", False),
    "globalblocking-": ("the account or address is globally blocked", False),
    "protectedpage": ("the page is protected", False),
    "cascadeprotected": ("the page is protected (cascading protection)", False),
    "protectednamespace": ("pages in this namespace are protected", False),
    "protectedtitle": ("the title is protected from creation", False),
    "permissiondenied": ("the account lacks the right on this wiki", False),
    "assertnameduserfailed": ("the session is not the volunteer's own account", False),
    "assertuserfailed": ("the session is not logged in", False),
    "mwoauth-invalid-authorization": (
        "the OAuth authorisation was revoked or is invalid; the volunteer must log in again",
        False,
    ),
    "badtoken": ("the wiki rejected the session's token (session expired)", True),
    "maxlag": ("the wiki's databases are lagging; trying again later", True),
    "readonly": ("the wiki is read-only for maintenance; trying again later", True),
    "ratelimited": ("the wiki's rate limit was hit; trying again later", True),
    "internal_api_error_": ("the wiki had an internal error; trying again later", True),
    "undofailure": ("the revision cannot be undone: later edits changed the same text", False),
    "alreadyrolled": ("the latest edit is no longer by that user (already reverted?)", False),
    "onlyauthor": ("that user is the page's only author; rollback is impossible", False),
    "missingtitle": ("the page does not exist", False),
    "nosuchrevid": ("the revision does not exist", False),
    "spamblacklist": ("the spam blacklist stopped the edit", False),
}


def describe(code: str, info: str) -> WikiError:
    """The WikiError for an API error code, with the wiki's own message kept after the reason."""
    for key, (reason, retryable) in _ERRORS.items():
        if code == key or (key.endswith(("-", "_")) and code.startswith(key)):
            return WikiError(code, f"{reason} ({info})" if info else reason, retryable=retryable)
    return WikiError(code, f"the wiki refused: {info or code}")
