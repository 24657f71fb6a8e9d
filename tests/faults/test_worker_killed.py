"""A worker process killed with SIGKILL between the database commit of its claim and the SMTP
send or the wiki edit, and after the edit before its outcome is recorded: after a restart and
the end of the dead worker's lease there is exactly one mail and exactly one edit.

(Killed after the SMTP server accepted a mail but before the outcome is committed, the job runs
again and the mail goes out twice, with the same Message-ID: delivery is at least once; see
wikibridge/jobs/worker.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import ROOT
from tests.faults.conftest import show
from tests.jobs.conftest import queue_reply
from tests.smtpserver import SmtpServer, smtp_server  # noqa: F401 - fixture
from tests.testwiki import TestWiki
from tests.wiki.actions_world import World
from tests.wiki.test_actions import PENDING
from wikibridge.config import Settings
from wikibridge.models import OutboxJob

LEASE = 2.0


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest, databases) -> str:  # type: ignore[no-untyped-def]
    """PostgreSQL, where several workers on several machines share the outbox."""
    return str(databases.postgres())


def run_worker(env: dict[str, str], tmp_path: Path, pause: str = "") -> str:
    """One worker pass in a new process; with `pause`, SIGKILL it at that point."""
    marker = tmp_path / f"paused-{pause or 'none'}-{time.monotonic_ns()}"
    env = {
        **env,
        "PYTHONPATH": str(ROOT),
        "FAULT_PAUSE": pause,
        "FAULT_MARKER": str(marker),
        "FAULT_LEASE": str(LEASE),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.worker_process"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if not pause:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        return out.decode().strip()
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"never reached {pause}: {proc.communicate()[1].decode()[-2000:]}")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return ""


def jobs(sessions: sessionmaker[Session]) -> list[OutboxJob]:
    with sessions() as s:
        return list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))


def wait_for_the_lease() -> None:
    time.sleep(LEASE + 0.3)


def test_killed_after_the_claim_before_the_smtp_send(
    settings: Settings,
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    reply = queue_reply(session_factory, settings)
    env = {
        **settings_env,
        "WIKIBRIDGE_SMTP_HOST": "127.0.0.1",
        "WIKIBRIDGE_SMTP_PORT": str(smtp_server.port),
    }
    show("before", mails=len(smtp_server.received), job=jobs(session_factory)[0].state)

    run_worker(env, tmp_path, pause="before_send")
    [job] = jobs(session_factory)
    show("killed", mails=len(smtp_server.received), job=job.state, attempts=job.attempts)
    assert (job.state, job.attempts) == ("running", 1)
    assert smtp_server.received == []

    wait_for_the_lease()
    assert json.loads(run_worker(env, tmp_path)) == {"done": 1}
    assert json.loads(run_worker(env, tmp_path)) == {}
    [job] = jobs(session_factory)
    show("after", mails=len(smtp_server.received), job=job.state, attempts=job.attempts)
    assert (job.state, job.attempts) == ("done", 2)
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message["Message-ID"].strip() == f"<{reply.message_id}>"


@pytest.mark.parametrize("pause", ["before_edit", "after_edit"])
def test_killed_around_the_wiki_edit(
    test_wiki: TestWiki,
    settings: Settings,
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    pause: str,
) -> None:
    world = World.build(test_wiki, settings, session_factory)
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title)
    alice = test_wiki.account("Alice")
    env = {**settings_env, "FAULT_LOGINS": json.dumps({"Alice": alice_login(alice)})}
    before = len(test_wiki.revisions(title))
    show("before", revisions=before, action=action.state)

    run_worker(env, tmp_path, pause=pause)
    saved = len(test_wiki.revisions(title)) - before
    show("killed", revisions=before + saved, action=world.action(action.id).state)
    assert saved == (1 if pause == "after_edit" else 0)
    assert world.action(action.id).state == "queued"

    wait_for_the_lease()
    assert json.loads(run_worker(env, tmp_path)) == {"done": 1}
    done = world.action(action.id)
    show("after", revisions=len(test_wiki.revisions(title)), action=done.state, note=done.error)
    assert done.state == "done"
    assert len(test_wiki.revisions(title)) == before + 1
    assert done.revision_after == test_wiki.revisions(title)[0]["revid"]
    text = test_wiki.page_text(title) or ""
    assert text.count(f"{{{{PermissionTicket|id={number}|user=Alice}}}}") == 1
    if pause == "after_edit":
        assert done.error == "saved by an earlier attempt"


def alice_login(account) -> list[str]:  # type: ignore[no-untyped-def]
    return [account.bot_username, account.bot_password]
