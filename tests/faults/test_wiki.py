"""The wiki down, answering maxlag or 5xx, or losing its answer after it saved the edit: a loopback
proxy in front of the real test wiki injects each fault. The action stays queued with the
reason; after the retry there is exactly one edit (the executor looks for its own earlier edit
before editing again)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import show
from tests.faults.proxies import HttpFaultProxy, any_request, api_action
from tests.testwiki import TestWiki
from tests.wiki.actions_world import World
from tests.wiki.test_actions import PENDING
from wikibridge.wiki.actions import RetryLater


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, databases, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """SQLite only: the faults are the wiki's; the action store runs on both in tests/wiki."""
    return str(databases.sqlite(tmp_path / "data" / "wikibridge.sqlite3"))


@pytest.fixture
def proxy(test_wiki: TestWiki) -> Iterator[HttpFaultProxy]:
    assert test_wiki.port is not None
    front = HttpFaultProxy(("127.0.0.1", test_wiki.port))
    yield front
    front.stop()


@pytest.fixture
def world(test_wiki: TestWiki, settings, session_factory) -> World:  # type: ignore[no-untyped-def]
    return World.build(test_wiki, settings, session_factory)


def revisions(world: World, title: str) -> int:
    return len(world.wiki.revisions(title))


def tagged_once(world: World, title: str, number: str) -> None:
    text = world.wiki.page_text(title) or ""
    assert text.count(f"{{{{PermissionTicket|id={number}|user=Alice}}}}") == 1


@pytest.mark.parametrize(
    ("mode", "match", "reason"),
    [
        ("503", api_action("edit"), "HTTP 503"),
        ("500", any_request, "HTTP 500"),
        ("maxlag", any_request, "lagging"),
        ("refuse", any_request, "did not answer"),
    ],
    ids=["edit-503", "every-500", "maxlag", "no-answer"],
)
def test_wiki_failing_for_now_leaves_the_action_queued_then_one_edit(
    world: World,
    proxy: HttpFaultProxy,
    mode: str,
    match,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title, wiki=proxy.api_url)
    before = revisions(world, title)
    show("before", revisions=before, action=action.state)

    proxy.inject(mode, match, times=100)
    with pytest.raises(RetryLater) as failure:
        world.perform(action.id)
    stored = world.action(action.id)
    show("fault", revisions=revisions(world, title), action=stored.state, error=stored.error[:60])
    assert proxy.injected(mode) >= 1
    assert stored.state == "queued"
    assert reason in str(failure.value) or reason in stored.error, (failure.value, stored.error)
    assert revisions(world, title) == before

    proxy.state.faults.clear()
    done = world.perform(action.id)
    show("after", revisions=revisions(world, title), action=done.state)
    assert done.state == "done", done.error
    assert revisions(world, title) == before + 1
    tagged_once(world, title, number)


def test_edit_saved_but_its_answer_lost_is_not_made_again(
    world: World, proxy: HttpFaultProxy
) -> None:
    """The proxy forwards the edit to the wiki, which saves it, and then drops the connection
    instead of answering (a timeout after the edit)."""
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title, wiki=proxy.api_url)
    before = revisions(world, title)
    show("before", revisions=before)

    proxy.inject("drop", api_action("edit"))
    with pytest.raises(RetryLater, match="did not answer"):
        world.perform(action.id)
    show("lost", revisions=revisions(world, title), action=world.action(action.id).state)
    assert proxy.injected("drop") == 1
    assert revisions(world, title) == before + 1  # the wiki did save it
    assert world.action(action.id).state == "queued"

    done = world.perform(action.id)
    show("after", revisions=revisions(world, title), action=done.state, note=done.error)
    assert done.state == "done"
    assert done.error == "saved by an earlier attempt"
    assert revisions(world, title) == before + 1
    assert done.revision_after == world.wiki.revisions(title)[0]["revid"]
    tagged_once(world, title, number)


def test_wiki_down_then_back_on_the_same_address(world: World, proxy: HttpFaultProxy) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title, wiki=proxy.api_url)
    before = revisions(world, title)
    proxy.stop()  # nothing listens on the wiki's address now

    with pytest.raises(RetryLater, match="did not answer"):
        world.perform(action.id)
    show("down", revisions=revisions(world, title), action=world.action(action.id).state)
    assert world.action(action.id).state == "queued"

    proxy.start()
    done = world.perform(action.id)
    show("after", revisions=revisions(world, title), action=done.state)
    assert done.state == "done", done.error
    assert revisions(world, title) == before + 1
    tagged_once(world, title, number)
