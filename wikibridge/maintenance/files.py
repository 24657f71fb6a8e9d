"""The files of a data directory, laid out the same way in a backup.

- ``raw/ab/cd/<sha>.eml``: raw messages an article (or a quarantine entry) points at;
- ``blobs/ab/cd/<sha>``: attachment blobs;
- ``spool/incoming/<sha>.eml`` (+ ``.json``): messages accepted but not yet in the database;
- ``spool/quarantine/<sha>.json``: why a message (in ``raw/``) could not be stored.

Every file is named by the SHA-256 of its content, so a copy is checked by hashing it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wikibridge.files import fsync_dir

SHA = re.compile(r"^[0-9a-f]{64}$")
READ_CHUNK = 1024 * 1024


class Progress(Protocol):
    """Shows progress of `length` steps; the context yields a function taking steps done."""

    def __call__(
        self, label: str, length: int
    ) -> AbstractContextManager[Callable[[int], None]]: ...


def no_progress(label: str, length: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda _n: None)


@dataclass(frozen=True)
class Layout:
    """Where the files are under a data directory or a backup."""

    root: Path

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def blob_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def incoming_dir(self) -> Path:
        return self.root / "spool" / "incoming"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "spool" / "quarantine"

    def raw(self, sha: str) -> Path:
        return self.raw_dir / sha[:2] / sha[2:4] / f"{sha}.eml"

    def blob(self, sha: str) -> Path:
        return self.blob_dir / sha[:2] / sha[2:4] / sha

    def incoming(self, sha: str) -> Path:
        return self.incoming_dir / f"{sha}.eml"

    def quarantined(self) -> list[str]:
        """The hashes of the quarantined messages."""
        return sorted(
            name[: -len(".json")]
            for name in _names(self.quarantine_dir)
            if name.endswith(".json") and SHA.match(name[: -len(".json")])
        )

    def waiting(self) -> list[str]:
        """The hashes of the messages waiting in spool/incoming."""
        return sorted(
            name[: -len(".eml")]
            for name in _names(self.incoming_dir)
            if name.endswith(".eml") and SHA.match(name[: -len(".eml")])
        )

    def holds_mail(self) -> list[str]:
        """The folders of this layout that hold any file (for "is it empty?")."""
        folders = (self.raw_dir, self.blob_dir, self.incoming_dir, self.quarantine_dir)
        return [str(f) for f in folders if any(p.is_file() for p in _walk(f))]


def walk(folder: Path) -> Iterator[Path]:
    """Every file under `folder` (none when it does not exist)."""
    return _walk(folder)


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            yield Path(dirpath) / name


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    """Copy durably (temporary name, fsync, rename); return the content's SHA-256 and size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    size = 0
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(READ_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def sync_tree(folder: Path) -> None:
    """fsync every directory under `folder`, so the renamed files' entries are on disk."""
    for dirpath, _dirs, _names in os.walk(folder):
        fsync_dir(Path(dirpath))
