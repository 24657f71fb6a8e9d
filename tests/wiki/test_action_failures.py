"""Whose account edits, and what happens when the wiki says no."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.testwiki import BOT, free_port
from tests.wiki.actions_world import INFO_WIKIPEDIA, World, unique
from wikibridge.models import Volunteer, WikiAction
from wikibridge.store import audit
from wikibridge.wiki.actions import InvalidJob, NoCredentials, RetryLater, handle_wiki_action_job
from wikibridge.wiki.base import BotPassword, Credentials, Page, Revision
from wikibridge.wiki.mwclient_adapter import WikiSession

from .test_actions import PENDING


def failed_event(world: World, action: WikiAction) -> dict[str, object]:
    with world.sessions() as s:
        assert action.ticket_id is not None
        events = [
            e
            for e in audit.for_ticket(s, action.ticket_id)
            if e.detail.get("action_id") == action.id
        ]
    assert [e.action for e in events] == ["wiki_action_requested", "wiki_action_failed"]
    return events[-1].detail


def test_alice_and_bob_interleaved_each_under_their_own_account(world: World) -> None:
    titles = {name: [world.file(PENDING) for _ in range(3)] for name in ("Alice", "Bob")}
    number = world.ticket()
    actions = {
        name: [world.request(number, name, "permission", page=t).id for t in pages]
        for name, pages in titles.items()
    }
    # One after the other, alternating, in one process...
    world.perform(actions["Alice"][0])
    world.perform(actions["Bob"][0])
    world.perform(actions["Alice"][1])
    # ...and side by side in threads.
    rest = [actions["Bob"][1], actions["Alice"][2], actions["Bob"][2]]
    with ThreadPoolExecutor(len(rest)) as pool:
        results = list(pool.map(world.perform, rest))
    assert all(r.state == "done" for r in results), [r.error for r in results]

    for name, pages in titles.items():
        for title, action_id in zip(pages, actions[name], strict=True):
            top = world.wiki.revisions(title)[0]
            assert top["user"] == name  # never the bot, never the other volunteer
            assert world.action(action_id).revision_after == top["revid"]
            assert f"|user={name}}}}}" in (world.wiki.page_text(title) or "")


def test_credentials_of_someone_else_are_not_used(world: World) -> None:
    title = world.file(PENDING)
    action = world.request(world.ticket(), "Alice", "permission", page=title)
    count = len(world.wiki.revisions(title))

    def bobs(volunteer: Volunteer | None) -> Credentials:
        bob = world.wiki.account("Bob")
        return BotPassword(bob.bot_username, bob.bot_password)

    done = world.perform(action.id, bobs)
    assert done.state == "failed"
    assert done.error == "the login given for Alice is Bob's; nothing was done"
    assert failed_event(world, done)["code"] == "wronguser"
    assert len(world.wiki.revisions(title)) == count


def test_refused_login_and_missing_credentials(world: World) -> None:
    title = world.file(PENDING)
    number = world.ticket()

    def wrong(volunteer: Volunteer | None) -> Credentials:
        return BotPassword("Alice@wikibridge", "not-the-password")

    def none(volunteer: Volunteer | None) -> Credentials:
        raise NoCredentials("Alice has not logged in yet")

    first = world.perform(world.request(number, "Alice", "permission", page=title).id, wrong)
    assert first.state == "failed"
    assert first.error.startswith("the login was refused")
    second = world.perform(world.request(number, "Alice", "permission", page=title).id, none)
    assert (second.state, second.error) == (
        "failed",
        "no usable login: Alice has not logged in yet",
    )
    assert world.wiki.revisions(title)[0]["user"] == "Admin"


def test_no_rollback_right(world: World) -> None:
    title = unique("No rollback")
    world.wiki.edit(title, "Fine.", "create", user="Bob")
    world.wiki.edit(title, "Fine. Not fine.", "add", user="Mallory")
    action = world.request(
        world.ticket(INFO_WIKIPEDIA), "Alice", "revert", page=title, user="Mallory"
    )
    done = world.perform(action.id)
    assert done.state == "failed"
    assert done.error.startswith("the account lacks the right on this wiki")
    assert failed_event(world, done)["code"] == "permissiondenied"
    assert world.wiki.page_text(title) == "Fine. Not fine."


def test_hide_with_the_volunteers_account_only(world: World) -> None:
    """Alice is a volunteer but not an administrator of the wiki: her own account may not
    delete revisions, and nothing else is tried in her name."""
    title = unique("No revdel")
    world.wiki.edit(title, "a", "create", user="Bob")
    world.wiki.edit(title, "b", "secret", user="Mallory")
    secret = world.wiki.revisions(title)[0]["revid"]
    world.wiki.edit(title, "a", "revert", user="Bob")
    done = world.perform(
        world.request(world.ticket(INFO_WIKIPEDIA), "Alice", "hide", page=title, revision=secret).id
    )
    assert done.state == "failed"
    assert "lacks the right" in done.error
    hidden = {r["revid"]: r for r in world.wiki.revisions(title, content=True)}[secret]
    assert not (hidden.get("texthidden") or hidden["slots"]["main"].get("texthidden"))


def test_protected_page(world: World) -> None:
    title = world.file(PENDING)
    world.wiki.write(
        {"action": "protect", "title": title, "protections": "edit=sysop", "reason": "test"},
        user="Admin",
    )
    done = world.perform(world.request(world.ticket(), "Bob", "permission", page=title).id)
    assert done.state == "failed"
    assert done.error.startswith("the page is protected")
    detail = failed_event(world, done)
    assert (detail["code"], detail["reason"]) == ("protectedpage", done.error)
    assert "Permission pending" in (world.wiki.page_text(title) or "")


def test_bot_task_tags_in_the_volunteers_name_with_the_bots_account(world: World) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    done = world.perform(world.request(number, None, "permission", page=title, agent="Alice").id)
    assert done.state == "done", done.error
    top = world.wiki.revisions(title)[0]
    assert top["user"] == BOT
    assert f"{{{{PermissionTicket|id={number}|user=Alice}}}}" in (world.wiki.page_text(title) or "")


@pytest.mark.parametrize("kind", ["revert", "hide"])
def test_bot_may_not_revert_or_hide(world: World, kind: str) -> None:
    with pytest.raises(Exception, match="needs a volunteer's own account"):
        world.request(world.ticket(INFO_WIKIPEDIA), None, kind, page="Main Page", revision=1)


def test_edit_conflict_is_recorded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bob changes the same line between the job's read and its edit (a real race, made
    certain by editing right after the read): the wiki reports a conflict, nothing is lost."""
    title = world.file(PENDING)
    bobs = PENDING.replace("day=2}}", "day=3}}").rstrip()  # as the wiki saves it
    read = WikiSession.page

    def read_then_bob_edits(self: WikiSession, page_title: str) -> Page:
        page = read(self, page_title)
        if self.username == "Alice" and world.wiki.page_text(title) != bobs:
            world.wiki.edit(title, bobs, "meanwhile", user="Bob")
        return page

    monkeypatch.setattr(WikiSession, "page", read_then_bob_edits)
    done = world.perform(world.request(world.ticket(), "Alice", "permission", page=title).id)

    assert done.state == "failed"
    assert done.error.startswith("edit conflict")
    assert failed_event(world, done)["code"] == "editconflict"
    assert world.wiki.page_text(title) == bobs


class PageThere:
    """Answers the request's checks for a wiki that is down when the job runs."""

    def page(self, title: str) -> Page:
        return Page(title=title, exists=True, revid=1)

    def user_exists(self, name: str) -> bool:
        return True

    def revision(self, revid: int) -> Revision | None:
        return None


def test_wiki_down_leaves_the_action_queued_for_a_retry(world: World) -> None:
    down = f"http://127.0.0.1:{free_port()}/api.php"  # nothing listens there
    action = world.request(
        world.ticket(), "Alice", "permission", reader=PageThere(), page="File:X.png", wiki=down
    )
    payload = {"action_id": action.id}
    with pytest.raises(RetryLater, match="the wiki did not answer"):
        handle_wiki_action_job(payload, world.settings, world.sessions, world.credentials_for)
    stored = world.action(action.id)
    assert stored.state == "queued"
    assert stored.error.startswith("the wiki did not answer")
    with pytest.raises(InvalidJob):
        handle_wiki_action_job({}, world.settings, world.sessions, world.credentials_for)
    with pytest.raises(InvalidJob):
        handle_wiki_action_job(
            {"action_id": 10**9}, world.settings, world.sessions, world.credentials_for
        )
