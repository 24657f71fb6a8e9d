"""`wikibridge check`: is everything the database points at on disk, unchanged, and nothing else?

- the schema is at the head revision;
- every article's raw message and every attachment blob exists and hashes to its name;
- no orphans: a raw message that no article and no quarantine entry points at, a blob no
  attachment points at, or a temporary file a crashed write left behind.

Safe on a running system: the database is read first, then the files. A file is written before
the row that points at it is committed, so a file younger than :data:`ORPHAN_GRACE` may belong
to a transaction still running and is not called an orphan; the others are looked up once more
before they are reported.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from wikibridge import schema
from wikibridge.db import make_sessionmaker
from wikibridge.store import integrity

from .files import SHA, Layout, Progress, file_sha256, no_progress, walk

ORPHAN_GRACE = 15 * 60  # seconds


@dataclass
class CheckReport:
    schema_revision: str | None
    schema_head: str | None
    counts: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # files the database points at, absent
    corrupt: list[str] = field(default_factory=list)  # present, content not matching the hash
    orphans: list[str] = field(default_factory=list)  # files nothing points at
    waiting: int = 0  # messages in spool/incoming (not a problem: `spool reprocess`)
    quarantined: int = 0

    @property
    def schema_ok(self) -> bool:
        return self.schema_revision == self.schema_head

    @property
    def ok(self) -> bool:
        return self.schema_ok and not (self.missing or self.corrupt or self.orphans)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["schema_ok"] = self.schema_ok
        return data

    def lines(self) -> list[str]:
        """A readable report: the verdict, then one line per problem."""
        out = []
        if self.schema_ok:
            out.append(f"schema: at {self.schema_revision} (head)")
        else:
            out.append(
                f"PROBLEM schema: at {self.schema_revision or 'nothing'}, needs "
                f"{self.schema_head}: run `wikibridge db upgrade`"
            )
        c = self.counts
        if c:
            out.append(
                f"checked {c.get('raw_messages', 0)} raw message(s) and {c.get('blobs', 0)} "
                f"blob(s) of {c.get('tickets', 0)} ticket(s), {c.get('articles', 0)} "
                f"article(s), {c.get('attachments', 0)} attachment(s)"
            )
        out += [f"PROBLEM missing: {p}" for p in self.missing]
        out += [f"PROBLEM corrupt (content does not match its SHA-256): {p}" for p in self.corrupt]
        out += [f"PROBLEM orphan (nothing points at it): {p}" for p in self.orphans]
        if self.waiting:
            out.append(
                f"{self.waiting} message(s) waiting in the spool: `wikibridge spool reprocess`"
            )
        if self.quarantined:
            out.append(f"{self.quarantined} quarantined message(s): `wikibridge spool list`")
        problems = len(self.missing) + len(self.corrupt) + len(self.orphans) + (not self.schema_ok)
        out.append("OK" if self.ok else f"FAILED: {problems} problem(s)")
        return out


def run_check(
    engine: Engine,
    data_dir: Path,
    progress: Progress = no_progress,
    *,
    grace: float = ORPHAN_GRACE,
) -> CheckReport:
    report = CheckReport(schema.current_revision(engine), schema.quick_head_revision())
    if report.schema_revision is None:
        return report  # no tables to read
    started = time.time()
    sessions = make_sessionmaker(engine, read_only=True)
    with sessions() as session:
        report.counts = integrity.counts(session)
        raw = integrity.raw_hashes(session)
        blobs = integrity.blob_hashes(session)
    layout = Layout(data_dir)
    quarantined = set(layout.quarantined())
    report.quarantined = len(quarantined)
    report.waiting = len(layout.waiting())

    for label, hashes, where in (
        ("raw messages", raw, layout.raw),
        ("attachment blobs", blobs, layout.blob),
    ):
        with progress(label, len(hashes)) as step:
            for sha in sorted(hashes):
                _verify(where(sha), sha, report)
                step(1)
    for sha in sorted(quarantined - raw):
        _verify(layout.raw(sha), sha, report)

    raw_orphans = _unreferenced(layout.raw_dir, ".eml", raw | quarantined, started - grace)
    blob_orphans = _unreferenced(layout.blob_dir, "", blobs, started - grace)
    with sessions() as session:  # stored meanwhile?
        raw_orphans -= integrity.raw_referenced(session, raw_orphans)
        blob_orphans -= integrity.blobs_referenced(session, blob_orphans)
    leftovers = _leftovers(data_dir, started - grace)
    report.orphans = sorted(
        [str(layout.raw(sha)) for sha in raw_orphans]
        + [str(layout.blob(sha)) for sha in blob_orphans]
        + [str(p) for p in _odd_names(layout, started - grace)]
        + [str(p) for p in leftovers]
    )
    return report


def _verify(path: Path, sha: str, report: CheckReport) -> None:
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        report.missing.append(str(path))
        return
    if actual != sha:
        report.corrupt.append(str(path))


def _unreferenced(folder: Path, suffix: str, known: set[str], before: float) -> set[str]:
    out = set()
    for path in walk(folder):
        name = path.name
        if name.startswith(".") or not name.endswith(suffix):
            continue
        sha = name[: len(name) - len(suffix)] if suffix else name
        if SHA.match(sha) and sha not in known and _older(path, before):
            out.add(sha)
    return out


def _odd_names(layout: Layout, before: float) -> list[Path]:
    """Files in raw/ or blobs/ not named like a stored file (not a temporary one either)."""
    out = []
    for folder, suffix in ((layout.raw_dir, ".eml"), (layout.blob_dir, "")):
        for path in walk(folder):
            name = path.name
            if name.startswith("."):
                continue
            sha = name[: len(name) - len(suffix)] if suffix and name.endswith(suffix) else name
            odd = not SHA.match(sha) or bool(suffix and not name.endswith(suffix))
            if odd and _older(path, before):
                out.append(path)
    return out


def _leftovers(data_dir: Path, before: float) -> list[Path]:
    """Temporary files of writes that never finished (a crash, a full disk)."""
    layout = Layout(data_dir)
    folders = (layout.raw_dir, layout.blob_dir, layout.incoming_dir, layout.quarantine_dir)
    return [
        p
        for folder in folders
        for p in walk(folder)
        if p.name.startswith(".") and p.name.endswith(".tmp") and _older(p, before)
    ]


def _older(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime < before
    except FileNotFoundError:
        return False  # gone meanwhile (moved into place, or purged)
