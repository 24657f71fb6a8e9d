"""Edit summaries and talk-page notices citing a ticket.

Mail is confidential: what the wiki shows is built from the ticket number and fixed text only.
The builders take a :class:`Purpose` or :class:`Notice` (fixed strings), a validated ticket
number, a policy link from the configuration and, for notices, a page title checked to be a
plain title. There is no parameter through which text of an e-mail could reach the wiki.
"""

from __future__ import annotations

import re
from enum import Enum

from wikibridge.config import WikiSettings
from wikibridge.tickets.numbers import is_valid

from . import sites

# A link to one page, nothing else: no templates, pipes, markup or line breaks.
_POLICY_LINK = re.compile(r"\[\[[^\[\]{}|<>\n]{1,200}\]\]")
# A page title as a volunteer picks it from the wiki; characters MediaWiki forbids in titles
# are refused, which also keeps out markup.
_TITLE = re.compile(r"[^\[\]{}|<>#\n\r\t]{1,255}")


class Purpose(Enum):
    """Why an action is taken: the fixed opening of its edit summary."""

    REVERT = "Reverting edits"
    UNSOURCED = "Removing unsourced claims"
    PERSONAL_DATA = "Removing personal information"
    COPYRIGHT = "Removing a copyright violation"
    PERMISSION_CONFIRMED = "Permission confirmed"
    PERMISSION_RECEIVED = "Permission received, not sufficient yet"
    HIDE_PERSONAL_DATA = "Hiding personal information"
    HIDE_COPYRIGHT = "Hiding a copyright violation"
    NOTICE = "Notice"


# The purposes an action of each kind may give; the first is the default.
KIND_PURPOSES: dict[str, tuple[Purpose, ...]] = {
    "revert": (Purpose.REVERT, Purpose.UNSOURCED, Purpose.PERSONAL_DATA, Purpose.COPYRIGHT),
    "permission": (Purpose.PERMISSION_CONFIRMED,),
    "permission_received": (Purpose.PERMISSION_RECEIVED,),
    "hide": (Purpose.HIDE_PERSONAL_DATA, Purpose.HIDE_COPYRIGHT),
    "notice": (Purpose.NOTICE,),
}


class Notice(Enum):
    """Talk-page messages: (section title, text). {about} is a page, {ticket} the citation."""

    PERMISSION_CONFIRMED = (
        "Permission for [[:{about}]]",
        "Hello. The permission for [[:{about}]] has been received and confirmed by the "
        "Volunteer Response Team ({ticket}). Thank you.",
    )
    PERMISSION_RECEIVED = (
        "Permission for [[:{about}]]",
        "Hello. The Volunteer Response Team has received an e-mail about [[:{about}]] "
        "({ticket}), but the permission is not sufficient yet. Please look for our reply "
        "in your mailbox.",
    )
    NO_PERMISSION = (
        "Permission missing for [[:{about}]]",
        "Hello. No permission for [[:{about}]] has reached the Volunteer Response Team "
        "({ticket}). Unless it is sent, the file may be deleted.",
    )
    MAIL_ANSWERED = (
        "Your e-mail to the Volunteer Response Team",
        "Hello. Your e-mail to the Volunteer Response Team has been answered ({ticket}). "
        "Please look for our reply in your mailbox.",
    )

    @property
    def needs_page(self) -> bool:
        return "{about}" in self.value[1]


def ticket_link(number: str) -> str:
    """``[[ticket:N]]`` for a valid ticket number; anything else raises ValueError."""
    if not is_valid(number):
        raise ValueError(f"{number!r} is not a valid ticket number")
    return f"[[ticket:{number}]]"


def policy_link(settings: WikiSettings, wiki: str) -> str:
    """The policy page cited on this wiki: configured, else known for its host, else default."""
    try:
        wiki_host = sites.host(wiki)
    except sites.UnknownWiki:
        wiki_host = ""
    for entry in settings.policy_links:
        key, sep, link = entry.partition("=")
        if sep and key.strip() in (wiki, wiki_host):
            return checked_policy_link(link.strip())
    return checked_policy_link(
        sites.KNOWN_POLICY_LINKS.get(wiki_host, settings.default_policy_link)
    )


def checked_policy_link(link: str) -> str:
    if not _POLICY_LINK.fullmatch(link):
        raise ValueError(f"a policy link must be one plain wikilink like [[WP:VRT]], not {link!r}")
    return link


def checked_title(title: str) -> str:
    """A page title with no markup (MediaWiki forbids these characters in titles anyway)."""
    title = title.strip()
    if not _TITLE.fullmatch(title):
        raise ValueError(f"{title!r} is not a plain page title")
    return title


def summary(purpose: Purpose, number: str, link: str) -> str:
    """E.g. ``Removing unsourced claims per [[ticket:2016060210016939]] ([[WP:VRT]])``."""
    return f"{purpose.value} per {ticket_link(number)} ({checked_policy_link(link)})"


def notice(kind: Notice, number: str, link: str, about: str = "") -> tuple[str, str]:
    """The section title and signed text of a talk-page notice."""
    title, text = kind.value
    if kind.needs_page:
        about = checked_title(about)
    cite = f"{ticket_link(number)}, {checked_policy_link(link)}"
    return (
        title.format(about=about),
        text.format(about=about, ticket=cite) + " ~~~~",
    )
