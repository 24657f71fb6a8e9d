"""What the bots read from the tickets: named files, files awaiting a tag, pending verdicts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.models import Article, AuditEvent, Ticket, Volunteer, WikiAction, utcnow
from wikibridge.store import articles, queues, tickets
from wikibridge.tickets.states import CLOSED_FAIL, CLOSED_OK, OPEN, PENDING_REMINDER
from wikibridge.wiki.checks import ActionRefused
from wikibridge.wiki.permission import WaitingTag
from wikibridge.wiki.tasks import (
    PendingSweep,
    check_bot_action,
    file_titles,
    files_awaiting_tag,
    listed_volunteers,
    normal_file_title,
    record_bot_action,
    same_wiki,
)

COMMONS = "https://commons.wikimedia.org/w/api.php"
OTHER_WIKI = "https://de.wikipedia.org/w/api.php"
TODAY = date(2024, 6, 1)


def test_file_titles() -> None:
    text = (
        "Hello, I took File:Bridge at night.jpg and [[File:Tower_2.PNG]] myself.\n"
        "See https://commons.wikimedia.org/wiki/File:D%C3%A9j%C3%A0_vu.jpeg?uselang=de\n"
        "the file: photo.jpg (not a title), File:My.v2.tif, Image:old.gif, File:Bridge at night.jpg"
    )
    assert file_titles(text) == [
        "File:Bridge at night.jpg",
        "File:Tower 2.PNG",
        "File:Déjà vu.jpeg",
        "File:My.v2.tif",
        "File:Old.gif",
    ]
    assert normal_file_title("image:a_b.png") == "File:A b.png"
    assert normal_file_title("File:  x   y.png") == "File:X y.png"


def test_same_wiki() -> None:
    assert same_wiki("commons", COMMONS)
    assert same_wiki(COMMONS.replace("commons", "Commons"), COMMONS)
    assert not same_wiki("dewiki", COMMONS)
    assert not same_wiki("", COMMONS)


class Desk:
    """Queues, volunteers and tickets with mail naming files."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        with sessions.begin() as s:
            self.permissions = queues.ensure(
                s, "permissions-commons", "permissions", wiki="commons"
            ).id
            self.other = queues.ensure(s, "permissions-de", "permissions", wiki=OTHER_WIKI).id
            self.info = queues.ensure(s, "info-en", "info", wiki=COMMONS).id
            for i, (name, listed, approved, active) in enumerate(
                [
                    ("bob", True, True, True),
                    ("Alice", True, True, True),
                    ("Carol", False, True, True),
                    ("Dan", True, False, True),
                    ("Erin", True, True, False),
                ],
                start=1,
            ):
                s.add(
                    Volunteer(
                        central_id=i,
                        username=name,
                        public_listing=listed,
                        approved=approved,
                        active=active,
                    )
                )
            s.flush()
            self.alice = s.scalars(select(Volunteer.id).where(Volunteer.username == "Alice")).one()

    def ticket(
        self,
        text: str,
        state: str,
        *,
        queue: int | None = None,
        owner: int | None = None,
        age: timedelta = timedelta(0),
    ) -> str:
        with self.sessions.begin() as s:
            number = tickets.next_number(s, self.settings.system_id)
            ticket = tickets.create(
                s,
                number=number,
                title="Permission",
                queue_id=queue or self.permissions,
                requester="x@example.org",
                state=state,
            )
            ticket.owner_id = owner
            ticket.updated_at = utcnow() - age
            articles.add(
                s, Article(ticket_id=ticket.id, kind="inbound", subject="Release", body_text=text)
            )
        return number


@pytest.fixture
def desk(session_factory: sessionmaker[Session], settings: Settings) -> Desk:
    return Desk(session_factory, settings)


def test_files_awaiting_tag(desk: Desk) -> None:
    owned = desk.ticket("I release File:A.jpg and File:B.jpg", CLOSED_OK, owner=desk.alice)
    unowned = desk.ticket("Permission for File:B.jpg", CLOSED_OK)
    # Not confirming: open, closed unsuccessful, closed long ago, info queue, another wiki.
    desk.ticket("File:C.jpg", OPEN)
    desk.ticket("File:D.jpg", CLOSED_FAIL)
    desk.ticket("File:E.jpg", CLOSED_OK, age=timedelta(days=40))
    desk.ticket("File:F.jpg", CLOSED_OK, queue=desk.info)
    desk.ticket("File:G.jpg", CLOSED_OK, queue=desk.other)
    since = utcnow() - timedelta(days=30)

    def todo() -> list[tuple[str, str, str]]:
        with desk.sessions() as s:
            found = files_awaiting_tag(s, COMMONS, closed_since=since, bot_user="TheBot")
        return [(f.title, f.number, f.agent) for f in found]

    assert todo() == [
        ("File:A.jpg", owned, "Alice"),
        ("File:B.jpg", owned, "Alice"),
        ("File:B.jpg", unowned, "TheBot"),
    ]

    # Recorded (done or refused) pairs are settled; a failed one is tried again.
    with desk.sessions.begin() as s:
        plan = check_bot_action(s, owned, "permission", "File:A.jpg", agent="Alice")
        record_bot_action(s, plan, summary="s", revision_before=1, revision_after=2)
        plan = check_bot_action(s, unowned, "permission", "File:B.jpg", agent="TheBot")
        record_bot_action(s, plan, summary="s", revision_before=1, revision_after=None, error="x")
    assert todo() == [("File:B.jpg", owned, "Alice"), ("File:B.jpg", unowned, "TheBot")]


def test_bot_actions_are_checked_and_recorded(desk: Desk) -> None:
    number = desk.ticket("File:A.jpg", CLOSED_OK)
    info = desk.ticket("File:A.jpg", CLOSED_OK, queue=desk.info)
    with desk.sessions.begin() as s:
        plan = check_bot_action(s, number, "permission", "File:A.jpg", agent="Bob")
        action = record_bot_action(
            s, plan, summary="Permission confirmed", revision_before=10, revision_after=11
        )
    with desk.sessions() as s:
        with pytest.raises(ActionRefused, match="only from permissions queues"):
            check_bot_action(s, info, "permission", "File:A.jpg", agent="Bob")
        s.commit()
    with desk.sessions() as s:
        rows = s.scalars(select(WikiAction).order_by(WikiAction.id)).all()
        assert [(a.id, a.state, a.kind, a.volunteer_id) for a in rows] == [
            (action.id, "done", "permission", None),
            (rows[1].id, "refused", "permission", None),
        ]
        assert rows[0].params == {"agent": "Bob"}
        assert (rows[0].revision_before, rows[0].revision_after) == (10, 11)
        assert rows[0].page == "File:A.jpg" and rows[0].wiki == "commons"
        ticket = tickets.by_number(s, number)
        assert ticket is not None
        events = s.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket.id)).all()
        assert [e.action for e in events] == ["wiki_action_done"]
        assert events[0].detail["revision"] == 11


def test_pending_verdicts(desk: Desk) -> None:
    open_ticket = desk.ticket("File:Open.jpg", PENDING_REMINDER)
    confirmed = desk.ticket("File:Confirmed.jpg", CLOSED_OK)
    failed = desk.ticket("File:Failed.jpg", CLOSED_FAIL)
    cited_open = desk.ticket("Nothing named here", OPEN)
    bare = desk.ticket("my photo is called bare_name.jpg", OPEN)
    long_ago = TODAY - timedelta(days=31)
    tag = WaitingTag("permission pending", long_ago)

    with desk.sessions() as s:
        sweep = PendingSweep(s, COMMONS, closed_since=utcnow() - timedelta(days=90))

        def verdict(title: str, *tags: WaitingTag, last_edit: date = TODAY) -> tuple[bool, str]:
            v = sweep.verdict(s, title, tags, last_edit=last_edit, today=TODAY)
            return v.tag, v.reason

        assert verdict("File:Open.jpg", tag) == (False, f"ticket {open_ticket} is open")
        assert verdict("File:Confirmed.jpg", tag) == (False, f"ticket {confirmed} confirmed it")
        assert verdict("File:Failed.jpg", tag) == (True, f"no permission since {long_ago}")
        assert verdict("File:Unknown.jpg", tag) == (True, f"no permission since {long_ago}")
        received = WaitingTag("permission received", long_ago, cited_open)
        assert verdict("File:Unknown.jpg", received) == (False, f"ticket {cited_open} is open")
        received = WaitingTag("permission received", long_ago, failed)
        assert verdict("File:Unknown.jpg", received)[0] is True
        # 29 days: still waiting. No date on the tag: the page's last edit counts.
        recent = WaitingTag("permission pending", TODAY - timedelta(days=29))
        assert verdict("File:Unknown.jpg", recent) == (
            False,
            f"waiting since {TODAY - timedelta(days=29)}",
        )
        # A mail naming the file without "File:" holds it back too.
        assert verdict("File:Bare name.jpg", tag) == (False, f"ticket {bare} is open")
        assert verdict("File:Bare name 2.jpg", tag)[0] is True
        undated = WaitingTag("permission pending", None)
        assert verdict("File:Unknown.jpg", undated, last_edit=TODAY)[0] is False
        assert verdict("File:Unknown.jpg", undated, last_edit=long_ago)[0] is True


def test_listed_volunteers(desk: Desk) -> None:
    with desk.sessions() as s:
        assert listed_volunteers(s) == ["Alice", "bob"]


def test_tickets_of_removed_or_merged_tickets_do_not_count(desk: Desk) -> None:
    removed = desk.ticket("File:R.jpg", CLOSED_OK)
    with desk.sessions.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == removed)).one()
        ticket.removed_at = utcnow()
    with desk.sessions() as s:
        found = files_awaiting_tag(
            s, COMMONS, closed_since=utcnow() - timedelta(days=1), bot_user="B"
        )
        assert found == []
