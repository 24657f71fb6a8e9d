"""Canned responses (per queue or global) and news items in the core."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.admin import content
from wikibridge.admin.base import Invalid, NotFound

from .admin_audit import last
from .webapp import admin_support


def test_canned_responses_per_queue_and_global(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    keeper = access.scope_for(session, w.queue_admin)
    mine = content.create_canned(
        session,
        keeper,
        content.CannedInput(w.sub.id, "Sources", "Re: {ticket}", "Dear {requester}"),
    )
    assert last(session, "canned_created")[0] == w.queue_admin.id
    with pytest.raises(NotFound):
        content.create_canned(session, keeper, content.CannedInput(None, "Global", "", ""))
    with pytest.raises(NotFound):
        content.create_canned(session, keeper, content.CannedInput(w.press.id, "Press", "", ""))
    with pytest.raises(NotFound):  # nor move one out of their queues
        content.update_canned(
            session, keeper, mine.id, content.CannedInput(w.press.id, "Sources", "", "")
        )
    glob = content.create_canned(session, boss, content.CannedInput(None, "Hello", "", "Hi"))
    assert [c.name for c in content.canned_list(session, keeper)] == ["Thanks", "Sources"]
    assert [c.name for c in content.canned_list(session, boss)][0] == "Hello"
    with pytest.raises(NotFound):
        content.get_canned(session, keeper, glob.id)
    with pytest.raises(Invalid, match="name is required"):
        content.create_canned(session, keeper, content.CannedInput(w.sub.id, " ", "", ""))
    content.update_canned(
        session, keeper, mine.id, content.CannedInput(w.sub.id, "Sources", "Re", "Dear {requester}")
    )
    assert last(session, "canned_updated")[1]["changes"] == {"subject": ["Re: {ticket}", "Re"]}
    content.delete_canned(session, keeper, mine.id)
    who, detail = last(session, "canned_deleted")
    assert who == w.queue_admin.id and detail["body"] == "Dear {requester}"  # the text is kept
    assert set(content.VARIABLES) == {"ticket", "requester", "queue", "volunteer"}


def test_news_are_global_and_published_ones_show_on_login(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    draft = content.create_news(session, boss, content.NewsInput("Draft", "not yet", False))
    assert [n.title for n in content.login_news(session)] == ["Welcome"]
    content.update_news(session, boss, draft.id, content.NewsInput("Maintenance", "Sunday", True))
    assert [n.title for n in content.login_news(session)] == ["Maintenance", "Welcome"]
    who, detail = last(session, "news_updated")
    assert who == w.admin.id and detail["changes"]["published"] == [False, True]
    with pytest.raises(NotFound):
        content.create_news(session, access.scope_for(session, w.queue_admin), draft_input())
    with pytest.raises(Invalid, match="title is required"):
        content.create_news(session, boss, content.NewsInput("", "", True))


def draft_input() -> content.NewsInput:
    return content.NewsInput("Title", "", False)
