"""Edit summaries and notices: ticket number and fixed text only."""

from __future__ import annotations

import inspect

import pytest

from wikibridge.config import WikiSettings
from wikibridge.wiki import sites, summaries
from wikibridge.wiki.summaries import KIND_PURPOSES, Notice, Purpose

N = "2016060210016939"


def test_summary_cites_ticket_and_policy() -> None:
    assert summaries.summary(Purpose.UNSOURCED, N, "[[WP:VRT]]") == (
        "Removing unsourced claims per [[ticket:2016060210016939]] ([[WP:VRT]])"
    )
    assert summaries.summary(Purpose.PERMISSION_CONFIRMED, "2022031410007974", "[[COM:VRT]]") == (
        "Permission confirmed per [[ticket:2022031410007974]] ([[COM:VRT]])"
    )


def test_every_kind_has_purposes_of_plain_text() -> None:
    assert set(KIND_PURPOSES) == {"revert", "permission", "permission_received", "hide", "notice"}
    for purpose in Purpose:
        assert not set(purpose.value) & set("[]{}|<>\n~")


def test_builders_take_no_free_text() -> None:
    """The only string inputs are a ticket number, a policy link and a page title, and each is
    checked; the wording comes from enums."""
    assert list(inspect.signature(summaries.summary).parameters) == ["purpose", "number", "link"]
    assert list(inspect.signature(summaries.notice).parameters) == [
        "kind",
        "number",
        "link",
        "about",
    ]
    with pytest.raises(ValueError):
        summaries.summary(Purpose.REVERT, "Dear VRT, my address is ...", "[[WP:VRT]]")
    with pytest.raises(ValueError):
        summaries.summary(Purpose.REVERT, N[:-1] + "0", "[[WP:VRT]]")
    with pytest.raises(AttributeError):
        summaries.summary("Private text from a mail", N, "[[WP:VRT]]")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "link", ["WP:VRT", "[[WP:VRT|see the mail]]", "[[WP:VRT]] call 555-1234", "{{x}}", "[[a\nb]]"]
)
def test_policy_link_is_one_plain_link(link: str) -> None:
    with pytest.raises(ValueError):
        summaries.summary(Purpose.REVERT, N, link)


def test_policy_link_per_wiki() -> None:
    settings = WikiSettings(
        policy_links=("dewiki=[[WP:Support-Team]]", "http://127.0.0.1:8080/api.php=[[Commons:VRT]]")
    )
    assert summaries.policy_link(settings, "dewiki") == "[[WP:Support-Team]]"
    assert summaries.policy_link(settings, "http://127.0.0.1:8080/api.php") == "[[Commons:VRT]]"
    assert summaries.policy_link(settings, "commons") == "[[COM:VRT]]"
    assert summaries.policy_link(settings, "https://commons.wikimedia.org/w/api.php") == (
        "[[COM:VRT]]"
    )
    assert summaries.policy_link(settings, "frwiki") == "[[WP:VRT]]"
    assert summaries.policy_link(WikiSettings(default_policy_link="[[VRT]]"), "x") == "[[VRT]]"
    with pytest.raises(ValueError):
        summaries.policy_link(WikiSettings(policy_links=("dewiki=no link",)), "dewiki")


def test_notices() -> None:
    title, text = summaries.notice(Notice.PERMISSION_CONFIRMED, N, "[[COM:VRT]]", "File:A b.jpg")
    assert title == "Permission for [[:File:A b.jpg]]"
    assert "[[ticket:2016060210016939]], [[COM:VRT]]" in text
    assert text.endswith(" ~~~~")
    _, text = summaries.notice(Notice.MAIL_ANSWERED, N, "[[COM:VRT]]")
    assert "[[ticket:" in text
    for bad in ("", "File:x]] [[Category:y", "File:{{x}}", "a\nb"):
        with pytest.raises(ValueError):
            summaries.notice(Notice.NO_PERMISSION, N, "[[COM:VRT]]", bad)


@pytest.mark.parametrize(
    ("code", "url"),
    [
        ("commons", "https://commons.wikimedia.org/w/api.php"),
        ("enwiki", "https://en.wikipedia.org/w/api.php"),
        ("zh_yuewiki", "https://zh-yue.wikipedia.org/w/api.php"),
        ("wikipedia:de", "https://de.wikipedia.org/w/api.php"),
        ("dewiktionary", "https://de.wiktionary.org/w/api.php"),
        ("http://127.0.0.1:8080/api.php", "http://127.0.0.1:8080/api.php"),
    ],
)
def test_site_codes(code: str, url: str) -> None:
    assert sites.api_url(code) == url


@pytest.mark.parametrize("code", ["", "nowhere", "ftp://x/api.php", "https://example.org/wiki/"])
def test_unknown_sites(code: str) -> None:
    with pytest.raises(sites.UnknownWiki):
        sites.api_url(code)
