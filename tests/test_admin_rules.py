"""Routing rules in the core: validation, order, enabling, and the preview of a pasted message."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.admin import rules
from wikibridge.admin.base import Invalid, NotFound
from wikibridge.config import Settings
from wikibridge.mail.route import RoutingTable

from .admin_audit import events, last
from .webapp import admin_support, helpers


def rule(queue_id: int, pattern: str, field: str = "subject", **kw: object) -> rules.RuleInput:
    return rules.RuleInput(
        name=str(kw.get("name", "")),
        field=field,
        header_name=str(kw.get("header_name", "")),
        pattern=pattern,
        queue_id=queue_id,
        enabled=bool(kw.get("enabled", True)),
    )


def test_invalid_patterns_are_refused_with_the_reason(session: Session) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    with pytest.raises(Invalid) as caught:
        rules.create(session, boss, rule(w.info.id, "permission(s"))
    assert str(caught.value) == (
        "The pattern is not a valid regular expression: missing ), unterminated subpattern "
        "at position 11."
    )
    with pytest.raises(Invalid, match="header's name"):
        rules.create(session, boss, rule(w.info.id, "x", field="header"))
    with pytest.raises(Invalid, match="field must be one of"):
        rules.create(session, boss, rule(w.info.id, "x", field="everything"))
    with pytest.raises(Invalid, match="does not exist"):
        rules.create(session, boss, rule(99999, "x"))
    assert events(session, "rule_created") == []


def test_rules_are_global_admins_only(session: Session) -> None:
    w = admin_support.world(session)
    keeper = access.scope_for(session, w.queue_admin)
    with pytest.raises(NotFound):  # a rule could pull any queue's mail into theirs
        rules.create(session, keeper, rule(w.info.id, "x"))
    with pytest.raises(NotFound):
        rules.all_rules(session, keeper)
    with pytest.raises(NotFound):
        rules.set_enabled(session, keeper, w.rule.id, False)


def test_create_edit_reorder_disable(session: Session, settings: Settings) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    second = rules.create(session, boss, rule(w.info.id, "wikipedia", name="Wikipedia"))
    third = rules.create(
        session, boss, rule(w.sub.id, r"^x-", field="header", header_name="X-Team")
    )
    assert [r.id for r in rules.all_rules(session, boss)] == [w.rule.id, second.id, third.id]
    assert third.header_name == "X-Team"
    rules.move(session, boss, third.id, -1)
    rules.move(session, boss, third.id, -1)
    rules.move(session, boss, third.id, -1)  # already first: nothing happens
    assert [r.id for r in rules.all_rules(session, boss)] == [third.id, w.rule.id, second.id]
    assert last(session, "rule_moved")[1] == {"rule_id": third.id, "before": 2, "after": 1}
    rules.update(session, boss, second.id, rule(w.sub.id, "wiki(pedia)?", name="Wikipedia"))
    assert last(session, "rule_updated")[1]["changes"] == {
        "pattern": ["wikipedia", "wiki(pedia)?"],
        "queue_id": [w.info.id, w.sub.id],
    }
    rules.set_enabled(session, boss, w.rule.id, False)
    assert last(session, "rule_disabled")[0] == w.admin.id
    table = RoutingTable.load(session, settings)  # what ingest would use
    assert [r.id for r in table.rules] == [third.id, second.id]


RAW = (
    "From: Reporter <reporter@news.example>\r\n"
    "To: info-en@example.org\r\n"
    "Subject: Press enquiry about an article\r\n"
    "Message-ID: <p1@news.example>\r\n"
    "\r\n"
    "Hello, I write for a newspaper.\r\n"
)


def test_preview_shows_the_matching_rule_and_queue(session: Session, settings: Settings) -> None:
    w = admin_support.world(session)
    boss = access.scope_for(session, w.admin)
    result = rules.preview(session, boss, settings, RAW)
    assert result.route.queue_name == "press"
    assert result.matched_rule == "Press"
    assert [(c.name, c.matches) for c in result.checks] == [("Press", True)]
    assert result.candidate_matches is None

    # The rule being edited takes its place: with it changed, the address decides instead.
    edited = rule(w.press.id, r"\bsports\b", name="Press")
    result = rules.preview(session, boss, settings, RAW, edited, w.rule.id)
    assert result.candidate_matches is False
    assert (result.route.queue_name, result.route.reason) == ("info-en", "address")
    assert result.matched_rule == ""

    # A new rule goes after the existing ones.
    new = rule(w.sub.id, "newspaper", field="body", name="Newspapers")
    result = rules.preview(session, boss, settings, RAW, new)
    assert result.candidate_matches is True
    assert result.matched_rule == "Press"
    assert [c.name for c in result.checks] == ["Press", "Newspapers"]

    nowhere = RAW.replace("info-en@example.org", "nobody@example.org").replace("Press", "A")
    result = rules.preview(session, boss, settings, nowhere)
    assert (result.route.queue_name, result.route.reason) == ("Raw", "fallback")
    with pytest.raises(Invalid, match="Paste a whole message"):
        rules.preview(session, boss, settings, "  ")
    with pytest.raises(Invalid, match="not a valid regular expression"):
        rules.preview(session, boss, settings, RAW, rule(w.sub.id, "("))


def test_preview_reads_language_and_headers_like_ingest(
    session: Session, settings: Settings
) -> None:
    w = admin_support.world(session)
    de = helpers.queue(session, "info-de")
    session.commit()
    boss = access.scope_for(session, w.admin)
    german = RAW.replace("Subject: Press enquiry", "Content-Language: de\r\nSubject: Frage")
    by_language = rule(de.id, "de", field="language", name="German")
    result = rules.preview(session, boss, settings, german, by_language)
    assert result.candidate_matches and result.route.queue_name == "info-de"
    by_header = rule(w.sub.id, "news", field="header", header_name="from", name="From news")
    assert rules.preview(session, boss, settings, RAW, by_header).candidate_matches
