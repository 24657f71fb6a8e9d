"""The authorisation decision: grants, inheritance down the queue tree, approval."""

from __future__ import annotations

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.models import Queue
from wikibridge.store import volunteers

from .webapp import helpers


def test_grants_are_inherited_down_the_tree_and_the_highest_wins(session: Session) -> None:
    info = helpers.queue(session, "info-en")
    wp = helpers.queue(session, "info-en::Wikipedia")
    deep = helpers.queue(session, "info-en::Wikipedia::BLP")
    press = helpers.queue(session, "press")
    helpers.queue(session, "info-de")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, info.id, "ro")
    volunteers.grant(session, v.id, wp.id, "rw")
    volunteers.grant(session, v.id, press.id, "admin")
    scope = access.scope_for(session, v)
    assert dict(scope.levels) == {info.id: "ro", wp.id: "rw", deep.id: "rw", press.id: "admin"}
    assert scope.can_write(deep.id) and not scope.can_write(info.id)
    assert scope.is_queue_admin(press.id)
    assert [q.name for q in access.visible_queues(session, scope)] == [
        "info-en",
        "info-en::Wikipedia",
        "info-en::Wikipedia::BLP",
        "press",
    ]


def test_a_cycle_in_the_tree_does_not_hang(session: Session) -> None:
    a = helpers.queue(session, "a")
    b = helpers.queue(session, "a::b")
    a.parent_id = b.id  # broken data: a is b's parent and b is a's
    session.flush()
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, a.id, "ro")
    assert set(access.scope_for(session, v).levels) == {a.id, b.id}


def test_unapproved_or_inactive_volunteers_see_nothing(session: Session) -> None:
    q = helpers.queue(session, "info-en")
    t = helpers.ticket(session, q)
    for v in (
        helpers.volunteer(session, "New", approved=False),
        helpers.volunteer(session, "Gone", active=False),
    ):
        volunteers.grant(session, v.id, q.id, "admin")
        scope = access.scope_for(session, v)
        assert scope.queue_ids == []
        assert access.ticket(session, scope, t.number) is None
    assert access.scope_for(session, None) is access.NOBODY


def test_ticket_lookup_is_limited_to_the_scope(session: Session) -> None:
    mine = helpers.queue(session, "info-en")
    other = helpers.queue(session, "press")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, mine.id, "ro")
    visible = helpers.ticket(session, mine)
    hidden = helpers.ticket(session, other)
    removed = helpers.ticket(session, mine)
    removed.removed_at = removed.created_at
    session.flush()
    scope = access.scope_for(session, v)
    assert access.ticket(session, scope, visible.number) is visible
    assert access.ticket(session, scope, hidden.number) is None
    assert access.ticket(session, scope, removed.number) is None
    assert access.ticket(session, scope, "x' OR 1=1 --") is None
    assert access.queue(session, scope, other.id) is None
    assert isinstance(access.queue(session, scope, mine.id), Queue)
