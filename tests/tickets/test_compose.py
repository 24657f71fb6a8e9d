"""Replies: the prefilled draft, canned responses, checks on every header field, attachments,
the outbox job and the message the worker builds from it; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage

import pytest
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import TicketSettings
from wikibridge.files import ContentStore
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.send_mail import _files
from wikibridge.mail.send import build_message
from wikibridge.models import CannedResponse, OutboxJob
from wikibridge.store import articles, canned, queues, volunteers
from wikibridge.tickets import compose, operations, states
from wikibridge.tickets.compose import Draft, Upload
from wikibridge.tickets.operations import OperationRefused, ReadOnlyAccess

from .conftest import INBOUND_ID, World, add_inbound, events


def canned_responses(world: World) -> tuple[CannedResponse, CannedResponse, CannedResponse]:
    mine = canned.add(
        world.session,
        CannedResponse(
            queue_id=world.info.id,
            name="Corrected",
            subject="Your ticket {ticket}",
            body="We corrected the article, {requester}. {unknown} stays as written.",
        ),
    )
    common = canned.add(world.session, CannedResponse(name="Thanks", body="Thank you."))
    other = canned.add(
        world.session, CannedResponse(queue_id=world.press.id, name="Press", body="Press.")
    )
    world.session.commit()
    return mine, common, other


def test_draft_has_salutation_canned_text_and_signature(world: World) -> None:
    mine, common, other = canned_responses(world)
    alice = world.actor(world.alice)
    form = compose.compose(world.session, alice, world.ticket.number)
    assert [c.name for c in form.canned] == ["Corrected", "Thanks"]  # the queue's and global
    assert form.draft.to == "jane@example.net"
    assert form.draft.subject == "Re: Wrong birth date"
    assert form.draft.body == (
        "Dear jane@example.net,\n\n\n\n"
        "Yours sincerely,\nAlice\nWikipedia information team (info-en)"
    )
    form = compose.compose(world.session, alice, world.ticket.number, mine.id)
    assert form.draft.subject == f"Your ticket {world.ticket.number}"
    assert "We corrected the article, jane@example.net. {unknown} stays as written." in (
        form.draft.body
    )
    with pytest.raises(OperationRefused, match="not offered"):
        compose.compose(world.session, alice, world.ticket.number, other.id)
    with pytest.raises(ReadOnlyAccess):
        compose.compose(world.session, world.actor(world.carol), world.ticket.number)


def test_a_sub_queue_offers_its_parents_canned_responses_and_address(world: World) -> None:
    canned_responses(world)
    sub = queues.ensure(world.session, "info-en::Wikipedia")
    ticket = world.new_ticket(sub)
    world.session.commit()
    form = compose.compose(world.session, world.actor(world.alice), ticket.number)
    assert [c.name for c in form.canned] == ["Corrected", "Thanks"]
    assert form.sender == "Wikipedia information team <info-en@example.org>"
    draft = Draft(to="jane@example.net", subject="Re: x", body="Done.")
    reply = compose.reply(world.session, world.actor(world.alice), ticket.number, draft)
    assert reply.sender == form.sender


def test_reply_with_a_canned_response_goes_through_the_outbox(world: World) -> None:
    mine, _, _ = canned_responses(world)
    alice = world.actor(world.alice)
    form = compose.compose(world.session, alice, world.ticket.number, mine.id)
    world.session.rollback()
    draft = dataclasses.replace(form.draft, cc='"Doe, John" <john@example.org>')
    reply = compose.reply(world.session, alice, world.ticket.number, draft)
    world.session.commit()

    assert reply.kind == "outbound" and reply.author_id == world.alice.id
    assert reply.sender == "Wikipedia information team <info-en@example.org>"
    assert reply.to == "jane@example.net"
    assert reply.cc == '"Doe, John" <john@example.org>'
    assert reply.subject == f"[Ticket#{world.ticket.number}] Your ticket {world.ticket.number}"
    assert reply.body_text.startswith("Dear jane@example.net,\n\nWe corrected the article")
    assert reply.body_text.endswith("Yours sincerely,\nAlice\nWikipedia information team (info-en)")
    assert reply.in_reply_to == INBOUND_ID
    assert reply.references == f"earlier.0@mail.example.net {INBOUND_ID}"
    [job] = world.session.query(OutboxJob).all()
    assert job.kind == "send_mail" and job.payload == {"article_id": reply.id}
    assert job.ticket_id == world.ticket.id
    # The article is on the ticket at once; the ticket is open and Alice holds it.
    assert reply.id in [a.id for a in articles.for_ticket(world.session, world.ticket.id)]
    assert world.ticket.state == states.OPEN and world.ticket.owner_id == world.alice.id
    assert events(world.session, world.ticket, "mail_queued")[0].volunteer_id == world.alice.id
    assert events(world.session, world.ticket, "lock_taken")[0].detail["reason"] == "reply"

    msg = build_message(reply, sender=reply.sender)
    assert msg["In-Reply-To"] == f"<{INBOUND_ID}>"
    assert msg["Cc"] == '"Doe, John" <john@example.org>'
    body = msg.get_content()
    assert body.count("Yours sincerely") == 1  # the worker adds no second signature


def test_reply_answers_the_newest_inbound_mail(world: World) -> None:
    add_inbound(world.session, world.ticket, "second@mail.example.net")
    world.session.commit()
    reply = compose.reply(
        world.session,
        world.actor(world.alice),
        world.ticket.number,
        Draft(to="jane@example.net", subject="Re: x", body="Done."),
    )
    assert reply.in_reply_to == "second@mail.example.net"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("to", "jane@example.net\r\nBcc: victim@example.org", "one line"),
        ("to", "jane@example.net\nBcc: victim@example.org", "one line"),
        ("cc", "a@example.org\rBcc: victim@example.org", "one line"),
        ("subject", "Hello\r\nBcc: victim@example.org", "one line"),
        ("subject", "Hello\x85Bcc: victim@example.org", "one line"),
        ("subject", "Hello\u2028Bcc: victim@example.org", "one line"),
        ("to", "", "at least one address"),
        ("to", "jane", "not an e-mail address"),
        ("to", "jane@example.net, not an address", "not an e-mail address"),
        ("cc", "<@example.org>", "not a list of e-mail addresses"),
        ("cc", "a@example.org,, b@example.org", "not a list of e-mail addresses"),
        ("to", "jane@localhost", "not an e-mail address"),
        ("body", " \n ", "empty"),
        ("state", states.MERGED, "open, pending or closed"),
        ("state", states.PENDING_REMINDER, "needs a date and time"),
    ],
)
def test_reply_refusals_store_nothing(world: World, field: str, value: str, reason: str) -> None:
    draft = dataclasses.replace(
        Draft(to="jane@example.net", subject="Re: x", body="Done."), **{field: value}
    )
    with pytest.raises(OperationRefused, match=reason):
        compose.reply(world.session, world.actor(world.alice), world.ticket.number, draft)
    world.session.rollback()
    assert world.session.query(OutboxJob).count() == 0
    assert [a.kind for a in articles.for_ticket(world.session, world.ticket.id)] == ["inbound"]


def test_reply_sets_the_chosen_state(world: World) -> None:
    alice = world.actor(world.alice)
    draft = Draft(to="jane@example.net", subject="Re: x", body="Done.", state=states.CLOSED_OK)
    compose.reply(world.session, alice, world.ticket.number, draft)
    world.session.commit()
    assert world.ticket.state == states.CLOSED_OK and world.ticket.locked_until is None
    draft = dataclasses.replace(
        draft, state=states.PENDING_REMINDER, pending_until="2020-01-01 10:00"
    )
    with pytest.raises(OperationRefused, match="cannot go from"):
        compose.reply(world.session, alice, world.ticket.number, draft)
    world.session.rollback()
    reopen = dataclasses.replace(draft, state="open")
    compose.reply(world.session, alice, world.ticket.number, reopen)
    assert world.ticket.state == states.OPEN


def test_reply_is_refused_while_someone_else_holds_the_lock(world: World) -> None:
    operations.take(world.session, world.actor(world.bob), world.ticket.number)
    world.session.commit()
    draft = Draft(to="jane@example.net", subject="Re: x", body="Done.")
    with pytest.raises(OperationRefused, match="locked by Bob"):
        compose.reply(world.session, world.actor(world.alice), world.ticket.number, draft)
    with pytest.raises(OperationRefused, match="locked by Bob"):
        compose.compose(world.session, world.actor(world.alice), world.ticket.number)


def test_reply_attachments_are_blobs_and_are_sent(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    files = [
        Upload("../../etc/passwd\r\n.pdf", "application/pdf", b"%PDF-1.4 fake"),
        Upload("notes.txt", "text/plain; charset=utf-8", "Grüße".encode()),
        Upload("weird", "not a type", b"\x00\x01"),
    ]
    draft = Draft(to="jane@example.net", subject="Re: x", body="See the files.")
    alice = world.actor(world.alice)
    reply = compose.reply(world.session, alice, world.ticket.number, draft, files)
    world.session.commit()
    stored = articles.attachments_of_article(world.session, reply.id)
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("passwd .pdf", "application/pdf", 13),
        ("notes.txt", "text/plain", 7),
        ("weird", "application/octet-stream", 2),
    ]
    blobs = ContentStore(world.settings.blob_dir)
    assert blobs.get(stored[0].blob_sha256) == b"%PDF-1.4 fake"
    assert events(world.session, world.ticket, "mail_queued")[0].detail["attachments"] == 3

    ctx = JobContext(world.settings, session_factory)
    attached = [(a.filename, a.content_type, a.blob_sha256) for a in stored]
    msg: EmailMessage = build_message(reply, sender=reply.sender, files=_files(ctx, attached))
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["passwd .pdf", "notes.txt", "weird"]
    assert parts[0].get_content() == b"%PDF-1.4 fake"
    assert parts[1].get_content_type() == "text/plain"


def test_attachments_are_bounded(world: World) -> None:
    world.settings = dataclasses.replace(
        world.settings, tickets=TicketSettings(max_attachment_bytes=1000)
    )
    draft = Draft(to="jane@example.net", subject="Re: x", body="Files.")
    too_big = [Upload("a.bin", "application/octet-stream", b"x" * 600)] * 2
    with pytest.raises(OperationRefused, match="at most 1 kB"):
        compose.reply(world.session, world.actor(world.alice), world.ticket.number, draft, too_big)
    too_many = [Upload("a.txt", "text/plain", b"x")] * (compose.MAX_FILES + 1)
    with pytest.raises(OperationRefused, match="at most 20 files"):
        compose.reply(world.session, world.actor(world.alice), world.ticket.number, draft, too_many)
    assert not world.settings.blob_dir.exists()


def test_a_queue_without_an_address_cannot_send(world: World) -> None:
    bare = queues.ensure(world.session, "no-address")
    volunteers.grant(world.session, world.alice.id, bare.id, "rw")
    t = world.new_ticket(bare)
    world.session.commit()
    draft = Draft(to="jane@example.net", subject="Re: x", body="Done.")
    with pytest.raises(OperationRefused, match="no address to send mail from"):
        compose.reply(world.session, world.actor(world.alice), t.number, draft)
