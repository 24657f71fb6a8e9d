"""Volunteer administration in the core: approval, deactivation, grants, the public list."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.admin import overview, volunteers
from wikibridge.admin.base import Invalid, NotFound

from .admin_audit import events, last
from .webapp import admin_support, helpers


def test_approval_needs_the_identified_confirmation(session: Session) -> None:
    w = admin_support.world(session)
    scope = access.scope_for(session, w.admin)
    with pytest.raises(Invalid, match="identified"):
        volunteers.approve(session, scope, w.newcomer.id, identified=False)
    assert not w.newcomer.approved
    volunteers.approve(session, scope, w.newcomer.id, identified=True)
    assert w.newcomer.approved and w.newcomer.identified
    who, detail = last(session, "volunteer_approved")
    assert who == w.admin.id
    assert detail == {"target_id": w.newcomer.id, "target": "Newcomer", "identified": True}
    with pytest.raises(Invalid, match="already approved"):
        volunteers.approve(session, scope, w.newcomer.id, identified=True)


def test_only_global_admins_approve_or_deactivate(session: Session) -> None:
    w = admin_support.world(session)
    keeper = access.scope_for(session, w.queue_admin)
    with pytest.raises(NotFound):
        volunteers.approve(session, keeper, w.newcomer.id, identified=True)
    with pytest.raises(NotFound):
        volunteers.deactivate(session, keeper, w.volunteer.id)
    assert events(session, "volunteer_approved") == []


def test_reject_deactivate_reactivate(session: Session) -> None:
    w = admin_support.world(session)
    scope = access.scope_for(session, w.admin)
    volunteers.deactivate(session, scope, w.newcomer.id)
    assert last(session, "volunteer_rejected")[1]["target_id"] == w.newcomer.id
    volunteers.deactivate(session, scope, w.volunteer.id)
    assert not w.volunteer.active
    assert access.scope_for(session, w.volunteer).queue_ids == []
    assert last(session, "volunteer_deactivated")[0] == w.admin.id
    volunteers.reactivate(session, scope, w.volunteer.id)
    assert access.scope_for(session, w.volunteer).can_write(w.sub.id)  # grants were kept
    with pytest.raises(Invalid, match="yourself"):
        volunteers.deactivate(session, scope, w.admin.id)


def test_grants_and_revocations_are_audited_with_before_and_after(session: Session) -> None:
    w = admin_support.world(session)
    keeper = access.scope_for(session, w.queue_admin)
    volunteers.grant(session, keeper, w.newcomer.id, w.sub.id, "ro")
    volunteers.grant(session, keeper, w.newcomer.id, w.sub.id, "rw")
    volunteers.grant(session, keeper, w.newcomer.id, w.sub.id, "rw")  # no change, no event
    granted = [e.detail for e in events(session, "access_granted")]
    assert [(d["before"], d["after"]) for d in granted] == [(None, "ro"), ("ro", "rw")]
    assert granted[0]["queue"] == "info-en::Wikipedia"
    volunteers.revoke(session, keeper, w.newcomer.id, w.sub.id)
    who, detail = last(session, "access_revoked")
    assert who == w.queue_admin.id and detail["before"] == "rw" and detail["after"] is None
    with pytest.raises(NotFound):
        volunteers.revoke(session, keeper, w.newcomer.id, w.sub.id)  # nothing left to revoke
    with pytest.raises(Invalid, match="level"):
        volunteers.grant(session, keeper, w.newcomer.id, w.sub.id, "owner")


def test_queue_admin_cannot_grant_outside_their_queues(session: Session) -> None:
    w = admin_support.world(session)
    keeper = access.scope_for(session, w.queue_admin)
    with pytest.raises(NotFound):
        volunteers.grant(session, keeper, w.volunteer.id, w.press.id, "rw")
    with pytest.raises(NotFound):
        volunteers.grant(session, keeper, w.queue_admin.id, w.press.id, "admin")
    assert not access.scope_for(session, w.volunteer).can_see(w.press.id)


def test_listing_puts_waiting_volunteers_first_and_shows_only_administered_grants(
    session: Session,
) -> None:
    w = admin_support.world(session)
    gone = helpers.volunteer(session, "Aaron", active=False)
    session.commit()
    rows = volunteers.listing(session, access.scope_for(session, w.admin))
    assert [r.volunteer.username for r in rows] == [
        "Newcomer",
        "Admiral",
        "Alice",
        "Keeper",
        "Aaron",
    ]
    assert [r.status for r in rows] == [
        "waiting",
        "approved",
        "approved",
        "approved",
        "deactivated",
    ]
    assert rows[-1].volunteer.id == gone.id
    keeper_rows = volunteers.listing(session, access.scope_for(session, w.queue_admin))
    grants = {r.volunteer.username: [g.queue.name for g in r.grants] for r in keeper_rows}
    assert grants["Alice"] == ["info-en"]
    with pytest.raises(NotFound):
        volunteers.listing(session, access.scope_for(session, w.volunteer))


def test_who_has_access_includes_inherited_grants(session: Session) -> None:
    w = admin_support.world(session)
    scope = access.scope_for(session, w.admin)
    volunteers.grant(session, scope, w.newcomer.id, w.sub.id, "ro")
    volunteers.grant(session, scope, w.volunteer.id, w.sub.id, "ro")  # lower than inherited rw
    by_queue = {
        item.node.queue.name: {
            h.volunteer.username: (h.level, h.source, h.inherited, h.effective)
            for h in item.holders
        }
        for item in overview.who_has_access(session, scope)
    }
    assert by_queue["info-en::Wikipedia"] == {
        "Keeper": ("admin", "info-en", True, True),
        "Alice": ("rw", "info-en", True, True),
        "Newcomer": ("ro", "info-en::Wikipedia", False, False),  # not approved: opens nothing
    }
    assert by_queue["press"] == {}
    keeper_view = overview.who_has_access(session, access.scope_for(session, w.queue_admin))
    assert [i.node.queue.name for i in keeper_view] == ["info-en", "info-en::Wikipedia"]


def test_public_list_has_opted_in_approved_active_volunteers_only(session: Session) -> None:
    w = admin_support.world(session)
    gone = helpers.volunteer(session, "Gone", active=False)
    for v in (w.volunteer, w.newcomer, gone, w.admin):
        volunteers.set_public_listing(session, v, True)
    volunteers.set_public_listing(session, w.admin, False)
    assert volunteers.public_usernames(session) == ["Alice"]
    who, detail = last(session, "public_listing_changed")
    assert who == w.admin.id and detail["after"] is False


def test_revoking_keeps_the_grant_as_history(session_factory) -> None:  # type: ignore[no-untyped-def]
    """Public verification asks who had access when: a revoked grant keeps its row."""
    from sqlalchemy import select

    from wikibridge.access import scope_for
    from wikibridge.admin import volunteers as admin_volunteers_domain
    from wikibridge.models import QueueAccess, Volunteer, utcnow
    from wikibridge.store import queues as store_queues
    from wikibridge.store.access import had_access

    with session_factory.begin() as s:
        q = store_queues.ensure(s, "info-en")
        boss = Volunteer(
            central_id=1, username="Boss", approved=True, identified=True, is_admin=True
        )
        vol = Volunteer(central_id=2, username="Vol", approved=True, identified=True)
        s.add_all([boss, vol])
        s.flush()
        scope = scope_for(s, boss)
        admin_volunteers_domain.grant(s, scope, vol.id, q.id, "rw")
        ids = (vol.id, q.id)
    middle = utcnow()
    with session_factory.begin() as s:
        boss = s.scalars(select(Volunteer).where(Volunteer.username == "Boss")).one()
        admin_volunteers_domain.revoke(s, scope_for(s, boss), *ids)
    with session_factory() as s:
        rows = list(s.scalars(select(QueueAccess).where(QueueAccess.volunteer_id == ids[0])))
        assert len(rows) == 1 and rows[0].revoked_at is not None
        assert had_access(s, ids[0], ids[1], middle)
        assert not had_access(s, ids[0], ids[1], utcnow())
