"""The test wiki itself: a real MediaWiki 1.39 that accounts log in to with BotPasswords."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.testwiki import (
    BOT,
    PAGES,
    POLICY_PAGE,
    ApiError,
    TestWiki,
    mwclient_site,
    pywikibot_site,
)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_api_answers_as_mediawiki_1_39(test_wiki: TestWiki) -> None:
    general = test_wiki.api({"action": "query", "meta": "siteinfo"})["query"]["general"]
    assert general["generator"].startswith("MediaWiki 1.39")
    assert general["server"] == test_wiki.base_url
    assert test_wiki.api_url.startswith("http://127.0.0.1:")
    assert requests.get(test_wiki.page_url("Main Page"), timeout=10).status_code == 200


def test_accounts_and_groups(test_wiki: TestWiki) -> None:
    assert set(test_wiki.accounts) == {"Admin", BOT, "Alice", "Bob", "Mallory"}
    for name, account in test_wiki.accounts.items():
        info = test_wiki.api(
            {"action": "query", "meta": "userinfo", "uiprop": "groups"}, user=account
        )["query"]["userinfo"]
        assert info["name"] == name
        assert set(account.groups) <= set(info["groups"])
        assert account.bot_username == f"{name}@wikibridge"
    assert "bot" in test_wiki.bot.groups
    assert {"sysop", "bureaucrat"} <= set(test_wiki.admin.groups)


def test_pages_templates_and_ticket_interwiki(test_wiki: TestWiki) -> None:
    for title, text in PAGES.items():
        assert test_wiki.page_text(title) == text.strip()
    assert POLICY_PAGE in PAGES
    parsed = test_wiki.api(
        {
            "action": "parse",
            "contentmodel": "wikitext",
            "title": "File:Example.png",
            "text": "{{PermissionTicket|id=2024010110000012|user=Bob}}",
            "prop": "iwlinks|categories|templates",
        }
    )["parse"]
    assert parsed["iwlinks"][0]["url"] == "http://127.0.0.1/ticket/2024010110000012"
    assert parsed["categories"][0]["category"] == "Items_with_VRT_permission_confirmed"


def test_transclusions_are_listed(test_wiki: TestWiki) -> None:
    title = unique("File:Tagged") + ".png"
    test_wiki.edit(title, "{{PermissionTicket|id=2024010110000099|user=Alice}}", "tag")
    test_wiki.run_jobs()
    embedded = test_wiki.api(
        {
            "action": "query",
            "list": "embeddedin",
            "eititle": "Template:PermissionTicket",
            "eilimit": "max",  # the session's wiki is shared: other tests tag pages too
        }
    )["query"]["embeddedin"]
    assert title in [page["title"] for page in embedded]


def test_bot_edits_with_pywikibot(test_wiki: TestWiki) -> None:
    import pywikibot

    site = pywikibot_site(test_wiki, BOT)
    assert site.user() == BOT
    title = unique("Pywikibot edit")
    summary = unique("summary")
    page = pywikibot.Page(site, title)
    page.text = "Edited by the bot. {{Permission pending|year=2024|month=01|day=02}}"
    page.save(summary=summary)

    assert test_wiki.page_text(title) == page.text
    change = next(rc for rc in test_wiki.recent_changes() if rc["title"] == title)
    assert change["user"] == BOT
    assert change["comment"] == summary
    assert change["type"] == "new"


def test_volunteer_edits_with_mwclient(test_wiki: TestWiki) -> None:
    site = mwclient_site(test_wiki, "Alice")
    assert site.logged_in
    title = unique("Mwclient edit")
    site.pages[title].edit("Alice was here.", summary="mwclient test")

    revisions = test_wiki.revisions(title)
    assert [(r["user"], r["comment"]) for r in revisions] == [("Alice", "mwclient test")]


def test_sysop_deletes_a_revision(test_wiki: TestWiki) -> None:
    title = unique("Revision delete")
    test_wiki.edit(title, "harmless", "first", user="Mallory")
    secret = test_wiki.edit(title, "private e-mail address", "second", user="Mallory")
    test_wiki.edit(title, "harmless again", "third", user="Bob")

    with pytest.raises(ApiError) as denied:
        test_wiki.revision_delete(secret["newrevid"], user="Alice")
    assert denied.value.code == "permissiondenied"

    result = test_wiki.revision_delete(
        secret["newrevid"], hide=("content", "comment"), reason="private data"
    )
    assert result["status"] == "Success"
    hidden = {r["revid"]: r for r in test_wiki.revisions(title, content=True)}[secret["newrevid"]]
    assert hidden.get("texthidden") or hidden["slots"]["main"].get("texthidden")
    assert hidden.get("commenthidden")
    assert test_wiki.page_text(title) == "harmless again"
    log = test_wiki.recent_changes(rctype="log")
    assert any(rc["logtype"] == "delete" and rc["logaction"] == "revision" for rc in log)


def test_upload(test_wiki: TestWiki) -> None:
    name = unique("Upload").replace(" ", "_") + ".png"
    description = (
        "{{Information|description=A red square|date=2024-01-01|source=own work|author=Alice"
        "|permission={{Permission pending}}|other versions=}}"
    )
    result = test_wiki.upload(name, text=description, comment="test upload", user="Alice")
    assert result["imageinfo"]["mime"] == "image/png"
    assert test_wiki.page_text(f"File:{name}") == description
    image = requests.get(result["imageinfo"]["url"], timeout=10)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_concurrent_edits(test_wiki: TestWiki) -> None:
    users = ["Alice", "Bob", "Mallory", BOT, "Admin"]
    for user in users:  # log in first: sessions are cached, not shared across threads
        test_wiki.session(user)
    titles = [unique(f"Concurrent {user}") for user in users]
    with ThreadPoolExecutor(len(users)) as pool:
        results = list(
            pool.map(
                lambda pair: test_wiki.edit(pair[1], "text", "parallel", user=pair[0]),
                zip(users, titles, strict=True),
            )
        )
    assert all(result["new"] for result in results)


@pytest.mark.slow
def test_setup_is_idempotent(test_wiki: TestWiki, tmp_path: Path) -> None:
    wiki = TestWiki(tmp_path / "wiki")
    try:
        wiki.setup()
        accounts = dict(wiki.accounts)
        wiki.edit("Kept", "still here", "before restart", user="Bob")
        first_port = wiki.port
        wiki.stop()
        assert not wiki.running
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{first_port}/api.php", timeout=5)

        wiki.setup()
        assert wiki.accounts == accounts
        assert wiki.page_text("Kept") == "still here"
        assert len(wiki.revisions("Template:PermissionTicket")) == 1
        pid = wiki.server_pid
        assert pid is not None
    finally:
        wiki.teardown()
    assert not wiki.directory.exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
