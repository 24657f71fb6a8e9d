"""Storing a group of parsed messages in one transaction, with few statements.

The rules are those of one message at a time: duplicate by raw hash, Message-ID conflict;
then threading -- the ``[Ticket#N]`` hook in the subject (Znuny's), then In-Reply-To/References
against stored Message-IDs, each followed along the merged-into chain; else a new ticket in the
routed queue. A subject number from someone who is neither a participant of that ticket nor
refers to one of its messages does not attach the mail to that ticket (a guessed or forged
number must not put a stranger's words into someone else's ticket, nor let the stranger learn
of it through the answer): the mail threads by its references if it has any, else it opens a
new ticket flagged ``cites_other_ticket``, which a volunteer can merge if it does belong there.
What differs from one by one is how the database is asked:

- the articles and tickets that the batch's hashes, Message-IDs, references and subject
  numbers point at are read with one query each, before the first message;
- what the batch itself adds is kept in memory beside them, so message 7 finds the ticket that
  message 3 of the same batch opened, exactly as if message 3 had been committed before;
- tickets, articles and attachments are inserted with one multi-row statement per table at
  the end (ids read back in row order), ticket numbers allocated with one counter update, and
  follow-ups' state changes written with one UPDATE;
- a queue's acknowledgements of new tickets are decided as the messages are added and
  written with the rest: their articles, outbox jobs and the ledger of automatic answers
  (mail/acknowledge.py).

One case cannot be decided in memory: a subject carrying the number of a ticket that an
earlier message of the same batch opens (its number is allocated only at the end). It is
detected, and the caller then stores the batch one message per transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from wikibridge.models import utcnow
from wikibridge.store import audit, intake, jobs
from wikibridge.store.tickets import MAX_MERGE_DEPTH
from wikibridge.tickets import states
from wikibridge.tickets.numbers import number_in_subject
from wikibridge.tickets.outbound import SEND_MAIL

from .acknowledge import Ack, Acknowledger
from .parse import ParsedMessage
from .route import route
from .spool import SpoolEntry

if TYPE_CHECKING:
    from .ingest import Ingestor, Outcome

log = logging.getLogger(__name__)

MAX_THREAD_IDS = 100  # references looked at per message, as the one-by-one lookup did


class NumberInBatch(Exception):
    """A subject names a ticket opened earlier in the same batch: store one by one."""


@dataclass(eq=False)
class TicketRef:
    id: int | None  # None until inserted
    number: str  # "" until allocated
    state: str
    queue_id: int
    requester: str
    merged_into_id: int | None = None
    row: dict[str, Any] | None = None  # the INSERT's values while not yet inserted
    unflushed: list[ArticleRef] = field(default_factory=list)  # its articles not yet inserted


@dataclass(eq=False)
class ArticleRef:
    order: tuple[int, int]  # (0, id) stored before the batch, (1, n) added by it: newest last
    ticket: TicketRef
    id: int | None = None
    sender_address: str = ""
    to: str = ""
    cc: str = ""


@dataclass
class _Pending:
    """Rows waiting for the next flush, in message order."""

    tickets: list[tuple[TicketRef, int]] = field(default_factory=list)  # with message index
    articles: list[tuple[ArticleRef, dict[str, Any], list[dict[str, Any]]]] = field(
        default_factory=list
    )
    audits: list[tuple[str, TicketRef, ArticleRef | None, dict[str, Any]]] = field(
        default_factory=list
    )
    outcomes: list[tuple[Outcome, ArticleRef]] = field(default_factory=list)
    acks: list[tuple[Ack, ArticleRef]] = field(default_factory=list)


def thread_ids(msg: ParsedMessage) -> list[str]:
    return [m for m in msg.thread_ids if m][:MAX_THREAD_IDS]


class Batch:
    def __init__(
        self,
        ingestor: Ingestor,
        session: Session,
        messages: list[tuple[SpoolEntry, ParsedMessage]],
    ) -> None:
        self.ingestor = ingestor
        self.session = session
        self.by_sha: dict[str, ArticleRef] = {}
        self.by_message_id: dict[str, list[ArticleRef]] = {}
        self.tickets: dict[int, TicketRef] = {}
        self.by_number: dict[str, TicketRef] = {}
        self.pending = _Pending()
        self.touched: dict[int, tuple[str, datetime]] = {}  # ticket id -> (state, updated_at)
        self.unresolved: list[tuple[str, int]] = []  # subject numbers not found, by message
        self._added = 0
        self._prefetch(messages)

    # -- what the database knows -------------------------------------------------------

    def _prefetch(self, messages: list[tuple[SpoolEntry, ParsedMessage]]) -> None:
        ids: set[str] = set()
        numbers: set[str] = set()
        for _, msg in messages:
            if msg.message_id:
                ids.add(msg.message_id)
            ids.update(thread_ids(msg))
            number = number_in_subject(msg.subject)
            if number:
                numbers.add(number)
        self.acks = Acknowledger(
            self.session,
            self.ingestor.settings,
            self.ingestor.routing_table(self.session).ack_queues,
            [msg.sender_address for _, msg in messages],
        )
        known = intake.known_articles(self.session, (e.sha256 for e, _ in messages), ids)
        rows = intake.ticket_rows(self.session, {k.ticket_id for k in known}, numbers)
        for row in rows:
            self._remember(row)
        for k in known:  # ascending id: lists by Message-ID end with the newest
            ticket = self._ticket(k.ticket_id)
            if ticket is None:
                continue
            ref = ArticleRef((0, k.id), ticket, k.id)
            if k.raw_sha256:
                self.by_sha[k.raw_sha256] = ref
            if k.message_id:
                self.by_message_id.setdefault(k.message_id, []).append(ref)

    def _remember(self, row: intake.TicketRow) -> TicketRef:
        ref = self.tickets.get(row.id)
        if ref is None:  # a ticket already known keeps its state as this batch changed it
            ref = TicketRef(
                row.id, row.number, row.state, row.queue_id, row.requester, row.merged_into_id
            )
            self.tickets[row.id] = ref
            self.by_number[row.number] = ref
        return ref

    def _ticket(self, ticket_id: int) -> TicketRef | None:
        ref = self.tickets.get(ticket_id)
        if ref is None:
            rows = intake.ticket_rows(self.session, [ticket_id])
            ref = self._remember(rows[0]) if rows else None
        return ref

    # -- threading -----------------------------------------------------------------------

    def _final(self, ticket: TicketRef) -> TicketRef:
        seen = {ticket.id}
        while ticket.merged_into_id is not None and len(seen) < MAX_MERGE_DEPTH:
            nxt = self._ticket(ticket.merged_into_id)
            if nxt is None or nxt.id in seen:
                break
            seen.add(nxt.id)
            ticket = nxt
        return ticket

    def _is_participant(self, ticket: TicketRef, address: str) -> bool:
        address = address.lower()
        if not address:
            return False
        if ticket.requester == address:
            return True
        for a in ticket.unflushed:
            if a.sender_address == address or address in a.to.lower() or address in a.cc.lower():
                return True
        return ticket.id is not None and intake.participates(self.session, ticket.id, address)

    def _has_message_id(self, ticket: TicketRef, ids: list[str]) -> bool:
        return any(a.ticket is ticket for m in ids for a in self.by_message_id.get(m, ()))

    def _find_ticket(self, index: int, msg: ParsedMessage) -> tuple[TicketRef | None, bool]:
        """The ticket a message belongs to (None: a new one), and whether its subject cites a
        ticket that its sender is not part of."""
        ids = thread_ids(msg)
        number = number_in_subject(msg.subject)
        foreign = False
        if number:
            found = self.by_number.get(number)
            if found is None:
                self.unresolved.append((number, index))
            else:
                ticket = self._final(found)
                if self._is_participant(ticket, msg.sender_address) or self._has_message_id(
                    ticket, ids
                ):
                    return ticket, False
                foreign = True
        refs = [a for m in ids for a in self.by_message_id.get(m, ())]
        if refs:
            newest = max(refs, key=lambda a: a.order)
            return self._final(newest.ticket), foreign
        return None, foreign

    # -- one message ---------------------------------------------------------------------

    def add(
        self,
        index: int,
        entry: SpoolEntry,
        msg: ParsedMessage,
        size: int,
        blob_ids: list[str],
    ) -> Outcome:
        from .ingest import Outcome

        same = self.by_sha.get(entry.sha256)
        if same is not None:
            outcome = Outcome("duplicate", entry.sha256)
            self._outcome_of(outcome, same)
            return outcome
        ing, session = self.ingestor, self.session
        id_seen = bool(msg.message_id and self.by_message_id.get(msg.message_id))
        flags = ing._flags(session, msg, id_seen)
        now = utcnow()
        found, foreign = self._find_ticket(index, msg)
        if foreign:
            flags.append("cites_other_ticket")
        new_ticket = found is None
        if found is not None:
            ticket = found
            ticket.state = states.after_follow_up(ticket.state)
            if ticket.row is not None:
                ticket.row.update(state=ticket.state, updated_at=now)
            else:
                assert ticket.id is not None
                self.touched[ticket.id] = (ticket.state, now)
        else:
            chosen = route(session, ing.settings, ing.routing_table(session), msg, entry.queue)
            ticket = TicketRef(None, "", "new", chosen.queue_id, msg.sender_address)
            ticket.row = {
                "number": "",
                "title": (msg.subject or "(no subject)")[:500],
                "queue_id": chosen.queue_id,
                "requester": msg.sender_address,
                "state": "new",
                "created_at": now,
                "updated_at": now,
            }
            self.pending.tickets.append((ticket, index))
            self.pending.audits.append(
                (
                    "ticket_created",
                    ticket,
                    None,
                    {"queue": chosen.queue_name, "route": chosen.reason, "source": entry.source},
                )
            )
        article = self._add_article(ticket, entry, msg, size, blob_ids, flags, now)
        if foreign:
            log.warning(
                "subject cites the number of a ticket %s is not part of: kept apart",
                msg.sender_address,
            )
            self.pending.audits.append(
                (
                    "cites_other_ticket",
                    ticket,
                    article,
                    {"sender": msg.sender_address, "cited": number_in_subject(msg.subject)},
                )
            )
        else:
            self.pending.audits.append(("article_received", ticket, article, {}))
        outcome = Outcome("stored", entry.sha256, new_ticket=new_ticket)
        self._outcome_of(outcome, article)
        if new_ticket and ticket.queue_id in ing.routing_table(session).ack_queues:
            self._acknowledge(ticket, msg, flags, now)
        return outcome

    def _add_article(
        self,
        ticket: TicketRef,
        entry: SpoolEntry,
        msg: ParsedMessage,
        size: int,
        blob_ids: list[str],
        flags: list[str],
        now: datetime,
    ) -> ArticleRef:
        to, cc = ", ".join(msg.to), ", ".join(msg.cc)
        self._added += 1
        ref = ArticleRef((1, self._added), ticket, None, msg.sender_address[:320], to, cc)
        row = {
            "ticket_id": None,
            "kind": "inbound",
            "sender": msg.sender[:1000],
            "sender_address": msg.sender_address[:320],
            "to": to,
            "cc": cc,
            "subject": msg.subject[:1000],
            "body_text": msg.body_text,
            "body_html": msg.body_html,
            "message_id": msg.message_id,
            "in_reply_to": " ".join(msg.in_reply_to),
            "references": " ".join(msg.references),
            "raw_sha256": entry.sha256,
            "raw_size": size,
            "flags": flags,
            "created_at": now,
        }
        attachments = [
            {
                "article_id": None,
                "blob_sha256": sha,
                "filename": a.filename,
                "content_type": a.content_type[:255],
                "size": len(a.data),
                "content_id": a.content_id,
                "inline": a.inline,
            }
            for a, sha in zip(msg.attachments, blob_ids, strict=True)
        ]
        self.pending.articles.append((ref, row, attachments))
        ticket.unflushed.append(ref)
        self.by_sha[entry.sha256] = ref
        if msg.message_id:
            self.by_message_id.setdefault(msg.message_id, []).append(ref)
        return ref

    def _outcome_of(self, outcome: Outcome, article: ArticleRef) -> None:
        if article.id is not None and article.ticket.number:
            outcome.article_id, outcome.ticket_number = article.id, article.ticket.number
        else:
            self.pending.outcomes.append((outcome, article))

    def _acknowledge(
        self, ticket: TicketRef, msg: ParsedMessage, flags: list[str], now: datetime
    ) -> None:
        """The queue's acknowledgement of a new ticket, unless that could start a mail loop;
        its article follows the message's (rendered when the ticket has its number)."""
        queue = self.acks.queue(ticket.queue_id)
        if queue is None:
            return
        answer = self.acks.decide(msg.sender_address, flags)
        if answer is None:
            capped = {"sender": msg.sender_address}
            self.pending.audits.append(("auto_reply_capped", ticket, None, capped))
        if not answer:
            return
        assert ticket.row is not None  # a new ticket, not inserted yet
        to = msg.sender_address
        references = " ".join([*msg.references, msg.message_id]) if msg.message_id else ""
        self._added += 1
        ref = ArticleRef((1, self._added), ticket, None, "", to, "")
        row = {
            "ticket_id": None,
            "kind": "outbound",
            "sender": queue.sender,
            "sender_address": "",
            "to": to,
            "cc": "",
            "subject": "",  # these three when the ticket has its number
            "body_text": "",
            "message_id": "",
            "body_html": "",
            "in_reply_to": msg.message_id,
            "references": references,
            "raw_sha256": None,
            "raw_size": 0,
            "flags": ["auto_reply"],
            "created_at": now,
        }
        subject = queue.queue.ack_subject or ticket.row["title"]
        self.pending.acks.append((Ack(queue, ticket, subject, row), ref))
        self.pending.articles.append((ref, row, []))
        ticket.unflushed.append(ref)
        detail = {"auto": True, "attachments": 0}
        self.pending.audits.append(("mail_queued", ticket, ref, detail))
        # Its Message-ID is not put in by_message_id: no mail of this batch can answer a
        # message that has not been sent yet.

    # -- writing -------------------------------------------------------------------------

    def flush(self) -> None:
        """Insert the rows added since the last flush."""
        session, pending = self.session, self.pending
        if pending.tickets:
            numbers = intake.allocate_numbers(
                session, self.ingestor.settings.system_id, len(pending.tickets), utcnow()
            )
            opened = {}
            for (ticket, index), number in zip(pending.tickets, numbers, strict=True):
                assert ticket.row is not None
                ticket.number = ticket.row["number"] = number
                opened[number] = index
            if any(opened.get(n, later) < later for n, later in self.unresolved):
                raise NumberInBatch
            ids = intake.insert_tickets(session, [t.row for t, _ in pending.tickets if t.row])
            for (ticket, _), ticket_id in zip(pending.tickets, ids, strict=True):
                ticket.id, ticket.row = ticket_id, None
                self.tickets[ticket_id] = ticket
                self.by_number[ticket.number] = ticket
            pending.tickets.clear()
        for ack, _ in pending.acks:
            ack.render(self.ingestor.settings.mail.domain)
        if pending.articles:
            for ref, row, _ in pending.articles:
                row["ticket_id"] = ref.ticket.id
            ids = intake.insert_articles(session, [row for _, row, _ in pending.articles])
            attachments = []
            for (ref, _, rows), article_id in zip(pending.articles, ids, strict=True):
                ref.id = article_id
                ref.ticket.unflushed.clear()
                for row in rows:
                    row["article_id"] = article_id
                attachments += rows
            intake.insert_attachments(session, attachments)
            pending.articles.clear()
        if pending.acks:
            now = utcnow()
            sends = [({"article_id": ref.id}, ref.ticket.id) for _, ref in pending.acks]
            jobs.enqueue_many(session, SEND_MAIL, sends, now)
            self.acks.note_sent(now)
            pending.acks.clear()
        for action, ticket, article, detail in pending.audits:
            if article is not None:
                detail = {"article_id": article.id, **detail}
            audit.record_later(session, action, ticket_id=ticket.id, **detail)
        pending.audits.clear()
        for outcome, article in pending.outcomes:
            outcome.article_id, outcome.ticket_number = article.id, article.ticket.number
        pending.outcomes.clear()

    def finish(self) -> None:
        """Write everything; the caller commits."""
        self.flush()
        intake.set_states(self.session, self.touched)
        self.touched.clear()
