"""Full-text search for volunteers: tickets whose mail and notes match, within their queues.

Everything goes through a :class:`wikibridge.access.Scope`: the queues searched are the
visible ones (or one of them, chosen by the volunteer), so neither a hit nor a count can come
from a queue outside it. A queue filter naming a queue outside the scope gives None (404).

Work is bounded for a database of a million tickets: at most :data:`CANDIDATES` matching
articles, the newest, are ranked, and pages end after :data:`MAX_PAGES`; the page says so when
either bound was reached, so the volunteer adds words or filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Ticket
from wikibridge.store import search as store

from .listing import STATE_FILTERS
from .search_query import QueryError, SearchQuery, parse

PAGE_SIZE = 25
MAX_PAGES = 20  # a hard cap on the offset: 500 tickets
CANDIDATES = 10_000  # matching articles ranked per search, the newest
DEFAULT_STATE = "all"
# The orders results can be shown in; unknown ones fall back to the default.
SORTS = {"relevance": "best match first", "newest": "newest first", "oldest": "oldest first"}
DEFAULT_SORT = "relevance"
MAX_SENDER = 320
NUMBER_LENGTH = 16

__all__ = ["SORTS", "QueryError", "Result", "SearchForm", "SearchPage", "search", "segments"]


@dataclass(frozen=True)
class SearchForm:
    """What the volunteer asked for. Unknown states fall back to every state."""

    text: str = ""
    queue_id: int | None = None
    state: str = DEFAULT_STATE
    since: date | None = None  # messages from this day on (UTC)
    until: date | None = None  # messages up to and including this day (UTC)
    sender: str = ""  # an address, or @domain
    sort: str = DEFAULT_SORT
    page: int = 1


@dataclass(frozen=True)
class Result:
    ticket: Ticket
    queue_name: str
    snippet: list[tuple[str, bool]]  # pieces of text, True where a match is highlighted


@dataclass(frozen=True)
class SearchPage:
    form: SearchForm
    results: list[Result] = field(default_factory=list)
    total: int = 0  # matching tickets (among the ranked candidates)
    page: int = 1
    page_size: int = PAGE_SIZE
    capped: bool = False  # more articles matched than were ranked
    exact: Ticket | None = None  # the ticket whose number was typed, if visible

    @property
    def pages(self) -> int:
        return min(MAX_PAGES, max(1, -(-self.total // self.page_size)))

    @property
    def beyond_last_page(self) -> bool:
        return self.total > MAX_PAGES * self.page_size

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.results else 0


def segments(snippet: str) -> list[tuple[str, bool]]:
    """Split a snippet at the highlight marks: [(text, highlighted), ...]. Stray marks in the
    mail itself can only move a highlight, never break the page: each piece is plain text."""
    pieces: list[tuple[str, bool]] = []
    marked = False
    current: list[str] = []
    for ch in snippet:
        if ch in (store.MARK_START, store.MARK_END):
            if current:
                pieces.append(("".join(current), marked))
                current = []
            marked = ch == store.MARK_START
        else:
            current.append(ch)
    if current:
        pieces.append(("".join(current), marked))
    return pieces


def _filters(scope: Scope, form: SearchForm) -> store.Filters:
    if form.since and form.until and form.since > form.until:
        raise QueryError("The start date is after the end date.")
    sender = form.sender.strip().lower()
    if len(sender) > MAX_SENDER or any(ch.isspace() for ch in sender):
        raise QueryError("The sender is an e-mail address or @domain, without spaces.")
    queue_ids = scope.queue_ids if form.queue_id is None else [form.queue_id]
    state = form.state if form.state in STATE_FILTERS else DEFAULT_STATE
    return store.Filters(
        queue_ids=queue_ids,
        states=STATE_FILTERS[state],
        since=_midnight(form.since) if form.since else None,
        before=_midnight(form.until + timedelta(days=1)) if form.until else None,
        sender=sender,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def search(
    session: Session, scope: Scope, form: SearchForm, page_size: int = PAGE_SIZE
) -> SearchPage | None:
    """One page of results. None when the form names a queue outside the scope; QueryError
    (with a message for the volunteer) when the text or a filter cannot be searched."""
    if form.queue_id is not None and not scope.can_see(form.queue_id):
        return None
    query = parse(form.text)
    filters = _filters(scope, form)
    page = min(max(form.page, 1), MAX_PAGES)
    fts5, websearch = query.fts5(), query.websearch()
    found = store.search(
        session,
        fts5=fts5,
        websearch=websearch,
        filters=filters,
        limit=page_size,
        offset=(page - 1) * page_size,
        candidates=CANDIDATES,
        order=form.sort if form.sort in SORTS else DEFAULT_SORT,
        alternatives=alternatives(query),
    )
    texts = store.snippets(
        session, fts5=fts5, websearch=websearch, article_ids=[h.article_id for h in found.hits]
    )
    names = {q.id: q.name for q in access.visible_queues(session, scope)}
    results = [
        Result(
            hit.ticket, names.get(hit.ticket.queue_id, ""), segments(texts.get(hit.article_id, ""))
        )
        for hit in found.hits
    ]
    return SearchPage(
        form=form,
        results=results,
        total=found.total,
        page=page,
        page_size=page_size,
        capped=found.candidates_capped,
        exact=_exact(session, scope, form.text),
    )


def alternatives(query: SearchQuery) -> list[store.Alternative]:
    """The query's alternatives as the word-pair index reads them."""
    return [
        store.Alternative(tuple(t.text for t in g.include), bool(g.exclude)) for g in query.groups
    ]


def _exact(session: Session, scope: Scope, text: str) -> Ticket | None:
    number = text.strip()
    if len(number) != NUMBER_LENGTH or not number.isdigit():
        return None
    return access.ticket(session, scope, number)
