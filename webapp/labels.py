"""The words of the core shown on pages (states, orders, levels, ...), in the page's language.

The core keeps its plain English values (they are stored and sent in forms); pages show them
through these tables, and a value missing here is shown as it is.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from wikibridge.tickets.guards import OperationRefused

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
    "recipient": _l("a recipient address (Delivered-To, X-Original-To, To, Cc); the whole address"),
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
# On-wiki actions: kinds, states and the fixed choices of their forms (see wikibridge.wiki).
WIKI_ACTION_KINDS = {
    "revert": _l("revert"),
    "permission": _l("permission confirmed"),
    "permission_received": _l("permission received"),
    "hide": _l("hide a revision"),
    "notice": _l("talk-page notice"),
}
WIKI_ACTION_STATES = {
    "queued": _l("queued"),
    "done": _l("done"),
    "failed": _l("failed"),
    "refused": _l("refused"),
}
# The purpose opens the edit summary (the summary itself stays in English on the wiki).
WIKI_PURPOSES = {
    "revert": _l("Reverting edits"),
    "unsourced": _l("Removing unsourced claims"),
    "personal_data": _l("Removing personal information"),
    "copyright": _l("Removing a copyright violation"),
    "permission_confirmed": _l("Permission confirmed"),
    "permission_received": _l("Permission received, not sufficient yet"),
    "hide_personal_data": _l("Hiding personal information"),
    "hide_copyright": _l("Hiding a copyright violation"),
    "notice": _l("Notice"),
}
WIKI_NOTICES = {
    "permission_confirmed": _l("Permission for a file confirmed"),
    "permission_received": _l("Permission for a file received, not sufficient yet"),
    "no_permission": _l("No permission for a file received"),
    "mail_answered": _l("Your e-mail has been answered"),
}
WIKI_HIDE_PARTS = {
    "content": _l("the text"),
    "comment": _l("the edit summary"),
    "user": _l("the user name"),
}
WIKI_RECEIVED_REASONS = {
    "": _l("(no reason given)"),
    "insufficient": _l("insufficient"),
    "unclear licence": _l("unclear licence"),
    "not from the copyright holder": _l("not from the copyright holder"),
}

# The titles of error pages (werkzeug's names are English).
HTTP_ERRORS = {
    400: _l("Bad Request"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    413: _l("Request Entity Too Large"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    502: _l("Bad Gateway"),
    503: _l("Service Unavailable"),
}

# Why a request was refused, as the CSRF check (Flask-WTF) says it in English.
ERROR_TEXTS = {
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
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
        "error_texts": ERROR_TEXTS,
        "wiki_kind_names": WIKI_ACTION_KINDS,
        "wiki_state_names": WIKI_ACTION_STATES,
        "wiki_purpose_names": WIKI_PURPOSES,
        "wiki_notice_names": WIKI_NOTICES,
        "wiki_part_names": WIKI_HIDE_PARTS,
        "wiki_reason_names": WIKI_RECEIVED_REASONS,
    }


def refusal(error: OperationRefused) -> str:
    """Why the core refused, in the page's language: its English template looked up in the
    catalogue, then filled with its values (a text the catalogue lacks stays as it is)."""
    return gettext(error.template, **error.params)
