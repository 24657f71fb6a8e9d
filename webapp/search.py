"""The search page: full-text search in the volunteer's queues, with filters and pages.

Reached from the search box in every page's header. A queue filter outside the volunteer's
queues is 404, like the queue's own page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, g, render_template, request, url_for

from wikibridge import access
from wikibridge.tickets.listing import STATE_FILTERS
from wikibridge.tickets.search import (
    DEFAULT_SORT,
    DEFAULT_STATE,
    SORTS,
    QueryError,
    SearchForm,
    search,
)

from . import labels
from .database import db
from .query_args import date_arg, queue_id_arg

bp = Blueprint("search", __name__)
# The query string of a search, without the page: kept by the pager links.
FIELDS = ("q", "queue", "state", "from", "to", "sender", "sort")


class FormError(ValueError):
    pass


def _day(name: str) -> date | None:
    return date_arg(name, FormError)


def _page() -> int:
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and len(text) < 6 else 1


def _form() -> SearchForm:
    """The form as sent; raises FormError for a date that is not one."""
    state = request.args.get("state", DEFAULT_STATE)
    sort = request.args.get("sort", DEFAULT_SORT)
    return SearchForm(
        text=request.args.get("q", ""),
        queue_id=queue_id_arg(),
        state=state if state in STATE_FILTERS else DEFAULT_STATE,
        since=_day("from"),
        until=_day("to"),
        sender=request.args.get("sender", ""),
        sort=sort if sort in SORTS else DEFAULT_SORT,
        page=_page(),
    )


def _pager() -> Callable[[int], str]:
    kept: dict[str, Any] = {k: v for k in FIELDS if (v := request.args.get(k, ""))}

    def page_url(number: int) -> str:
        return url_for("search.index", **kept, page=number)

    return page_url


@bp.get("/search")
def index() -> Any:
    session = db()
    message = ""
    result = None
    try:
        form = _form()
    except FormError as error:
        form = SearchForm(text=request.args.get("q", ""), queue_id=queue_id_arg())
        message = str(error)
    if form.queue_id is not None and not g.scope.can_see(form.queue_id):
        abort(404)
    if "q" in request.args and not message:
        try:
            result = search(session, g.scope, form)
        except QueryError as error:
            message = str(error)
    return render_template(
        "search/index.html",
        form=form,
        raw=request.args,
        result=result,
        message=message,
        queues=access.visible_queues(session, g.scope),
        states=list(STATE_FILTERS),
        sorts=labels.translated(SORTS, labels.SEARCH_SORTS),
        page_url=_pager(),
    )
