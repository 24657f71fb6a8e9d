"""The acceptance test of issue 6's backup: taken while four ingest processes and a worker run,
restored into a fresh database, it equals the source at the backup's point in time, and
`wikibridge check` passes on the restore. On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import mailbox
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.cli import ROOT, wikibridge
from tests.databases import DatabaseFactory
from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.db import make_engine
from wikibridge.maintenance.backup import run_backup
from wikibridge.models import Article, Attachment, Ticket

from .test_backup import fresh_target

pytestmark = pytest.mark.slow

PROCESSES = 4
PER_PROCESS = 500  # five commits each (ingest --mbox commits every 100 messages)


def write_mboxes(folder: Path) -> list[Path]:
    paths = []
    for p in range(PROCESSES):
        path = folder / f"part{p}.mbox"
        box = mailbox.mbox(path)
        for i in range(PER_PROCESS):
            files = [(f"scan-{p}-{i}.pdf", "application/pdf", f"%PDF scan {p} {i}".encode())]
            raw = make_mail(
                sender=f"Sender {i} <sender{p}-{i}@example.net>",
                subject=f"Permission {p}-{i}",
                body=f"Body of message {p}-{i}",
                message_id=f"<m{p}-{i}@example.net>",
                attachments=files if i % 3 == 0 else None,
            )
            box.add(raw)
        box.close()
        paths.append(path)
    return paths


def spawn(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "wikibridge", *args],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def count_articles(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Article)) or 0)


def rows(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    """The rows the backup must reproduce exactly (ingest never changes them later)."""
    with Session(engine) as s:
        return {
            "tickets": set(
                s.execute(select(Ticket.id, Ticket.number, Ticket.title, Ticket.queue_id)).all()
            ),
            "articles": set(
                s.execute(
                    select(Article.id, Article.ticket_id, Article.raw_sha256, Article.message_id)
                ).all()
            ),
            "attachments": set(
                s.execute(
                    select(Attachment.id, Attachment.article_id, Attachment.blob_sha256)
                ).all()
            ),
        }


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_under_load_restores_to_its_point_in_time(
    settings: Settings,
    settings_env: dict[str, str],
    databases: DatabaseFactory,
    tmp_path: Path,
) -> None:
    mboxes = write_mboxes(tmp_path)
    total = PROCESSES * PER_PROCESS
    source = make_engine(settings.database_url)
    worker = spawn(settings_env, "worker", "--interval", "0.2", log=tmp_path / "worker.log")
    ingesters = [
        spawn(settings_env, "ingest", "--mbox", str(m), log=tmp_path / f"ingest{i}.log")
        for i, m in enumerate(mboxes)
    ]
    try:
        # As soon as the first batch is committed: the others are still on their way.
        deadline = time.monotonic() + 120
        while count_articles(source) == 0:
            assert time.monotonic() < deadline, "ingest stored nothing in 120 s"
            assert all(p.poll() in (None, 0) for p in ingesters)
            time.sleep(0.05)
        # `wikibridge backup`'s own code, in this process: a new process would take longer to
        # start than the importers take to store everything. The command is tested in
        # test_backup.py.
        dest = tmp_path / "backup"
        made = run_backup(source, settings.data_dir, dest)
        assert made.problems == []
        running_at_end_of_backup = sum(p.poll() is None for p in ingesters)
        for p in ingesters:
            assert p.wait(timeout=300) == 0, (tmp_path / "ingest0.log").read_text()
    finally:
        for p in ingesters:
            if p.poll() is None:
                p.kill()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()

    manifest = json.loads((dest / "manifest.json").read_text())
    counts = manifest["counts"]
    final = rows(source)
    assert len(final["articles"]) == total  # nothing lost by the load itself
    # The backup was taken in the middle of the load.
    assert 0 < counts["articles"] < total, (counts, running_at_end_of_backup)

    target = fresh_target(settings, settings_env, databases, tmp_path / "restored")
    restored = wikibridge("restore", str(dest), env=target, timeout=300)
    assert restored.returncode == 0, restored.stdout.decode() + restored.stderr.decode()
    check = wikibridge("check", env=target)
    assert check.returncode == 0, check.stdout.decode()

    copy = make_engine(target["WIKIBRIDGE_DATABASE_URL"])
    try:
        back = rows(copy)
    finally:
        copy.dispose()
        source.dispose()
    # Counts equal the manifest, the source's state at the backup's point in time ...
    for name in ("tickets", "articles", "attachments"):
        assert len(back[name]) == counts[name], name
        # ... every row of the restore exists identically in the source ...
        assert back[name] <= final[name], name
    # ... no article without its ticket, no attachment without its article (one point in time).
    assert {a[1] for a in back["articles"]} <= {t[0] for t in back["tickets"]}
    assert {a[1] for a in back["attachments"]} <= {a[0] for a in back["articles"]}
    # ... and every raw message's hash equals the source's file.
    raw = {a[2] for a in back["articles"]}
    assert raw == set(manifest["files"]["raw"])
    data, restored_data = settings.data_dir, Path(target["WIKIBRIDGE_DATA_DIR"])
    for sha in raw:
        rel = Path("raw", sha[:2], sha[2:4], f"{sha}.eml")
        assert sha_of(restored_data / rel) == sha_of(data / rel) == sha
    for sha in manifest["files"]["blobs"]:
        rel = Path("blobs", sha[:2], sha[2:4], sha)
        assert sha_of(restored_data / rel) == sha_of(data / rel) == sha
