"""Tickets with confidential mail and recorded on-wiki actions, for the verification tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from wikibridge.models import Article, QueueAccess, Ticket, Volunteer, WikiAction
from wikibridge.store import queues, tickets

WIKI = "commons"
WIKI_API = "https://commons.wikimedia.org/w/api.php"
FILE = "File:Sunset over the lake.jpg"
OTHER_FILE = "File:Unrelated picture.png"
REVISION = 4242
EDIT_TIME = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LONG_AGO = EDIT_TIME - timedelta(days=400)

# Confidential: none of these may ever appear in a public answer.
SUBJECT = "Permission for my photo Sunset_over_the_lake.jpg (Zanzibar-Quokka)"
SENDER = "Jane Hushwell <jane.hushwell@private.example>"
SENDER_ADDRESS = "jane.hushwell@private.example"
BODY = (
    "Hello, I am the photographer of Sunset over the lake.jpg and my secret phrase is "
    "Periwinkle-Marmalade-7731. I release it under CC BY-SA 4.0."
)
INFO_SENDER = "Reader Private <reader.private@secret.example>"
INFO_SENDER_ADDRESS = "reader.private@secret.example"
INFO_SUBJECT = "Complaint about Tobermory-Flapjack"
INFO_BODY = "The article says Obsidian-Tangerine-0042 about me; please remove it."
CONFIDENTIAL = (
    SUBJECT,
    "Zanzibar-Quokka",
    "Jane Hushwell",
    "Hushwell",
    SENDER_ADDRESS,
    "Periwinkle-Marmalade-7731",
    INFO_SUBJECT,
    "Tobermory-Flapjack",
    "Obsidian-Tangerine-0042",
    INFO_SENDER_ADDRESS,
    "Reader Private",
    "permissions-commons",  # queue names are not public either
    "info-en",
)


@dataclass
class World:
    permission_number: str
    info_number: str
    permission_ticket_id: int
    info_ticket_id: int
    volunteers: dict[str, int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)


def build(session: Session) -> World:
    """Queues permissions-commons and info-en::Wikipedia; volunteers Alice (access long before
    the edit, with an e-mail address), Late (granted after the edit), Gone (revoked before the
    edit), Infoonly (info queues only); a permission ticket with Alice's recorded edit and an
    info ticket with no public action."""
    perm = queues.ensure(session, "permissions-commons", "permissions", wiki=WIKI)
    info = queues.ensure(session, "info-en::Wikipedia", "info", wiki="enwiki")
    info_root = queues.by_name(session, "info-en")
    assert info_root is not None
    people = {
        "Alice": (perm.id, LONG_AGO, None, "alice@volunteers.example"),
        "Late": (perm.id, EDIT_TIME + timedelta(days=1), None, ""),
        "Gone": (perm.id, LONG_AGO, EDIT_TIME - timedelta(days=1), ""),
        "Infoonly": (info_root.id, LONG_AGO, None, ""),
    }
    world = World("", "", 0, 0, queues={"permissions": perm.id, "info": info.id})
    for central_id, (name, (queue_id, granted, revoked, email)) in enumerate(
        people.items(), start=500
    ):
        v = Volunteer(
            central_id=central_id, username=name, approved=True, identified=True, email=email
        )
        session.add(v)
        session.flush()
        session.add(
            QueueAccess(
                volunteer_id=v.id,
                queue_id=queue_id,
                level="rw",
                granted_at=granted,
                revoked_at=revoked,
            )
        )
        world.volunteers[name] = v.id

    permission = _ticket(session, perm.id, SUBJECT, BODY, SENDER, SENDER_ADDRESS)
    info_ticket = _ticket(
        session, info.id, INFO_SUBJECT, INFO_BODY, INFO_SENDER, INFO_SENDER_ADDRESS
    )
    session.add(
        WikiAction(
            ticket_id=permission.id,
            ticket_number=permission.number,
            volunteer_id=world.volunteers["Alice"],
            kind="permission",
            wiki=WIKI,
            page=FILE,
            revision_before=REVISION - 10,
            revision_after=REVISION,
            summary=f"Permission confirmed per [[ticket:{permission.number}]]",
            state="done",
            created_at=EDIT_TIME - timedelta(minutes=1),
            done_at=EDIT_TIME,
        )
    )
    session.flush()
    world.permission_number, world.permission_ticket_id = permission.number, permission.id
    world.info_number, world.info_ticket_id = info_ticket.number, info_ticket.id
    return world


def _ticket(
    session: Session, queue_id: int, subject: str, body: str, sender: str, address: str
) -> Ticket:
    ticket = tickets.create(
        session,
        number=tickets.next_number(session, "10"),
        title=subject,
        queue_id=queue_id,
        requester=address,
    )
    session.add(
        Article(
            ticket_id=ticket.id,
            kind="inbound",
            sender=sender,
            sender_address=address,
            to="permissions@example.org",
            subject=subject,
            body_text=body,
        )
    )
    session.flush()
    return ticket
