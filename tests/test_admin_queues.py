"""Queue administration in the core: the tree, renames that carry the sub-queues, addresses."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.admin import queues
from wikibridge.admin.base import Invalid, NotFound
from wikibridge.store import queues as store_queues

from .admin_audit import last
from .webapp import admin_support, helpers

INFO = queues.Settings(kind="info", language="en")


def test_create_under_a_parent_and_at_the_top(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    keeper = access.scope_for(session, w.queue_admin)
    blp = queues.create(session, keeper, "BLP", w.sub.id, INFO)
    assert blp.name == "info-en::Wikipedia::BLP" and blp.parent_id == w.sub.id
    assert last(session, "queue_created") == (
        w.queue_admin.id,
        {"queue_id": blp.id, "name": blp.name, "parent_id": w.sub.id},
    )
    with pytest.raises(NotFound):
        queues.create(session, keeper, "info-de", None, INFO)  # the top level is global
    with pytest.raises(NotFound):
        queues.create(session, keeper, "Sub", w.press.id, INFO)
    top = queues.create(session, boss, "info-de", None, queues.Settings("info", "de"))
    assert top.parent_id is None and top.language == "de"
    for label, message in [
        ("", "required"),
        ("a::b", "must not contain ::"),
        ("Wikipedia", "already is a queue named info-en::Wikipedia"),
        ("x" * 201, "too long"),
    ]:
        with pytest.raises(Invalid, match=message):
            queues.create(session, boss, label, w.info.id, INFO)


def test_rename_and_move_carry_the_queues_below(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    deep = helpers.queue(session, "info-en::Wikipedia::BLP")
    queues.rename(session, boss, w.info.id, "info-english", None)
    assert (w.info.name, w.sub.name, deep.name) == (
        "info-english",
        "info-english::Wikipedia",
        "info-english::Wikipedia::BLP",
    )
    queues.rename(session, boss, w.sub.id, "Wikipedia", w.press.id)
    assert (w.sub.name, deep.name) == ("press::Wikipedia", "press::Wikipedia::BLP")
    assert w.sub.parent_id == w.press.id
    who, detail = last(session, "queue_renamed")
    assert who == w.admin.id
    assert detail["before"] == {"name": "info-english::Wikipedia", "parent_id": w.info.id}
    assert detail["after"] == {"name": "press::Wikipedia", "parent_id": w.press.id}
    assert store_queues.by_name(session, "press::Wikipedia::BLP") is deep
    # The access that came with the old parent went with it: inheritance follows the tree.
    assert not access.scope_for(session, w.volunteer).can_see(deep.id)


def test_moves_that_would_break_the_tree_or_names_are_refused(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    deep = helpers.queue(session, "info-en::Wikipedia::BLP")
    helpers.queue(session, "press::Wikipedia")
    with pytest.raises(Invalid, match="under itself"):
        queues.rename(session, boss, w.info.id, "info-en", deep.id)
    with pytest.raises(Invalid, match="under itself"):
        queues.rename(session, boss, w.info.id, "info-en", w.info.id)
    with pytest.raises(Invalid, match="already is a queue named press::Wikipedia"):
        queues.rename(session, boss, w.sub.id, "Wikipedia", w.press.id)
    junk = helpers.queue(session, "Junk")
    with pytest.raises(Invalid, match="mail settings"):
        queues.rename(session, boss, junk.id, "Spam", None, protected=("Junk", "Raw"))
    assert (w.sub.name, junk.name) == ("info-en::Wikipedia", "Junk")


def test_queue_admin_moves_only_within_their_queues(session: Session) -> None:
    w = admin_support.world(session)
    other = helpers.queue(session, "info-en::Other")
    keeper = access.scope_for(session, w.queue_admin)
    queues.rename(session, keeper, other.id, "Other", w.sub.id)
    assert other.name == "info-en::Wikipedia::Other"
    with pytest.raises(NotFound):
        queues.rename(session, keeper, other.id, "Other", w.press.id)
    with pytest.raises(NotFound):  # the top level is global
        queues.rename(session, keeper, w.sub.id, "Wikipedia", None)
    with pytest.raises(NotFound):
        queues.rename(session, keeper, w.press.id, "press-room", None)


def test_settings_are_validated_and_changes_audited(session: Session) -> None:
    w = admin_support.world(session)
    keeper = access.scope_for(session, w.queue_admin)
    given = queues.Settings(
        kind="permissions",
        language="pt-BR",
        wiki="commons.wikimedia.org",
        signature="Regards,\n{volunteer}",
        auto_ack=True,
        ack_subject="We received your message [{ticket}]",
        ack_body="x" * 300,
    )
    queues.update(session, keeper, w.sub.id, given)
    assert (w.sub.kind, w.sub.language, w.sub.auto_ack) == ("permissions", "pt-br", True)
    who, detail = last(session, "queue_updated")
    assert who == w.queue_admin.id
    assert detail["changes"]["kind"] == ["info", "permissions"]
    assert detail["changes"]["ack_body"] == ["", "(300 characters)"]  # long text: not copied
    for bad, message in [
        (queues.Settings(kind="secret", language="en"), "kind"),
        (queues.Settings(kind="info", language="English"), "language code"),
        (queues.Settings(kind="info", language="en", auto_ack=True), "needs a subject"),
    ]:
        with pytest.raises(Invalid, match=message):
            queues.update(session, keeper, w.sub.id, bad)
    with pytest.raises(NotFound):
        queues.update(session, keeper, w.press.id, given)


def test_addresses_are_unique_and_global_admins_change_them(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    row = queues.add_address(session, boss, w.sub.id, " Wikipedia@Example.org ", "Wikipedia")
    assert row.address == "wikipedia@example.org"
    assert [a.address for a in w.sub.addresses] == ["wikipedia@example.org"]
    with pytest.raises(Invalid, match="already belongs to the queue press"):
        queues.add_address(session, boss, w.sub.id, "PRESS@example.org")
    with pytest.raises(Invalid, match="not an e-mail address"):
        queues.add_address(session, boss, w.sub.id, "not an address")
    with pytest.raises(NotFound):
        queues.add_address(session, access.scope_for(session, w.queue_admin), w.sub.id, "x@y.org")
    with pytest.raises(NotFound):  # the address belongs to another queue
        queues.remove_address(session, boss, w.sub.id, w.address_id)
    queues.remove_address(session, boss, w.sub.id, row.id)
    assert w.sub.addresses == []
    assert last(session, "queue_address_removed")[1]["address"] == "wikipedia@example.org"
