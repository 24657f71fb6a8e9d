"""`wikibridge purge`: a dry run by default, bounded, never a cited ticket, audited; a purged
number stays reserved and verification says "removed"."""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from wikibridge import verify
from wikibridge.config import Settings
from wikibridge.models import Article, Attachment, AuditEvent, OutboxJob, Ticket, WikiAction
from wikibridge.store import integrity
from wikibridge.tickets import states

from .conftest import SHARED, Archive, close, run


def snapshot(sessions: sessionmaker[Session], data_dir: Path) -> tuple[object, ...]:
    """Everything a purge could change: rows and files."""
    with sessions() as s:
        rows = (
            integrity.counts(s),
            sorted((t.number, t.title, t.purged_at, t.removed_at) for t in s.query(Ticket)),
        )
    files = sorted(str(p) for p in data_dir.rglob("*") if p.is_file())
    return rows, files


def cite(sessions: sessionmaker[Session], number: str, *, by_id: bool = True) -> None:
    with sessions.begin() as s:
        ticket = s.query(Ticket).filter_by(number=number).one()
        s.add(
            WikiAction(
                ticket_id=ticket.id if by_id else None,
                ticket_number=number,
                kind="permission",
                wiki="commons",
                page="File:Photo.jpg",
                state="done" if by_id else "refused",
            )
        )


def test_without_execute_nothing_changes_and_the_output_lists_what_would_go(
    archive: Archive,
    session_factory: sessionmaker[Session],
    settings: Settings,
    settings_env: dict[str, str],
) -> None:
    old = archive.numbers[:3]
    close(session_factory, old, days_ago=400)
    close(session_factory, archive.numbers[3:5], days_ago=10)  # closed, but recently
    before = snapshot(session_factory, settings.data_dir)
    result = run(settings_env, "purge", "--older-than", "365", "--allow-large")
    assert result.exit_code == 0, result.output
    assert "would purge 3 of 10 ticket(s)" in result.output
    listed = {line.strip() for line in result.output.splitlines() if line.startswith("  ")}
    assert listed == set(old)
    assert "dry run: nothing was changed" in result.output
    assert snapshot(session_factory, settings.data_dir) == before


def test_a_purge_over_the_configured_share_is_refused(
    archive: Archive,
    session_factory: sessionmaker[Session],
    settings: Settings,
    settings_env: dict[str, str],
) -> None:
    close(session_factory, archive.numbers[:2], days_ago=400)  # 20 % > the default 10 %
    before = snapshot(session_factory, settings.data_dir)
    for extra in ((), ("--execute",)):
        result = run(settings_env, "purge", "--before", "2030-01-01", *extra)
        assert result.exit_code == 1
        assert "more than tickets.purge_max_share (10.0%)" in result.output
        assert "--allow-large" in result.output
    assert snapshot(session_factory, settings.data_dir) == before
    # A configured larger share lets it through.
    env = {**settings_env, "WIKIBRIDGE_TICKETS_PURGE_MAX_SHARE": "0.25"}
    assert run(env, "purge", "--before", "2030-01-01", "--execute").exit_code == 0
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Ticket.purged_at.is_not(None))) == 2


def test_execute_purges_content_keeps_numbers_files_in_use_and_cited_tickets(
    archive: Archive,
    session_factory: sessionmaker[Session],
    settings: Settings,
    settings_env: dict[str, str],
) -> None:
    n = archive.numbers
    # 0 shares a blob with 2; 2 is cited by a done action, 3 by a refused one (number only);
    # 4 has a reply waiting in the outbox; 5 was merged into 0; 6 is open but old.
    close(session_factory, n[:5], days_ago=400)
    cite(session_factory, n[2])
    cite(session_factory, n[3], by_id=False)
    with session_factory.begin() as s:
        t4 = s.query(Ticket).filter_by(number=n[4]).one()
        s.add(OutboxJob(kind="send_mail", ticket_id=t4.id, payload={}))
        t0 = s.query(Ticket).filter_by(number=n[0]).one()
        t5 = s.query(Ticket).filter_by(number=n[5]).one()
        t5.state, t5.merged_into_id = states.MERGED, t0.id
    with session_factory() as s:
        shared_blobs = set(s.scalars(select(Attachment.blob_sha256)))
        raw_of = dict(
            s.execute(
                select(Ticket.number, Article.raw_sha256).join(
                    Article, Article.ticket_id == Ticket.id
                )
            ).all()
        )

    dry = run(settings_env, "purge", "--older-than", "30", "--allow-large")
    assert "would purge 3 of 10" in dry.output  # 0, 1 and 5 (riding with 0)
    assert f"kept, cited by an on-wiki action: 2 ({n[2]}, {n[3]})" in dry.output
    assert f"kept, with outbox work waiting: 1 ({n[4]})" in dry.output

    result = run(settings_env, "purge", "--older-than", "30", "--allow-large", "--execute")
    assert result.exit_code == 0, result.output
    assert "purged 3 ticket(s): 3 article(s), 4 attachment(s)" in result.output

    purged = {n[0], n[1], n[5]}
    with session_factory() as s:
        for t in s.query(Ticket):
            if t.number in purged:
                assert t.purged_at is not None and t.removed_at is not None and t.title == ""
            else:
                assert t.purged_at is None and t.title.startswith("Permission for photo")
        left = set(s.scalars(select(Ticket.number).join(Article, Article.ticket_id == Ticket.id)))
        assert left == set(n) - purged
        remaining_blobs = set(s.scalars(select(Attachment.blob_sha256)))
        events = s.query(AuditEvent).filter(AuditEvent.action == "ticket_purged").count()
        summary = s.query(AuditEvent).filter(AuditEvent.action == "tickets_purged").one()
        facts = {x: verify.ticket_facts(s, x) for x in n}
    assert events == 3
    assert sorted(summary.detail["numbers"]) == sorted(purged)
    assert summary.detail["kept_cited"] == 2
    # Files: the purged raw messages are gone; blobs still used by others stay.
    for number in n:
        assert settings.data_dir.joinpath(
            "raw", raw_of[number][:2], raw_of[number][2:4], f"{raw_of[number]}.eml"
        ).exists() == (number not in purged)
    assert sha256(SHARED[2]).hexdigest() in remaining_blobs
    for sha in shared_blobs:
        on_disk = (settings.data_dir / "blobs" / sha[:2] / sha[2:4] / sha).exists()
        assert on_disk == (sha in remaining_blobs)
    # The numbers stay reserved: verification says removed, not "no such ticket".
    for number in purged:
        assert facts[number].exists and facts[number].status == "removed"
    assert facts[n[2]].status == "closed" and len(facts[n[2]].actions) == 1
    # And the system is consistent afterwards.
    check = run(settings_env, "check")
    assert check.exit_code == 0, check.output


def test_a_cited_ticket_survives_every_purge(
    archive: Archive,
    session_factory: sessionmaker[Session],
    settings_env: dict[str, str],
) -> None:
    n = archive.numbers
    close(session_factory, n, days_ago=1000)
    cite(session_factory, n[7])
    cite(session_factory, n[8], by_id=False)
    # A ticket merged into n[9] is cited: a citation of it is checked against n[9] too.
    with session_factory.begin() as s:
        t9 = s.query(Ticket).filter_by(number=n[9]).one()
        t6 = s.query(Ticket).filter_by(number=n[6]).one()
        t6.state, t6.merged_into_id = states.MERGED, t9.id
    cite(session_factory, n[6])
    for args in (("--older-than", "1"), ("--before", "2999-12-31")):
        result = run(settings_env, "purge", *args, "--allow-large", "--execute")
        assert result.exit_code == 0, result.output
    with session_factory() as s:
        alive = set(
            s.scalars(select(Ticket.number).where(Ticket.purged_at.is_(None)).order_by(Ticket.id))
        )
        with_articles = set(
            s.scalars(select(Ticket.number).join(Article, Article.ticket_id == Ticket.id))
        )
    assert alive == with_articles == {n[6], n[7], n[8], n[9]}


def test_open_tickets_are_never_purged(
    archive: Archive, session_factory: sessionmaker[Session], settings_env: dict[str, str]
) -> None:
    with session_factory.begin() as s:
        for t in s.query(Ticket):
            t.updated_at = t.created_at = t.updated_at.replace(year=2001)
    result = run(settings_env, "purge", "--before", "2999-01-01", "--allow-large", "--execute")
    assert result.exit_code == 0 and "purging 0 of 10" in result.output


def test_purge_needs_one_cutoff(settings_env: dict[str, str]) -> None:
    assert run(settings_env, "purge").exit_code == 2
    both = run(settings_env, "purge", "--older-than", "3", "--before", "2020-01-01")
    assert both.exit_code == 2 and "exactly one" in both.output
