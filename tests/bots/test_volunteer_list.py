"""volunteer_list against the real test wiki, in this process with the bot's login."""

from __future__ import annotations

from typing import Any

from bots.volunteer_list import HEADER, VolunteerListBot
from tests.bots.world import Desk, unique
from wikibridge.models import Volunteer


def test_publishes_the_listed_volunteers_and_edits_only_on_change(
    desk: Desk, bot_site: Any
) -> None:
    title = unique("Project:Volunteers")

    def run() -> None:
        VolunteerListBot(desk.sessions, site=bot_site, always=True, title=title).run()

    run()

    assert desk.wiki.page_text(title) == (f"{HEADER}\n* [[User:Admin|Admin]]\n* [[User:Bob|Bob]]")
    [revision] = desk.wiki.revisions(title)
    assert (revision["user"], revision["comment"]) == (
        "WikibridgeBot",
        "Volunteers who chose to be listed: 2",
    )

    run()
    assert len(desk.wiki.revisions(title)) == 1

    with desk.sessions.begin() as s:
        s.add(Volunteer(central_id=99, username="carol", approved=True, public_listing=True))
        s.add(Volunteer(central_id=98, username="Dave", approved=False, public_listing=True))
    run()
    assert desk.wiki.page_text(title) == (
        f"{HEADER}\n* [[User:Admin|Admin]]\n* [[User:Bob|Bob]]\n* [[User:carol|carol]]"
    )
    assert len(desk.wiki.revisions(title)) == 2
