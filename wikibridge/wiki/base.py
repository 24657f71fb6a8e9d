"""What the wiki adapters take and give: credentials, errors, pages and revisions.

Plain data, no client library: the checks and actions work with these, and the adapter
modules (one per client library) translate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class BotPassword:
    """A BotPassword: login name ``User@appid`` and its generated password."""

    username: str
    password: str = field(repr=False)

    @property
    def account(self) -> str:
        """The wiki account the BotPassword belongs to."""
        return self.username.split("@", 1)[0]


@dataclass(frozen=True)
class OAuth1Token:
    """A volunteer's OAuth 1.0a access token for the wikibridge consumer."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_secret: str = field(repr=False)


Credentials = BotPassword | OAuth1Token


def same_user(a: str, b: str) -> bool:
    """Whether two spellings name one account: MediaWiki reads "_" as a space and upper-cases
    the first letter."""

    def norm(name: str) -> str:
        name = " ".join(name.replace("_", " ").split())
        return name[:1].upper() + name[1:]

    return norm(a) == norm(b)


class WikiError(Exception):
    """The wiki refused or failed a call. ``reason`` is a sentence for the volunteer; ``code`` the
    API's error code. ``retryable`` says whether the same call may succeed later (lag, a
    read-only wiki, a network failure) as opposed to a refusal (abuse filter, block, rights)."""

    def __init__(self, code: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class Page:
    title: str
    exists: bool
    revid: int = 0  # the latest revision; 0 when the page does not exist
    timestamp: str = ""
    user: str = ""  # who made the latest revision
    text: str = ""
    redirect: bool = False  # a redirect (e.g. left behind by a move), not the page itself


@dataclass(frozen=True)
class Revision:
    revid: int
    parentid: int
    title: str
    user: str
    comment: str
    timestamp: str
    texthidden: bool = False
    commenthidden: bool = False
    userhidden: bool = False

    def hidden(self, part: str) -> bool:
        return {"content": self.texthidden, "comment": self.commenthidden, "user": self.userhidden}[
            part
        ]


@dataclass(frozen=True)
class EditResult:
    revid: int | None  # None: the wiki made no edit (the text was already so)
    previous: int = 0


@dataclass(frozen=True)
class RollbackResult:
    revid: int  # the rollback's own revision
    old_revid: int  # the latest revision before the rollback
    last_revid: int  # the revision restored


class PageReader(Protocol):
    """The read calls the checks make before an action is queued."""

    def page(self, title: str) -> Page: ...

    def user_exists(self, name: str) -> bool: ...

    def revision(self, revid: int) -> Revision | None: ...
