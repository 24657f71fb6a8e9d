"""Real databases for tests: a migrated SQLite file and a fresh PostgreSQL database per test.

PostgreSQL is found at WIKIBRIDGE_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
When it does not answer, store tests on PostgreSQL skip locally but fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from wikibridge import schema
from wikibridge.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "WIKIBRIDGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except OperationalError:
        return False


def require_pg() -> None:
    if not pg_available():
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} (CI=true: never skip)")
        pytest.skip("PostgreSQL is not reachable; set WIKIBRIDGE_TEST_PG")


def _admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def pg_url(dbname: str) -> str:
    return (
        create_engine(PG_ADMIN_URL).url.set(database=dbname).render_as_string(hide_password=False)
    )


class DatabaseFactory:
    """Makes migrated databases quickly by copying a template migrated once per session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_dbs: list[str] = []

    def sqlite(self, path: Path) -> str:
        if self._sqlite_template is None:
            tpl = self.workdir / "template.sqlite3"
            engine = make_engine(f"sqlite:///{tpl}")
            schema.upgrade(engine)
            engine.dispose()
            self._sqlite_template = tpl
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self._sqlite_template, path)
        return f"sqlite:///{path}"

    def postgres(self) -> str:
        require_pg()
        admin = _admin()
        with admin.connect() as conn:
            if self._pg_template is None:
                tpl = f"wbtpl_{uuid.uuid4().hex[:10]}"
                conn.execute(text(f'CREATE DATABASE "{tpl}"'))
                engine = make_engine(pg_url(tpl))
                schema.upgrade(engine)
                engine.dispose()
                self._pg_template = tpl
            name = f"wbtest_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"'))
        admin.dispose()
        self._pg_dbs.append(name)
        return pg_url(name)

    def empty_postgres(self) -> str:
        require_pg()
        admin = _admin()
        name = f"wbtest_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self._pg_dbs.append(name)
        return pg_url(name)

    def drop_all(self) -> None:
        names = self._pg_dbs + ([self._pg_template] if self._pg_template else [])
        if not names:
            return
        admin = _admin()
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db-templates"))
    yield factory
    factory.drop_all()
