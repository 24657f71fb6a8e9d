"""Merge, split and links between tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session, sessionmaker

from wikibridge import access
from wikibridge.models import Ticket
from wikibridge.store import articles, tickets, volunteers
from wikibridge.tickets import relations, states
from wikibridge.tickets.detail import ticket_detail
from wikibridge.tickets.numbers import is_valid
from wikibridge.tickets.operations import Actor, OperationRefused

from .conftest import World, add_inbound, events


def test_merge_keeps_articles_and_points_at_the_target(world: World) -> None:
    source, target = world.ticket, world.new_ticket()
    world.session.commit()
    result = relations.merge(world.session, world.actor(world.alice), source.number, target.number)
    world.session.commit()
    assert result.id == target.id
    assert source.state == states.MERGED and source.merged_into_id == target.id
    assert [a.id for a in articles.for_ticket(world.session, source.id)] == [world.inbound.id]
    assert events(world.session, source, "merged_into")[0].detail == {
        "ticket": target.number,
        "from_state": "new",
    }
    assert events(world.session, target, "merged_from")[0].detail == {"ticket": source.number}

    scope = access.scope_for(world.session, world.alice)
    source_view = ticket_detail(world.session, scope, source.number)
    target_view = ticket_detail(world.session, scope, target.number)
    assert source_view is not None and source_view.merged_into is not None
    assert source_view.merged_into.id == target.id
    assert target_view is not None and [t.id for t in target_view.merged_from] == [source.id]


def test_merge_refusals(world: World) -> None:
    alice = world.actor(world.alice)
    a, b, c = world.ticket, world.new_ticket(), world.new_ticket()
    pressed = world.new_ticket(world.press)
    world.session.commit()

    def refused(actor: Actor, source: Ticket, target: str, reason: str) -> None:
        with pytest.raises(OperationRefused, match=reason):
            relations.merge(world.session, actor, source.number, target)
        world.session.rollback()

    refused(alice, a, a.number, "into itself")
    refused(alice, a, "2099010110000001", "no ticket")
    refused(world.actor(world.bob), a, pressed.number, "no ticket")  # Bob cannot see press
    refused(world.actor(world.carol), a, b.number, "read-only")
    relations.merge(world.session, alice, a.number, b.number)
    world.session.commit()
    refused(alice, b, a.number, "cycle")  # b <- a: a into ... b would loop
    refused(alice, c, a.number, "itself merged into Ticket#" + b.number)
    refused(alice, a, c.number, "was merged into Ticket#" + b.number)

    # Read-only access to the target's queue is not enough.
    volunteers.grant(world.session, world.bob.id, world.press.id, "ro")
    world.session.commit()
    refused(world.actor(world.bob), c, pressed.number, "need write access")


def test_opposite_merges_at_once_cannot_make_a_cycle(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    a, b = world.ticket, world.new_ticket()
    world.session.commit()
    first = session_factory()
    relations.merge(first, _actor(first, world), a.number, b.number)  # holds the locks
    outcome: list[str] = []

    def other() -> None:
        with session_factory() as second:
            try:
                relations.merge(second, _actor(second, world), b.number, a.number)
                second.commit()
                outcome.append("merged")
            except OperationRefused as e:
                outcome.append(e.reason)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first merge's locks
    first.commit()
    first.close()
    thread.join(30)
    assert len(outcome) == 1 and "cycle" in outcome[0]
    world.session.expire_all()
    assert b.state != states.MERGED and a.merged_into_id == b.id


def _actor(session: Session, world: World) -> Actor:
    v = world.alice
    return Actor(v.id, v.username, access.scope_for(session, v), world.settings)


def test_split_moves_the_article_to_a_new_ticket(world: World) -> None:
    subject = f"[Ticket#{world.ticket.number}] Photo"
    follow_up = add_inbound(world.session, world.ticket, "other@mail.example.net", subject)
    world.session.commit()
    new = relations.split(world.session, world.actor(world.bob), world.ticket.number, follow_up.id)
    world.session.commit()
    assert is_valid(new.number) and new.number != world.ticket.number
    assert new.queue_id == world.ticket.queue_id
    assert new.title == "Photo" and new.requester == "jane@example.net" and new.state == "new"
    assert [a.id for a in articles.for_ticket(world.session, new.id)] == [follow_up.id]
    assert [a.id for a in articles.for_ticket(world.session, world.ticket.id)] == [world.inbound.id]
    assert events(world.session, world.ticket, "article_split")[0].detail == {
        "article_id": follow_up.id,
        "to_ticket": new.number,
    }
    assert events(world.session, new, "split_from")[0].detail == {
        "article_id": follow_up.id,
        "from_ticket": world.ticket.number,
    }
    # Mail answering the moved article now threads to the new ticket.
    found = tickets.by_message_ids(world.session, ["other@mail.example.net"])
    assert found is not None and found.id == new.id

    with pytest.raises(OperationRefused, match="only article"):
        relations.split(world.session, world.actor(world.bob), new.number, follow_up.id)
    world.session.rollback()
    with pytest.raises(OperationRefused, match="not part of"):
        relations.split(world.session, world.actor(world.bob), world.ticket.number, follow_up.id)


def test_links_seen_from_both_sides_and_unlinked(world: World) -> None:
    a, b, c = world.ticket, world.new_ticket(), world.new_ticket()
    world.session.commit()
    alice = world.actor(world.alice)
    relations.link(world.session, alice, a.number, b.number, "child")  # b is a's child
    relations.link(world.session, alice, a.number, c.number, "related")
    world.session.commit()
    scope = access.scope_for(world.session, world.alice)

    def seen(t: Ticket) -> set[tuple[str, str]]:
        return {(v.kind, v.other.number) for v in relations.links_of(world.session, scope, t)}

    assert seen(a) == {("child", b.number), ("related", c.number)}
    assert seen(b) == {("parent", a.number)}
    assert seen(c) == {("related", a.number)}
    assert events(world.session, b, "linked")[0].detail == {"ticket": a.number, "kind": "parent"}
    assert events(world.session, a, "linked")[0].detail == {"ticket": b.number, "kind": "child"}

    for other, kind, reason in (
        (b.number, "related", "already linked"),
        (a.number, "related", "itself"),
        (c.number, "sibling", "one of"),
    ):
        with pytest.raises(OperationRefused, match=reason):
            relations.link(world.session, alice, a.number, other, kind)
        world.session.rollback()

    [link_ab] = [v for v in relations.links_of(world.session, scope, b)]
    other = relations.unlink(world.session, alice, b.number, link_ab.id)
    world.session.commit()
    assert other.id == a.id
    assert seen(a) == {("related", c.number)} and seen(b) == set()
    assert events(world.session, a, "unlinked")[0].detail == {"ticket": b.number, "kind": "child"}
    with pytest.raises(OperationRefused, match="no such link"):
        relations.unlink(world.session, alice, c.number, link_ab.id)


def test_links_to_tickets_out_of_scope_stay_unseen(world: World) -> None:
    pressed = world.new_ticket(world.press)
    world.session.commit()
    alice = world.actor(world.alice)
    relations.link(world.session, alice, world.ticket.number, pressed.number, "related")
    world.session.commit()
    bob_scope = access.scope_for(world.session, world.bob)
    assert relations.links_of(world.session, bob_scope, world.ticket) == []
