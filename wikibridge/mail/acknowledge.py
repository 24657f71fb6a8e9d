"""Automatic acknowledgements of new tickets, decided and written with a batch of mail.

A queue with ``auto_ack`` answers the sender of every new ticket, through the outbox like any
reply (tickets/outbound.py writes the same article, job and audit event for a volunteer's
reply). Ingest decides each acknowledgement as it adds a message, in memory: the daily cap per
sender is read for the whole batch with one query and counted on as the batch goes. The rows
are written with the batch's own, once its new tickets have their numbers: the number is part
of the acknowledgement's subject, text and Message-ID. (Written one at a time through the ORM,
each after flushing the batch so far, they took three quarters of the time of storing a batch
of new tickets.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from wikibridge.config import Settings
from wikibridge.models import Queue
from wikibridge.store import auto_replies
from wikibridge.tickets import texts
from wikibridge.tickets.numbers import subject_with_hook
from wikibridge.tickets.outbound import new_message_id, queue_sender

# An automatic answer to mail like this could start a loop or feed a spammer.
NO_ANSWER_FLAGS = frozenset({"bounce", "auto_submitted", "spam", "from_system"})


@dataclass(frozen=True)
class AckQueue:
    queue: Queue
    sender: str  # the From of its mail


@dataclass
class Ack:
    """One acknowledgement, waiting for its ticket's number."""

    queue: AckQueue
    ticket: texts.Numbered
    subject: str  # without the [Ticket#] hook
    row: dict[str, Any]  # the article's row; subject, text and Message-ID filled by render

    def render(self, domain: str) -> None:
        number = self.ticket.number
        body = (self.queue.queue.ack_body or "").replace("{ticket}", number)
        self.row.update(
            subject=subject_with_hook(number, self.subject),
            body_text=texts.wrap(body, self.ticket, self.queue.queue),
            message_id=new_message_id(number, domain),
        )


class Acknowledger:
    """The acknowledgements of one batch."""

    def __init__(
        self, session: Session, settings: Settings, ack_queues: set[int], senders: list[str]
    ) -> None:
        self.session = session
        self.cap = settings.mail.auto_reply_daily_cap
        self.sent = auto_replies.sent_today(session, senders) if ack_queues else {}
        self.queues: dict[int, AckQueue | None] = {}
        self.recipients: list[str] = []  # the answers decided so far, for the ledger

    def queue(self, queue_id: int) -> AckQueue | None:
        """The queue, if it acknowledges new tickets (read once per batch)."""
        if queue_id not in self.queues:
            queue = self.session.get(Queue, queue_id)
            found = None
            if queue is not None and queue.auto_ack:
                found = AckQueue(queue, queue_sender(self.session, queue))
            self.queues[queue_id] = found
        return self.queues[queue_id]

    def decide(self, address: str, flags: list[str]) -> bool | None:
        """Whether to answer this sender: True, False (the mail must not be answered), or
        None (the sender had their daily share: the caller records that)."""
        if not address or NO_ANSWER_FLAGS & set(flags):
            return False
        address = address.lower()
        if self.sent.get(address, 0) >= self.cap:
            return None
        self.sent[address] = self.sent.get(address, 0) + 1
        self.recipients.append(address)
        return True

    def note_sent(self, at: datetime) -> None:
        auto_replies.note(self.session, self.recipients, at)
        self.recipients.clear()
