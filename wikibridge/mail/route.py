"""Routing new mail to a queue: spam first, then the delivery's queue, ordered rules,
the queue that owns a recipient address, and finally the fallback queue."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge.config import Settings
from wikibridge.models import Queue, RoutingRule
from wikibridge.store import queues

from .parse import ParsedMessage

MAX_SCAN = 200_000  # characters of a body a rule looks at: bounded work per message


@dataclass
class Route:
    queue: Queue
    reason: str  # spam, delivery, rule:<id>, address, fallback


def is_spam(msg: ParsedMessage, settings: Settings) -> bool:
    if msg.spam_flag:
        return True
    return msg.spam_score is not None and msg.spam_score >= settings.mail.spam_score_threshold


def route(session: Session, settings: Settings, msg: ParsedMessage, hint: str = "") -> Route:
    if is_spam(msg, settings):
        return Route(queues.ensure(session, settings.mail.spam_queue, "spam"), "spam")
    if hint:
        queue = queues.by_name(session, hint)
        if queue is not None:
            return Route(queue, "delivery")
    rules = queues.routing_rules(session)
    language = ""
    for rule in rules:
        if rule.field == "language" and not language:
            language = detect_language(msg)
        if rule_matches(rule, msg, language):
            queue = session.get(Queue, rule.queue_id)
            if queue is not None:
                return Route(queue, f"rule:{rule.id}")
    queue = queues.by_addresses(session, msg.recipient_addresses)
    if queue is not None:
        return Route(queue, "address")
    return Route(queues.ensure(session, settings.mail.fallback_queue, "system"), "fallback")


def rule_matches(rule: RoutingRule, msg: ParsedMessage, language: str = "") -> bool:
    try:
        pattern = re.compile(rule.pattern, re.IGNORECASE)
    except re.error:
        return False  # an invalid rule never matches; the admin page shows the error
    if rule.field == "recipient":
        return any(pattern.fullmatch(a) for a in msg.recipient_addresses)
    if rule.field == "sender":
        return bool(pattern.search(msg.sender_address))
    if rule.field == "header":
        return any(pattern.search(v) for v in msg.headers.get(rule.header_name.lower(), []))
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
