"""Word pairs: an index that answers phrase searches without walking every common word.

A phrase such as ``"latobi article"`` is cheap to find only if the index knows which articles
hold the two words side by side. Both full-text indexes know where each word occurs, but for a
phrase with a common word they must read the positions of that word in every article holding
the other one (tens of thousands of articles at a million tickets) before they can say which
articles hold the phrase. Search engines solve this by also indexing each pair of neighbouring
words as one term (Elasticsearch's ``index_phrases``); this module does the same:

* SQLite: an FTS5 table ``article_pairs`` (contentless) whose two columns hold the pairs of an
  article's subject and body, one term each, written ``first<JOIN>second``. SQLite cannot
  compute them itself, so the function ``wikibridge_word_pairs(text)`` is registered on every
  connection
  (:func:`register`) and called by the triggers that keep the table in step (migration 0006).
  The words are the ones FTS5's ``unicode61 remove_diacritics 2`` tokenizer makes of the text,
  learned from that tokenizer itself (:class:`Fts5Words`), so the pairs of an article and of a
  query are written the same way.
* PostgreSQL: the SQL function ``article_word_pairs(tsvector)`` returns the pairs of a tsvector
  (from the positions of its lexemes) as an array of hashes, and a GIN index on
  ``article_word_pairs(article_fts)`` answers ``@>``. The query's pairs come from the same
  function over ``to_tsvector('simple', <phrase>)``: no tokenizer is reimplemented.

The pairs only narrow the search down: every candidate is still checked against the real
full-text query, so an article the pairs let through by mistake is never shown.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

JOIN = "\ue010"  # between the two words of a pair: a private-use character, which FTS5 keeps
_SEPARATOR = "\x00"  # what a separator becomes before splitting; stored text never holds NUL
_ASCII_WORD = re.compile(r"[0-9a-z]+")
_PROBE_MARK = "x"
_PROBE_BATCH = 4096


class Fts5Words:
    """The words of a text exactly as FTS5's ``unicode61 remove_diacritics 2`` tokenizer makes
    them: which characters separate words, and what each character folds to (lower case,
    without diacritics, or nothing for a combining mark).

    Both are a property of each character alone, so they are learned by asking the tokenizer of
    the SQLite library in use, one batch of unknown characters at a time, and kept for the life
    of the process. ASCII text, nearly all mail, takes a regular expression once the probe has
    confirmed that the tokenizer treats ASCII as expected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fold: dict[int, str] = {}  # code point -> folded text, or _SEPARATOR
        self._db: sqlite3.Connection | None = None
        self._learn(chr(c) for c in range(128))
        ascii_fold = {chr(c): self._fold[c] for c in range(128)}
        self._ascii_regex = all(
            fold == (ch.lower() if ch.isascii() and ch.isalnum() else _SEPARATOR)
            for ch, fold in ascii_fold.items()
            if ch != _SEPARATOR
        )

    def words(self, text: str) -> list[str]:
        if self._ascii_regex and text.isascii():
            return _ASCII_WORD.findall(text.lower())
        unknown = {ch for ch in set(text) if ord(ch) not in self._fold}
        if unknown:
            self._learn(unknown)
        folded = text.translate(self._fold)
        return [word for word in folded.split(_SEPARATOR) if word]

    def _learn(self, chars: Iterable[str]) -> None:
        with self._lock:
            todo = sorted({ch for ch in chars if ord(ch) not in self._fold})
            for start in range(0, len(todo), _PROBE_BATCH):
                self._probe(todo[start : start + _PROBE_BATCH])

    def _probe(self, chars: Sequence[str]) -> None:
        """Tokenize "x<c>x" for each character: a separator gives two words "x", a word
        character one word "x<fold>x" (a mark that folds to nothing gives "xx")."""
        db = self._connection()
        text = " ".join(_PROBE_MARK + ch + _PROBE_MARK for ch in chars)
        db.execute("DELETE FROM probe")
        db.execute("INSERT INTO probe(rowid, body) VALUES (1, ?)", (text,))
        terms = [row[0] for row in db.execute("SELECT term FROM probe_words ORDER BY offset")]
        position = 0
        for ch in chars:
            term = terms[position] if position < len(terms) else ""
            if term == _PROBE_MARK:
                self._fold[ord(ch)] = _SEPARATOR
                position += 2
            else:
                self._fold[ord(ch)] = term[1:-1]
                position += 1
        self._fold[ord(_SEPARATOR)] = _SEPARATOR

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.execute(
                "CREATE VIRTUAL TABLE probe USING fts5(body, "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            db.execute("CREATE VIRTUAL TABLE probe_words USING fts5vocab(probe, instance)")
            self._db = db
        return self._db


_words: Fts5Words | None = None
_words_lock = threading.Lock()


def fts5_words(text: str) -> list[str]:
    """The words FTS5 indexes for ``text`` (see :class:`Fts5Words`)."""
    global _words
    if _words is None:
        with _words_lock:
            if _words is None:
                _words = Fts5Words()
    return _words.words(text)


def pairs_of(words: Sequence[str]) -> list[str]:
    """Neighbouring words as pair terms, in order (repeats kept: FTS5 counts them for bm25)."""
    return [f"{first}{JOIN}{second}" for first, second in zip(words, words[1:], strict=False)]


def sqlite_pairs(text: Any) -> str:
    """The pairs of a subject or body, as ``article_pairs`` stores them: separated by spaces."""
    if not isinstance(text, str) or not text:
        return ""
    return " ".join(pairs_of(fts5_words(text)))


def register(dbapi_connection: sqlite3.Connection) -> None:
    """Make ``wikibridge_word_pairs`` available to the triggers of this SQLite connection."""
    dbapi_connection.create_function("wikibridge_word_pairs", 1, sqlite_pairs, deterministic=True)


def fts5_pair_query(phrases: Iterable[Sequence[str]]) -> str:
    """An FTS5 expression on ``article_pairs`` true for articles holding every pair of every
    phrase, each given as its words (:func:`fts5_words`); empty when none has two words."""
    terms = dict.fromkeys(p for words in phrases for p in pairs_of(words))
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)
