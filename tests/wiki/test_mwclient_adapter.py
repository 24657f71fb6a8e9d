"""The mwclient adapter against the test wiki: reads, writes, and API errors as reasons."""

from __future__ import annotations

import pytest

from tests.testwiki import TestWiki
from tests.wiki.actions_world import unique
from wikibridge.wiki.base import BotPassword, OAuth1Token, WikiError
from wikibridge.wiki.errors import describe
from wikibridge.wiki.mwclient_adapter import WikiSession


def login(wiki: TestWiki, user: str) -> WikiSession:
    account = wiki.account(user)
    return WikiSession(wiki.api_url, BotPassword(account.bot_username, account.bot_password))


def test_reads(test_wiki: TestWiki) -> None:
    title = unique("Adapter read")
    first = test_wiki.edit(title, "one", "first", user="Bob")["newrevid"]
    second = test_wiki.edit(title, "two", "second", user="Mallory")["newrevid"]
    with WikiSession(test_wiki.api_url) as anonymous:
        assert anonymous.username is None
        page = anonymous.page(title)
        assert (page.exists, page.revid, page.user, page.text) == (True, second, "Mallory", "two")
        assert not anonymous.page(unique("Missing")).exists
        assert anonymous.user_exists("Alice")
        assert not anonymous.user_exists(unique("Nobody"))
        revision = anonymous.revision(first)
        assert revision is not None
        assert (revision.title, revision.user, revision.comment) == (title, "Bob", "first")
        assert anonymous.revision(10**9) is None
        after = anonymous.revisions_after(title, first)
        assert [(r.revid, r.parentid, r.user) for r in after] == [(second, first, "Mallory")]
        assert [r.revid for r in anonymous.revisions_after(title, 0)] == [first, second]
        changes = anonymous.recent_changes(limit=5)
        assert any(rc["revid"] == second for rc in changes)


def test_edit_with_base_revision_reports_conflicts(test_wiki: TestWiki) -> None:
    """Bob's edit lands within the second of the revision Alice read: still a conflict."""
    title = unique("Adapter conflict")
    test_wiki.edit(title, "the text", "create", user="Bob")
    with login(test_wiki, "Alice") as alice:
        assert alice.username == "Alice"
        page = alice.page(title)
        test_wiki.edit(title, "the text, changed by Bob", "meanwhile", user="Bob")
        with pytest.raises(WikiError) as conflict:
            alice.edit(
                title,
                "the text, changed by Alice",
                "mine",
                baserevid=page.revid,
            )
        assert conflict.value.code == "editconflict"
        assert conflict.value.reason.startswith("edit conflict: the page changed after it was read")
        assert not conflict.value.retryable
        assert test_wiki.page_text(title) == "the text, changed by Bob"
        fresh = alice.page(title)
        result = alice.edit(title, "Alice's", "mine", baserevid=fresh.revid)
        assert result.revid is not None and result.previous == fresh.revid
        again = alice.edit(title, "Alice's", "mine", baserevid=result.revid)
        assert again.revid is None  # no change, no edit


def test_assertuser(test_wiki: TestWiki) -> None:
    title = unique("Adapter assertuser")
    test_wiki.edit(title, "x", "create", user="Bob")
    with login(test_wiki, "Alice") as alice:
        page = alice.page(title)
        with pytest.raises(WikiError) as wrong:
            alice.edit(
                title,
                "y",
                "s",
                baserevid=page.revid,
                assertuser="Bob",
            )
        assert wrong.value.code == "assertnameduserfailed"
    assert test_wiki.page_text(title) == "x"


def test_oauth_token_the_wiki_does_not_accept(test_wiki: TestWiki) -> None:
    """The test wiki has no OAuth extension: the signed request stays anonymous, and the
    session refuses to act rather than edit logged out."""
    token = OAuth1Token("consumer", "consumer-secret", "access", "access-secret")
    assert "secret" not in repr(token)
    with pytest.raises(WikiError) as caught:
        WikiSession(test_wiki.api_url, token)
    assert caught.value.code == "notloggedin"


def test_bad_api_url() -> None:
    with pytest.raises(WikiError, match="is not an API URL"):
        WikiSession("http://127.0.0.1:9/wiki/Main_Page")


def test_unreachable_wiki_is_retryable() -> None:
    with pytest.raises(WikiError) as caught:
        WikiSession("http://127.0.0.1:9/api.php", max_retries=0, timeout=2)
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("code", "retryable", "start"),
    [
        ("editconflict", False, "edit conflict"),
        ("abusefilter-disallowed", False, "the wiki's abuse filter stopped the edit"),
        ("abusefilter-warning", False, "the wiki's abuse filter"),
        ("blocked", False, "the account is blocked"),
        ("protectedpage", False, "the page is protected"),
        ("mwoauth-invalid-authorization", False, "the OAuth authorisation was revoked"),
        ("badtoken", True, "the wiki rejected the session's token"),
        ("maxlag", True, "the wiki's databases are lagging"),
        ("readonly", True, "the wiki is read-only"),
        ("internal_api_error_DBQueryError", True, "the wiki had an internal error"),
        ("something-new", False, "the wiki refused: info"),
    ],
)
def test_error_reasons(code: str, retryable: bool, start: str) -> None:
    error = describe(code, "info")
    assert error.reason.startswith(start)
    assert error.retryable is retryable
