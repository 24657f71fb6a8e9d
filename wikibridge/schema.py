"""Schema migrations (Alembic), run from code: ``wikibridge db upgrade`` and the app's check.

Every long-running command and the web app refuse to start against a schema that is not at the
head revision (:func:`require_head`). That check runs once per `wikibridge ingest` process,
which the mail server starts for every message, so it reads the revision without importing
Alembic: the version table with one query, the head from the migration files' own
``revision``/``down_revision`` lines (a test keeps this equal to Alembic's answer).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


class SchemaMismatch(Exception):
    """The database's schema is not the one this version of wikibridge needs."""


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate in one transaction (on PostgreSQL the DDL too): all revisions or none."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def head_revision() -> str | None:
    """The head as Alembic computes it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@cache
def quick_head_revision() -> str | None:
    """The head from the migration files' text: the one revision nothing revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values = dict(_ASSIGN.findall(path.read_text(encoding="utf-8")))
        if "revision" not in values:
            continue
        revisions.add(values["revision"].strip("\"'"))
        down = values.get("down_revision", "None").strip("\"'")
        if down != "None":
            revised.add(down)
    heads = revisions - revised
    if len(heads) > 1:
        raise SchemaMismatch(f"the migrations have several heads: {', '.join(sorted(heads))}")
    return heads.pop() if heads else None


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    if isinstance(bind, Connection):
        return _revision(bind)
    with bind.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == quick_head_revision()


def is_empty(engine: Engine) -> bool:
    """No tables at all: a new database, nothing to back up or to lose."""
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def require_head(engine: Engine) -> None:
    """Raise :class:`SchemaMismatch` with a sentence an operator can act on."""
    current, head = current_revision(engine), quick_head_revision()
    if current != head:
        raise SchemaMismatch(
            f"the database schema is at {current or 'nothing'}, this wikibridge needs {head}: "
            "run `wikibridge db upgrade` first"
        )
