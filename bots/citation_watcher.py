#!/usr/bin/env python3
"""Watch recent changes for ticket citations and publish those that do not check out.

Since its last run the bot reads the wiki's recent changes (edits, new pages and uploads) and
finds the tickets each change cites:

- in its edit summary: ``[[ticket:N]]``, ``ticket:N``, ``Ticket#N``, and VRTS/OTRS addresses
  (``…AgentTicketZoom&TicketNumber=N``);
- in permission templates the change added to a file: {{PermissionTicket}} (and the older
  {{PermissionOTRS}}, {{PermissionOTRS-ID}}) and {{Permission received}} with an id that the
  parent revision did not have.

Each citation is checked against the wikibridge database (does the ticket exist, may this
editor cite it, is it a permissions ticket for a template ...), and those that do not check out
are added, each with its reason, as a new section of the report page. A run that finds
nothing to report makes no edit.

Where the last run stopped (the last recent change read) is kept in a JSON file, by default
``citation_watcher.json`` next to ``user-config.py``. The first run looks back ``-hours``.

Run as ``python -m bots.citation_watcher [options]``. With the global ``-simulate`` option the
report is printed but not published, and the state file is left as it is.

The following parameters are supported:

-always           Publish without asking for confirmation

-report:TITLE     The report page (default: User:BOTNAME/Citation report)

-state:FILE       The state file (default: citation_watcher.json in pywikibot's directory)

-hours:N          Without a state file, read the changes of the last N hours (default 24)
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import pywikibot
from pywikibot import config
from pywikibot.bot import BaseBot, ConfigParserBot
from pywikibot.site import BaseSite
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
from wikibridge.models import utcnow
from wikibridge.wiki.edit_citations import CITING_TEMPLATES, EditCitation, edit_citations

OPTIONS: dict[str, Any] = {"report": "", "state": "", "hours": 24}
CHANGE_TYPES = "edit|new|log"
# Permission templates belong on file description pages; only there are revisions compared.
TEMPLATE_NAMESPACES = frozenset({6})
BATCH = 50  # revisions per API request


class CheckResult(Protocol):
    ok: bool
    reason: str


#: Checks citations against the database; one result per citation, in the same order.
Checker = Callable[[Session, Sequence[EditCitation]], Sequence[CheckResult]]


def default_checker(bots: Collection[str]) -> Checker:
    """``wikibridge.verify.check_citations``; the ``bots`` accounts' edits pass where their
    action is recorded on the ticket (tag_permissions records each of its edits)."""
    verify = importlib.import_module("wikibridge.verify")

    def check(session: Session, citations: Sequence[EditCitation]) -> Sequence[CheckResult]:
        plain = [
            verify.Citation(c.number, c.wiki, c.page, c.editor, c.when, c.template)
            for c in citations
        ]
        results: Sequence[CheckResult] = verify.check_citations(session, plain, bots=bots)
        return results

    return check


@dataclass(frozen=True)
class Change:
    """A recent change with the wikitext of its revision and of the parent, where needed."""

    rcid: int
    revid: int
    title: str
    user: str
    comment: str
    timestamp: str
    new_text: str | None  # None: not read (not a file page) or hidden
    old_text: str


@dataclass(frozen=True)
class Finding:
    citation: EditCitation
    reason: str


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _flag(data: dict[str, Any], key: str) -> bool:
    """A flag of an API answer, in either format version ("" or true when set)."""
    return data.get(key) not in (None, False)


# -- state --------------------------------------------------------------------------------------


def state_file(option: str) -> Path:
    return Path(option) if option else Path(config.base_dir) / "citation_watcher.json"


def read_state(path: Path, key: str) -> dict[str, Any] | None:
    """The last change read on this site: {"rcid": N, "timestamp": "..."}, or None."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    found = state.get(key)
    return found if isinstance(found, dict) else None


def write_state(path: Path, key: str, rcid: int, timestamp: str) -> None:
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        state = {}
    state[key] = {"rcid": rcid, "timestamp": timestamp}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, path)


# -- reading the wiki ---------------------------------------------------------------------------


def recent_changes(site: BaseSite, start: str, after_rcid: int) -> Iterator[dict[str, Any]]:
    """Edits, new pages and uploads from ``start`` on, oldest first, newer than ``after_rcid``."""
    for change in site.recentchanges(
        start=pywikibot.Timestamp.fromISOformat(start), reverse=True, changetype=CHANGE_TYPES
    ):
        if int(change.get("rcid", 0)) <= after_rcid or not change.get("revid"):
            continue
        if change["type"] == "log" and change.get("logtype") != "upload":
            continue
        if _flag(change, "userhidden") or _flag(change, "suppressed"):
            continue
        yield change


def revision_texts(site: BaseSite, revids: Iterable[int]) -> dict[int, str | None]:
    """Revision id -> wikitext (None when hidden), in requests of BATCH revisions."""
    texts: dict[int, str | None] = {}
    for chunk in batched(sorted(set(revids)), BATCH):
        result = site.simple_request(
            action="query",
            prop="revisions",
            revids="|".join(map(str, chunk)),
            rvprop="ids|content",
            rvslots="main",
        ).submit()
        pages = result.get("query", {}).get("pages", {})
        for page in pages.values() if isinstance(pages, dict) else pages:
            for rev in page.get("revisions", []):
                slot = rev.get("slots", {}).get("main", {})
                text = slot.get("content", slot.get("*"))
                hidden = _flag(rev, "texthidden") or _flag(slot, "texthidden")
                texts[int(rev["revid"])] = None if hidden else text
    return texts


def with_texts(site: BaseSite, changes: Iterable[dict[str, Any]]) -> Iterator[Change]:
    """The changes with the texts their template citations need: the new revision's on file
    pages, the parent's only where the new one has a citing template."""
    for batch in batched(changes, BATCH):
        on_files = [c for c in batch if c["ns"] in TEMPLATE_NAMESPACES]
        new = revision_texts(site, [c["revid"] for c in on_files])
        parents = revision_texts(
            site,
            [
                c["old_revid"]
                for c in on_files
                if c.get("old_revid") and _may_cite(new.get(c["revid"]))
            ],
        )
        for c in batch:
            yield Change(
                rcid=int(c["rcid"]),
                revid=int(c["revid"]),
                title=c["title"],
                user=c.get("user", ""),
                comment=c.get("comment", ""),
                timestamp=c["timestamp"],
                new_text=new.get(c["revid"]),
                old_text=parents.get(c.get("old_revid") or 0) or "",
            )


def _may_cite(text: str | None) -> bool:
    lowered = (text or "").lower().replace("_", " ")
    return any(name in lowered for name in CITING_TEMPLATES)


# -- the report ---------------------------------------------------------------------------------


def report_section(findings: Sequence[Finding], first: str, last: str) -> tuple[str, str]:
    """The heading and table of one run's findings."""
    heading = f"Ticket citations {first} to {last}"
    rows = [
        '{| class="wikitable sortable"',
        "! Edit !! Page !! Editor !! Ticket !! Cited in !! Why it does not check out",
    ]
    for finding in findings:
        c = finding.citation
        where = "summary" if not c.template else "{{" + c.source + "}}"
        rows += [
            "|-",
            f"| [[Special:Diff/{c.revid}|{c.revid}]] || [[:{c.page}]] "
            f"|| [[User:{c.editor}|{c.editor}]] || {_plain(c.number)} || {_plain(where)} "
            f"|| {_plain(finding.reason)}",
        ]
    rows.append("|}")
    return heading, "\n".join(rows)


def _plain(text: str) -> str:
    """Text shown as it is: no markup, and nothing that could end the table cell."""
    return "<nowiki>" + text.replace("<", "&lt;").replace("\n", " ") + "</nowiki>"


# -- the bot ------------------------------------------------------------------------------------


class CitationWatcherBot(ConfigParserBot, BaseBot):
    """Read recent changes since the last run, check their citations, report the bad ones."""

    update_options = OPTIONS

    def __init__(
        self,
        site: BaseSite,
        sessions: sessionmaker[Session],
        checker: Checker,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.site = site
        self.sessions = sessions
        self.checker = checker
        self.treat_page_type = Change
        self.wiki = site_wiki(site)
        self.report_title = self.opt.report or f"User:{site.username()}/Citation report"
        self.state_path = state_file(self.opt.state)
        self.state_key = f"{site.family.name}:{site.code}"
        self.citations: list[EditCitation] = []
        self.findings: list[Finding] = []
        self.first = self.last = ""
        self.last_rcid = 0

    def setup(self) -> None:
        state = read_state(self.state_path, self.state_key)
        if state is None:
            start = (utcnow() - timedelta(hours=self.opt.hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.last_rcid = 0
        else:
            start, self.last_rcid = str(state["timestamp"]), int(state["rcid"])
        self.last = start
        changes = recent_changes(self.site, start, self.last_rcid)
        self.generator = with_texts(self.site, changes)

    def treat(self, change: Change) -> None:
        self.first = self.first or change.timestamp
        self.last, self.last_rcid = change.timestamp, change.rcid
        if change.title == self.report_title:
            return
        self.citations += edit_citations(
            wiki=self.wiki,
            page=change.title,
            editor=change.user,
            when=datetime.fromisoformat(change.timestamp.replace("Z", "+00:00")),
            revid=change.revid,
            comment=change.comment,
            new_text=change.new_text,
            old_text=change.old_text,
        )

    def teardown(self) -> None:
        if not self.generator_completed:
            return  # interrupted: the next run starts where this one began
        self.findings = self.check(self.citations)
        pywikibot.info(
            f"\n{len(self.citations)} citation(s) read, {len(self.findings)} do not check out"
        )
        for f in self.findings:
            c = f.citation
            pywikibot.info(f"  revision {c.revid} ({c.page}, {c.editor}): {c.number}: {f.reason}")
        if simulating():
            return
        if self.findings and not self.publish():
            return  # not published: the same changes are read again next time
        if self.last_rcid:
            write_state(self.state_path, self.state_key, self.last_rcid, self.last)

    def check(self, citations: Sequence[EditCitation]) -> list[Finding]:
        if not citations:
            return []
        with self.sessions() as session:
            results = self.checker(session, citations)
        return [Finding(c, r.reason) for c, r in zip(citations, results, strict=True) if not r.ok]

    def publish(self) -> bool:
        heading, text = report_section(self.findings, self.first, self.last)
        page = pywikibot.Page(self.site, self.report_title)
        if not self.user_confirm(f"Add {len(self.findings)} finding(s) to {page.title()}?"):
            return False
        page.save(
            summary=message(self.site, "citation_watcher-summary", count=len(self.findings)),
            section="new",
            sectiontitle=heading,
            text=text,
            minor=False,
            asynchronous=False,
        )
        self.counter["write"] += 1
        return True


def parse(args: Sequence[str]) -> Arguments:
    return parse_args(args, OPTIONS)


def main(*args: str) -> None:
    """Parse the command line and run the bot."""
    parsed = parse(args)
    if stop_for_help(__name__, parsed):
        return
    if parsed.factory is not None and parsed.factory.gens:
        pywikibot.bot.suggest_help(additional_text="The watcher takes no page generator.")
        return
    site = pywikibot.Site()
    checker = default_checker(bots=[site.username()])
    with database(read_only=True) as (_settings, sessions):
        CitationWatcherBot(site, sessions, checker, **parsed.options).run()


if __name__ == "__main__":
    main()
