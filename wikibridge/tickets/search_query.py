"""What a volunteer types into the search box, parsed once and written out for each database.

The syntax is the one of web search engines (and of PostgreSQL's websearch_to_tsquery): words
must all occur, ``"several words"`` is a phrase, ``or`` between words gives alternatives and
``-word`` excludes. Nothing else is special: ``*``, ``(``, ``NEAR``, ``AND``, ``:`` or quotes in
odd places are text. The parsed query is rendered

* for SQLite as an FTS5 expression in which every term is a quoted string (so FTS5's own
  operators can never be typed), joined by operators this module writes itself;
* for PostgreSQL as a normalised websearch string, every term quoted again.

Both go to the database as bound parameters, never into the SQL text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 200
MAX_TERMS = 12
MIN_WORD = 2  # at least one word searched for must have this many letters or digits
_FTS5_QUOTE = '""'  # how FTS5 writes a quote inside a quoted string
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what both tokenizers keep


class QueryError(ValueError):
    """The text cannot be searched for; the message says why, for the volunteer."""


@dataclass(frozen=True)
class Term:
    text: str  # as typed, without quotes
    phrase: bool

    @property
    def words(self) -> list[str]:
        return _WORD.findall(self.text.lower())

    def quoted(self, double_quotes: str) -> str:
        return '"' + self.text.replace('"', double_quotes) + '"'


@dataclass(frozen=True)
class Group:
    """Terms that must all occur in one article, and terms that must not."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...] = ()


@dataclass(frozen=True)
class SearchQuery:
    groups: tuple[Group, ...]  # alternatives: an article matches if any group matches

    def fts5(self) -> str:
        """The FTS5 expression: (("a" AND "b c") NOT "d") OR ("e")."""
        parts = []
        for group in self.groups:
            text = " AND ".join(t.quoted(_FTS5_QUOTE) for t in group.include)
            for term in group.exclude:
                text = f"({text}) NOT {term.quoted(_FTS5_QUOTE)}"
            parts.append(f"({text})")
        return " OR ".join(parts)

    def websearch(self) -> str:
        """The websearch_to_tsquery input: "a" "b c" -"d" or "e"."""
        return " or ".join(
            " ".join(
                [t.quoted(" ") for t in group.include]
                + ["-" + t.quoted(" ") for t in group.exclude]
            )
            for group in self.groups
        )

    @property
    def terms(self) -> list[Term]:
        return [t for g in self.groups for t in (*g.include, *g.exclude)]


@dataclass(frozen=True)
class _Token:
    term: Term | None  # None: the operator "or"
    negated: bool = False


def _tokens(text: str) -> list[_Token]:
    tokens = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end  # an unclosed quote runs to the end
            tokens.append(_Token(Term(text[i + 1 : end].strip(), phrase=True), negated))
            i = end + 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start:i]
        if word.lower() == "or" and not negated:
            tokens.append(_Token(None))
        else:
            tokens.append(_Token(Term(word, phrase=False), negated))
    return tokens


def parse(text: str) -> SearchQuery:
    """Parse the search box; raises QueryError with a message when there is nothing to search.

    Terms without a letter or digit (``%``, ``'``, ``--``) are dropped: no tokenizer would
    find them. ``or`` at either end or twice in a row is ignored.
    """
    # Control characters (a NUL from the URL's %00) end an FTS5 string early on SQLite and are
    # refused in a PostgreSQL string: they are spaces here, as no mail text holds them.
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QueryError("Type a word or a phrase to search for.")
    if len(text) > MAX_CHARS:
        raise QueryError(f"The search is too long: at most {MAX_CHARS} characters.")
    groups: list[Group] = []
    include: list[Term] = []
    exclude: list[Term] = []
    count = 0
    for token in [*_tokens(text), _Token(None)]:
        if token.term is None:
            if include:
                groups.append(Group(tuple(include), tuple(exclude)))
            include, exclude = [], []
            continue
        if not token.term.words:
            continue
        count += 1
        (exclude if token.negated else include).append(token.term)
    if count > MAX_TERMS:
        raise QueryError(f"Use at most {MAX_TERMS} words or phrases.")
    searched = [w for g in groups for t in g.include for w in t.words]
    if not searched:
        if count:
            raise QueryError("Add a word to search for: a search cannot only exclude words.")
        raise QueryError("Type letters or digits to search for.")
    if max(len(w) for w in searched) < MIN_WORD:
        raise QueryError(f"Type at least {MIN_WORD} letters or digits to search for.")
    return SearchQuery(tuple(groups))
