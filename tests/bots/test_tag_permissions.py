"""tag_permissions against the real test wiki, in this process with the bot's login."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bots.tag_permissions import TagPermissionsBot
from tests.bots.world import POLICY_LINK, Desk, pending
from wikibridge.models import utcnow
from wikibridge.tickets.states import CLOSED_OK, OPEN


def run(desk: Desk, site: Any, **options: Any) -> TagPermissionsBot:
    bot = TagPermissionsBot(desk.sessions, desk.settings, site=site, always=True, **options)
    bot.run()
    return bot


def test_tags_a_confirmed_file_once_and_records_it(desk: Desk, bot_site: Any) -> None:
    title = desk.upload(pending(utcnow().date() - timedelta(days=3)))
    untouched = desk.upload(pending(utcnow().date()))
    number = desk.ticket(f"I, the photographer, release [[{title}]].", CLOSED_OK, owner="Bob")
    desk.ticket(f"Please wait, {untouched} is mine too.", OPEN)
    before = desk.wiki.revisions(title)
    untouched_text = desk.wiki.page_text(untouched)

    bot = run(desk, bot_site)

    assert bot.tagged == [(title, number)]
    text = desk.wiki.page_text(title)
    assert text is not None
    assert f"|permission={{{{PermissionTicket|id={number}|user=Bob}}}}\n" in text
    assert "Permission pending" not in text
    revisions = desk.wiki.revisions(title)
    assert len(revisions) == len(before) + 1
    summary = f"Permission confirmed per [[ticket:{number}]] ({POLICY_LINK})"
    assert (revisions[0]["user"], revisions[0]["comment"]) == ("WikibridgeBot", summary)
    assert desk.wiki.page_text(untouched) == untouched_text

    [action] = desk.actions()
    assert (action.kind, action.state, action.ticket_number, action.volunteer_id) == (
        "permission",
        "done",
        number,
        None,
    )
    assert (action.page, action.wiki, action.summary) == (title, desk.wiki.api_url, summary)
    assert (action.revision_before, action.revision_after) == (
        before[0]["revid"],
        revisions[0]["revid"],
    )
    assert action.params == {"agent": "Bob"}

    # A second run: nothing left to do, no edit, no second record.
    newest = desk.newest_change()["rcid"]
    assert run(desk, bot_site).tagged == []
    assert desk.newest_change()["rcid"] == newest
    assert len(desk.actions()) == 1


def test_a_file_tagged_already_is_recorded_without_an_edit(desk: Desk, bot_site: Any) -> None:
    title = desk.upload("Some text")
    number = desk.ticket(f"Release for {title}", CLOSED_OK)
    desk.wiki.edit(title, f"{{{{PermissionTicket|id={number}|user=Alice}}}}", user="Alice")
    newest = desk.newest_change()["rcid"]

    run(desk, bot_site)

    assert desk.newest_change()["rcid"] == newest
    [action] = desk.actions()
    assert (action.state, action.revision_after, action.params) == (
        "done",
        None,
        {"agent": "WikibridgeBot"},
    )


def test_generator_options_restrict_the_files(desk: Desk, bot_site: Any) -> None:
    import pywikibot

    first = desk.upload(pending(utcnow().date()))
    second = desk.upload(pending(utcnow().date()))
    number = desk.ticket(f"Release for {first} and {second}", CLOSED_OK)

    bot = run(desk, bot_site, only=[pywikibot.Page(bot_site, second)])

    assert bot.tagged == [(second, number)]
    assert "PermissionTicket" not in (desk.wiki.page_text(first) or "")
