"""The files a purge leaves without a reference, removed after its commit.

Content-addressed files are shared: the same attachment in two tickets is one blob. A file is
removed only when, after the purge is committed, no row points at it any more (and, for a raw
message, no quarantine entry). Should the database commit fail, nothing was removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from wikibridge.store import integrity

from .files import Layout


@dataclass(frozen=True)
class RemovedFiles:
    raw: int
    blobs: int


def remove_unreferenced(
    session: Session, data_dir: Path, raw: set[str], blobs: set[str]
) -> RemovedFiles:
    layout = Layout(data_dir)
    keep_raw = integrity.raw_referenced(session, raw) | set(layout.quarantined())
    keep_blobs = integrity.blobs_referenced(session, blobs)
    removed_raw = sum(_unlink(layout.raw(sha)) for sha in sorted(raw - keep_raw))
    removed_blobs = sum(_unlink(layout.blob(sha)) for sha in sorted(blobs - keep_blobs))
    return RemovedFiles(removed_raw, removed_blobs)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
