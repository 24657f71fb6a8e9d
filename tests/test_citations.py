"""The citation watcher's checks (both databases), and their fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tests import verify_world as vw
from wikibridge.citations import (
    BAD_CHECK_DIGIT,
    FILE_NOT_NAMED,
    NO_ACCESS,
    NO_SUCH_TICKET,
    NOT_PERMISSIONS,
    OK,
    REMOVED,
    Citation,
    CitationResult,
    check_citation,
    check_citations,
)
from wikibridge.models import Article, Ticket, WikiAction, utcnow
from wikibridge.store import tickets
from wikibridge.tickets.numbers import format_number

MISSING = format_number(date(2021, 5, 4), "10", 77777)
BAD_DIGIT = MISSING[:-1] + str((int(MISSING[-1]) + 1) % 10)
NAMED_IN_MAIL = "File:Harbour at dawn.jpg"
BOT = "WikibridgeBot"


@pytest.fixture
def world(session: Session) -> vw.World:
    built = vw.build(session)
    # A second permission ticket, with no action yet, whose mail names a file by URL.
    ticket = tickets.create(
        session,
        number=tickets.next_number(session, "10"),
        title="Photo",
        queue_id=built.queues["permissions"],
        requester="p@example.net",
    )
    session.add(
        Article(
            ticket_id=ticket.id,
            kind="inbound",
            subject="photo",
            body_text="See https://commons.wikimedia.org/wiki/File:Harbour_at_dawn.jpg thanks",
        )
    )
    built.queues["second"] = ticket.id
    session.commit()
    return built


def cite(number: str, editor: str = "Alice", **kw: Any) -> Citation:
    values: dict[str, Any] = {
        "wiki": vw.WIKI,
        "page": vw.FILE,
        "when": vw.EDIT_TIME,
        "template": True,
    }
    values.update(kw)
    return Citation(number=number, editor=editor, **values)


def second_number(session: Session, world: vw.World) -> str:
    found = session.get(Ticket, world.queues["second"])
    assert found is not None
    return found.number


def test_each_reason(session: Session, world: vw.World) -> None:
    perm, info = world.permission_number, world.info_number
    cases = [
        (cite(perm), OK),
        (cite(perm, page="File:Sunset_over_the_lake.jpg", wiki=vw.WIKI_API), OK),
        (cite(MISSING), NO_SUCH_TICKET),
        (cite(BAD_DIGIT), BAD_CHECK_DIGIT),
        (cite(perm, editor="Mallory"), NO_ACCESS),
        (cite(info, editor="Infoonly"), NOT_PERMISSIONS),
        (cite(perm, editor="Late"), NO_ACCESS),
        (cite(perm, editor="Gone"), NO_ACCESS),
        (cite(perm, page=vw.OTHER_FILE), FILE_NOT_NAMED),
        # Named in the mail (subject or body), with no recorded action.
        (cite(perm, page="File:Sunset over the lake.jpg", wiki="enwiki"), OK),
        (cite(second_number(session, world), page=NAMED_IN_MAIL), OK),
        (cite(second_number(session, world), page="file:harbour_at_dawn.jpg"), OK),
        # A link or edit summary: no queue kind or file checks, access still counts.
        (cite(info, editor="Infoonly", template=False, page="Some article"), OK),
        (cite(info, editor="Alice", template=False, page="Some article"), NO_ACCESS),
        (cite(info, editor="infoonly", template=False, page="Some article"), OK),
    ]
    results = check_citations(session, [c for c, _ in cases])
    assert [r.reason for r in results] == [reason for _, reason in cases]
    assert [r.ok for r in results] == [reason == OK for _, reason in cases]


def test_single_check(session: Session, world: vw.World) -> None:
    result = check_citation(
        session,
        world.permission_number,
        wiki=vw.WIKI,
        page=vw.FILE,
        editor="Alice",
        when=vw.EDIT_TIME,
        template=True,
    )
    assert result == CitationResult(True, OK)
    with pytest.raises(ValueError):
        check_citations(session, [cite(world.permission_number, when=datetime(2024, 3, 1))])


def test_removed_and_merged_tickets(session: Session, world: vw.World) -> None:
    info = session.get(Ticket, world.info_ticket_id)
    assert info is not None
    info.state, info.merged_into_id = "merged", world.permission_ticket_id
    session.commit()
    # Merged into the permission ticket: its queue, actions and access count.
    assert check_citations(session, [cite(world.info_number)]) == [CitationResult(True, OK)]
    info.removed_at = utcnow()
    session.commit()
    assert check_citations(session, [cite(world.info_number)]) == [CitationResult(False, REMOVED)]


def test_a_chain_of_merges_is_followed_to_its_end_and_a_loop_ends(
    session: Session, world: vw.World
) -> None:
    """info -> middle -> permission ticket: the citation of info counts with the permission
    ticket two merges on; a chain that loops back on itself stops instead of running on."""
    middle = tickets.create(
        session,
        number=tickets.next_number(session, "10"),
        title="Merged on",
        queue_id=world.queues["info"],
        requester="m@example.net",
    )
    info = session.get(Ticket, world.info_ticket_id)
    assert info is not None
    info.state, info.merged_into_id = "merged", middle.id
    middle.state, middle.merged_into_id = "merged", world.permission_ticket_id
    session.commit()
    assert check_citations(session, [cite(world.info_number)]) == [CitationResult(True, OK)]
    # A broken chain: info -> middle -> info -> ... (the permission ticket is not on it).
    middle.merged_into_id = info.id
    session.commit()
    assert check_citations(session, [cite(world.info_number)]) == [
        CitationResult(False, NOT_PERMISSIONS)
    ]


def test_bot_edits_pass_only_with_a_recorded_action(session: Session, world: vw.World) -> None:
    session.add(
        WikiAction(
            ticket_id=world.permission_ticket_id,
            ticket_number=world.permission_number,
            kind="permission",
            wiki=vw.WIKI_API,
            page=vw.FILE,
            state="queued",
        )
    )
    session.commit()
    perm = world.permission_number
    results = check_citations(
        session,
        [
            cite(perm, editor=BOT),
            cite(perm, editor=BOT, page=NAMED_IN_MAIL),
            cite(perm, editor=BOT),
        ],
        bots=[BOT],
    )
    assert [r.reason for r in results] == [OK, FILE_NOT_NAMED, OK]
    assert check_citations(session, [cite(perm, editor=BOT)])[0].reason == NO_ACCESS


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_batch_takes_a_fixed_number_of_queries(
    session: Session, engine: Engine, world: vw.World
) -> None:
    perm, info, second = world.permission_number, world.info_number, second_number(session, world)
    mix = [
        cite(perm),
        cite(perm, page=vw.OTHER_FILE),
        cite(second, page=NAMED_IN_MAIL),
        cite(MISSING),
        cite(BAD_DIGIT),
        cite(info),
        cite(info, editor="Infoonly", template=False),
        cite(perm, editor="Mallory"),
        cite(perm, editor="Late"),
        cite(perm, editor=BOT),
    ]
    check_citations(session, mix, bots=[BOT])  # warm up the connection
    session.rollback()
    with count_statements(engine) as small:
        check_citations(session, mix[:2], bots=[BOT])
    session.rollback()
    with count_statements(engine) as fifty:
        results = check_citations(session, mix * 5, bots=[BOT])
    assert len(results) == 50
    assert [r.reason for r in results[:10]] * 5 == [r.reason for r in results]
    assert len(fifty) <= 5, fifty
    assert len(fifty) == len(small)
