"""a word-pair index for phrase searches (hand-written: the DDL differs per database)

A phrase with a common word made both full-text indexes read that word's positions in every
article holding it. Pairs of neighbouring words, indexed as one term each, narrow a phrase
search down to the articles holding the phrase's pairs (see wikibridge/store/word_pairs.py).

SQLite: a contentless FTS5 table ``article_pairs`` (rowid = article id; the pairs of the
subject and of the body) and three triggers that keep it in step with ``articles``; the pairs
are computed by the function ``wikibridge_word_pairs(text)``, which wikibridge registers on
each of its connections
(a connection without it cannot insert, change or delete articles). Existing articles are
indexed here, once.

PostgreSQL: the function ``article_word_pairs(tsvector)`` (pairs of lexemes at neighbouring
positions, as hashes) and a GIN index on ``article_word_pairs(article_fts)``. Building
the index reads every article once; the table is not rewritten.

Like ``article_fts``, a later migration that rebuilds ``articles`` in batch mode on SQLite must
create the triggers again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAIRS = "wikibridge_word_pairs"

SQLITE_UP = (
    # The pairs are already folded words joined by a private-use character: the ascii
    # tokenizer keeps each one whole (it splits on ASCII punctuation and spaces only).
    "CREATE VIRTUAL TABLE article_pairs USING fts5("
    "subject, body_text, content='', tokenize='ascii')",
    f"""
    CREATE TRIGGER article_pairs_insert AFTER INSERT ON articles BEGIN
        INSERT INTO article_pairs(rowid, subject, body_text)
        VALUES (new.id, {_PAIRS}(new.subject), {_PAIRS}(new.body_text));
    END
    """,
    f"""
    CREATE TRIGGER article_pairs_delete AFTER DELETE ON articles BEGIN
        INSERT INTO article_pairs(article_pairs, rowid, subject, body_text)
        VALUES ('delete', old.id, {_PAIRS}(old.subject), {_PAIRS}(old.body_text));
    END
    """,
    f"""
    CREATE TRIGGER article_pairs_update AFTER UPDATE OF subject, body_text ON articles BEGIN
        INSERT INTO article_pairs(article_pairs, rowid, subject, body_text)
        VALUES ('delete', old.id, {_PAIRS}(old.subject), {_PAIRS}(old.body_text));
        INSERT INTO article_pairs(rowid, subject, body_text)
        VALUES (new.id, {_PAIRS}(new.subject), {_PAIRS}(new.body_text));
    END
    """,
    f"INSERT INTO article_pairs(rowid, subject, body_text) "
    f"SELECT id, {_PAIRS}(subject), {_PAIRS}(body_text) FROM articles",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS article_pairs_update",
    "DROP TRIGGER IF EXISTS article_pairs_delete",
    "DROP TRIGGER IF EXISTS article_pairs_insert",
    "DROP TABLE IF EXISTS article_pairs",
)

POSTGRES_UP = (
    # A pair is kept as a 32-bit hash of its text: a quarter of the index a text key needs.
    # Two pairs sharing a hash only let an extra article through to the full-text check.
    """
    CREATE FUNCTION article_word_pairs(v tsvector) RETURNS integer[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT hashtext(a.lexeme || ' ' || b.lexeme)), '{}')
        FROM (SELECT u.lexeme, p FROM unnest(v) AS u, unnest(u.positions) AS p) AS a
        JOIN (SELECT u.lexeme, p FROM unnest(v) AS u, unnest(u.positions) AS p) AS b
          ON b.p = a.p + 1
    $$
    """,
    # The build sorts every pair of every article; the default 64 MB makes it spill to disk
    # many times over at a million tickets.
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX article_pairs_gin ON articles USING gin (article_word_pairs(article_fts))",
)

POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS article_pairs_gin",
    "DROP FUNCTION IF EXISTS article_word_pairs(tsvector)",
)


def _statements(up: bool) -> Sequence[str]:
    name = op.get_bind().dialect.name
    if name == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if name == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    raise NotImplementedError(f"the word-pair index is not written for {name}")


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
