"""Query-string values shared by the pages that filter (search, statistics)."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_babel import gettext as _


def date_arg(name: str, error: type[Exception]) -> date | None:
    """An ISO date from the query string; None when empty; `error` with a clear text if bad."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise error(_("Write dates as YYYY-MM-DD.")) from None


def queue_id_arg() -> int | None:
    """The `queue` filter; a value that cannot be a queue id is a 404 like any unseen queue."""
    text = request.args.get("queue", "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        abort(404)
    return int(text)
