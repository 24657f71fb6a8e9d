"""The web app walked through in Chromium as volunteers and an admin would, on a real server.

The app is served over HTTP on a loopback port; volunteers log in through the test wiki's OAuth
provider (https on loopback), replies leave through a real SMTP server on loopback, and the
main pages are saved as screenshots under test-artifacts/screenshots/. A hostile HTML mail
is opened too: nothing in it may run, navigate, or reach the (counting) server it names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.browser_fixtures import LiveServer, PageProblems, live_server, new_page
from tests.databases import in_ci
from tests.oauth_fixtures import CALLBACK
from tests.oauth_provider import CONSUMER_KEY, CONSUMER_SECRET, RunningWiki
from tests.oauth_validators import WikiUser
from tests.smtpserver import SmtpServer
from tests.testwiki import TestWiki
from tests.webapp import helpers
from webapp import create_app
from wikibridge.admin.volunteers import make_global_admin
from wikibridge.config import OAuthSettings, Settings, SmtpSettings
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Worker
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import CannedResponse
from wikibridge.store import canned, queues, volunteers

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium fixture says so, and fails under CI=true
    if in_ci():
        raise
    pytest.skip("Playwright for Python is not installed", allow_module_level=True)

# One database is enough to walk through the pages; the store tests cover both.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

ROOT = WikiUser(central_id=7, username="Root")
QUESTION_ID = make_msgid(domain="example.net")


@dataclass
class Site:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    wiki: RunningWiki
    smtp: SmtpServer
    tickets: dict[str, str]  # which mail -> ticket number
    problems: PageProblems
    shots: Path
    browser: Any

    def page(self) -> Any:
        """A browser of its own: another person at another computer."""
        return new_page(self.browser, self.url, self.problems)

    def shot(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def log_in(self, page: Any, wiki_user: str) -> None:
        """Press the login button; the wiki (logged in as `wiki_user`) approves at once."""
        self.wiki.state.approve_as = wiki_user
        page.goto("/login")
        page.get_by_role("button", name="Log in with Test Wiki").click()
        # Through the wiki and its callback, back to a page of the app.
        page.wait_for_url(
            lambda url: url.startswith(self.url) and "/login" not in url and "/oauth/" not in url
        )


@pytest.fixture(params=["1.0a", "2.0"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def site(
    settings: Settings,
    session_factory: sessionmaker[Session],
    wiki: RunningWiki,
    test_wiki: TestWiki,
    protocol: str,
    chromium: Any,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Site]:
    server = LiveServer()
    smtp = SmtpServer().start()
    # The consumer is registered with this server's callback; the wiki sends browsers there.
    monkeypatch.setattr(wiki.state, "callback_url", server.url + CALLBACK.split(":5000", 1)[1])
    wiki.state.users[ROOT.username] = dataclasses.replace(ROOT)
    settings = dataclasses.replace(
        settings,
        public_url=server.url,
        oauth=OAuthSettings(
            wiki_url=f"{wiki.script_url}/index.php",
            consumer_key=CONSUMER_KEY,
            consumer_secret=CONSUMER_SECRET,
            protocol=protocol,
            wiki_name="Test Wiki",
        ),
        smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, timeout=5.0),
    )
    tickets = _seed(settings, session_factory, test_wiki.api_url)
    app = create_app(settings)
    server.app = app
    server.start()
    try:
        yield Site(
            server.url,
            settings,
            session_factory,
            wiki,
            smtp,
            tickets,
            PageProblems(),
            screenshots,
            chromium,
        )
    finally:
        server.stop()
        smtp.stop()
        app.extensions["wikibridge"].engine.dispose()


def _seed(settings: Settings, sessions: sessionmaker[Session], wiki: str) -> dict[str, str]:
    """Two queues (one below the other), a canned response and two mails from readers."""
    with sessions() as session, session.begin():
        info = helpers.queue(session, "info-en", "info-en@example.org")
        info.signature = "Regards,\n{volunteer}\n{queue}"
        info.wiki = wiki  # the real test wiki (MediaWiki), asked by the on-wiki action checks
        helpers.queue(session, "info-en::Wikipedia")
        canned.add(
            session,
            CannedResponse(
                queue_id=info.id,
                name="Fixed",
                body="Thank you: the article is fixed (ticket {ticket}).",
            ),
        )
    ingestor = Ingestor(settings, sessions)
    question = helpers.mail(
        "Wrong birth date",
        text="Hello, the birth date of the zeppelinist in the article is wrong.",
        message_id=QUESTION_ID,
    )
    again = helpers.mail("Birth date again", text="I wrote before about the birth date.")
    return {
        name: ingestor.ingest(raw, source="test", queue="info-en").ticket_number
        for name, raw in (("question", question), ("again", again))
    }


# Checks that wait for the page a click leads to (a busy machine may be slow to show it).
def heading(page: Any, text: str) -> None:
    expect(page.locator("main h1")).to_have_text(text)


def flashed(page: Any, text: str) -> None:
    expect(page.locator("main p.flash", has_text=text)).to_be_visible()


def test_wiki_login_lands_on_the_waiting_page(site: Site) -> None:
    page = site.page()
    page.goto("/login")
    site.shot(page, "login")
    site.log_in(page, "Alice")
    assert page.url == f"{site.url}/waiting"
    heading(page, "Waiting for approval")
    assert "Hello Alice." in page.locator("main").inner_text()
    # Nothing else is open to them yet.
    page.goto("/")
    assert page.url == f"{site.url}/waiting"
    assert site.problems == []


@pytest.mark.parametrize("protocol", ["2.0"])
def test_walkthrough(site: Site) -> None:
    number, other = site.tickets["question"], site.tickets["again"]

    # A new volunteer logs in and waits.
    alice = site.page()
    site.log_in(alice, "Alice")
    heading(alice, "Waiting for approval")

    # The operator names a global admin (they logged in once), who approves Alice.
    admin = site.page()
    site.log_in(admin, "Root")
    heading(admin, "Waiting for approval")
    with site.sessions() as session, session.begin():
        make_global_admin(session, "Root")
    admin.reload()
    heading(admin, "Dashboard")
    admin.get_by_role("link", name="Admin").click()
    admin.get_by_role("link", name="Volunteers").first.click()
    admin.get_by_role("link", name="Alice").click()
    heading(admin, "Alice")
    admin.get_by_label("Alice has identified with the Foundation").check()
    admin.get_by_role("button", name="Approve").click()
    flashed(admin, "Alice is approved.")
    admin.locator("select[name=queue_id]").select_option(label="info-en")
    admin.locator("select[name=level]").select_option("rw")
    admin.get_by_role("button", name="Grant").click()
    flashed(admin, "Access granted: rw.")

    # Alice reloads: her dashboard, with the queue.
    alice.reload()
    heading(alice, "Dashboard")
    expect(alice.get_by_role("link", name="info-en", exact=True)).to_be_visible()
    site.shot(alice, "dashboard")

    # The queue, a ticket, and its lock.
    alice.get_by_role("link", name="info-en", exact=True).click()
    heading(alice, "info-en")
    expect(alice.locator("table.tickets tbody tr")).to_have_count(2)
    site.shot(alice, "queue")
    alice.get_by_role("link", name=number, exact=True).click()
    alice.wait_for_url(f"{site.url}/tickets/{number}")
    alice.get_by_role("button", name="Take (lock)").click()
    flashed(alice, f"You hold Ticket#{number}")
    owner = alice.locator("dl.facts dt:has-text('Owner') + dd").inner_text()
    assert owner.startswith("Alice") and "you hold the lock" in owner
    assert alice.get_by_role("button", name="Renew the lock").is_visible()
    site.shot(alice, "ticket")

    # The on-wiki actions panel: a notice to a user the wiki does not know is refused before
    # any edit, and the refusal is recorded on the ticket.
    alice.locator("summary", has_text="Talk-page notice").click()
    alice.get_by_label("Talk page").fill("User talk:Nobody here")
    alice.get_by_label("Message", exact=True).select_option("mail_answered")
    alice.get_by_role("button", name="Queue the notice").click()
    flashed(alice, "The on-wiki action was refused: the user 'Nobody here' does not exist")
    refused = alice.locator("table.wiki-actions tbody tr")
    expect(refused).to_have_count(1)
    assert "refused" in refused.inner_text() and "Alice" in refused.inner_text()
    site.shot(alice, "wiki-actions")

    # A reply that starts from the canned response.
    alice.get_by_role("link", name="Reply by e-mail").click()
    assert alice.get_by_label("To", exact=True).input_value() == "reader@example.net"
    alice.get_by_label("Canned response").select_option(label="Fixed")
    alice.get_by_role("button", name="Start from it").click()
    alice.wait_for_url("**/reply?canned=*")
    body = alice.get_by_label("Text").input_value()
    assert f"the article is fixed (ticket {number})." in body
    assert body.rstrip().endswith("Regards,\nAlice\ninfo-en")
    subject = alice.get_by_label("Subject").input_value()
    assert "Wrong birth date" in subject
    site.shot(alice, "reply")
    alice.get_by_role("button", name="Send").click()
    flashed(alice, "Your reply is on its way.")
    expect(alice.locator("article.kind-outbound")).to_have_count(1)

    # The worker sends it to the mail server.
    worker = Worker(JobContext(site.settings, site.sessions))
    worker.run_once()
    [sent] = site.smtp.received
    message = sent.message
    assert sent.rcpt_tos == ["reader@example.net"]
    assert f"[Ticket#{number}]" in message["Subject"]
    assert message["In-Reply-To"] == QUESTION_ID
    assert QUESTION_ID in message["References"]
    assert "the article is fixed" in message.get_body(("plain",)).get_content()

    # An internal note.
    alice.locator("summary", has_text="Internal note").click()
    alice.get_by_label("Note (seen by volunteers only, never mailed)").fill(
        "Checked the source: 1970 is right."
    )
    alice.get_by_role("button", name="Add the note").click()
    flashed(alice, "Your note is added.")
    note = alice.locator("article", has=alice.locator(".badge.note"))
    assert "Checked the source: 1970 is right." in note.inner_text()

    # A move to the queue below.
    alice.locator("summary", has_text="Move to another queue").click()
    alice.locator("#queue").select_option(label="info-en::Wikipedia")
    alice.get_by_role("button", name="Move", exact=True).click()
    flashed(alice, f"Ticket#{number} is moved.")
    queue = alice.locator("dl.facts dt:has-text('Queue') + dd").inner_text()
    assert queue.startswith("info-en::Wikipedia")

    # The second mail is about the same thing: merged into the first ticket, by number.
    alice.goto(f"/tickets/{other}")
    alice.locator("summary", has_text="Merge into another ticket").click()
    alice.get_by_label("Ticket number to merge this ticket into").fill(number)
    alice.get_by_role("button", name="Merge", exact=True).click()
    flashed(alice, f"Ticket#{other} is merged into Ticket#{number}.")
    alice.wait_for_url(f"{site.url}/tickets/{number}*")
    merged_here = alice.locator("dl.facts dt:has-text('Merged here') + dd").inner_text()
    assert f"Ticket#{other}" in merged_here

    # A word from a mail's text finds the ticket.
    box = alice.get_by_role("search").get_by_role("searchbox")
    box.fill("zeppelinist")
    box.press("Enter")
    alice.wait_for_url("**/search?q=*")
    results = alice.locator("table.results tbody tr")
    expect(results).to_have_count(1)
    assert number in results.inner_text()
    assert "zeppelinist" in " ".join(alice.locator("table.results mark").all_inner_texts())
    site.shot(alice, "search")

    # Statistics, with the chart.
    alice.get_by_role("link", name="Statistics").click()
    alice.wait_for_url("**/stats")
    chart = alice.locator("svg.chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() > 0
    site.shot(alice, "statistics")

    # Switching the language: the menu in the header, kept for the following pages.
    alice.get_by_role("button", name="Deutsch").click()
    expect(alice.locator("html")).to_have_attribute("lang", "de")
    expect(alice.get_by_role("link", name="Statistik")).to_be_visible()
    alice.goto(f"{site.url}/")
    expect(alice.get_by_role("button", name="Abmelden")).to_be_visible()
    site.shot(alice, "dashboard-de")
    alice.get_by_role("button", name="English").click()
    expect(alice.locator("html")).to_have_attribute("lang", "en")

    assert site.problems == []


HOSTILE = """<html><head>
<meta http-equiv="refresh" content="0;url={remote}/refresh">
<base href="{remote}/">
<link rel="stylesheet" href="{remote}/style.css">
<style>body {{ background: url({remote}/background.png) }}</style>
<script>document.title = "pwned"; fetch("{remote}/script"); alert("script");</script>
</head>
<body onload="document.title = 'pwned'; fetch('{remote}/onload')">
<p id="marker">Hostile marker text</p>
<img src="{remote}/pixel.png" alt="tracker" onerror="alert('onerror')">
<img src="x" onerror="document.title = 'pwned'">
<a href="javascript:fetch('{remote}/javascript-link');alert('link')">Click for details</a>
<a href=" JaVaScRiPt:alert('spaced')">Spaced link</a>
<svg onload="fetch('{remote}/svg')"><circle r="5" onmouseover="alert('svg')"/></svg>
<form action="{remote}/form" method="post"><input name="who" value="me">
<button type="submit">Send the form</button></form>
<iframe src="{remote}/frame"></iframe>
<object data="{remote}/object"></object>
<div style="background-image: url({remote}/inline-style)" onmouseover="alert('div')">Styled</div>
<video poster="{remote}/poster.png" src="{remote}/video.mp4"></video>
</body></html>"""


@dataclass
class Counter:
    hits: list[str]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.hits.append(environ.get("PATH_INFO", ""))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"seen"]


@pytest.mark.parametrize("protocol", ["1.0a"])
def test_hostile_html_mail_runs_nothing_and_loads_nothing(site: Site) -> None:
    counter = Counter([])
    with live_server(counter) as remote:
        raw = helpers.mail(
            "Please read",
            text="Plain part.",
            html=HOSTILE.format(remote=remote.url),
        )
        number = Ingestor(site.settings, site.sessions).ingest(raw, queue="info-en").ticket_number
        with site.sessions() as session, session.begin():
            alice = helpers.volunteer(session, "Alice")
            alice.central_id = 101
            info = queues.by_name(session, "info-en")
            assert info is not None
            volunteers.grant(session, alice.id, info.id, "rw")

        page = site.page()
        dialogs: list[str] = []
        requests: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        site.log_in(page, "Alice")
        heading(page, "Dashboard")
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"/tickets/{number}")
        title = page.title()
        body = page.locator("article .body.html")
        expect(body.get_by_text("Hostile marker text")).to_be_visible()
        # What a reader would try: the links, the form's button, hovering.
        body.get_by_text("Click for details").click()
        body.get_by_text("Spaced link").click()
        body.get_by_text("Styled").hover()
        assert body.get_by_role("button", name="Send the form").count() == 0
        page.wait_for_timeout(1500)  # time for a refresh, a timer or a late load

        assert page.url == f"{site.url}/tickets/{number}"
        assert page.title() == title and "pwned" not in title
        assert dialogs == []
        assert counter.hits == []
        assert not [url for url in requests if url.startswith(remote.url)]
        assert [url for url in requests if not url.startswith(site.url)] == []
        for tag in ("script", "iframe", "object", "form", "svg", "meta", "base", "video"):
            assert body.locator(tag).count() == 0, tag
        assert page.evaluate("() => typeof window.pwned") == "undefined"
