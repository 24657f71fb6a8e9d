#!/usr/bin/env python3
"""Tag the files of tickets that confirmed a permission with {{PermissionTicket}}.

A ticket of a permissions queue acting on this wiki that was closed successful confirms the
files its mails and notes name (``File:Name.ext``); each such file gets
``{{PermissionTicket|id=TICKET|user=VOLUNTEER}}`` (the ticket's owner, else the bot), in place
of a {{Permission pending}} or {{Permission received}} tag. Each edit is recorded on its ticket
as an on-wiki action, so a second run finds nothing left to do. The rules are those of
:mod:`wikibridge.wiki.tasks`.

Run as ``python -m bots.tag_permissions [options]``. Use the global ``-simulate`` option to
see what would be done: no edit is saved and nothing is recorded.

The following parameters are supported:

-always           Save without asking for confirmation

-days:N           Look at tickets closed in the last N days (default 30)

These page generators and filters restrict the files to those they give:

&params;
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import pywikibot
from pywikibot import pagegenerators
from pywikibot.bot import ConfigParserBot, ExistingPageBot, SingleSiteBot
from pywikibot.exceptions import PageSaveRelatedError
from sqlalchemy.orm import Session, sessionmaker

from bots.common import (
    Arguments,
    database,
    message,
    parse_args,
    simulating,
    site_wiki,
    stop_for_help,
)
from wikibridge.config import Settings
from wikibridge.models import utcnow
from wikibridge.wiki import permission, summaries
from wikibridge.wiki.checks import ActionRefused
from wikibridge.wiki.tasks import (
    FileToTag,
    check_bot_action,
    files_awaiting_tag,
    record_bot_action,
)

docuReplacements = {"&params;": pagegenerators.parameterHelp}  # noqa: N816

OPTIONS: dict[str, Any] = {"days": 30}


class TagPermissionsBot(SingleSiteBot, ConfigParserBot, ExistingPageBot):
    """Tag each confirmed file once, recording the edit on its ticket."""

    update_options = OPTIONS

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        only: Iterable[pywikibot.page.BasePage] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sessions = sessions
        self.settings = settings
        self.only = only
        self.todo: dict[str, list[FileToTag]] = {}
        self.tagged: list[tuple[str, str]] = []
        self.problems: list[tuple[str, str, str]] = []

    def setup(self) -> None:
        since = utcnow() - timedelta(days=self.opt.days)
        with self.sessions() as session:
            found = files_awaiting_tag(
                session, site_wiki(self.site), closed_since=since, bot_user=self.site.username()
            )
        if self.only is not None:
            wanted = {page.title() for page in self.only}
            found = [item for item in found if item.title in wanted]
        for item in found:
            self.todo.setdefault(item.title, []).append(item)
        pages = (pywikibot.FilePage(self.site, title) for title in self.todo)
        self.generator = pagegenerators.PreloadingGenerator(pages)

    def treat_page(self) -> None:
        for item in self.todo.get(self.current_page.title(), []):
            self.tag(item)

    def tag(self, item: FileToTag) -> None:
        page = self.current_page
        with self.sessions() as session:
            try:
                plan = check_bot_action(
                    session, item.number, "permission", item.title, agent=item.agent
                )
            except ActionRefused as refusal:
                self.problems.append((item.title, item.number, refusal.reason))
                if not simulating():
                    session.commit()  # keep the refusal: the pair is not tried again
                return
        old = page.text
        new = permission.add_permission_ticket(old, item.number, item.agent)
        summary = message(
            self.site,
            "tag_permissions-summary",
            ticket=summaries.ticket_link(item.number),
            policy=summaries.policy_link(self.settings.wiki, plan.wiki),
        )
        before = page.latest_revision_id
        after: int | None = None
        error = ""
        if new != old:
            try:
                if not self.userPut(
                    page,
                    old,
                    new,
                    summary=summary,
                    asynchronous=False,
                    ignore_save_related_errors=False,
                ):
                    return  # the operator said no: asked again next time
                after = page.latest_revision_id
            except PageSaveRelatedError as e:
                error = f"the wiki refused the edit: {e}"
                self.problems.append((item.title, item.number, error))
        if simulating():
            pywikibot.info(f"Would record {item.title} on ticket {item.number}")
            return
        with self.sessions.begin() as session:
            record_bot_action(
                session,
                plan,
                summary=summary,
                revision_before=before,
                revision_after=after if after != before else None,
                error=error,
            )
        if not error:
            self.tagged.append((item.title, item.number))

    def teardown(self) -> None:
        pywikibot.info(f"\nTagged {len(self.tagged)} file(s)")
        for title, number in self.tagged:
            pywikibot.info(f"  {title} (ticket {number})")
        if self.problems:
            pywikibot.info(f"Not tagged: {len(self.problems)}")
            for title, number, reason in self.problems:
                pywikibot.info(f"  {title} (ticket {number}): {reason}")


def parse(args: Sequence[str]) -> Arguments:
    return parse_args(args, OPTIONS)


def main(*args: str) -> None:
    """Parse the command line and run the bot."""
    parsed = parse(args)
    if stop_for_help(__name__, parsed):
        return
    assert parsed.factory is not None
    only = parsed.factory.getCombinedGenerator() if parsed.factory.gens else None
    with database() as (settings, sessions):
        TagPermissionsBot(sessions, settings, only=only, **parsed.options).run()


if __name__ == "__main__":
    main()
