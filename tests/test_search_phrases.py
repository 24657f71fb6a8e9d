"""Phrase searches through the word-pair index (migration 0006), on SQLite and PostgreSQL.

The pairs only narrow a search down; these tests hold it to finding exactly what the full-text
index alone finds, and to following every change of an article.
"""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from wikibridge.models import Queue
from wikibridge.store import search as store
from wikibridge.store import word_pairs
from wikibridge.store.dialect import is_postgres
from wikibridge.tickets.search import alternatives
from wikibridge.tickets.search_query import parse

from .test_search import mail, new_ticket, numbers, run, scope_of
from .webapp import helpers

# Words with and without diacritics, in several scripts, and separators FTS5 and PostgreSQL
# treat differently: what the pairs of an article and of a query must agree on.
VOCABULARY = (
    "article", "photo", "licence", "Lizenz", "Löschung", "loschung", "café", "CAFE", "naïve",
    "Ελλάδα", "Москва", "東京", "foo-bar", "e-mail", "3.14", "o'brien", "ab_cd", "ǅemal",
)  # fmt: skip
SEPARATORS = (" ", "  ", ", ", ". ", "\n", " - ", " — ", "\t", " (", ") ", "/", " ' ")


@pytest.fixture
def info(session: Session) -> Queue:
    return helpers.queue(session, "info-en")


def _found(session: Session, queue: Queue, query: str, *, pairs: bool) -> set[int]:
    parsed = parse(query)
    found = store.search(
        session,
        fts5=parsed.fts5(),
        websearch=parsed.websearch(),
        filters=store.Filters(queue_ids=[queue.id]),
        limit=1000,
        offset=0,
        candidates=10_000,
        alternatives=alternatives(parsed) if pairs else (),
    )
    return {hit.ticket.id for hit in found.hits}


def test_a_phrase_with_pairs_finds_what_the_full_text_index_finds(
    session: Session, info: Queue
) -> None:
    rng = random.Random(7)
    for _ in range(120):
        words = rng.choices(VOCABULARY, k=rng.randint(2, 12))
        body = words[0] + "".join(rng.choice(SEPARATORS) + w for w in words[1:])
        new_ticket(session, info, body, subject=" ".join(rng.choices(VOCABULARY, k=2)))
    session.commit()
    checked = 0
    for _ in range(60):
        phrase = " ".join(rng.choices(VOCABULARY, k=rng.randint(2, 3)))
        for query in (f'"{phrase}"', f'"{phrase}" or "{rng.choice(VOCABULARY)} article"'):
            expected = _found(session, info, query, pairs=False)
            assert _found(session, info, query, pairs=True) == expected, query
            checked += bool(expected)
    assert checked > 10  # the phrases were found, not only missed alike


def test_a_phrase_is_ranked_and_a_mixed_query_still_needs_every_word(
    session: Session, info: Queue
) -> None:
    twice = new_ticket(session, info, "The signed release. The signed release again, signed.")
    once = new_ticket(session, info, "A signed release for the photo of the harbour.")
    new_ticket(session, info, "Signed, and a release: not the phrase.")
    scope = scope_of(session, info)
    assert numbers(run(session, scope, '"signed release"')) == [twice.number, once.number]
    assert numbers(run(session, scope, '"signed release" harbour')) == [once.number]
    assert numbers(run(session, scope, '"signed release" -harbour')) == [twice.number]


def test_a_phrase_in_the_subject_weighs_more(session: Session, info: Queue) -> None:
    body = new_ticket(session, info, "About the signed release of the photo.", subject="Photo")
    subject = new_ticket(session, info, "About the photo.", subject="Signed release")
    scope = scope_of(session, info)
    assert numbers(run(session, scope, '"signed release"')) == [subject.number, body.number]


def test_the_pairs_follow_inserts_updates_and_deletes(session: Session, info: Queue) -> None:
    t = new_ticket(session, info, "A question about a lighthouse.")
    scope = scope_of(session, info)
    later = mail(session, t, "The red windmill is on the wrong page.")
    session.commit()
    assert numbers(run(session, scope, '"red windmill"')) == [t.number]
    later.body_text = "The blue watermill is on the wrong page."
    session.commit()
    assert run(session, scope, '"red windmill"').total == 0
    assert numbers(run(session, scope, '"blue watermill"')) == [t.number]
    later.subject = "Old mill pictures"
    session.commit()
    assert numbers(run(session, scope, '"mill pictures"')) == [t.number]
    session.delete(later)
    session.commit()
    assert run(session, scope, '"blue watermill"').total == 0
    assert run(session, scope, '"mill pictures"').total == 0
    assert run(session, scope, '"a lighthouse"').total == 1
    if not is_postgres(session):  # nothing of the deleted article is left in the index
        left = session.execute(
            text("SELECT count(*) FROM article_pairs WHERE article_pairs MATCH :q"),
            {"q": word_pairs.fts5_pair_query([word_pairs.fts5_words("blue watermill")])},
        ).scalar_one()
        assert left == 0


_PROBE = sqlite3.connect(":memory:", check_same_thread=False)
_PROBE.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
_PROBE.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")


def _fts5_terms(value: str) -> list[str]:
    _PROBE.execute("DELETE FROM t")
    _PROBE.execute("INSERT INTO t(rowid, x) VALUES (1, ?)", (value,))
    return [row[0] for row in _PROBE.execute("SELECT term FROM v ORDER BY offset")]


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40))
def test_the_words_are_those_fts5_indexes(value: str) -> None:
    assert word_pairs.fts5_words(value) == _fts5_terms(value)


def test_a_term_postgresql_reads_as_one_word_does_not_scan_the_pair_index(
    session: Session, info: Queue
) -> None:
    """ "192.168.0.1" is four words for FTS5 but one lexeme for PostgreSQL: no pair to look up,
    and an empty array of pairs would match every article through the whole index."""
    hit = new_ticket(session, info, "The server 192.168.0.1 is down; see the article.")
    scope = scope_of(session, info)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert numbers(run(session, scope, '"192.168.0.1"')) == [hit.number]
        assert numbers(run(session, scope, '"192.168.0.1" "the article"')) == [hit.number]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    uses_pairs = [s for s in statements if "article_word_pairs(articles.article_fts) @>" in s]
    if is_postgres(session):
        assert len(uses_pairs) == 1  # only the search that has a real pair ("the article")
    else:
        assert not uses_pairs
