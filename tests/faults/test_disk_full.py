"""Disk full while writing an attachment blob or the spool file: `wikibridge ingest` exits 75
(the mail server keeps the message and retries) and no half-written file is left behind.

The data directory is a real 1 MiB tmpfs (mounting needs root, as the suite runs in CI); a
second case, which needs no root, has the kernel refuse the write with a file size limit
(RLIMIT_FSIZE: EFBIG), as a full disk refuses it with ENOSPC.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import ROOT, wikibridge
from tests.databases import DatabaseFactory, in_ci
from tests.faults.conftest import show
from tests.mailbuilder import make_mail
from wikibridge.mail.spool import Spool

SIZE = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs: {mounted.stderr.decode().strip()}"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: never skip)")
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def fill(fs: Path, leave: int) -> Path:
    """Fill the filesystem until about `leave` bytes are free."""
    st = os.statvfs(fs)
    free = st.f_bavail * st.f_frsize
    filler = fs / "filler"
    filler.write_bytes(b"\0" * max(0, free - leave))
    return filler


def env_for(data: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")}
    env.update(WIKIBRIDGE_DATA_DIR=str(data), WIKIBRIDGE_DATABASE_URL=url)
    env["WIKIBRIDGE_SECRET_KEY"] = "test"
    return env


def test_disk_full_while_writing_the_attachment(
    small_fs: Path, tmp_path: Path, databases: DatabaseFactory
) -> None:
    url = databases.sqlite(tmp_path / "db" / "wikibridge.sqlite3")  # the database elsewhere
    data = small_fs / "data"
    env = env_for(data, url)
    attachment = os.urandom(300 * 1024)
    raw = make_mail(attachments=[("scan.pdf", "application/pdf", attachment)])
    # Room for the raw message (about 410 KiB in base64) but not also for the 300 KiB blob.
    filler = fill(small_fs, leave=len(raw) + 96 * 1024)
    show("before", free_kib=os.statvfs(small_fs).f_bavail * 4, raw_kib=len(raw) // 1024)

    result = wikibridge("ingest", env=env, stdin=raw)
    spool = Spool(data)
    left = files_under(data)
    show("full", exit=result.returncode, files=left)
    assert result.returncode == 75, result.stderr.decode()
    assert b"cannot write attachments" in result.stderr
    assert b"No space left on device" in result.stderr
    assert not [f for f in left if f.endswith(".tmp")], left  # no half-written blob
    assert not (data / "blobs").exists() or not files_under(data / "blobs")
    assert len(spool.pending()) == 1  # the message waits, whole, for `spool reprocess`
    assert spool.read(spool.pending()[0].sha256) == raw

    filler.unlink()
    result = wikibridge("spool", "reprocess", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"1 stored" in result.stdout
    again = wikibridge("ingest", env=env, stdin=raw)  # the mail server's retry
    show("after", reprocess=result.stdout.decode().strip(), retry=again.stdout.decode()[:9])
    assert again.returncode == 0 and again.stdout.startswith(b"duplicate")
    assert spool.pending() == []
    assert attachment in [p.read_bytes() for p in data.rglob("*") if p.is_file()]


def test_disk_full_while_writing_the_spool_file(
    small_fs: Path, tmp_path: Path, databases: DatabaseFactory
) -> None:
    url = databases.sqlite(tmp_path / "db" / "wikibridge.sqlite3")
    data = small_fs / "data"
    raw = make_mail(attachments=[("scan.pdf", "application/pdf", os.urandom(300 * 1024))])
    fill(small_fs, leave=len(raw) // 2)

    result = wikibridge("ingest", env=env_for(data, url), stdin=raw)
    left = files_under(data) if data.exists() else []
    show("full", exit=result.returncode, files=left)
    assert result.returncode == 75, result.stderr.decode()
    assert b"cannot write the spool" in result.stderr
    assert left == []  # neither a half-written message nor its details


def test_file_size_limit_while_writing_the_spool_file(
    tmp_path: Path, databases: DatabaseFactory
) -> None:
    """No root needed: the write fails with EFBIG once the file passes 64 KiB."""
    url = databases.sqlite(tmp_path / "db" / "wikibridge.sqlite3")
    data = tmp_path / "data"
    raw = make_mail(attachments=[("scan.pdf", "application/pdf", os.urandom(100 * 1024))])

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = subprocess.run(
        [sys.executable, "-m", "wikibridge", "ingest"],
        input=raw,
        env={**env_for(data, url), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        preexec_fn=limit,
    )
    left = files_under(data) if data.exists() else []
    show("limited", exit=result.returncode, files=left)
    assert result.returncode == 75, result.stderr.decode()
    assert b"File too large" in result.stderr
    assert left == []
