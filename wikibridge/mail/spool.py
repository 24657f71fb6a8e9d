"""The mail spool: raw messages on disk before the database knows them.

- ``spool/incoming/<sha>.eml``: a message on disk, not yet stored in the database. Written and
  fsync'd before the database commit, moved to ``raw/`` after it; so a message whose store
  failed (database down) is found again by ``wikibridge spool reprocess``. A ``<sha>.json``
  beside it keeps the delivery's details (source, requested queue).
- ``raw/``: every message stored, content-addressed (an article points at it by SHA-256).
- ``spool/quarantine/<sha>.json``: a message that could not be parsed or stored for a reason
  that retrying will not fix; the reason is in the file, the raw bytes are in ``raw/``.
- ``spool/journal/<id>-<n>.open``: a batch of n messages (a listener's group commit) in one
  file, fsync'd once before the database commit: one fsync per message cost more than all the
  rest of storing it. After the commit each message is written to ``raw/`` without an fsync
  and the journal is renamed ``.done``; a checkpoint (:meth:`Spool.checkpoint`: one sync of
  the file system for many batches) makes those files durable and deletes the journals. After
  a crash, :meth:`Spool.pending` turns ``.open`` journals back into messages in ``incoming/``,
  and `spool reprocess` rewrites from ``.done`` ones any raw file or attachment the crash
  took (``Ingestor.recover_journals``), so nothing is lost either way.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Sequence
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
        self.journal_dir = data_dir / "spool" / "journal"
        self._incoming_ready = False
        self._journal_ready = False
        self._closed: list[Path] = []  # closed journals of this process, for the checkpoint

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

    def accept_batch(
        self,
        raws: Sequence[bytes],
        *,
        source: str,
        queue: str = "",
        details: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[list[SpoolEntry], Path | None]:
        """Put several messages durably on disk with one fsync: in one journal file.

        ``details``: each message's (source, queue) when they differ (a listener's batch mixes
        LMTP deliveries and pipe handoffs, each asking for its own queue); else ``source`` and
        ``queue`` hold for all. Returns the entries and the journal (None when every message
        was in ``raw/`` before). The caller passes each message's bytes to :meth:`done` once it
        is stored, then the journal to :meth:`close_journal`.
        """
        now = datetime.now(UTC).isoformat()
        if details is None:
            details = [(source, queue)] * len(raws)
        entries = [
            SpoolEntry(sha256_hex(r), now, src, q)
            for r, (src, q) in zip(raws, details, strict=True)
        ]
        parts: list[bytes] = []
        for entry, raw in zip(entries, raws, strict=True):
            if not self.raw.exists(entry.sha256):
                parts += [json.dumps({**asdict(entry), "size": len(raw)}).encode(), b"\n", raw]
        if not parts:
            return entries, None
        if not self._journal_ready:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            self._journal_ready = True
        path = self.journal_dir / f"{uuid.uuid4().hex}-{len(parts) // 3}.open"
        write_durably(path, b"".join(parts), make_dirs=False)
        return entries, path

    def close_journal(self, path: Path | None) -> None:
        """Every message of the journal is stored (or quarantined): it waits for a checkpoint."""
        if path is None:
            return
        done = path.with_suffix(".done")
        try:
            os.replace(path, done)
        except FileNotFoundError:
            return  # `spool reprocess` took it over meanwhile
        self._closed.append(done)

    def checkpoint(self) -> None:
        """Make the files written after the commits of this process's journals durable (one
        sync of the file system for many batches), then delete those journals."""
        if self._closed:
            os.sync()
            for path in self._closed:
                path.unlink(missing_ok=True)
            self._closed.clear()

    def _journals(self, suffix: str) -> list[Path]:
        try:
            names = os.listdir(self.journal_dir)
        except FileNotFoundError:
            return []
        return [self.journal_dir / n for n in names if n.endswith(suffix)]

    def _recover_journals(self) -> None:
        """Messages of open journals (a batch that failed, or a crash before its commit) go
        back to incoming/, where reprocessing finds them."""
        for path in self._journals(".open"):
            for entry, raw in _journal_records(path):
                if not (self.incoming / f"{entry.sha256}.eml").exists():
                    self.incoming.mkdir(parents=True, exist_ok=True)
                    write_durably(
                        self.incoming / f"{entry.sha256}.json",
                        json.dumps(asdict(entry)).encode(),
                        sync_dir=False,
                    )
                    write_durably(self.incoming / f"{entry.sha256}.eml", raw, sync_dir=False)
            self.sync()
            path.unlink(missing_ok=True)

    def closed_journals(self) -> Iterator[tuple[Path, list[tuple[SpoolEntry, bytes]]]]:
        """Closed journals that no checkpoint of this process covers: their process stopped
        without one (a crash), so the files written after their commit may be missing."""
        for path in self._journals(".done"):
            if path not in self._closed:
                yield path, list(_journal_records(path))

    def read(self, sha256: str) -> bytes:
        try:
            return (self.incoming / f"{sha256}.eml").read_bytes()
        except FileNotFoundError:
            return self.raw.get(sha256)

    def done(self, entry: SpoolEntry, raw: bytes | None = None) -> None:
        """The database holds the message now: move it from incoming to the raw store.

        No fsync: if the move is lost in a crash the message is reprocessed, which finds the
        article by its hash and only moves the file. With `raw` the message came in a journal
        (:meth:`accept_batch`): its bytes are written to the raw store, again without an fsync,
        as the journal keeps them until a checkpoint.
        """
        target = self.raw.path(entry.sha256)
        if raw is not None:
            if not target.exists():
                self.raw.write_unsynced(entry.sha256, raw)
            return
        source = self.incoming / f"{entry.sha256}.eml"
        try:
            os.replace(source, target)
        except FileNotFoundError:
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        (self.incoming / f"{entry.sha256}.json").unlink(missing_ok=True)

    def quarantine(self, entry: SpoolEntry, reason: str, raw: bytes | None = None) -> None:
        """Keep a message aside with the reason (`raw`: it came in a journal, see :meth:`done`)."""
        entry.reason = reason[:2000]
        write_durably(
            self.quarantine_dir / f"{entry.sha256}.json", json.dumps(asdict(entry)).encode()
        )
        self.done(entry, raw)

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
        """Messages waiting in incoming, oldest first (those of journals left open included)."""
        self._recover_journals()
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
            count = sum(1 for n in os.listdir(folder) if n.endswith(suffix) and n[0] != ".")
        except FileNotFoundError:
            count = 0
        if which == "incoming":  # an open journal's name ends with its number of messages
            count += sum(int(p.stem.rsplit("-", 1)[-1]) for p in self._journals(".open"))
        return count


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


def _journal_records(path: Path) -> Iterator[tuple[SpoolEntry, bytes]]:
    """The messages of a journal; a torn end (a crash while writing it) is ignored: those
    messages were never acknowledged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            return
        try:
            head = json.loads(data[pos:end])
            size = int(head.pop("size"))
        except (ValueError, KeyError, TypeError):
            return
        raw = data[end + 1 : end + 1 + size]
        if len(raw) != size:
            return
        fields = {k: v for k, v in head.items() if k in SpoolEntry.__dataclass_fields__}
        yield SpoolEntry(**fields), raw
        pos = end + 1 + size


def _read(path: Path) -> SpoolEntry | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return SpoolEntry(**{k: v for k, v in data.items() if k in SpoolEntry.__dataclass_fields__})
