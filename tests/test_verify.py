"""Public verification facts and revision checks (both databases): never a word of the mail."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests import verify_world as vw
from wikibridge import access
from wikibridge.models import QueueAccess, Ticket, Volunteer, WikiAction, utcnow
from wikibridge.store import access as access_store
from wikibridge.store import volunteers
from wikibridge.tickets.numbers import format_number
from wikibridge.verify import check_revision, ticket_facts
from wikibridge.wiki.checks import ActionRefused, check_local

MISSING = format_number(date(2021, 5, 4), "10", 77777)


@pytest.fixture
def world(session: Session) -> vw.World:
    built = vw.build(session)
    session.commit()
    return built


def assert_nothing_confidential(text: str) -> None:
    for secret in vw.CONFIDENTIAL:
        assert secret.lower() not in text.lower(), secret


def test_facts_of_a_ticket_with_a_recorded_action(session: Session, world: vw.World) -> None:
    facts = ticket_facts(session, world.permission_number)
    assert (facts.valid, facts.exists, facts.status) == (True, True, "open")
    assert facts.queue_kind == "permissions"
    [action] = facts.actions
    assert (action.wiki, action.page, action.revision) == (vw.WIKI, vw.FILE, vw.REVISION)
    assert (action.volunteer, action.time, action.kind) == ("Alice", vw.EDIT_TIME, "permission")
    data = facts.to_dict()
    assert data["actions"][0]["time"] == "2024-03-01T12:00:00Z"
    assert_nothing_confidential(json.dumps(data))


def test_missing_and_nothing_public_have_the_same_shape(session: Session, world: vw.World) -> None:
    missing = ticket_facts(session, MISSING).to_dict()
    quiet = ticket_facts(session, world.info_number).to_dict()
    assert set(missing) == set(quiet)
    assert (missing["valid"], missing["exists"], missing["actions"]) == (True, False, [])
    assert (quiet["exists"], quiet["status"], quiet["queue_kind"], quiet["actions"]) == (
        True,
        "open",
        "info",
        [],
    )
    assert_nothing_confidential(json.dumps([missing, quiet]))


def test_newest_done_actions_oldest_first_with_usernames(session: Session, world: vw.World) -> None:
    """The newest 200 done actions, oldest first; queued and failed ones and older ones left
    out; the bot account's actions name no volunteer."""
    alice = world.volunteers["Alice"]
    for i in range(260):
        state = {3: "queued", 7: "failed"}.get(i % 10, "done")
        session.add(
            WikiAction(
                ticket_id=world.info_ticket_id,
                ticket_number=world.info_number,
                volunteer_id=None if i % 50 == 1 else alice,
                kind="notice",
                wiki=vw.WIKI,
                page=f"Talk:Page {i:03}",
                revision_before=None,
                revision_after=1000 + i,
                summary="",
                state=state,
                done_at=vw.EDIT_TIME + timedelta(minutes=i) if state == "done" else None,
            )
        )
    session.commit()
    facts = ticket_facts(session, world.info_number)
    done = [i for i in range(260) if i % 10 not in (3, 7)]
    newest = done[-200:]
    assert len(done) > 200
    assert [a.page for a in facts.actions] == [f"Talk:Page {i:03}" for i in newest]
    assert [a.revision for a in facts.actions] == [1000 + i for i in newest]
    assert [a.volunteer for a in facts.actions] == [
        None if i % 50 == 1 else "Alice" for i in newest
    ]
    assert facts.actions[0].time == vw.EDIT_TIME + timedelta(minutes=newest[0])
    assert (facts.queue_kind, facts.status) == ("info", "open")


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("12345", "malformed ticket number"),
        ("2016060210016938", "bad check digit"),
        ("20160602100169390000x", "malformed ticket number"),
    ],
)
def test_malformed_numbers(session: Session, number: str, problem: str) -> None:
    facts = ticket_facts(session, number)
    assert (facts.valid, facts.exists, facts.problem) == (False, False, problem)
    assert set(facts.to_dict()) == set(ticket_facts(session, MISSING).to_dict())


def test_removed_closed_and_merged(session: Session, world: vw.World) -> None:
    info = session.get(Ticket, world.info_ticket_id)
    assert info is not None
    info.state = "closed successful"
    session.commit()
    assert ticket_facts(session, world.info_number).status == "closed"

    info.state, info.merged_into_id = "merged", world.permission_ticket_id
    session.commit()
    merged = ticket_facts(session, world.info_number)
    assert (merged.status, merged.merged_into) == ("merged", world.permission_number)

    perm = session.get(Ticket, world.permission_ticket_id)
    assert perm is not None
    perm.removed_at = utcnow()
    session.commit()
    removed = ticket_facts(session, world.permission_number)
    assert (removed.exists, removed.status, removed.queue_kind, removed.actions) == (
        True,
        "removed",
        None,
        (),
    )
    assert not check_revision(session, world.permission_number, vw.WIKI, vw.REVISION).ok


def test_revision_recorded_and_editor_with_access(session: Session, world: vw.World) -> None:
    for wiki in (vw.WIKI, vw.WIKI_API, ""):
        check = check_revision(session, world.permission_number, wiki, vw.REVISION)
        assert (check.ok, check.recorded, check.editor, check.editor_had_access) == (
            True,
            True,
            "Alice",
            True,
        ), wiki


def test_revision_not_recorded(session: Session, world: vw.World) -> None:
    other = check_revision(session, world.permission_number, vw.WIKI, vw.REVISION + 1)
    assert (other.ok, other.recorded) == (False, False)
    assert "not an edit recorded" in other.reason
    elsewhere = check_revision(session, world.permission_number, "enwiki", vw.REVISION)
    assert not elsewhere.recorded
    wrong_ticket = check_revision(session, world.info_number, vw.WIKI, vw.REVISION)
    assert not wrong_ticket.recorded
    assert check_revision(session, MISSING, vw.WIKI, vw.REVISION).reason == "no such ticket"


@pytest.mark.parametrize("who", ["Late", "Gone"])
def test_revision_by_editor_without_access_then(
    session: Session, world: vw.World, who: str
) -> None:
    session.add(
        WikiAction(
            ticket_id=world.permission_ticket_id,
            ticket_number=world.permission_number,
            volunteer_id=world.volunteers[who],
            kind="permission",
            wiki=vw.WIKI,
            page=vw.FILE,
            revision_after=vw.REVISION + 5,
            state="done",
            done_at=vw.EDIT_TIME,
        )
    )
    session.commit()
    check = check_revision(session, world.permission_number, vw.WIKI, vw.REVISION + 5)
    assert (check.ok, check.recorded, check.editor, check.editor_had_access) == (
        False,
        True,
        who,
        False,
    )
    assert "no access" in check.reason


def test_bot_edit_recorded(session: Session, world: vw.World) -> None:
    session.add(
        WikiAction(
            ticket_id=world.permission_ticket_id,
            ticket_number=world.permission_number,
            kind="permission",
            wiki=vw.WIKI,
            page=vw.FILE,
            revision_after=vw.REVISION + 7,
            state="done",
            done_at=vw.EDIT_TIME,
        )
    )
    session.commit()
    check = check_revision(session, world.permission_number, vw.WIKI, vw.REVISION + 7)
    assert (check.ok, check.by_bot, check.editor) == (True, True, None)


def test_revoke_keeps_history_and_ends_access(session: Session, world: vw.World) -> None:
    alice = session.get(Volunteer, world.volunteers["Alice"])
    assert alice is not None
    queue_id = world.queues["permissions"]
    assert access.scope_for(session, alice).can_write(queue_id)
    assert volunteers.revoke(session, alice.id, queue_id)
    assert not volunteers.revoke(session, alice.id, queue_id)
    session.commit()
    assert not access.scope_for(session, alice).can_see(queue_id)
    gap = utcnow()
    volunteers.grant(session, alice.id, queue_id, "ro")
    session.commit()
    assert access.scope_for(session, alice).can_see(queue_id)
    assert len(access_store.grants(session, volunteer_ids=[alice.id])) == 2
    assert access_store.had_access(session, alice.id, queue_id, vw.EDIT_TIME)
    assert not access_store.had_access(session, alice.id, queue_id, gap)
    assert access_store.had_access(session, alice.id, queue_id, utcnow())
    assert not access_store.had_access(session, alice.id, queue_id, vw.LONG_AGO - timedelta(1))
    # The recorded edit was made while Alice had access: it still verifies.
    assert check_revision(session, world.permission_number, vw.WIKI, vw.REVISION).ok


def test_grant_on_a_parent_queue_covers_the_child(session: Session, world: vw.World) -> None:
    who = world.volunteers["Infoonly"]
    assert access_store.had_access(session, who, world.queues["info"], vw.EDIT_TIME)
    assert not access_store.had_access(session, who, world.queues["permissions"], vw.EDIT_TIME)


def test_one_live_grant_per_volunteer_and_queue(session: Session, world: vw.World) -> None:
    session.add(
        QueueAccess(
            volunteer_id=world.volunteers["Gone"], queue_id=world.queues["permissions"], level="ro"
        )
    )
    session.flush()  # the revoked grant is history: a new live one is fine
    session.add(
        QueueAccess(
            volunteer_id=world.volunteers["Alice"], queue_id=world.queues["permissions"], level="ro"
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_revoked_grant_allows_no_action(session: Session, world: vw.World) -> None:
    ticket = session.get(Ticket, world.permission_ticket_id)
    gone = session.get(Volunteer, world.volunteers["Gone"])
    alice = session.get(Volunteer, world.volunteers["Alice"])
    assert ticket is not None and gone is not None and alice is not None
    params = {"page": vw.OTHER_FILE}
    assert check_local(session, ticket, alice, "permission", params).page == vw.OTHER_FILE
    with pytest.raises(ActionRefused, match="no read-write access"):
        check_local(session, ticket, gone, "permission", params)
