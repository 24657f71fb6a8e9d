"""Fixtures shared by the whole suite. Every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.databases import DatabaseFactory, database_factory
from wikibridge.config import Settings, load_settings
from wikibridge.db import make_engine, make_sessionmaker

pytest_plugins = [
    "tests.wiki_fixtures",
    "tests.mail_fixtures",
    "tests.oauth_fixtures",
    "tests.browser_fixtures",
]


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    yield from database_factory(tmp_path_factory)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        return databases.sqlite(tmp_path / "data" / "wikibridge.sqlite3")
    return databases.postgres()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    env = {
        "WIKIBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "WIKIBRIDGE_DATABASE_URL": database_url,
        "WIKIBRIDGE_SECRET_KEY": "test-secret",
        "WIKIBRIDGE_MAIL_DOMAIN": "tickets.example.org",
        "WIKIBRIDGE_MAIL_SYSTEM_ADDRESSES": "info-en@example.org,permissions@example.org",
    }
    return load_settings(env)


@pytest.fixture
def settings_env(settings: Settings) -> dict[str, str]:
    """Environment for running the `wikibridge` command against the test's settings."""
    import os

    env = dict(os.environ)
    env.update(
        WIKIBRIDGE_DATA_DIR=str(settings.data_dir),
        WIKIBRIDGE_DATABASE_URL=settings.database_url,
        WIKIBRIDGE_SECRET_KEY=settings.secret_key,
        WIKIBRIDGE_MAIL_DOMAIN=settings.mail.domain,
        WIKIBRIDGE_MAIL_SYSTEM_ADDRESSES=",".join(settings.mail.system_addresses),
    )
    env.pop("WIKIBRIDGE_CONFIG", None)
    return env


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE: "ci" (the default: a few examples, the
# suite stays fast), "dev" (more), "fuzz-long" (the maintainers' long fuzz run; see README).
def _hypothesis_profiles() -> None:
    import os

    from hypothesis import HealthCheck
    from hypothesis import settings as hsettings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
    common = {"deadline": None, "database": None, "suppress_health_check": quiet}
    hsettings.register_profile("ci", max_examples=40, **common)  # type: ignore[arg-type]
    hsettings.register_profile("dev", max_examples=300, **common)  # type: ignore[arg-type]
    hsettings.register_profile(
        "fuzz-long",
        max_examples=20_000,
        print_blob=True,
        **common,  # type: ignore[arg-type]
    )
    hsettings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()
