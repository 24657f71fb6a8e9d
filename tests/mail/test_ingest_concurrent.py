"""Many `wikibridge ingest` processes at once on PostgreSQL: nothing lost, numbers unique,
every follow-up on its ticket."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import ROOT, wikibridge
from tests.mail.listener import running_listener
from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.models import Article, Ticket
from wikibridge.tickets.numbers import is_valid

pytestmark = pytest.mark.slow


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest, databases) -> str:  # type: ignore[no-untyped-def]
    return str(databases.postgres())


def originals(n: int) -> list[tuple[str, bytes]]:
    out = []
    for i in range(n):
        mid = f"orig-{i}@example.net"
        raw = make_mail(
            sender=f"Sender {i % 97} <sender{i % 97}@example.net>",
            subject=f"Question number {i}",
            body=f"Message body {i}",
            message_id=f"<{mid}>",
        )
        out.append((mid, raw))
    return out


def follow_ups(parents: list[str], numbers: dict[str, str]) -> list[tuple[str, bytes]]:
    """Replies to some originals; half carry the [Ticket#N] hook, all the In-Reply-To."""
    out = []
    for j, parent in enumerate(parents):
        i = int(parent.split("-")[1].split("@")[0])
        hook = f"[Ticket#{numbers[parent]}] " if j % 2 == 0 else ""
        raw = make_mail(
            sender=f"Sender {i % 97} <sender{i % 97}@example.net>",
            subject=f"Re: {hook}Question number {i}",
            body=f"Follow-up {j}",
            message_id=f"<reply-{j}@example.net>",
            in_reply_to=f"<{parent}>",
        )
        out.append((parent, raw))
    return out


def ticket_numbers_by_message_id(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        rows = s.execute(
            select(Article.message_id, Ticket.number).join(Ticket, Article.ticket_id == Ticket.id)
        ).all()
    return {mid: number for mid, number in rows}


def check(sessions: sessionmaker[Session], n_orig: int, replies: list[tuple[str, bytes]]) -> None:
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == n_orig + len(replies)
        numbers = list(s.scalars(select(Ticket.number)))
    assert len(numbers) == n_orig == len(set(numbers))
    assert all(is_valid(n) for n in numbers)
    by_mid = ticket_numbers_by_message_id(sessions)
    for j, (parent, _) in enumerate(replies):
        assert by_mid[f"reply-{j}@example.net"] == by_mid[parent]


def run_mboxes(
    messages: list[bytes], tmp: Path, env: dict[str, str], processes: int = 8
) -> list[subprocess.CompletedProcess[bytes]]:
    paths = []
    for p in range(processes):
        path = tmp / f"part-{p}-{len(messages)}.mbox"
        box = mailbox.mbox(path)
        for raw in messages[p::processes]:
            box.add(raw)
        box.close()
        paths.append(path)
    with ThreadPoolExecutor(processes) as pool:
        return list(
            pool.map(lambda p: wikibridge("ingest", "--mbox", str(p), env=env, timeout=900), paths)
        )


def test_eight_importers_2000_messages(
    settings_env: dict[str, str], session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """8 `wikibridge ingest --mbox` processes fed 2,000 messages, a third of them follow-ups."""
    first = originals(1334)
    for r in run_mboxes([raw for _, raw in first], tmp_path, settings_env):
        assert r.returncode == 0, r.stderr.decode()[-2000:]
    numbers = ticket_numbers_by_message_id(session_factory)
    replies = follow_ups([mid for mid, _ in first[::2]][:666], numbers)
    for r in run_mboxes([raw for _, raw in replies], tmp_path, settings_env):
        assert r.returncode == 0, r.stderr.decode()[-2000:]
    check(session_factory, len(first), replies)


def test_eight_parallel_pipes(
    settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """One `wikibridge ingest` process per message, as a mail server runs it, 8 at a time."""
    first = originals(64)

    def pipe(raw: bytes) -> int:
        proc = subprocess.run(
            [sys.executable, "-m", "wikibridge", "ingest"],
            input=raw,
            env={**settings_env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        return proc.returncode

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(pipe, [raw for _, raw in first])) == {0}
    replies = follow_ups(
        [mid for mid, _ in first[::2]], ticket_numbers_by_message_id(session_factory)
    )
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(pipe, [raw for _, raw in replies])) == {0}
    check(session_factory, len(first), replies)


def test_eight_pipes_2000_messages_through_the_listener(
    settings: Settings, settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    """2,000 messages, a third of them follow-ups, each through its own `wikibridge ingest`
    process, 8 at once, as a mail server runs them, handed over to a running listener."""
    first = originals(1334)
    env = {**settings_env, "PYTHONPATH": str(ROOT)}

    def pipe(raw: bytes) -> tuple[int, bytes]:
        proc = subprocess.run(
            [sys.executable, "-m", "wikibridge", "ingest"],
            input=raw,
            env=env,
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        return proc.returncode, proc.stderr

    def pipe_all(mails: list[bytes]) -> None:
        with ThreadPoolExecutor(8) as pool:
            failed = [err for code, err in pool.map(pipe, mails) if code]
        assert failed == [], failed[0].decode()[-2000:]

    with running_listener(settings_env, settings.data_dir) as listener:
        pipe_all([raw for _, raw in first])
        replies = follow_ups(
            [mid for mid, _ in first[::2]][:666], ticket_numbers_by_message_id(session_factory)
        )
        pipe_all([raw for _, raw in replies])
        assert "handoff: stored" in listener.stderr_text  # they went through the listener
    check(session_factory, len(first), replies)
