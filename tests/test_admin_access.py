"""Who may administer what: global admins, queue admins (inherited), everyone else."""

from __future__ import annotations

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.store import volunteers

from .webapp import helpers


def test_global_admin_may_do_everything(session: Session) -> None:
    q = helpers.queue(session, "info-en")
    boss = helpers.volunteer(session, "Boss")
    boss.is_admin = True
    scope = access.scope_for(session, boss)
    assert access.is_global_admin(scope)
    assert access.can_admin_any(scope)
    assert access.can_admin_queue(scope, q.id)
    assert access.can_place_queue(scope, None)
    assert access.can_manage_volunteers(scope) and access.can_manage_routing(scope)
    assert access.can_manage_news(scope) and access.can_admin_canned(scope, None)
    assert not scope.can_see(q.id)  # administering is not reading tickets


def test_queue_admin_administers_their_subtree_only(session: Session) -> None:
    info = helpers.queue(session, "info-en")
    deep = helpers.queue(session, "info-en::Wikipedia::BLP")
    press = helpers.queue(session, "press")
    keeper = helpers.volunteer(session, "Keeper")
    volunteers.grant(session, keeper.id, info.id, "admin")
    volunteers.grant(session, keeper.id, press.id, "rw")
    scope = access.scope_for(session, keeper)
    assert access.can_admin_any(scope) and not access.is_global_admin(scope)
    assert access.can_admin_queue(scope, info.id) and access.can_admin_queue(scope, deep.id)
    assert not access.can_admin_queue(scope, press.id)
    assert access.can_place_queue(scope, info.id) and not access.can_place_queue(scope, None)
    assert access.can_admin_canned(scope, deep.id) and not access.can_admin_canned(scope, None)
    assert not access.can_manage_volunteers(scope)
    assert not access.can_manage_routing(scope) and not access.can_manage_news(scope)
    assert access.administered_queue_ids(scope, [info.id, press.id, deep.id]) == [info.id, deep.id]


def test_admin_rights_need_an_approved_active_volunteer(session: Session) -> None:
    q = helpers.queue(session, "info-en")
    for v in (
        helpers.volunteer(session, "New", approved=False),
        helpers.volunteer(session, "Gone", active=False),
    ):
        v.is_admin = True
        volunteers.grant(session, v.id, q.id, "admin")
        scope = access.scope_for(session, v)
        assert not access.can_admin_any(scope)
        assert not access.can_admin_queue(scope, q.id)
        assert not access.is_global_admin(scope)
    plain = helpers.volunteer(session, "Plain")
    volunteers.grant(session, plain.id, q.id, "rw")
    assert not access.can_admin_any(access.scope_for(session, plain))
    assert not access.can_admin_any(access.NOBODY)
