"""`wikibridge backup` and `restore` on SQLite and PostgreSQL: a verified round trip, and clear
refusals instead of overwriting anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.databases import DatabaseFactory
from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.mail.spool import Spool
from wikibridge.store import integrity

from .conftest import Archive, run


def fresh_target(
    settings: Settings, settings_env: dict[str, str], databases: DatabaseFactory, where: Path
) -> dict[str, str]:
    """The environment of a new installation: empty database, empty data directory."""
    if settings.database_url.startswith("sqlite"):
        url = f"sqlite:///{where / 'data' / 'wikibridge.sqlite3'}"
    else:
        url = databases.empty_postgres()
    return {
        **settings_env,
        "WIKIBRIDGE_DATA_DIR": str(where / "data"),
        "WIKIBRIDGE_DATABASE_URL": url,
    }


def state_of(url: str) -> tuple[dict[str, int], set[str], set[str]]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return integrity.counts(s), integrity.raw_hashes(s), integrity.blob_hashes(s)
    finally:
        engine.dispose()


def test_round_trip_with_waiting_and_quarantined_mail(
    archive: Archive,
    settings: Settings,
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    spool = Spool(settings.data_dir)
    bad = spool.accept(b"garbage that is kept", source="pipe")
    spool.quarantine(bad, "cannot parse")
    waiting = make_mail(subject="Arrived while the database was down")
    waiting_entry = spool.accept(waiting, source="pipe")  # not yet stored

    dest = tmp_path / "backup"
    result = run(settings_env, "backup", str(dest))
    assert result.exit_code == 0, result.output
    assert "10 tickets, 10 articles, 12 attachments, 10 raw messages, 11 blobs" in result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    counts, raw, blobs = state_of(settings.database_url)
    assert manifest["counts"] == counts
    assert set(manifest["files"]["raw"]) == raw and set(manifest["files"]["blobs"]) == blobs
    assert list(manifest["files"]["incoming"]) == [waiting_entry.sha256]
    assert list(manifest["files"]["quarantine"]) == [bad.sha256]
    assert manifest["schema_revision"] is not None and manifest["problems"] == []

    target = fresh_target(settings, settings_env, databases, tmp_path / "new")
    restored = run(target, "restore", str(dest))
    assert restored.exit_code == 0, restored.output
    assert "restore verified against the manifest" in restored.output
    assert state_of(target["WIKIBRIDGE_DATABASE_URL"]) == (counts, raw, blobs)
    assert run(target, "check").exit_code == 0
    # The waiting message is stored after the restore, like after any outage.
    again = run(target, "spool", "reprocess")
    assert again.exit_code == 0 and "1 stored" in again.output
    assert state_of(target["WIKIBRIDGE_DATABASE_URL"])[0]["tickets"] == counts["tickets"] + 1
    assert "1 quarantined" in run(target, "check").output


def test_backup_refuses_a_folder_that_is_not_empty(
    archive: Archive, settings_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("keep me")
    result = run(settings_env, "backup", str(tmp_path / "old"))
    assert result.exit_code == 1 and "is not empty" in result.output
    assert (tmp_path / "old" / "something").read_text() == "keep me"


def test_restore_refuses_what_is_not_empty_and_a_damaged_backup(
    archive: Archive,
    settings: Settings,
    settings_env: dict[str, str],
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    dest = tmp_path / "backup"
    assert run(settings_env, "backup", str(dest)).exit_code == 0
    # Into the database it came from.
    result = run(settings_env, "restore", str(dest))
    assert result.exit_code == 1 and "is not empty: restore only into a new" in result.output
    # Into an empty database but a data directory with mail in it.
    target = fresh_target(settings, settings_env, databases, tmp_path / "new")
    stray = Path(target["WIKIBRIDGE_DATA_DIR"]) / "raw" / "00" / "00" / "x.eml"
    stray.parent.mkdir(parents=True)
    stray.write_text("x")
    result = run(target, "restore", str(dest))
    assert result.exit_code == 1 and "data directory" in result.output
    stray.unlink()
    # A damaged backup: the restore stops and leaves the data directory empty.
    blob = next(p for p in (dest / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(b"bit rot")
    result = run(target, "restore", str(dest))
    assert result.exit_code == 1 and "damaged" in result.output
    data = Path(target["WIKIBRIDGE_DATA_DIR"])
    assert not [p for f in ("raw", "blobs", "spool") for p in (data / f).rglob("*") if p.is_file()]
    # Not a backup at all.
    result = run(target, "restore", str(tmp_path))
    assert result.exit_code == 1 and "no manifest.json" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_another_kind_of_database(
    archive: Archive,
    settings_env: dict[str, str],
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    dest = tmp_path / "backup"
    assert run(settings_env, "backup", str(dest)).exit_code == 0
    env = {
        **settings_env,
        "WIKIBRIDGE_DATA_DIR": str(tmp_path / "new"),
        "WIKIBRIDGE_DATABASE_URL": databases.empty_postgres(),
    }
    result = run(env, "restore", str(dest))
    assert result.exit_code == 1
    assert "holds a SQLite database, but the configured database is PostgreSQL" in result.output
