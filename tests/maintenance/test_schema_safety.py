"""Nothing starts on a schema that is not at head: one clear line, no traceback; ingest asks the
mail server to retry (75). `db upgrade` backs up first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.cli import wikibridge
from tests.mailbuilder import make_mail
from webapp import create_app
from wikibridge import schema
from wikibridge.config import Settings
from wikibridge.db import make_engine


def test_the_quick_head_is_alembics_head() -> None:
    assert schema.quick_head_revision() == schema.head_revision()


@pytest.fixture
def behind(engine: Engine) -> str:
    """The test database one revision below head."""
    head = schema.head_revision()
    schema.downgrade(engine, "-1")
    current = schema.current_revision(engine)
    assert current is not None and current != head
    engine.dispose()
    return current


def _clear(stderr: bytes, current: str) -> None:
    text = stderr.decode()
    assert b"Traceback" not in stderr, text
    assert f"schema is at {current}" in text and "wikibridge db upgrade" in text, text


def test_commands_refuse_an_old_schema(behind: str, settings_env: dict[str, str]) -> None:
    raw = make_mail(subject="Arrives during the upgrade")
    result = wikibridge("ingest", env=settings_env, stdin=raw)
    assert result.returncode == 75
    _clear(result.stderr, behind)
    for args in (
        ("worker", "--once"),
        ("serve", "--port", "1"),
        ("spool", "reprocess"),
        ("jobs",),
        ("check",),
    ):
        result = wikibridge(*args, env=settings_env)
        assert result.returncode == 1, args
        assert b"Traceback" not in result.stderr, (args, result.stderr)
        if args != ("check",):
            _clear(result.stderr, behind)
    # check says so too, in its report
    report = json.loads(wikibridge("check", "--json", env=settings_env).stdout)
    assert report["schema_ok"] is False and report["schema_revision"] == behind
    # The refused message was left with the mail server: nothing spooled, nothing stored.
    data = Path(settings_env["WIKIBRIDGE_DATA_DIR"])
    assert not list((data / "spool").rglob("*.eml")) and not list((data / "raw").rglob("*.eml"))


def test_the_app_factory_refuses_an_old_schema(behind: str, settings: Settings) -> None:
    with pytest.raises(schema.SchemaMismatch, match="wikibridge db upgrade"):
        create_app(settings)


def test_upgrade_backs_up_first_and_only_when_there_is_something(
    behind: str, settings_env: dict[str, str], settings: Settings
) -> None:
    assert wikibridge("ingest", env=settings_env, stdin=make_mail()).returncode == 75
    result = wikibridge("db", "upgrade", env=settings_env)
    assert result.returncode == 0, result.stderr
    backups = sorted((settings.data_dir / "backups").iterdir())
    assert len(backups) == 1 and backups[0].name.endswith(f"-schema-{behind}")
    manifest = json.loads((backups[0] / "manifest.json").read_text())
    assert manifest["schema_revision"] == behind
    assert b"schema upgraded" in result.stdout
    engine = make_engine(settings.database_url)
    assert schema.is_at_head(engine)
    engine.dispose()
    # At head: nothing to migrate, no backup.
    assert wikibridge("db", "upgrade", env=settings_env).returncode == 0
    assert len(list((settings.data_dir / "backups").iterdir())) == 1
    # Stored now.
    assert wikibridge("ingest", env=settings_env, stdin=make_mail()).returncode == 0


def test_upgrade_with_no_backup_skips_it(behind: str, settings_env: dict[str, str]) -> None:
    result = wikibridge("db", "upgrade", "--no-backup", env=settings_env)
    assert result.returncode == 0, result.stderr
    assert not (Path(settings_env["WIKIBRIDGE_DATA_DIR"]) / "backups").exists()


def test_a_new_database_is_created_without_a_backup(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")}
    env["WIKIBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    result = wikibridge("db", "upgrade", env=env)
    assert result.returncode == 0 and b"schema upgraded from empty" in result.stdout
    assert not (tmp_path / "data" / "backups").exists()


def test_a_failing_migration_leaves_the_schema_as_it_was(engine: Engine) -> None:
    """All revisions of one upgrade run in one transaction: 0002 is undone with a failing 0004."""
    from sqlalchemy import inspect, text

    schema.downgrade(engine, "0001")
    with engine.begin() as conn:  # makes 0004's ADD COLUMN fail
        conn.execute(text("ALTER TABLE tickets ADD COLUMN purged_at VARCHAR(10)"))
    with pytest.raises(Exception, match="purged_at"):
        schema.upgrade(engine)
    assert schema.current_revision(engine) == "0001"
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        columns = {c["name"] for c in inspect(conn).get_columns("articles")}
    assert "article_fts" not in names | columns  # 0002's work was rolled back
