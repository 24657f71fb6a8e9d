"""Migration 0002: an empty database upgraded to head has the full-text structures, and a
downgrade to 0001 removes them again, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.orm import Session

from tests.databases import DatabaseFactory
from wikibridge import schema
from wikibridge.db import make_engine
from wikibridge.models import Article, Ticket
from wikibridge.store import articles, queues, tickets


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(
    request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        url = databases.empty_postgres()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    cfg = schema.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def fulltext_objects(engine: Engine) -> set[str]:
    """The names of every full-text object in the database."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'article_fts%'")
            )
            return {row[0] for row in rows}
        columns = {c["name"] for c in inspect(conn).get_columns("articles")}
        indexes = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'articles'")
        ).scalars()
        return {n for n in columns | set(indexes) if n.startswith("article_fts")}


def add_article(engine: Engine, body: str) -> int:
    with Session(engine) as session:
        q = queues.ensure(session, "info-en", "info")
        # Core, not the ORM: at an older revision `tickets` lacks columns the model has now.
        table = Ticket.__table__
        ticket_id = session.execute(
            insert(table)
            .values(number=tickets.next_number(session, "10"), title="A question", queue_id=q.id)
            .returning(table.c.id)
        ).scalar_one()
        article = articles.add(
            session, Article(ticket_id=ticket_id, kind="inbound", subject="Hello", body_text=body)
        )
        session.commit()
        return article.id


def matches(engine: Engine, word: str) -> list[int]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            stmt = "SELECT rowid FROM article_fts WHERE article_fts MATCH :w"
        else:
            stmt = "SELECT id FROM articles WHERE article_fts @@ to_tsquery('simple', :w)"
        return list(conn.execute(text(stmt), {"w": word}).scalars())


def test_upgrade_creates_and_downgrade_removes_the_fulltext_index(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine, "0001")
    assert fulltext_objects(empty_engine) == set()
    before = add_article(empty_engine, "an article written before the index existed")

    schema.upgrade(empty_engine)
    assert schema.is_at_head(empty_engine)
    if empty_engine.dialect.name == "sqlite":
        expected = {
            "article_fts",
            "article_fts_insert",
            "article_fts_update",
            "article_fts_delete",
        }
        assert expected <= fulltext_objects(empty_engine)
    else:
        assert fulltext_objects(empty_engine) == {"article_fts", "article_fts_gin"}
    assert matches(empty_engine, "written") == [before]  # existing rows are indexed

    downgrade(empty_engine, "0001")
    assert schema.current_revision(empty_engine) == "0001"
    assert fulltext_objects(empty_engine) == set()
    schema.upgrade(empty_engine)  # and up again
    assert matches(empty_engine, "written") == [before]


def test_a_huge_body_is_stored_and_indexed(empty_engine: Engine) -> None:
    """PostgreSQL cannot build a tsvector over 1 MB: the index only sees the start of a body."""
    schema.upgrade(empty_engine)
    words = " ".join(f"w{i}x{i * 7919 % 100003}" for i in range(300_000))
    article_id = add_article(empty_engine, "needle " + words)
    assert matches(empty_engine, "needle") == [article_id]
