"""Locks, notes, state changes, moves and spam, on SQLite and PostgreSQL: each does what a
volunteer expects, writes its audit event, and refuses what it must."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from wikibridge.config import TicketSettings
from wikibridge.models import OutboxJob, Queue, utcnow
from wikibridge.store import articles, queues
from wikibridge.tickets import operations as ops
from wikibridge.tickets import states
from wikibridge.tickets.operations import OperationRefused, ReadOnlyAccess, TicketNotFound

from .conftest import World, events


def test_take_sets_owner_and_a_lock_of_the_configured_length(world: World) -> None:
    before = utcnow()
    ticket = ops.take(world.session, world.actor(world.alice), world.ticket.number)
    world.session.commit()
    assert ticket.owner_id == world.alice.id
    assert ticket.locked_until is not None
    assert before + timedelta(minutes=30) <= ticket.locked_until <= utcnow() + timedelta(minutes=30)
    [event] = events(world.session, ticket, "lock_taken")
    assert event.volunteer_id == world.alice.id

    world.settings = dataclasses.replace(world.settings, tickets=TicketSettings(lock_minutes=5))
    ops.take(world.session, world.actor(world.alice), world.ticket.number)
    assert ticket.locked_until <= utcnow() + timedelta(minutes=5)
    assert events(world.session, ticket, "lock_taken")[-1].detail["renewed"] is True


def test_a_lock_stops_others_until_it_expires(world: World) -> None:
    number = world.ticket.number
    ops.take(world.session, world.actor(world.alice), number)
    world.session.commit()
    bob = world.actor(world.bob)
    for attempt in (
        lambda: ops.take(world.session, bob, number),
        lambda: ops.add_note(world.session, bob, number, "I'll do it"),
        lambda: ops.change_state(world.session, bob, number, states.CLOSED_OK),
        lambda: ops.release(world.session, bob, number),
    ):
        with pytest.raises(OperationRefused, match="locked by Alice"):
            attempt()
        world.session.rollback()

    world.ticket.locked_until = utcnow() - timedelta(seconds=1)  # Alice went idle
    world.session.commit()
    ops.take(world.session, bob, number)
    world.session.commit()
    assert world.ticket.owner_id == world.bob.id
    assert events(world.session, world.ticket, "lock_taken")[-1].detail["previous_owner"] == "Alice"


def test_the_owners_actions_renew_the_lock(world: World) -> None:
    alice = world.actor(world.alice)
    ops.take(world.session, alice, world.ticket.number)
    world.ticket.locked_until = utcnow() + timedelta(minutes=1)
    world.session.commit()
    ops.add_note(world.session, alice, world.ticket.number, "Checking the sources.")
    world.session.commit()
    assert world.ticket.locked_until is not None
    assert world.ticket.locked_until > utcnow() + timedelta(minutes=29)


def test_release_by_the_owner_or_a_queue_admin(world: World) -> None:
    number = world.ticket.number
    with pytest.raises(OperationRefused, match="not locked"):
        ops.release(world.session, world.actor(world.alice), number)
    world.session.rollback()

    ops.take(world.session, world.actor(world.alice), number)
    ops.release(world.session, world.actor(world.alice), number)
    world.session.commit()
    assert world.ticket.locked_until is None
    assert world.ticket.owner_id == world.alice.id  # the owner stays recorded, as in Znuny

    ops.take(world.session, world.actor(world.alice), number)
    world.session.commit()
    ops.release(world.session, world.actor(world.admin), number)
    world.session.commit()
    assert world.ticket.locked_until is None
    event = events(world.session, world.ticket, "lock_released")[-1]
    assert event.volunteer_id == world.admin.id
    assert event.detail == {"owner": "Alice", "by_queue_admin": True}


def test_read_only_and_invisible_tickets_are_refused(world: World) -> None:
    with pytest.raises(ReadOnlyAccess, match="read-only"):
        ops.take(world.session, world.actor(world.carol), world.ticket.number)
    world.session.rollback()
    hidden = world.new_ticket(world.secret)
    world.session.commit()
    for number in (hidden.number, "2099010110000001", "not-a-number"):
        with pytest.raises(TicketNotFound):
            ops.add_note(world.session, world.actor(world.alice), number, "x")
        world.session.rollback()
    assert events(world.session, hidden, "note_added") == []


def test_note_is_an_article_never_mailed(world: World) -> None:
    note = ops.add_note(
        world.session, world.actor(world.bob), world.ticket.number, "Called her.\r\nNo\x00 answer."
    )
    world.session.commit()
    assert note.kind == "note"
    assert note.body_text == "Called her.\nNo answer."
    assert note.author_id == world.bob.id
    assert world.session.query(OutboxJob).count() == 0
    [event] = events(world.session, world.ticket, "note_added")
    assert event.detail == {"article_id": note.id}
    with pytest.raises(OperationRefused, match="empty"):
        ops.add_note(world.session, world.actor(world.bob), world.ticket.number, "  \n ")


def test_state_changes_follow_the_table(world: World) -> None:
    alice = world.actor(world.alice)
    number = world.ticket.number
    ops.change_state(world.session, alice, number, states.CLOSED_OK)
    world.session.commit()
    assert world.ticket.state == states.CLOSED_OK
    assert world.ticket.closed_at is not None
    [event] = events(world.session, world.ticket, "state_changed")
    assert event.detail == {"from": "new", "to": "closed successful"}

    with pytest.raises(OperationRefused, match="cannot go from 'closed successful'"):
        ops.change_state(world.session, alice, number, states.PENDING_REMINDER, utcnow())
    world.session.rollback()
    for bad in (states.MERGED, states.NEW, "deleted"):
        with pytest.raises(OperationRefused):
            ops.change_state(world.session, alice, number, bad)
        world.session.rollback()

    ops.change_state(world.session, alice, number, states.OPEN)
    world.session.commit()
    assert world.ticket.closed_at is None


def test_pending_states_need_a_future_time(world: World) -> None:
    alice = world.actor(world.alice)
    number = world.ticket.number
    for when, reason in (
        (None, "needs a date and time"),
        (utcnow() - timedelta(minutes=1), "in the future"),
        (utcnow() + timedelta(days=5000), "too far ahead"),
    ):
        with pytest.raises(OperationRefused, match=reason):
            ops.change_state(world.session, alice, number, states.PENDING_REMINDER, when)
        world.session.rollback()
    with pytest.raises(OperationRefused, match="not a date and time"):
        ops.parse_time("next tuesday")
    typed = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")  # a datetime-local input
    when = ops.parse_time(typed)
    assert when is not None and when.utcoffset() == timedelta(0)
    assert when.strftime("%Y-%m-%dT%H:%M") == typed
    ops.change_state(world.session, alice, number, states.PENDING_REMINDER, when)
    world.session.commit()
    assert world.ticket.pending_until == when
    # Same pending state, a new time: allowed, and recorded as such.
    later = when + timedelta(days=1)
    ops.change_state(world.session, alice, number, states.PENDING_REMINDER, later)
    world.session.commit()
    assert world.ticket.pending_until == later
    assert events(world.session, world.ticket, "pending_time_changed")[0].detail["to"] == (
        states.PENDING_REMINDER
    )
    ops.change_state(world.session, alice, number, states.OPEN)
    assert world.ticket.pending_until is None


def test_move_needs_write_access_to_both_queues(world: World) -> None:
    number = world.ticket.number
    with pytest.raises(OperationRefused, match="write access"):
        ops.move(world.session, world.actor(world.bob), number, world.press.id)  # no access
    world.session.rollback()
    with pytest.raises(OperationRefused, match="write access"):
        ops.move(world.session, world.actor(world.alice), number, world.secret.id)
    world.session.rollback()
    with pytest.raises(OperationRefused, match="already in"):
        ops.move(world.session, world.actor(world.alice), number, world.info.id)
    world.session.rollback()

    ops.move(world.session, world.actor(world.alice), number, world.press.id)
    world.session.commit()
    assert world.ticket.queue_id == world.press.id
    [event] = events(world.session, world.ticket, "moved")
    assert event.detail == {"from_queue": "info-en", "to_queue": "press"}
    with pytest.raises(TicketNotFound):  # Bob cannot see press
        ops.add_note(world.session, world.actor(world.bob), number, "x")


def test_mark_spam_moves_to_the_spam_queue_closed_unsuccessful(world: World) -> None:
    ops.take(world.session, world.actor(world.alice), world.ticket.number)
    ticket, source = ops.mark_spam(world.session, world.actor(world.alice), world.ticket.number)
    world.session.commit()
    spam = queues.by_name(world.session, world.settings.mail.spam_queue)
    assert isinstance(spam, Queue) and spam.kind == "spam"
    assert source.id == world.info.id
    assert ticket.queue_id == spam.id
    assert ticket.state == states.CLOSED_FAIL
    assert ticket.closed_at is not None and ticket.locked_until is None
    [event] = events(world.session, ticket, "marked_spam")
    assert event.detail == {"from_queue": "info-en", "to_queue": "Junk", "from_state": "new"}
    assert len(articles.for_ticket(world.session, ticket.id)) == 1  # nothing deleted
