"""Full-text search over articles, answered as tickets. SQLite: FTS5 (bm25, snippet());
PostgreSQL: the ``articles.article_fts`` tsvector (ts_rank, ts_headline). Migration 0002
builds both indexes. Callers pass the queues the volunteer may see (from
:mod:`wikibridge.access`); nothing here decides who sees what.

One search is two statements (three for a phrase on PostgreSQL, which first asks for the
phrase's word pairs, see below):

1. The ranked page. The newest ``candidates`` matching articles in the given queues (and
   filters) are taken, newest first, which the full-text index answers without ranking every
   match of a common word; each is scored, each ticket keeps its best article, and the tickets
   are ordered by that score, then newest first, then by id. The window ``count(*) OVER ()``
   gives the number of matching tickets in the same statement.
2. Snippets with highlight marks, for the page's articles only.

Phrases go through the word-pair index (:mod:`.word_pairs`, migration 0006): the full-text
index alone would read the positions of a common word of the phrase in every article holding
it. On PostgreSQL, a search whose every alternative holds a phrase is narrowed down to the
articles holding the phrases' pairs, each checked against the full query and ranked as any
search. On SQLite, a search made only of two-word phrases is answered by the pair index alone,
where a pair is the phrase, and ranked by its bm25 (FTS5's bm25 of a phrase would walk the
whole index once more to count the articles holding it); other searches use article_fts.

Pages are an offset into that order, bounded by the caller. Keyset pagination does not help
here: the order is a score computed per query over every candidate, so the database does the
same work for page 1 and page 20, and a cursor of scores would break whenever a new mail
changes them. The candidate bound is what caps the work.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from wikibridge.models import Article, Ticket

from . import word_pairs
from .dialect import is_postgres

# Marks around highlighted words in a snippet: private-use characters, which mail rarely holds.
MARK_START = "\ue000"
MARK_END = "\ue001"
SNIPPET_TOKENS = 24  # SQLite: words in a snippet
HEADLINE_CHARS = 100_000  # PostgreSQL: ts_headline reads at most this much of a body
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# Column weights for bm25 on SQLite (subject, body); PostgreSQL weighs them A and B.
BM25_WEIGHTS = (2.0, 1.0)

_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
_FTS = table("article_fts", column("rowid"))
_PAIRS = table("article_pairs", column("rowid"))
_PAIRS_MATCH_COLUMN: ColumnElement[Any] = literal_column("article_pairs")
# FTS5 names the table itself on the left of MATCH and as the first argument of bm25/snippet.
_FTS_MATCH_COLUMN: ColumnElement[Any] = literal_column("article_fts")
_PG_VECTOR: ColumnElement[Any] = literal_column("articles.article_fts")


@dataclass(frozen=True)
class Filters:
    queue_ids: Collection[int]
    states: Collection[str] | None = None  # None: every state
    since: datetime | None = None  # articles created at or after
    before: datetime | None = None  # articles created before
    sender: str = ""  # an address, or "@domain"; lower case


@dataclass(frozen=True)
class Hit:
    ticket: Ticket
    article_id: int  # the ticket's best matching article
    score: float  # higher is better


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    total: int  # matching tickets among the candidates (0 when the page is past the end)
    candidates_capped: bool  # more articles matched than were ranked


def _filters(stmt: Select[Any], filters: Filters) -> Select[Any]:
    stmt = stmt.where(Ticket.queue_id.in_(list(filters.queue_ids)), Ticket.removed_at.is_(None))
    if filters.states is not None:
        stmt = stmt.where(Ticket.state.in_(list(filters.states)))
    if filters.since is not None:
        stmt = stmt.where(Article.created_at >= filters.since)
    if filters.before is not None:
        stmt = stmt.where(Article.created_at < filters.before)
    if filters.sender.startswith("@"):
        stmt = stmt.where(Article.sender_address.endswith(filters.sender, autoescape=True))
    elif filters.sender:
        stmt = stmt.where(Article.sender_address == filters.sender)
    return stmt


def _pg_query(websearch: str) -> ColumnElement[object]:
    return func.websearch_to_tsquery(_SIMPLE, bindparam("websearch", websearch))


@dataclass(frozen=True)
class Alternative:
    """One alternative of a query (terms joined by ``or``), for the word-pair index: the texts
    of the terms it requires, and whether it also excludes some."""

    terms: tuple[str, ...]
    excludes: bool = False


# The pairs of each phrase as PostgreSQL's own parser makes them (hashed, as in the index).
_PG_TERM_PAIRS = text(
    "SELECT t, article_word_pairs(to_tsvector('simple'::regconfig, t)) "
    "FROM unnest(CAST(:texts AS text[])) AS t"
)


def _pg_pairs(session: Session, alternatives: Sequence[Alternative]) -> ColumnElement[bool] | None:
    """Articles holding the word pairs of each alternative's phrases (None: an alternative
    without a phrase, which the pairs cannot narrow down). The full query checks the rest.

    The pairs are asked of the database first: a term of several words for FTS5 may be one
    lexeme for PostgreSQL ("192.168.0.1", "3.14"), and an empty array would match every
    article, through the whole index."""
    texts = sorted({t for a in alternatives for t in a.terms if len(word_pairs.fts5_words(t)) > 1})
    if not texts:
        return None
    pairs = {str(t): list(p or ()) for t, p in session.execute(_PG_TERM_PAIRS, {"texts": texts})}
    held_any = []
    for n, alternative in enumerate(alternatives):
        held = [
            func.article_word_pairs(_PG_VECTOR).op("@>")(
                # Written into the statement (integers from the database): as a parameter of
                # a prepared statement the planner would soon plan without it, generically.
                bindparam(f"pairs_{n}_{i}", pairs[t], type_=ARRAY(Integer), literal_execute=True)
            )
            for i, t in enumerate(alternative.terms)
            if pairs.get(t)
        ]
        if not held:
            return None
        held_any.append(and_(*held))
    return or_(*held_any)


def _sqlite_pairs(alternatives: Sequence[Alternative]) -> str:
    """The FTS5 expression on article_pairs that is true exactly where the query is: when
    every alternative requires only phrases of two words and excludes nothing ("" otherwise).

    A pair term is then the phrase itself. Anything more would need each candidate checked
    against article_fts, and FTS5 answers that one article at a time, at about 0.2 ms each:
    slower than the full-text query alone."""
    expressions = []
    for alternative in alternatives:
        phrases = [word_pairs.fts5_words(text) for text in alternative.terms]
        if alternative.excludes or not phrases or any(len(words) != 2 for words in phrases):
            return ""
        expressions.append(f"({word_pairs.fts5_pair_query(phrases)})")
    return " OR ".join(expressions)


def _candidates(
    session: Session,
    fts5: str,
    websearch: str,
    filters: Filters,
    limit: int,
    alternatives: Sequence[Alternative],
) -> FromClause:
    """The newest matching articles: (article_id, ticket_id, score)."""
    if is_postgres(session):
        query = _pg_query(websearch)
        matches: ColumnElement[Any] = _PG_VECTOR.op("@@")(query)
        pairs = _pg_pairs(session, alternatives)
        if pairs is not None:
            # Checked on the rows the pair index gives, not looked up: as an index condition
            # the phrase would read the common word's whole posting list, and a recheck of
            # the bitmap would compute the pairs of every row again.
            matches = and_(pairs, matches.is_(True))
        stmt = select(
            Article.id.label("article_id"),
            Article.ticket_id.label("ticket_id"),
            func.ts_rank(_PG_VECTOR, query, 1).label("score"),
        ).where(matches)
        newest: ColumnElement[Any] = Article.__table__.c.id
    elif pair_query := _sqlite_pairs(alternatives):
        stmt = (
            select(
                Article.id.label("article_id"),
                Article.ticket_id.label("ticket_id"),
                (-func.bm25(_PAIRS_MATCH_COLUMN, *BM25_WEIGHTS)).label("score"),
            )
            .select_from(_PAIRS)
            .join(Article, Article.id == _PAIRS.c.rowid)
            .where(_PAIRS_MATCH_COLUMN.op("MATCH")(bindparam("pairs", pair_query)))
        )
        newest = _PAIRS.c.rowid
    else:
        stmt = (
            select(
                Article.id.label("article_id"),
                Article.ticket_id.label("ticket_id"),
                (-func.bm25(_FTS_MATCH_COLUMN, *BM25_WEIGHTS)).label("score"),
            )
            .select_from(_FTS)
            .join(Article, Article.id == _FTS.c.rowid)
            .where(_FTS_MATCH_COLUMN.op("MATCH")(bindparam("fts5", fts5)))
        )
        newest = _FTS.c.rowid  # the same as the article id; FTS5 walks its index backwards
    stmt = stmt.join(Ticket, Ticket.id == Article.ticket_id)
    stmt = _filters(stmt, filters).order_by(newest.desc()).limit(limit)
    return stmt.subquery("candidates")


ORDERS = ("relevance", "newest", "oldest")


def _order(order: str, score: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    if order == "newest":
        return (Ticket.created_at.desc(), Ticket.id.desc())
    if order == "oldest":
        return (Ticket.created_at.asc(), Ticket.id.asc())
    return (score.desc(), Ticket.created_at.desc(), Ticket.id.desc())


def search(
    session: Session,
    *,
    fts5: str,
    websearch: str,
    filters: Filters,
    limit: int,
    offset: int,
    candidates: int,
    order: str = "relevance",
    alternatives: Sequence[Alternative] = (),
) -> Found:
    """One page of tickets whose articles match, in one of ORDERS (best first unless told
    otherwise; an unknown order is the default). `fts5` and `websearch` are the same query
    written for each database (see :mod:`wikibridge.tickets.search_query`); `alternatives`
    describe its terms for the word-pair index (none: the index is not used)."""
    if not filters.queue_ids:
        return Found([], 0, False)
    found = _candidates(session, fts5, websearch, filters, candidates, alternatives)
    best = select(
        found.c.ticket_id,
        found.c.article_id,
        found.c.score,
        func.row_number()
        .over(
            partition_by=found.c.ticket_id,
            order_by=(found.c.score.desc(), found.c.article_id.desc()),
        )
        .label("nth"),
        func.count().over().label("articles"),
    ).subquery("best")
    stmt = (
        select(Ticket, best.c.article_id, best.c.score, func.count().over(), best.c.articles)
        .join(best, best.c.ticket_id == Ticket.id)
        .where(best.c.nth == 1)
        .order_by(*_order(order, best.c.score))
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return Found([], 0, False)
    hits = [Hit(row[0], int(row[1]), float(row[2] or 0.0)) for row in rows]
    return Found(hits, int(rows[0][3]), int(rows[0][4]) >= candidates)


def snippets(
    session: Session, *, fts5: str, websearch: str, article_ids: Sequence[int]
) -> dict[int, str]:
    """Article id -> a short passage around the matches, the matches between MARK_START and
    MARK_END. The text is the mail's, unescaped: the caller escapes it."""
    if not article_ids:
        return {}
    ids = list(article_ids)
    if is_postgres(session):
        text = Article.subject + " · " + func.left(Article.body_text, HEADLINE_CHARS)
        stmt = select(
            Article.id, func.ts_headline(_SIMPLE, text, _pg_query(websearch), HEADLINE_OPTIONS)
        ).where(Article.id.in_(ids))
    else:
        stmt = (
            select(
                _FTS.c.rowid,
                func.snippet(_FTS_MATCH_COLUMN, -1, MARK_START, MARK_END, "…", SNIPPET_TOKENS),
            )
            .select_from(_FTS)
            .where(_FTS_MATCH_COLUMN.op("MATCH")(bindparam("fts5", fts5)), _FTS.c.rowid.in_(ids))
        )
    return {int(row[0]): str(row[1] or "") for row in session.execute(stmt)}
