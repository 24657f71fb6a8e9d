"""Which ticket does an incoming message belong to?

In order: the ``[Ticket#N]`` hook in the subject (Znuny's), then In-Reply-To/References against
stored Message-IDs, each followed along the merged-into chain. A subject number from someone who
is neither a participant of that ticket nor refers to one of its messages is still attached (the
requester may write from a new address) but flagged, so a guessed or forged number cannot pass
unnoticed as the requester's word.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge.models import Ticket
from wikibridge.store import tickets
from wikibridge.tickets.numbers import number_in_subject

from .parse import ParsedMessage


@dataclass
class Match:
    ticket: Ticket
    via: str  # subject, reference
    sender_is_participant: bool = True


def find_ticket(session: Session, msg: ParsedMessage) -> Match | None:
    number = number_in_subject(msg.subject)
    if number:
        ticket = tickets.by_number(session, number)
        if ticket is not None:
            ticket = tickets.final_ticket(session, ticket)
            trusted = tickets.is_participant(
                session, ticket, msg.sender_address
            ) or tickets.has_message_id(session, ticket, msg.thread_ids)
            return Match(ticket, "subject", trusted)
    if msg.thread_ids:
        ticket = tickets.by_message_ids(session, msg.thread_ids)
        if ticket is not None:
            return Match(tickets.final_ticket(session, ticket), "reference")
    return None
