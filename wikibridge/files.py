"""Durable, content-addressed files: raw mail and attachment blobs.

A file is written to a temporary name in its final directory, fsync'd, renamed into place and
the directory fsync'd, so after a crash it is either whole or absent. The name is the SHA-256
of the content, so the same bytes are stored once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(path: Path) -> None:
    """fsync a directory (its entries), or a file opened read-only."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(
    path: Path, data: bytes, *, sync_dir: bool = True, make_dirs: bool = True
) -> None:
    """Write `data` to `path` atomically and durably (replacing any file there).

    sync_dir=False leaves the directory's fsync to the caller, who batches it.
    """
    if make_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)  # no half-written orphan, e.g. when the disk is full
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


class ContentStore:
    """Files named by their SHA-256 under ``root/ab/cd/<sha256><suffix>``."""

    def __init__(self, root: Path, suffix: str = "") -> None:
        self.root = root
        self.suffix = suffix
        self._known_dirs: set[Path] = set()

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{self.suffix}"

    def put(
        self,
        data: bytes,
        sha256: str | None = None,
        *,
        new_dirs: set[Path] | None = None,
        synced: bool = True,
        verify: bool = False,
    ) -> str:
        """Store the bytes (once).

        - `new_dirs`: the folder of a new file is added to it instead of being fsync'd; the
          caller syncs each folder once before relying on it.
        - synced=False: no fsync at all, for bytes that a durable copy elsewhere keeps until
          the file system is synced (a spool journal holds the message they come from).
        - verify: a file already there is checked and made durable (recovery after a crash).
        """
        sha256 = sha256 or sha256_hex(data)
        path = self.path(sha256)
        if verify and path.exists():
            if sha256_hex(path.read_bytes()) == sha256:
                fsync_dir(path)  # opens the file read-only and syncs it
                fsync_dir(path.parent)
                return sha256
        elif path.exists():
            return sha256
        if not synced:
            self.write_unsynced(sha256, data)
            return sha256
        self._ensure_dir(path.parent)
        write_durably(path, data, make_dirs=False, sync_dir=new_dirs is None)
        if new_dirs is not None:
            new_dirs.add(path.parent)
        return sha256

    def _ensure_dir(self, folder: Path) -> None:
        # Once per folder and process: a mkdir per message is a system call on the hot path.
        if folder not in self._known_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            self._known_dirs.add(folder)

    def write_unsynced(self, sha256: str, data: bytes) -> None:
        """Write a file whole (renamed into place) but without fsync: for bytes that another
        durable copy keeps until the caller syncs the file system (a spool journal)."""
        path = self.path(sha256)
        self._ensure_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()
