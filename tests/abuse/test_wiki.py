"""Hostile or unlucky on-wiki actions: the edit summary never carries mail content, whatever
the request holds; a page protected, deleted or moved after the request gets no edit (the
action fails with the reason, recorded on the ticket)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.testwiki import TestWiki
from tests.wiki.actions_world import World, unique
from tests.wiki.test_actions import PENDING
from wikibridge.config import Settings
from wikibridge.models import Article
from wikibridge.store import articles, tickets
from wikibridge.wiki.checks import ActionRefused

SECRET = "Quixotic-Lanternfish private address 12 Elm Street"


@pytest.fixture
def world(test_wiki: TestWiki, settings: Settings, session_factory: sessionmaker[Session]) -> World:
    return World.build(test_wiki, settings, session_factory)


def confidential_ticket(world: World) -> str:
    """A ticket whose title and mail hold text that must never reach the wiki."""
    number = world.ticket()
    with world.sessions.begin() as s:
        ticket = tickets.by_number(s, number)
        assert ticket is not None
        ticket.title = f"{SECRET} [[Spam]] {{{{Delete}}}}"
        articles.add(
            s,
            Article(
                ticket_id=ticket.id,
                kind="inbound",
                sender=f"{SECRET} <x@example.net>",
                subject=SECRET,
                body_text=SECRET,
            ),
        )
    return number


def test_summaries_never_carry_mail_content(world: World) -> None:
    title = world.file(PENDING)
    number = confidential_ticket(world)
    action = world.request(
        number, "Alice", "permission", page=title, reason=SECRET, summary=SECRET, about=SECRET
    )
    done = world.perform(action.id)
    assert done.state == "done", done.error
    assert SECRET not in action.summary and "Quixotic" not in action.summary
    top = world.wiki.revisions(title)[0]
    assert top["comment"] == action.summary
    assert f"[[ticket:{number}]]" in top["comment"]
    assert "Quixotic" not in (world.wiki.page_text(title) or "")


def test_a_page_deleted_after_the_request_gets_no_edit(world: World) -> None:
    title = world.file(PENDING)
    action = world.request(world.ticket(), "Alice", "permission", page=title)
    world.wiki.write({"action": "delete", "title": title, "reason": "test"}, user="Admin")
    done = world.perform(action.id)
    assert done.state == "failed"
    assert "does not exist" in done.error
    assert world.wiki.page_text(title) is None
    assert world.audit_actions(action.id)[-1] == "wiki_action_failed"


def test_a_page_moved_after_the_request_gets_no_edit_on_the_redirect(world: World) -> None:
    title = world.file(PENDING)
    action = world.request(world.ticket(), "Alice", "permission", page=title)
    target = "File:" + unique("Moved").replace(" ", "_") + ".png"
    world.wiki.write(
        {"action": "move", "from": title, "to": target, "reason": "test"}, user="Admin"
    )
    redirect = world.wiki.revisions(title)
    done = world.perform(action.id)
    assert world.wiki.revisions(title) == redirect  # the redirect is left alone
    assert "PermissionTicket" not in (world.wiki.page_text(target) or "")
    assert done.state == "failed"
    assert "is a redirect now (moved?); nothing was done" in done.error
    with pytest.raises(ActionRefused, match="is a redirect"):  # and a new request says so
        world.request(world.ticket(), "Alice", "permission", page=title)


def test_a_page_protected_after_the_request_gets_no_edit(world: World) -> None:
    title = world.file(PENDING)
    action = world.request(world.ticket(), "Alice", "permission", page=title)
    world.wiki.write(
        {"action": "protect", "title": title, "protections": "edit=sysop", "reason": "test"},
        user="Admin",
    )
    count = len(world.wiki.revisions(title))
    done = world.perform(action.id)
    assert done.state == "failed" and done.error.startswith("the page is protected")
    assert len(world.wiki.revisions(title)) == count
