"""Routing new mail to a queue: spam first, then the delivery's queue, ordered rules,
the queue that owns a recipient address, and finally the fallback queue.

The rules, queue names and addresses are read once into a :class:`RoutingTable` and kept for a
few seconds, so a busy ingest process does not read them again for every message.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from wikibridge.config import Settings
from wikibridge.store import queues

from .parse import ParsedMessage

MAX_SCAN = 200_000  # characters of a body a rule looks at: bounded work per message


@dataclass(frozen=True)
class Rule:
    id: int
    field: str
    header_name: str
    pattern: re.Pattern[str] | None  # None: invalid, never matches (the admin page says why)
    queue_id: int

    @classmethod
    def compile(
        cls, rule_id: int, field: str, header_name: str, pattern: str, queue_id: int
    ) -> Rule:
        """A rule as ingest uses it: the pattern case-insensitive, an invalid one never matches."""
        try:
            compiled: re.Pattern[str] | None = re.compile(pattern, re.IGNORECASE)
        except re.error:
            compiled = None
        return cls(rule_id, field, header_name.lower(), compiled, queue_id)


@dataclass
class RoutingTable:
    rules: list[Rule]
    queue_ids: dict[str, int]  # full name -> id
    address_queues: dict[str, int]  # lower-case address -> queue id
    system_addresses: set[str]
    ack_queues: set[int]  # queues that acknowledge new tickets automatically
    loaded_at: float = field(default_factory=time.monotonic)

    @classmethod
    def load(cls, session: Session, settings: Settings) -> RoutingTable:
        rules = [
            Rule.compile(r.id, r.field, r.header_name, r.pattern, r.queue_id)
            for r in queues.routing_rules(session)
        ]
        addresses = queues.address_map(session)
        configured = {a.lower() for a in settings.mail.system_addresses}
        return cls(
            rules,
            queues.name_map(session),
            addresses,
            configured | set(addresses),
            queues.auto_ack_ids(session),
        )


@dataclass
class Route:
    queue_id: int
    queue_name: str
    reason: str  # spam, delivery, rule:<id>, address, fallback


def is_spam(msg: ParsedMessage, settings: Settings) -> bool:
    if msg.spam_flag:
        return True
    return msg.spam_score is not None and msg.spam_score >= settings.mail.spam_score_threshold


def route(
    session: Session, settings: Settings, table: RoutingTable, msg: ParsedMessage, hint: str = ""
) -> Route:
    if is_spam(msg, settings):
        return _named(session, table, settings.mail.spam_queue, "spam", "spam")
    if hint and hint in table.queue_ids:
        return Route(table.queue_ids[hint], hint, "delivery")
    language = ""
    for rule in table.rules:
        if rule.field == "language" and not language:
            language = detect_language(msg)
        if rule_matches(rule, msg, language):
            return Route(rule.queue_id, _name_of(table, rule.queue_id), f"rule:{rule.id}")
    for address in msg.recipient_addresses:
        if address in table.address_queues:
            queue_id = table.address_queues[address]
            return Route(queue_id, _name_of(table, queue_id), "address")
    return _named(session, table, settings.mail.fallback_queue, "system", "fallback")


def _named(session: Session, table: RoutingTable, name: str, kind: str, reason: str) -> Route:
    if name not in table.queue_ids:
        table.queue_ids[name] = queues.ensure(session, name, kind).id
    return Route(table.queue_ids[name], name, reason)


def _name_of(table: RoutingTable, queue_id: int) -> str:
    return next((n for n, i in table.queue_ids.items() if i == queue_id), str(queue_id))


def rule_matches(rule: Rule, msg: ParsedMessage, language: str = "") -> bool:
    pattern = rule.pattern
    if pattern is None:
        return False
    if rule.field == "recipient":
        return any(pattern.fullmatch(a) for a in msg.recipient_addresses)
    if rule.field == "sender":
        return bool(pattern.search(msg.sender_address))
    if rule.field == "header":
        return any(pattern.search(v) for v in msg.headers.get(rule.header_name, []))
    if rule.field == "subject":
        return bool(pattern.search(msg.subject))
    if rule.field == "body":
        return bool(pattern.search(msg.body_text[:MAX_SCAN]))
    if rule.field == "language":
        return bool(language and pattern.fullmatch(language))
    return False


def detect_language(msg: ParsedMessage) -> str:
    """Content-Language when the sender declared one, else a statistical guess from the text."""
    if msg.language:
        return msg.language.split("-")[0]
    text = f"{msg.subject}\n{msg.body_text[:5000]}".strip()
    if len(text) < 20:
        return ""
    # Imported here: the profiles take a moment to load and most installations have no
    # language rule, so the ingest pipe does not pay for them.
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0  # deterministic answers
    try:
        return str(detect(text))
    except LangDetectException:
        return ""
