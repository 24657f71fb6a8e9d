"""Fixtures of the fault suite: a private PostgreSQL server that tests really stop and start."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.databases import in_ci
from tests.pgserver import PrivateServer, server_bin
from wikibridge import schema
from wikibridge.config import Settings, load_settings
from wikibridge.db import make_engine


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivateServer]:
    """One private server per module (initdb takes about a second); tests make databases."""
    if server_bin() is None:
        if in_ci():
            pytest.fail("PostgreSQL server binaries are missing (CI=true: never skip)")
        pytest.skip("PostgreSQL server binaries are missing")
    server = PrivateServer()
    server.init()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_up(private_pg: PrivateServer) -> Iterator[PrivateServer]:
    """The private server, running at the start of the test and again after it."""
    yield private_pg
    if not _answers(private_pg):
        private_pg.start()


def _answers(server: PrivateServer) -> bool:
    engine = create_engine(server.url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "not up"
        return False
    finally:
        engine.dispose()


@pytest.fixture
def private_url(pg_up: PrivateServer) -> str:
    """A new, migrated database on the private server."""
    name = f"wbfault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_up.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = create_engine(pg_up.url).url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def private_settings(private_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        {
            "WIKIBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "WIKIBRIDGE_DATABASE_URL": private_url,
            "WIKIBRIDGE_SECRET_KEY": "test-secret",
            "WIKIBRIDGE_MAIL_DOMAIN": "tickets.example.org",
            "WIKIBRIDGE_MAIL_SYSTEM_ADDRESSES": "info-en@example.org,permissions@example.org",
        }
    )


def show(when: str, **counts: object) -> None:
    """Print the counts a fault test compares (shown with -rP or -s, and on failure)."""
    print(f"{when:>7}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
