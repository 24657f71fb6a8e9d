"""citation_watcher against the real test wiki, in this process with the bot's login."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bots.citation_watcher import (
    Checker,
    CheckResult,
    CitationWatcherBot,
    default_checker,
    read_state,
    write_state,
)
from tests.bots.world import INFO, POLICY_LINK, Desk, in_ci, unique
from wikibridge.store import tickets
from wikibridge.tickets.numbers import format_number, is_valid
from wikibridge.tickets.states import CLOSED_OK, OPEN
from wikibridge.wiki.edit_citations import EditCitation

# Valid, but no ticket of a fresh database has it.
UNKNOWN = format_number(date(2020, 1, 2), "10", 12345)


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str


def exists(session: Session, citations: Sequence[EditCitation]) -> Sequence[CheckResult]:
    """A stand-in for the real checks: a valid number of an existing ticket."""
    return [
        Result(True, "ok")
        if is_valid(c.number) and tickets.by_number(session, c.number)
        else Result(False, "no such ticket" if is_valid(c.number) else "not a valid number")
        for c in citations
    ]


class Watch:
    def __init__(self, desk: Desk, site: Any, state: Path) -> None:
        self.desk = desk
        self.site = site
        self.state = state
        self.report = unique("User:WikibridgeBot/Citation report")
        self.key = f"{site.family.name}:{site.code}"
        newest = desk.newest_change()  # the watcher starts after it
        write_state(state, self.key, int(newest["rcid"]), newest["timestamp"])

    def run(self, checker: Checker) -> CitationWatcherBot:
        bot = CitationWatcherBot(
            self.site,
            self.desk.sessions,
            checker,
            always=True,
            state=str(self.state),
            report=self.report,
        )
        bot.run()
        return bot

    def report_text(self) -> str:
        return self.desk.wiki.page_text(self.report) or ""


@pytest.fixture
def watch(desk: Desk, bot_site: Any, tmp_path: Path) -> Watch:
    return Watch(desk, bot_site, tmp_path / "citation_watcher.json")


def test_reports_what_does_not_check_out_and_keeps_its_place(watch: Watch) -> None:
    desk, wiki = watch.desk, watch.desk.wiki
    number = desk.ticket("Mail", OPEN)
    sandbox = unique("Sandbox")
    good = wiki.edit(sandbox, "One", f"Per [[ticket:{number}]] ({POLICY_LINK})", user="Alice")
    url = (
        f"https://ticket.wikimedia.org/otrs/index.pl?Action=AgentTicketZoom&TicketNumber={UNKNOWN}"
    )
    unknown = wiki.edit(sandbox, "Two", f"See {url}", user="Bob")
    title = desk.upload("A square")
    tagged = wiki.edit(title, f"{{{{PermissionTicket|id={UNKNOWN}|user=Mallory}}}}", user="Mallory")
    moved = wiki.edit(title, f"Text\n{{{{PermissionOTRS|id={UNKNOWN}}}}}", "tidy", user="Alice")

    bot = watch.run(exists)

    assert [(c.revid, c.number, c.template, c.source) for c in bot.citations] == [
        (good["newrevid"], number, False, "summary"),
        (unknown["newrevid"], UNKNOWN, False, "summary"),
        (tagged["newrevid"], UNKNOWN, True, "PermissionTicket"),
    ]
    report = watch.report_text()
    rows = [line for line in report.splitlines() if line.startswith("| [[Special:Diff/")]
    page = sandbox.replace("_", " ")
    assert rows == [
        f"| [[Special:Diff/{unknown['newrevid']}|{unknown['newrevid']}]] || [[:{page}]] "
        f"|| [[User:Bob|Bob]] || <nowiki>{UNKNOWN}</nowiki> || <nowiki>summary</nowiki> "
        "|| <nowiki>no such ticket</nowiki>",
        f"| [[Special:Diff/{tagged['newrevid']}|{tagged['newrevid']}]] || [[:{title}]] "
        f"|| [[User:Mallory|Mallory]] || <nowiki>{UNKNOWN}</nowiki> "
        "|| <nowiki>{{PermissionTicket}}</nowiki> || <nowiki>no such ticket</nowiki>",
    ]
    [revision] = wiki.revisions(watch.report)
    assert (revision["user"], revision["comment"]) == (
        "WikibridgeBot",
        "Ticket citations that do not check out: 2",
    )
    # The state is the last change read (the tidying edit), not the report's.
    last = next(rc for rc in wiki.recent_changes() if rc["revid"] == moved["newrevid"])
    assert read_state(watch.state, watch.key) == {
        "rcid": last["rcid"],
        "timestamp": last["timestamp"],
    }

    # Nothing new: no edit. A new bad citation: a new section.
    watch.run(exists)
    assert len(wiki.revisions(watch.report)) == 1
    wiki.edit(sandbox, "Three", f"Ticket#{UNKNOWN[:-1]}0", user="Alice")
    watch.run(exists)
    assert len(wiki.revisions(watch.report)) == 2
    assert watch.report_text().count("== Ticket citations") == 2
    assert "not a valid number" in watch.report_text()


def test_simulate_publishes_nothing_and_keeps_the_state(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pywikibot import config

    watch.desk.wiki.edit(unique("Sandbox"), "One", f"per [[ticket:{UNKNOWN}]]", user="Bob")
    before = watch.state.read_text()
    newest = watch.desk.newest_change()["rcid"]
    monkeypatch.setattr(config, "simulate", True)

    bot = watch.run(exists)

    assert [(f.citation.number, f.reason) for f in bot.findings] == [(UNKNOWN, "no such ticket")]
    assert watch.desk.newest_change()["rcid"] == newest
    assert watch.state.read_text() == before


def test_first_run_without_state_looks_back(watch: Watch) -> None:
    watch.state.unlink()
    watch.desk.wiki.edit(unique("Sandbox"), "One", f"per [[ticket:{UNKNOWN}]]", user="Bob")
    bot = watch.run(exists)
    assert UNKNOWN in [c.number for c in bot.citations]
    saved = json.loads(watch.state.read_text())
    assert saved[watch.key]["rcid"] == bot.last_rcid


def verify_checker() -> Checker:
    """The real checks (wikibridge.verify); until they are merged, skip outside CI."""
    if importlib.util.find_spec("wikibridge.verify") is None and not in_ci():
        pytest.skip("wikibridge.verify (check_citations) is not merged yet")
    return default_checker(bots=["WikibridgeBot"])


def test_acceptance_the_four_bad_citations_with_their_reasons(watch: Watch) -> None:
    checker = verify_checker()
    desk, wiki = watch.desk, watch.desk.wiki
    good_file, other_file, info_file = (desk.upload("A square") for _ in range(3))
    good = desk.ticket(f"I release {good_file}.", CLOSED_OK, owner="Alice")
    other = desk.ticket(f"I release {other_file}.", OPEN)
    info = desk.ticket(f"About {info_file}.", OPEN, queue=INFO)
    bad_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    sandbox = unique("Sandbox")

    def tag(number: str, user: str) -> str:
        return f"{{{{Information|permission={{{{PermissionTicket|id={number}|user={user}}}}}}}}}"

    correct = wiki.edit(
        good_file,
        tag(good, "Alice"),
        f"Permission confirmed per [[ticket:{good}]] ({POLICY_LINK})",
        user="Alice",
    )
    unknown = wiki.edit(
        sandbox, "One", f"Removing unsourced claims per [[ticket:{UNKNOWN}]]", user="Alice"
    )
    malformed = wiki.edit(sandbox, "Two", f"See Ticket#{bad_digit}", user="Alice")
    outsider = wiki.edit(other_file, tag(other, "Mallory"), "tagging", user="Mallory")
    info_tag = wiki.edit(info_file, tag(info, "Alice"), "tagging", user="Alice")

    bot = watch.run(checker)

    assert len(bot.citations) == 6  # the correct edit cites twice: summary and template
    found = {
        (f.citation.revid, f.citation.number, f.citation.template): f.reason for f in bot.findings
    }
    assert set(found) == {
        (unknown["newrevid"], UNKNOWN, False),
        (malformed["newrevid"], bad_digit, False),
        (outsider["newrevid"], other, True),
        (info_tag["newrevid"], info, True),
    }
    assert correct["newrevid"] not in {revid for revid, _, _ in found}
    reasons = {revid: reason for (revid, _, _), reason in found.items()}
    assert re.search(r"no such|not exist", reasons[unknown["newrevid"]], re.I)
    assert re.search(r"check digit", reasons[malformed["newrevid"]], re.I)
    assert re.search(r"volunteer", reasons[outsider["newrevid"]], re.I)
    assert re.search(r"permission", reasons[info_tag["newrevid"]], re.I)
    report = watch.report_text()
    for revid in reasons:
        assert f"[[Special:Diff/{revid}|{revid}]]" in report
    assert f"Special:Diff/{correct['newrevid']}|" not in report


def test_default_report_page_and_state_file(desk: Desk, bot_site: Any) -> None:
    from pywikibot import config

    bot = CitationWatcherBot(bot_site, desk.sessions, exists)
    assert bot.report_title == "User:WikibridgeBot/Citation report"
    assert bot.state_path == Path(config.base_dir) / "citation_watcher.json"
