"""`wikibridge restore SRC`: a backup into an empty database and data directory, verified.

Nothing is overwritten: the database must have no tables and the data directory no raw mail,
blobs or spool files. Every file is hashed as it is copied; the restored database's counts and
the files its rows point at must be the manifest's; then `wikibridge check` runs on the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from wikibridge import schema
from wikibridge.db import make_sessionmaker
from wikibridge.store import integrity

from . import database
from .backup import BackupError, Manifest
from .check import CheckReport, run_check
from .files import Layout, Progress, copy_hashed, file_sha256, no_progress, sync_tree

DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class RestoreReport:
    manifest: Manifest
    differences: list[str] = field(default_factory=list)  # restored state vs the manifest
    check: CheckReport | None = None

    @property
    def ok(self) -> bool:
        # An older schema is fine to restore (upgrade it next); the files must all be right.
        check_ok = self.check is None or not (
            self.check.missing or self.check.corrupt or self.check.orphans
        )
        return not self.differences and check_ok


def check_target(engine: Engine, data_dir: Path, manifest: Manifest) -> None:
    name = database.dialect(engine)
    if name != manifest.dialect:
        raise BackupError(
            f"the backup holds a {DIALECT_NAMES.get(manifest.dialect, manifest.dialect)} "
            f"database, but the configured database is {DIALECT_NAMES.get(name, name)}: "
            "restore into the same kind of database"
        )
    if not schema.is_empty(engine):
        where = engine.url.render_as_string(hide_password=True)
        raise BackupError(
            f"the database {where} is not empty: restore only into a new, empty database "
            "(create one, or point WIKIBRIDGE_DATABASE_URL at another)"
        )
    busy = Layout(data_dir).holds_mail()
    if busy:
        raise BackupError(
            f"the data directory {data_dir} is not empty ({', '.join(busy)} hold files): "
            "restore only into a new, empty data directory"
        )


def run_restore(
    engine: Engine, data_dir: Path, source: Path, progress: Progress = no_progress
) -> RestoreReport:
    manifest = Manifest.load(source)
    check_target(engine, data_dir, manifest)
    dump = source / manifest.database_file
    if not dump.exists() or file_sha256(dump) != manifest.database_sha256:
        raise BackupError(f"{dump} is missing or does not match the manifest's SHA-256")

    backup, target = Layout(source), Layout(data_dir)
    copied: list[Path] = []
    try:
        _copy_all(progress, "raw messages", manifest.raw, backup.raw, target.raw, copied)
        _copy_all(progress, "attachment blobs", manifest.blobs, backup.blob, target.blob, copied)
        quarantine_raw = {s: n for s, n in manifest.quarantine.items() if s not in manifest.raw}
        _copy_all(progress, "quarantine", quarantine_raw, backup.raw, target.raw, copied)
        _copy_all(progress, "waiting", manifest.incoming, backup.incoming, target.incoming, copied)
        pairs = (
            (backup.incoming_dir, target.incoming_dir),
            (backup.quarantine_dir, target.quarantine_dir),
        )
        for folder, into in pairs:
            for details in sorted(folder.glob("*.json")):
                copy_hashed(details, into / details.name)
                copied.append(into / details.name)
    except BaseException:
        for path in copied:  # leave the data directory empty, as it was
            path.unlink(missing_ok=True)
        raise
    sync_tree(data_dir)
    database.restore(engine, dump)

    report = RestoreReport(manifest)
    report.differences = _compare(engine, manifest)
    report.check = run_check(engine, data_dir, grace=0)
    return report


def _copy_all(
    progress: Progress,
    label: str,
    files: dict[str, int],
    source: Callable[[str], Path],
    target: Callable[[str], Path],
    copied: list[Path],
) -> None:
    with progress(label, len(files)) as step:
        for sha, size in sorted(files.items()):
            origin, out = source(sha), target(sha)
            try:
                actual, written = copy_hashed(origin, out)
            except FileNotFoundError:
                raise BackupError(f"the backup is incomplete: {origin} is missing") from None
            copied.append(out)
            if actual != sha or written != size:
                raise BackupError(f"the backup is damaged: {origin} does not match its SHA-256")
            step(1)


def _compare(engine: Engine, manifest: Manifest) -> list[str]:
    """What differs between the restored database and the manifest."""
    out = []
    revision = schema.current_revision(engine)
    if revision != manifest.schema_revision:
        out.append(f"schema revision {revision}, the manifest says {manifest.schema_revision}")
    with make_sessionmaker(engine, read_only=True)() as session:
        counts = integrity.counts(session)
        raw = integrity.raw_hashes(session)
        blobs = integrity.blob_hashes(session)
    for name, expected in sorted(manifest.counts.items()):
        if counts.get(name) != expected:
            out.append(f"{name}: {counts.get(name)} restored, the manifest says {expected}")
    if raw != set(manifest.raw):
        out.append(f"raw messages: {len(raw ^ set(manifest.raw))} differ from the manifest")
    if blobs != set(manifest.blobs):
        out.append(f"blobs: {len(blobs ^ set(manifest.blobs))} differ from the manifest")
    return out
