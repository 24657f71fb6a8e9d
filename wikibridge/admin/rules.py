"""Routing rules: an ordered list, edited here; and a preview of a pasted message.

The preview parses the message with :func:`~wikibridge.mail.parse.parse_message` and routes it
with :func:`~wikibridge.mail.route.route` over the table ingest would load, so it answers
exactly as ingest would (a rule being edited takes its place in the table first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.config import Settings
from wikibridge.mail.parse import ParsedMessage, parse_message
from wikibridge.mail.route import Route, RoutingTable, Rule, detect_language, route, rule_matches
from wikibridge.models import RULE_FIELDS, RoutingRule
from wikibridge.store import admin_queues as store

from .base import Invalid, apply_changes, found, record, require, text

FIELD_HELP = {
    "recipient": "a recipient address (Delivered-To, X-Original-To, To, Cc); the whole address",
    "sender": "the sender's address",
    "header": "a header, named below",
    "subject": "the subject",
    "body": "the text of the message",
    "language": "the declared or detected language code; the whole code",
}
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field name: printable, no colon
MAX_PASTE = 1_000_000


@dataclass(frozen=True)
class RuleInput:
    name: str
    field: str
    header_name: str
    pattern: str
    queue_id: int | None
    enabled: bool = True

    def cleaned(self) -> dict[str, object]:
        if self.field not in RULE_FIELDS:
            raise Invalid(f"The field must be one of: {', '.join(RULE_FIELDS)}.")
        header = text(self.header_name, "The header name", limit=100)
        if self.field == "header" and not _HEADER_NAME.fullmatch(header):
            raise Invalid("A header rule needs the header's name, such as X-Original-To.")
        pattern = text(self.pattern, "The pattern", limit=2000, required=True)
        check_pattern(pattern)
        if self.queue_id is None:
            raise Invalid("Choose the queue the rule sends mail to.")
        return {
            "name": text(self.name, "The name", limit=200),
            "field": self.field,
            "header_name": header if self.field == "header" else "",
            "pattern": pattern,
            "queue_id": self.queue_id,
            "enabled": self.enabled,
        }


def check_pattern(pattern: str) -> None:
    """Refuse a pattern that is not a regular expression, saying where it breaks."""
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos + 1}" if exc.pos is not None else ""
        raise Invalid(f"The pattern is not a valid regular expression: {exc.msg}{where}.") from exc


def from_form(form: Mapping[str, str]) -> RuleInput:
    queue = form.get("queue_id", "")
    return RuleInput(
        name=form.get("name", ""),
        field=form.get("field", ""),
        header_name=form.get("header_name", ""),
        pattern=form.get("pattern", ""),
        queue_id=int(queue) if queue.isdigit() else None,
        enabled=form.get("enabled") == "on",
    )


def all_rules(session: Session, scope: Scope) -> list[RoutingRule]:
    require(access.can_manage_routing(scope))
    return store.all_rules(session)


def get(session: Session, scope: Scope, rule_id: int) -> RoutingRule:
    require(access.can_manage_routing(scope))
    return found(store.rule(session, rule_id))


def create(session: Session, scope: Scope, given: RuleInput) -> RoutingRule:
    require(access.can_manage_routing(scope))
    values = given.cleaned()
    _queue_exists(session, given.queue_id)
    row = store.add_rule(session, RoutingRule(**values))
    record(session, scope, "rule_created", rule_id=row.id, **values)
    return row


def update(session: Session, scope: Scope, rule_id: int, given: RuleInput) -> RoutingRule:
    row = get(session, scope, rule_id)
    values = given.cleaned()
    _queue_exists(session, given.queue_id)
    changed = apply_changes(row, values)
    if changed:
        session.flush()
        record(session, scope, "rule_updated", rule_id=row.id, changes=changed)
    return row


def set_enabled(session: Session, scope: Scope, rule_id: int, enabled: bool) -> RoutingRule:
    row = get(session, scope, rule_id)
    if row.enabled != enabled:
        row.enabled = enabled
        session.flush()
        record(session, scope, "rule_enabled" if enabled else "rule_disabled", rule_id=row.id)
    return row


def move(session: Session, scope: Scope, rule_id: int, offset: int) -> None:
    """Move a rule up (-1) or down (+1) in the order; the positions become 1, 2, 3, ..."""
    rules = all_rules(session, scope)
    index = found(next((i for i, r in enumerate(rules) if r.id == rule_id), None))
    row = rules[index]
    target = max(0, min(len(rules) - 1, index + offset))
    if target == index:
        return
    rules.insert(target, rules.pop(index))
    for position, r in enumerate(rules, start=1):
        r.position = position
    session.flush()
    record(session, scope, "rule_moved", rule_id=row.id, before=index + 1, after=target + 1)


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    name: str
    matches: bool


@dataclass(frozen=True)
class Preview:
    message: ParsedMessage
    route: Route
    matched_rule: str  # the name of the rule that decided, "" when none did
    checks: list[RuleCheck]  # every enabled rule in order (the candidate in its place)
    candidate_matches: bool | None  # None when no rule is being tried


def preview(
    session: Session,
    scope: Scope,
    settings: Settings,
    raw: str,
    candidate: RuleInput | None = None,
    candidate_id: int = 0,
) -> Preview:
    """Where a pasted message would go, with `candidate` (new, or rule `candidate_id` edited)
    in the table. Nothing is written: the caller rolls back."""
    require(access.can_manage_routing(scope))
    if not raw.strip():
        raise Invalid("Paste a whole message, headers first, to try the rules on.")
    if len(raw) > MAX_PASTE:
        raise Invalid("The message is too long to try here.")
    msg = parse_message(raw.encode("utf-8", "surrogateescape"))
    table = RoutingTable.load(session, settings)
    rows = store.all_rules(session)
    names = {r.id: r.name or f"Rule {r.id}" for r in rows}
    tried: Rule | None = None
    if candidate is not None:
        values = candidate.cleaned()
        tried = Rule.compile(
            candidate_id,
            candidate.field,
            str(values["header_name"]),
            candidate.pattern,
            found(candidate.queue_id),
        )
        names[candidate_id] = candidate.name or "This rule"
        rules = [r for r in table.rules if r.id != candidate_id]
        if candidate.enabled:
            rules.append(tried)
        order = {r.id: i for i, r in enumerate(rows)}  # a new rule (id 0) goes last
        table.rules = sorted(rules, key=lambda r: order.get(r.id, len(order)))
    wanted = [*table.rules, *([tried] if tried else [])]
    language = detect_language(msg) if any(r.field == "language" for r in wanted) else ""
    checks = [RuleCheck(r, names[r.id], rule_matches(r, msg, language)) for r in table.rules]
    chosen = route(session, settings, table, msg)
    decided = ""
    if chosen.reason.startswith("rule:"):
        decided = names.get(int(chosen.reason.split(":", 1)[1]), "")
    tried_matches = rule_matches(tried, msg, language) if tried else None
    return Preview(msg, chosen, decided, checks, tried_matches)


def _queue_exists(session: Session, queue_id: int | None) -> None:
    if queue_id is None or store.get(session, queue_id) is None:
        raise Invalid("The queue chosen for the rule does not exist.")
