"""Refusals: recorded, explained, and decided before the wiki is asked anything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wiki.actions_world import (
    INFO,
    INFO_WIKIPEDIA,
    PERMISSIONS,
    ExplodingReader,
    World,
    unique,
)
from wikibridge.models import Volunteer
from wikibridge.wiki.checks import ActionRefused

FILE = "File:Anything.png"


def refused(world: World, number: str, who: str | None, kind: str, **params: Any) -> ActionRefused:
    """Request with a reader that fails if called; check the refusal left its record only."""
    reader = ExplodingReader()
    newest = world.newest_change()
    jobs = len(world.jobs())
    with pytest.raises(ActionRefused) as caught:
        world.request(number, who, kind, reader=reader, **params)
    assert reader.calls == 0
    assert world.newest_change() == newest  # the wiki's recent changes: nothing new
    assert len(world.jobs()) == jobs  # nothing queued
    action = caught.value.action
    assert action is not None
    stored = world.action(action.id)
    assert (stored.state, stored.error) == ("refused", caught.value.reason)
    assert stored.outbox_job_id is None
    return caught.value


def test_volunteer_without_rw_is_refused(world: World) -> None:
    number = world.ticket(PERMISSIONS)
    refusal = refused(world, number, "Mallory", "permission", page=FILE)
    assert refusal.reason == f"Mallory has no read-write access to queue {PERMISSIONS!r}"
    assert refusal.action is not None
    assert world.audit_actions(refusal.action.id) == ["wiki_action_refused"]


def test_grants_cover_queues_below_but_not_others(world: World) -> None:
    number = world.ticket(INFO_WIKIPEDIA)
    refusal = refused(world, number, "Bob", "notice", page="User talk:Bob", notice="mail_answered")
    assert refusal.reason == f"Bob has no read-write access to queue {INFO_WIKIPEDIA!r}"
    # Alice's rw on info-en covers info-en::Wikipedia: she gets past access to the wiki check.
    with pytest.raises(AssertionError, match="the wiki was asked"):
        world.request(
            number,
            "Alice",
            "notice",
            reader=ExplodingReader(),
            page="User talk:Bob",
            notice="mail_answered",
        )


def test_ticket_that_does_not_exist(world: World) -> None:
    refusal = refused(world, "2016060210016939", "Alice", "permission", page=FILE)
    assert refusal.reason == "ticket 2016060210016939 does not exist"
    assert refusal.action is not None
    assert refusal.action.ticket_id is None
    assert refusal.action.ticket_number == "2016060210016939"


def test_not_a_ticket_number(world: World) -> None:
    refusal = refused(world, "2016060210016930", "Alice", "permission", page=FILE)
    assert refusal.reason == "'2016060210016930' is not a valid ticket number"


def test_permission_actions_only_from_permissions_queues(world: World) -> None:
    number = world.ticket(INFO_WIKIPEDIA)
    refusal = refused(world, number, "Alice", "permission", page=FILE)
    assert "only from permissions queues" in refusal.reason
    assert INFO_WIKIPEDIA in refusal.reason


def test_volunteer_not_approved(world: World) -> None:
    with world.sessions.begin() as s:
        alice = s.get(Volunteer, world.volunteer_ids["Alice"])
        assert alice is not None
        alice.active = False
    refusal = refused(world, world.ticket(), "Alice", "permission", page=FILE)
    assert refusal.reason == "Alice is not an approved, active volunteer"


def test_revision_deletion_never_by_the_bot(world: World) -> None:
    refusal = refused(world, world.ticket(INFO), None, "hide", page="Main Page", revision=1)
    assert "needs a volunteer's own account" in refusal.reason


@pytest.mark.parametrize(
    ("kind", "params", "reason"),
    [
        ("delete", {"page": "Main Page"}, "unknown action 'delete'"),
        ("revert", {"page": "Main Page"}, "a revert names either the user"),
        ("revert", {"page": "Main Page", "user": "Bob", "revision": 1}, "a revert names"),
        ("hide", {"page": "Main Page", "revision": "x"}, "'x' is not a revision id"),
        ("hide", {"page": "Main Page", "revision": 1, "parts": "all"}, "the parts to hide"),
        ("notice", {"page": "User talk:Bob", "notice": "Dear Bob, the mail said"}, "notice is"),
        ("revert", {"page": "Main Page", "user": "Bob", "purpose": "my words"}, "purpose is"),
        ("revert", {"page": "[[Main Page]]", "user": "Bob"}, "not a plain page title"),
    ],
)
def test_malformed_requests(world: World, kind: str, params: dict[str, Any], reason: str) -> None:
    refusal = refused(world, world.ticket(INFO_WIKIPEDIA), "Alice", kind, **params)
    assert reason in refusal.reason


def test_missing_page_is_refused_after_asking_the_wiki(world: World) -> None:
    newest = world.newest_change()
    with pytest.raises(ActionRefused) as caught:
        world.request(world.ticket(), "Alice", "permission", page="File:No such file.png")
    assert caught.value.reason.startswith("the page 'File:No such file.png' does not exist")
    other = world.wiki.edit(unique("Elsewhere"), "text", "create", user="Bob")["newrevid"]
    newest = world.newest_change()
    with pytest.raises(ActionRefused, match="is not a revision of 'Main Page'"):
        world.request(
            world.ticket(INFO_WIKIPEDIA), "Alice", "revert", page="Main Page", revision=other
        )
    assert world.newest_change() == newest
