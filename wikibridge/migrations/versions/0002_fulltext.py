"""full-text search over articles (hand-written: the DDL differs per database)

SQLite: an FTS5 table ``article_fts`` with external content (``articles``, rowid = article id),
so the text is stored once; three triggers keep it in step with inserts, updates of subject or
body, and deletes. Existing rows are indexed by a 'rebuild'.

PostgreSQL: a stored generated column ``articles.article_fts`` (tsvector, 'simple'
configuration so every language is tokenised the same way; the subject weighs A, the body B)
and a GIN index ``article_fts_gin`` on it. The body is cut at 100,000 characters before
to_tsvector: a tsvector cannot exceed 1 MB, and an over-long mail must never fail its INSERT.
Adding the column rewrites ``articles`` once, under an exclusive lock.

Every object is named ``article_fts*``, which Alembic's autogenerate leaves alone
(migrations/env_filters.py). A later migration that rebuilds ``articles`` in batch mode on
SQLite (copy, drop, rename) drops the triggers with the old table: it must create them again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Enough for any real mail; keeps the tsvector far below PostgreSQL's 1 MB limit.
BODY_CHARS = 100_000

SQLITE_UP = (
    """
    CREATE VIRTUAL TABLE article_fts USING fts5(
        subject, body_text,
        content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER article_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO article_fts(rowid, subject, body_text)
        VALUES (new.id, new.subject, new.body_text);
    END
    """,
    """
    CREATE TRIGGER article_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO article_fts(article_fts, rowid, subject, body_text)
        VALUES ('delete', old.id, old.subject, old.body_text);
    END
    """,
    """
    CREATE TRIGGER article_fts_update AFTER UPDATE OF subject, body_text ON articles BEGIN
        INSERT INTO article_fts(article_fts, rowid, subject, body_text)
        VALUES ('delete', old.id, old.subject, old.body_text);
        INSERT INTO article_fts(rowid, subject, body_text)
        VALUES (new.id, new.subject, new.body_text);
    END
    """,
    "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
)

SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS article_fts_update",
    "DROP TRIGGER IF EXISTS article_fts_delete",
    "DROP TRIGGER IF EXISTS article_fts_insert",
    "DROP TABLE IF EXISTS article_fts",
)

POSTGRES_UP = (
    f"""
    ALTER TABLE articles ADD COLUMN article_fts tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(subject, '')), 'A')
        || setweight(
            to_tsvector('simple'::regconfig, left(coalesce(body_text, ''), {BODY_CHARS})), 'B'
        )
    ) STORED
    """,
    "CREATE INDEX article_fts_gin ON articles USING gin (article_fts)",
)

POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS article_fts_gin",
    "ALTER TABLE articles DROP COLUMN IF EXISTS article_fts",
)


def _statements(up: bool) -> Sequence[str]:
    name = op.get_bind().dialect.name
    if name == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if name == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    raise NotImplementedError(f"full-text search is not written for {name}")


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
