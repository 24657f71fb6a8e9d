"""The mail spool: raw messages on disk before the database knows them.

- ``spool/incoming/<sha>.eml``: a message on disk, not yet stored in the database. Written and
  fsync'd before the database commit, moved to ``raw/`` after it; so a message whose store
  failed (database down) is found again by ``wikibridge spool reprocess``. A ``<sha>.json``
  beside it keeps the delivery's details (source, requested queue).
- ``raw/``: every message stored, content-addressed (an article points at it by SHA-256).
- ``spool/quarantine/<sha>.json``: a message that could not be parsed or stored for a reason
  that retrying will not fix; the reason is in the file, the raw bytes are in ``raw/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from wikibridge.files import ContentStore, fsync_dir, sha256_hex, write_durably


@dataclass
class SpoolEntry:
    sha256: str
    received_at: str
    source: str = "pipe"  # pipe, lmtp, imap:<mailbox>, reprocess
    queue: str = ""  # queue requested by the delivery (--queue, the mailbox's queue)
    reason: str = ""  # quarantine only


class Spool:
    def __init__(self, data_dir: Path) -> None:
        self.raw = ContentStore(data_dir / "raw", ".eml")
        self.incoming = data_dir / "spool" / "incoming"
        self.quarantine_dir = data_dir / "spool" / "quarantine"
        self._incoming_ready = False

    def accept(self, raw: bytes, *, source: str, queue: str = "", sync: bool = True) -> SpoolEntry:
        """Put the raw bytes durably on disk (raises OSError if that fails).

        With sync=False the file is fsync'd but not its directory entry: the caller calls
        :meth:`sync` once for a batch before acknowledging any message of it.
        """
        sha = sha256_hex(raw)
        entry = SpoolEntry(
            sha256=sha, received_at=datetime.now(UTC).isoformat(), source=source, queue=queue
        )
        if self.raw.exists(sha):
            return entry  # stored before: the database decides whether it is a duplicate
        # The details are written without fsync: after a power cut they may be missing, and
        # the message is then routed by the rules alone. The message itself is fsync'd.
        if not self._incoming_ready:
            self.incoming.mkdir(parents=True, exist_ok=True)
            self._incoming_ready = True
        details = self.incoming / f"{sha}.json"
        try:
            details.write_text(json.dumps(asdict(entry)))
            write_durably(self.incoming / f"{sha}.eml", raw, sync_dir=sync, make_dirs=False)
        except OSError:
            # Disk full (or the like): the sender's server keeps the message; leave no orphan.
            details.unlink(missing_ok=True)
            raise
        return entry

    def sync(self) -> None:
        if self.incoming.exists():
            fsync_dir(self.incoming)

    def read(self, sha256: str) -> bytes:
        try:
            return (self.incoming / f"{sha256}.eml").read_bytes()
        except FileNotFoundError:
            return self.raw.get(sha256)

    def done(self, entry: SpoolEntry) -> None:
        """The database holds the message now: move it from incoming to the raw store.

        No fsync: if the move is lost in a crash the message is reprocessed, which finds the
        article by its hash and only moves the file.
        """
        source = self.incoming / f"{entry.sha256}.eml"
        target = self.raw.path(entry.sha256)
        try:
            os.replace(source, target)
        except FileNotFoundError:
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        (self.incoming / f"{entry.sha256}.json").unlink(missing_ok=True)

    def quarantine(self, entry: SpoolEntry, reason: str) -> None:
        entry.reason = reason[:2000]
        write_durably(
            self.quarantine_dir / f"{entry.sha256}.json", json.dumps(asdict(entry)).encode()
        )
        self.done(entry)

    def release(self, sha256: str) -> SpoolEntry | None:
        """Move a quarantined message back to incoming, for another try."""
        path = self.quarantine_dir / f"{sha256}.json"
        entry = _read(path)
        if entry is None:
            return None
        entry.reason = ""
        self.incoming.mkdir(parents=True, exist_ok=True)
        (self.incoming / f"{sha256}.json").write_text(json.dumps(asdict(entry)))
        write_durably(self.incoming / f"{sha256}.eml", self.raw.get(sha256))
        path.unlink(missing_ok=True)
        return entry

    def pending(self) -> list[SpoolEntry]:
        """Messages waiting in incoming, oldest first."""
        try:
            names = os.listdir(self.incoming)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if not name.endswith(".eml") or name.startswith("."):
                continue
            sha = name[: -len(".eml")]
            entry = _read(self.incoming / f"{sha}.json")
            if entry is None:  # details lost: the message alone is enough
                mtime = (self.incoming / name).stat().st_mtime
                received = datetime.fromtimestamp(mtime, UTC).isoformat()
                entry = SpoolEntry(sha256=sha, received_at=received, source="unknown")
            out.append(entry)
        out.sort(key=lambda e: e.received_at)
        return out

    def quarantined(self) -> list[SpoolEntry]:
        return _entries(self.quarantine_dir)

    def count(self, which: str) -> int:
        folder = self.incoming if which == "incoming" else self.quarantine_dir
        suffix = ".eml" if which == "incoming" else ".json"
        try:
            return sum(1 for n in os.listdir(folder) if n.endswith(suffix) and n[0] != ".")
        except FileNotFoundError:
            return 0


def _entries(folder: Path) -> list[SpoolEntry]:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        if name.endswith(".json") and not name.startswith("."):
            entry = _read(folder / name)
            if entry is not None:
                out.append(entry)
    out.sort(key=lambda e: e.received_at)
    return out


def _read(path: Path) -> SpoolEntry | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return SpoolEntry(**{k: v for k, v in data.items() if k in SpoolEntry.__dataclass_fields__})
