#!/usr/bin/env python3
"""Sweep the files waiting for a permission: {{Permission pending}} and {{Permission received}}.

For each file that carries one of these tags:

- a ticket of a permissions queue names the file (or mentions its bare name, or the received
  tag cites it) and is open: the file is left alone, the volunteers are on it. It is not moved
  to {{Permission received}}: whether a permission is sufficient is a volunteer's judgement,
  not a bot's;
- such a ticket was closed successful, or the page carries a permission tag already: left
  alone (tag_permissions tags the former);
- otherwise, once it has waited 30 days (counted from the tag's year/month/day, else from the
  page's last edit), the tag is replaced by {{No permission since|day=|month=|year=}} and the
  uploader gets a notice in a new section of their talk page (fixed text: the file, the date,
  the policy page; nothing from any mail).

A report (counts and the files of each outcome) is printed at the end. The edits cite no
ticket, so nothing is recorded in the database: the bot only reads it.

Run as ``python -m bots.pending_sweeper [options]``. With the global ``-simulate`` option no
edit is saved.

The following parameters are supported:

-always           Save without asking for confirmation

-days:N           Tag files that have waited N days or more (default 30)

Without page generator options the bot walks the files transcluding the two templates; these
options choose other pages:

&params;
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pywikibot
from pywikibot import pagegenerators
from pywikibot.bot import ConfigParserBot, ExistingPageBot, SingleSiteBot
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.exceptions import PageSaveRelatedError
from pywikibot.site import BaseSite
from sqlalchemy.orm import Session, sessionmaker

from bots.common import Arguments, database, message, parse_args, site_wiki, stop_for_help
from wikibridge.config import Settings
from wikibridge.models import utcnow
from wikibridge.wiki import permission, summaries
from wikibridge.wiki.tasks import PENDING_DAYS, PendingSweep

docuReplacements = {"&params;": pagegenerators.parameterHelp}  # noqa: N816

TEMPLATES = ("Permission pending", "Permission received")
FILE_NAMESPACE = 6
# Tickets closed successfully this long ago still keep their files from being tagged.
CONFIRMED_DAYS = 90

OPTIONS: dict[str, Any] = {"days": PENDING_DAYS}


@dataclass(frozen=True)
class Outcome:
    title: str
    reason: str
    notified: str = ""  # the uploader told on their talk page


def waiting_files(site: BaseSite) -> Iterator[pywikibot.page.BasePage]:
    """Files transcluding the pending or received template (or a redirect to it), each once:
    pagegenerators' ``-transcludes:`` and ``-ns:`` options."""
    factory = pagegenerators.GeneratorFactory(site=site)
    for name in TEMPLATES:
        factory.handle_arg(f"-transcludes:{name}")
    factory.handle_arg(f"-ns:{FILE_NAMESPACE}")
    generator: Iterator[pywikibot.page.BasePage] = factory.getCombinedGenerator(preload=True)
    return generator


class PendingSweeperBot(SingleSiteBot, ConfigParserBot, ExistingPageBot):
    """Tag files that waited too long for a permission, and tell their uploaders."""

    update_options = OPTIONS

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions = sessions
        self.settings = settings
        self.today = utcnow().date()
        self.tagged: list[Outcome] = []
        self.left: list[Outcome] = []
        self.failed: list[Outcome] = []
        self.untagged: list[str] = []

    def setup(self) -> None:
        with self.sessions() as session:
            self.sweep = PendingSweep(
                session,
                site_wiki(self.site),
                closed_since=utcnow() - timedelta(days=max(CONFIRMED_DAYS, self.opt.days)),
            )
        if not hasattr(self, "generator"):
            self.generator = waiting_files(self.site)

    def treat_page(self) -> None:
        page = self.current_page
        title = page.title()
        tags = permission.waiting_tags(page.text)
        if not tags:
            self.untagged.append(title)
            return
        confirmed = sorted(permission.cited_tickets(page.text))
        if confirmed:  # a leftover pending tag next to the permission: not for this bot
            self.left.append(Outcome(title, f"carries a permission tag for ticket {confirmed[0]}"))
            return
        with self.sessions() as session:
            verdict = self.sweep.verdict(
                session,
                title,
                tags,
                last_edit=page.latest_revision.timestamp.date(),
                today=self.today,
                days=self.opt.days,
            )
        if not verdict.tag:
            self.left.append(Outcome(title, verdict.reason))
            return
        since = verdict.since or self.today
        policy = self.policy_link()
        summary = message(
            self.site, "pending_sweeper-summary", since=since.isoformat(), policy=policy
        )
        new = permission.add_no_permission_since(page.text, self.today)
        try:
            saved = self.userPut(
                page,
                page.text,
                new,
                summary=summary,
                asynchronous=False,
                ignore_save_related_errors=False,
            )
        except PageSaveRelatedError as e:
            self.failed.append(Outcome(title, f"the wiki refused the edit: {e}"))
            return
        if saved:
            notified = self.notify(page, since, policy)
            self.tagged.append(Outcome(title, verdict.reason, notified))

    def notify(self, page: pywikibot.page.BasePage, since: date, policy: str) -> str:
        """A notice on the uploader's talk page; returns the uploader's name ("" if none)."""
        uploader = self.uploader(page)
        if not uploader or uploader == self.site.username():
            return ""
        file = summaries.checked_title(page.title())
        talk = pywikibot.User(self.site, uploader).getUserTalkPage()
        params = {"file": file, "since": since.isoformat(), "policy": policy}
        if not self.user_confirm(f"Notify {uploader} on {talk.title()}?"):
            return ""
        try:
            talk.save(
                summary=message(self.site, "pending_sweeper-notice-summary", **params),
                section="new",
                sectiontitle=message(self.site, "pending_sweeper-notice-heading", **params),
                text=message(self.site, "pending_sweeper-notice", **params),
                minor=False,
                asynchronous=False,
            )
        except PageSaveRelatedError as e:
            self.failed.append(Outcome(page.title(), f"the notice to {uploader} failed: {e}"))
            return ""
        return str(uploader)

    def uploader(self, page: pywikibot.page.BasePage) -> str:
        """Who uploaded the file first (the page's creator when it has no file)."""
        try:
            return str(pywikibot.FilePage(page).oldest_file_info.user or "")
        except (PywikibotError, ValueError):
            return str(page.oldest_revision.user or "")

    def policy_link(self) -> str:
        return summaries.policy_link(self.settings.wiki, site_wiki(self.site))

    def teardown(self) -> None:
        report(self.tagged, self.left, self.failed, self.untagged)


def report(
    tagged: Sequence[Outcome],
    left: Sequence[Outcome],
    failed: Sequence[Outcome],
    untagged: Sequence[str],
) -> None:
    total = len(tagged) + len(left) + len(failed) + len(untagged)
    pywikibot.info(f"\nPending sweep: {total} file(s)")
    pywikibot.info(f"Tagged {{{{No permission since}}}}: {len(tagged)}")
    for o in tagged:
        told = f"; notified {o.notified}" if o.notified else "; nobody notified"
        pywikibot.info(f"  {o.title}: {o.reason}{told}")
    pywikibot.info(f"Left alone: {len(left)}")
    for o in left:
        pywikibot.info(f"  {o.title}: {o.reason}")
    if failed:
        pywikibot.info(f"Failed: {len(failed)}")
        for o in failed:
            pywikibot.info(f"  {o.title}: {o.reason}")
    if untagged:
        pywikibot.info(f"Without a pending or received tag: {len(untagged)}")
        for title in untagged:
            pywikibot.info(f"  {title}")


def parse(args: Sequence[str]) -> Arguments:
    return parse_args(args, OPTIONS)


def main(*args: str) -> None:
    """Parse the command line and run the bot."""
    parsed = parse(args)
    if stop_for_help(__name__, parsed):
        return
    assert parsed.factory is not None
    kwargs: dict[str, Any] = dict(parsed.options)
    if parsed.factory.gens:
        kwargs["generator"] = parsed.factory.getCombinedGenerator(preload=True)
    with database(read_only=True) as (settings, sessions):
        PendingSweeperBot(sessions, settings, **kwargs).run()


if __name__ == "__main__":
    main()
