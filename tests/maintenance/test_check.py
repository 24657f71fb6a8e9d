"""`wikibridge check` on real files: damage and leftovers are named, a clean system passes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.models import Article, Attachment

from .conftest import Archive, run

OLD = time.time() - 3600  # older than check's grace for files of running transactions


def _first(sessions: sessionmaker[Session], column: object) -> str:
    with sessions() as s:
        value = s.scalars(select(column).where(column.is_not(None)).limit(1)).one()  # type: ignore[attr-defined]
    return str(value)


def _blob(data_dir: Path, sha: str) -> Path:
    return data_dir / "blobs" / sha[:2] / sha[2:4] / sha


def _raw(data_dir: Path, sha: str) -> Path:
    return data_dir / "raw" / sha[:2] / sha[2:4] / f"{sha}.eml"


def test_a_clean_system_passes(archive: Archive, settings_env: dict[str, str]) -> None:
    result = run(settings_env, "check")
    assert result.exit_code == 0, result.output
    assert "checked 10 raw message(s) and 11 blob(s)" in result.output
    assert result.output.strip().endswith("OK")
    report = json.loads(run(settings_env, "check", "--json").output)
    assert report["ok"] and report["missing"] == report["corrupt"] == report["orphans"] == []


def test_a_corrupt_blob_and_a_missing_message_are_named(
    archive: Archive,
    settings: Settings,
    session_factory: sessionmaker[Session],
    settings_env: dict[str, str],
) -> None:
    blob = _blob(settings.data_dir, _first(session_factory, Attachment.blob_sha256))
    blob.write_bytes(blob.read_bytes() + b" tampered")
    raw = _raw(settings.data_dir, _first(session_factory, Article.raw_sha256))
    raw.unlink()
    result = run(settings_env, "check")
    assert result.exit_code == 1
    assert f"PROBLEM corrupt (content does not match its SHA-256): {blob}" in result.output
    assert f"PROBLEM missing: {raw}" in result.output
    assert "FAILED: 2 problem(s)" in result.output
    report = json.loads(run(settings_env, "check", "--json").output)
    assert report["ok"] is False
    assert report["corrupt"] == [str(blob)] and report["missing"] == [str(raw)]


def test_orphans_and_leftovers_are_reported_young_files_are_not(
    archive: Archive, settings: Settings, settings_env: dict[str, str]
) -> None:
    data = settings.data_dir
    orphan_blob = _blob(data, "ab" * 32)
    orphan_raw = _raw(data, "cd" * 32)
    leftover = data / "blobs" / "ef" / ".deadbeef.4242.tmp"
    young = _blob(data, "12" * 32)  # a transaction that may still commit
    for path in (orphan_blob, orphan_raw, leftover, young):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"nobody points here")
    for path in (orphan_blob, orphan_raw, leftover):
        os.utime(path, (OLD, OLD))
    report = json.loads(run(settings_env, "check", "--json").output)
    assert report["ok"] is False
    assert sorted(report["orphans"]) == sorted(map(str, (orphan_blob, orphan_raw, leftover)))
    text = run(settings_env, "check").output
    assert f"PROBLEM orphan (nothing points at it): {orphan_blob}" in text


def test_quarantined_mail_is_no_orphan(
    archive: Archive, settings: Settings, settings_env: dict[str, str]
) -> None:
    from wikibridge.mail.spool import Spool

    spool = Spool(settings.data_dir)
    entry = spool.accept(b"not a mail at all, but kept", source="pipe")
    spool.quarantine(entry, "cannot parse")
    raw = _raw(settings.data_dir, entry.sha256)
    os.utime(raw, (OLD, OLD))
    result = run(settings_env, "check")
    assert result.exit_code == 0, result.output
    assert "1 quarantined message(s)" in result.output
