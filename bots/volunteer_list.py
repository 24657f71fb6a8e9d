#!/usr/bin/env python3
"""Publish the list of volunteers who chose to be listed.

The page lists the approved, active volunteers who opted in to the public list, one line per
user name linking their user page, sorted by name. The bot writes the whole page (edits made
there by hand are overwritten) and makes no edit when the list has not changed.

Run as ``python -m bots.volunteer_list [options]``. With the global ``-simulate`` option no
edit is saved.

The following parameters are supported:

-always           Save without asking for confirmation

-title:TITLE      The page to publish (default: Project:Volunteer Response Team/Volunteers)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pywikibot
from pywikibot.bot import ConfigParserBot, CurrentPageBot, SingleSiteBot
from sqlalchemy.orm import Session, sessionmaker

from bots.common import Arguments, database, message, parse_args, stop_for_help
from wikibridge.wiki.summaries import checked_title
from wikibridge.wiki.tasks import listed_volunteers

DEFAULT_TITLE = "Project:Volunteer Response Team/Volunteers"
OPTIONS: dict[str, Any] = {"title": DEFAULT_TITLE}
HEADER = (
    "<!-- Published by a bot from the volunteers who chose to be listed; "
    "edits to this page are overwritten. -->"
)


def render(names: Sequence[str]) -> str:
    """The page: one linked user name per line. A name that could carry markup is left out
    (MediaWiki allows none of these characters in user names anyway)."""
    lines = [HEADER]
    for name in names:
        try:
            checked_title(name)
        except ValueError:
            continue
        lines.append(f"* [[User:{name}|{name}]]")
    return "\n".join(lines) + "\n"


class VolunteerListBot(SingleSiteBot, ConfigParserBot, CurrentPageBot):
    """Write the list page when the list changed."""

    update_options = OPTIONS

    def __init__(self, sessions: sessionmaker[Session], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions = sessions

    def setup(self) -> None:
        self.generator = [pywikibot.Page(self.site, self.opt.title)]

    def treat_page(self) -> None:
        with self.sessions() as session:
            names = listed_volunteers(session)
        self.put_current(
            render(names),
            summary=message(self.site, "volunteer_list-summary", count=len(names)),
            asynchronous=False,
        )


def parse(args: Sequence[str]) -> Arguments:
    return parse_args(args, OPTIONS)


def main(*args: str) -> None:
    """Parse the command line and run the bot."""
    parsed = parse(args)
    if stop_for_help(__name__, parsed):
        return
    if parsed.factory is not None and parsed.factory.gens:
        pywikibot.bot.suggest_help(additional_text="Give the page with -title, not a generator.")
        return
    with database(read_only=True) as (_settings, sessions):
        VolunteerListBot(sessions, **parsed.options).run()


if __name__ == "__main__":
    main()
