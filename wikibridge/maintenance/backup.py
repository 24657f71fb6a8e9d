"""`wikibridge backup DEST`: the database, raw mail and attachment blobs, while the system runs.

Order makes it consistent without stopping anything:

1. list the messages waiting in ``spool/incoming`` (accepted, not yet in the database);
2. take the database snapshot (:mod:`.database`): the backup's point in time;
3. copy the raw messages and blobs the snapshot's rows point at. They are content-addressed and
   never change, and a file is written before the row that points at it is committed, so every
   one of them exists; files written after the snapshot are not needed;
4. copy the waiting messages of step 1 the snapshot does not hold (stored since, they are found
   in ``raw/``): after a restore, ``wikibridge spool reprocess`` stores them. So every message
   accepted before the backup began is in it;
5. copy the quarantine (reasons and raw messages);
6. write ``manifest.json`` last: counts, the schema revision and the SHA-256 and size of every
   file. A folder without a manifest is an unfinished backup.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from wikibridge import schema
from wikibridge.files import write_durably
from wikibridge.store import integrity

from . import database
from .files import Layout, Progress, copy_hashed, file_sha256, no_progress, sync_tree

FORMAT = "wikibridge-backup/1"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """The backup cannot be made or used; the message says why."""


@dataclass
class Manifest:
    created_at: str
    schema_revision: str | None
    dialect: str
    database_file: str
    database_sha256: str = ""
    database_size: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    raw: dict[str, int] = field(default_factory=dict)  # sha256 -> size
    blobs: dict[str, int] = field(default_factory=dict)
    incoming: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, int] = field(default_factory=dict)  # the raw message's size
    problems: list[str] = field(default_factory=list)
    finished_at: str = ""
    wikibridge_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "wikibridge_version": self.wikibridge_version,
            "schema_revision": self.schema_revision,
            "database": {
                "dialect": self.dialect,
                "file": self.database_file,
                "sha256": self.database_sha256,
                "size": self.database_size,
            },
            "counts": self.counts,
            "files": {
                "raw": self.raw,
                "blobs": self.blobs,
                "incoming": self.incoming,
                "quarantine": self.quarantine,
            },
            "problems": self.problems,
        }

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackupError(
                f"{folder} is not a finished wikibridge backup: it has no {MANIFEST}"
            ) from None
        except ValueError as e:
            raise BackupError(f"{path} is not valid JSON: {e}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(f"{path} is not a manifest of format {FORMAT}")
        db, files = data["database"], data["files"]
        return cls(
            created_at=data["created_at"],
            finished_at=data.get("finished_at", ""),
            wikibridge_version=data.get("wikibridge_version", ""),
            schema_revision=data["schema_revision"],
            dialect=db["dialect"],
            database_file=db["file"],
            database_sha256=db["sha256"],
            database_size=db["size"],
            counts=data["counts"],
            raw=files["raw"],
            blobs=files["blobs"],
            incoming=files["incoming"],
            quarantine=files["quarantine"],
            problems=data.get("problems", []),
        )


def check_destination(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: a backup goes into a new or empty folder")


def run_backup(
    engine: Engine, data_dir: Path, dest: Path, progress: Progress = no_progress
) -> Manifest:
    """Back up into `dest` (new or empty). Problems with single files (missing, or not
    matching their hash) do not stop the backup: they are listed in the manifest."""
    check_destination(dest)
    dest.mkdir(parents=True, exist_ok=True)
    source, target = Layout(data_dir), Layout(dest)
    waiting_before = source.waiting()
    name = database.dialect(engine)
    manifest = Manifest(
        created_at=_now(),
        schema_revision=None,
        dialect=name,
        database_file=database.dump_name(name),
        wikibridge_version=_version(),
    )
    dump = dest / manifest.database_file
    with database.snapshot(engine, dump) as session:
        manifest.schema_revision = schema.current_revision(session.connection())
        manifest.counts = integrity.counts(session)
        raw = integrity.raw_hashes(session)
        blobs = integrity.blob_hashes(session)
    manifest.database_sha256 = file_sha256(dump)
    manifest.database_size = dump.stat().st_size

    with progress("raw messages", len(raw)) as step:
        for sha in sorted(raw):
            _copy(source.raw(sha), target.raw(sha), sha, manifest.raw, manifest.problems)
            step(1)
    with progress("attachment blobs", len(blobs)) as step:
        for sha in sorted(blobs):
            _copy(source.blob(sha), target.blob(sha), sha, manifest.blobs, manifest.problems)
            step(1)
    for sha in waiting_before:
        if sha in raw:
            continue  # in the snapshot
        origin = source.incoming(sha)
        if not origin.exists():
            origin = source.raw(sha)  # stored (or quarantined) since the listing
        _copy(origin, target.incoming(sha), sha, manifest.incoming, manifest.problems)
        details = source.incoming_dir / f"{sha}.json"
        if details.exists():
            _copy_details(details, target.incoming_dir / details.name)
    for sha in source.quarantined():
        reason = source.quarantine_dir / f"{sha}.json"
        if not _copy_details(reason, target.quarantine_dir / reason.name):
            continue  # released for another try since the listing
        if sha not in manifest.raw:
            _copy(source.raw(sha), target.raw(sha), sha, manifest.quarantine, manifest.problems)
        else:
            manifest.quarantine[sha] = manifest.raw[sha]
    sync_tree(dest)
    manifest.finished_at = _now()
    write_durably(dest / MANIFEST, json.dumps(manifest.to_json(), indent=1).encode())
    return manifest


def _copy(
    source: Path, target: Path, sha: str, listed: dict[str, int], problems: list[str]
) -> None:
    try:
        actual, size = copy_hashed(source, target)
    except FileNotFoundError:
        problems.append(f"missing: {source}")
        return
    if actual != sha:
        target.unlink()
        problems.append(f"corrupt (content does not match its SHA-256): {source}")
        return
    listed[sha] = size


def _copy_details(source: Path, target: Path) -> bool:
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return False
    write_durably(target, data, sync_dir=False)
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _version() -> str:
    try:
        return version("wikibridge")
    except PackageNotFoundError:
        return ""


def default_upgrade_folder(data_dir: Path, revision: str | None) -> Path:
    """Where `wikibridge db upgrade` puts its backup: DATA_DIR/backups/<time>-<revision>."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = data_dir / "backups" / f"{stamp}-schema-{revision or 'none'}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = folder.with_name(f"{stamp}-schema-{revision or 'none'}-{suffix}")
    os.makedirs(folder.parent, exist_ok=True)
    return folder
