"""The mail spool: raw messages on disk before the database knows them.

- ``raw/``: every message ever received, content-addressed (an article points at it).
- ``spool/incoming/<sha>.json``: a message that is on disk but not yet stored in the database.
  Written before the database commit and removed after it, so a message whose store failed
  (database down) is found again by ``wikibridge spool reprocess``.
- ``spool/quarantine/<sha>.json``: a message that could not be parsed or stored for a reason
  that retrying will not fix; the reason is in the file, the raw bytes stay in ``raw/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from wikibridge.files import ContentStore, sha256_hex, write_durably


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

    def accept(self, raw: bytes, *, source: str, queue: str = "") -> SpoolEntry:
        """Put the raw bytes and an 'incoming' marker durably on disk (raises OSError if not)."""
        sha = self.raw.put(raw, sha256_hex(raw))
        entry = SpoolEntry(
            sha256=sha, received_at=datetime.now(UTC).isoformat(), source=source, queue=queue
        )
        write_durably(self.incoming / f"{sha}.json", json.dumps(asdict(entry)).encode())
        return entry

    def done(self, entry: SpoolEntry) -> None:
        """The database holds the message now; a leftover marker would only be reprocessed."""
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
        write_durably(self.incoming / f"{sha256}.json", json.dumps(asdict(entry)).encode())
        path.unlink(missing_ok=True)
        return entry

    def pending(self) -> list[SpoolEntry]:
        return _entries(self.incoming)

    def quarantined(self) -> list[SpoolEntry]:
        return _entries(self.quarantine_dir)

    def count(self, which: str) -> int:
        folder = self.incoming if which == "incoming" else self.quarantine_dir
        try:
            return sum(1 for name in os.listdir(folder) if name.endswith(".json"))
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
