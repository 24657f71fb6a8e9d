"""The words of the core shown on pages (states, orders, levels, ...), in the page's language.

The core keeps its plain English values (they are stored and sent in forms); pages show them
through these tables, and a value missing here is shown as it is.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STATES = {
    "new": _l("new"),
    "open": _l("open"),
    "pending reminder": _l("pending reminder"),
    "pending auto close+": _l("pending auto close+"),
    "pending auto close-": _l("pending auto close-"),
    "closed successful": _l("closed successful"),
    "closed unsuccessful": _l("closed unsuccessful"),
    "merged": _l("merged"),
    # The queue page's filters and the dashboard's columns.
    "pending": _l("pending"),
    "closed": _l("closed"),
    "all": _l("all"),
}
QUEUE_SORTS = {
    "updated": _l("recently changed first"),
    "waiting": _l("longest waiting first"),
    "newest": _l("newest first"),
    "oldest": _l("oldest first"),
}
SEARCH_SORTS = {
    "relevance": _l("best match first"),
    "newest": _l("newest first"),
    "oldest": _l("oldest first"),
}
LINK_KINDS = {"related": _l("related ticket"), "parent": _l("parent"), "child": _l("child")}
GRANULARITIES = {"day": _l("day"), "week": _l("week"), "month": _l("month")}
LEVELS = {"ro": _l("read only"), "rw": _l("read and write"), "admin": _l("queue admin")}
STATUSES = {
    "approved": _l("approved"),
    "waiting": _l("waiting"),
    "deactivated": _l("deactivated"),
}
FIELDS = {
    "recipient": _l(
        "a recipient address (Delivered-To, X-Original-To, To, Cc); the whole address"
    ),
    "sender": _l("the sender's address"),
    "header": _l("a header, named below"),
    "subject": _l("the subject"),
    "body": _l("the text of the message"),
    "language": _l("the declared or detected language code; the whole code"),
}
VARIABLES = {
    "ticket": _l("the ticket number, such as 2022031410007974"),
    "requester": _l("the requester's e-mail address"),
    "queue": _l("the full name of the ticket's queue"),
    "volunteer": _l("the username of the volunteer who writes the reply"),
}


def translated(words: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    """`words` (a core table of key -> English text) with each text in the page's language."""
    return {key: labels.get(key, text) for key, text in words.items()}


def template_globals() -> dict[str, Any]:
    return {
        "state_names": STATES,
        "link_kind_names": LINK_KINDS,
        "granularity_names": GRANULARITIES,
        "level_label": LEVELS,
        "status_names": STATUSES,
        "queue_sort_names": QUEUE_SORTS,
    }
