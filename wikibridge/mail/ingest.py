"""Mail intake: spool the raw bytes durably, then store the message as an article.

Every entry point (MTA pipe, LMTP, IMAP, spool reprocess) goes through :class:`Ingestor`.
The outcome is one of: stored (a new article), duplicate (these exact bytes are already an
article), quarantined (kept on disk with a reason; retrying would not help), or a
:class:`TempFail` exception (nothing is lost: the message is in the spool and the sender's
mail server, or ``wikibridge spool reprocess``, tries again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.files import ContentStore
from wikibridge.models import Article, Attachment, Queue, Ticket
from wikibridge.store import articles, audit, auto_replies, tickets
from wikibridge.tickets import states
from wikibridge.tickets.outbound import queue_outbound

from .parse import ParsedMessage, parse_message
from .route import RoutingTable, route
from .spool import Spool, SpoolEntry
from .thread import find_ticket

log = logging.getLogger(__name__)

EX_TEMPFAIL = 75
ROUTING_TTL = 5.0  # seconds


class TempFail(Exception):
    """The message could not be stored now; it is safe in the spool (or was not accepted)."""


@dataclass
class Outcome:
    status: str  # stored, duplicate, quarantined
    sha256: str
    ticket_number: str = ""
    article_id: int | None = None
    new_ticket: bool = False
    reason: str = ""


class Ingestor:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.spool = Spool(settings.data_dir)
        self.blobs = ContentStore(settings.blob_dir)
        self._table: RoutingTable | None = None

    def routing_table(self, session: Session) -> RoutingTable:
        """Rules and addresses, re-read after ROUTING_TTL seconds (admins' changes apply then)."""
        table = self._table
        if table is None or time.monotonic() - table.loaded_at > ROUTING_TTL:
            table = self._table = RoutingTable.load(session, self.settings)
        return table

    def _session(self) -> Session:
        """A session that writes when told to (the store flushes tickets and articles itself),
        so the audit events and attachments of a whole batch go in with one INSERT each."""
        session = self.session_factory()
        session.autoflush = False
        return session

    def ingest(self, raw: bytes, *, source: str = "pipe", queue: str = "") -> Outcome:
        """Accept one message: on disk first, then in the database."""
        try:
            entry = self.spool.accept(raw, source=source, queue=queue)
        except OSError as e:
            raise TempFail(f"cannot write the spool: {e.strerror or e}") from e
        return self.store(entry, raw)

    def ingest_many(
        self, raws: Sequence[bytes], *, source: str = "batch", queue: str = ""
    ) -> list[Outcome]:
        """Accept several messages with one database commit (group commit).

        For a listener that receives many messages (LMTP, IMAP, an mbox import): each message
        is fsync'd as it is spooled, but the spool directory and the database are synced once
        for the batch. A caller acknowledges the messages only after this returns, so the
        guarantee is the same as one by one. If anything in the batch fails, the batch is
        stored again one message at a time, so one bad message cannot hold up the others.
        """
        try:
            entries = [self.spool.accept(r, source=source, queue=queue, sync=False) for r in raws]
            self.spool.sync()
        except OSError as e:
            raise TempFail(f"cannot write the spool: {e.strerror or e}") from e
        prepared = [self._prepare(entry, raw) for entry, raw in zip(entries, raws, strict=True)]
        try:
            with self._session() as session, session.begin():
                outcomes = [
                    p if isinstance(p, Outcome) else self._store_in(session, *p) for p in prepared
                ]
                audit.write_later(session)
        except (IntegrityError, DataError):
            return [self.store(entry, raw) for entry, raw in zip(entries, raws, strict=True)]
        except (OperationalError, DBAPIError) as e:
            raise TempFail(f"database unavailable: {_first_line(e)}") from e
        for outcome, entry in zip(outcomes, entries, strict=True):
            if outcome.status != "quarantined":
                self.spool.done(entry)
        return outcomes

    def store(self, entry: SpoolEntry, raw: bytes | None = None) -> Outcome:
        """Store a spooled message in the database (again: it is idempotent)."""
        if raw is None:
            raw = self.spool.read(entry.sha256)
        prepared = self._prepare(entry, raw)
        if isinstance(prepared, Outcome):
            return prepared
        for attempt in range(3):
            try:
                with self._session() as session, session.begin():
                    outcome = self._store_in(session, *prepared)
                    audit.write_later(session)
                break
            except IntegrityError:
                # Another process stored the same bytes at the same moment: look again.
                if attempt == 2:
                    raise TempFail("conflicting concurrent store") from None
            except DataError as e:
                # The database refuses a value of this very message (a character or a length
                # it does not accept). Retrying cannot help: a tempfail would only have the
                # sender's server retry for days and then bounce it. Keep it, with the reason.
                log.exception("database rejected message %s", entry.sha256)
                return self._quarantine(entry, f"database rejected it: {_first_line(e)}")
            except (OperationalError, DBAPIError) as e:
                raise TempFail(f"database unavailable: {_first_line(e)}") from e
        self.spool.done(entry)
        return outcome

    def _prepare(
        self, entry: SpoolEntry, raw: bytes
    ) -> Outcome | tuple[SpoolEntry, ParsedMessage, int, list[str]]:
        """Parse and write the attachments; or quarantine a message that cannot be parsed."""
        if len(raw) > self.settings.mail.max_message_bytes:
            return self._quarantine(entry, f"message of {len(raw)} bytes exceeds max_message_bytes")
        try:
            msg = parse_message(raw)
        except Exception as e:  # noqa: BLE001 - any parser failure: keep the mail, say why
            log.exception("cannot parse message %s", entry.sha256)
            return self._quarantine(entry, f"cannot parse: {type(e).__name__}: {e}")
        try:
            blob_ids = [self.blobs.put(a.data) for a in msg.attachments]
        except OSError as e:
            raise TempFail(f"cannot write attachments: {e.strerror or e}") from e
        return entry, msg, len(raw), blob_ids

    def _quarantine(self, entry: SpoolEntry, reason: str) -> Outcome:
        try:
            self.spool.quarantine(entry, reason)
        except OSError as e:
            raise TempFail(f"cannot write the quarantine: {e.strerror or e}") from e
        log.warning("quarantined %s: %s", entry.sha256, reason)
        return Outcome("quarantined", entry.sha256, reason=reason)

    def _store_in(
        self,
        session: Session,
        entry: SpoolEntry,
        msg: ParsedMessage,
        size: int,
        blob_ids: list[str],
    ) -> Outcome:
        existing, id_seen = articles.by_hash_or_message_id(session, entry.sha256, msg.message_id)
        if existing is not None:
            ticket = session.get(Ticket, existing.ticket_id)
            return Outcome(
                "duplicate",
                entry.sha256,
                ticket_number=ticket.number if ticket else "",
                article_id=existing.id,
            )
        return self._store_new(session, entry, msg, size, blob_ids, id_seen)

    def _store_new(
        self,
        session: Session,
        entry: SpoolEntry,
        msg: ParsedMessage,
        size: int,
        blob_ids: list[str],
        message_id_seen: bool,
    ) -> Outcome:
        flags = self._flags(session, msg, message_id_seen)
        match = find_ticket(session, msg)
        new_ticket = match is None
        if match is not None:
            ticket = match.ticket
            if not match.sender_is_participant:
                flags.append("sender_not_participant")
            ticket.state = states.after_follow_up(ticket.state)
            tickets.touch(ticket)
        else:
            table = self.routing_table(session)
            chosen = route(session, self.settings, table, msg, entry.queue)
            number = tickets.next_number(session, self.settings.system_id)
            ticket = tickets.create(
                session,
                number=number,
                title=msg.subject or "(no subject)",
                queue_id=chosen.queue_id,
                requester=msg.sender_address,
            )
            audit.record_later(
                session,
                "ticket_created",
                ticket_id=ticket.id,
                queue=chosen.queue_name,
                route=chosen.reason,
                source=entry.source,
            )
        article = articles.add(
            session,
            Article(
                ticket_id=ticket.id,
                kind="inbound",
                sender=msg.sender[:1000],
                sender_address=msg.sender_address[:320],
                to=", ".join(msg.to),
                cc=", ".join(msg.cc),
                subject=msg.subject[:1000],
                body_text=msg.body_text,
                body_html=msg.body_html,
                message_id=msg.message_id,
                in_reply_to=" ".join(msg.in_reply_to),
                references=" ".join(msg.references),
                raw_sha256=entry.sha256,
                raw_size=size,
                flags=flags,
            ),
            [
                Attachment(
                    blob_sha256=sha,
                    filename=a.filename,
                    content_type=a.content_type[:255],
                    size=len(a.data),
                    content_id=a.content_id,
                    inline=a.inline,
                )
                for a, sha in zip(msg.attachments, blob_ids, strict=True)
            ],
        )
        if "sender_not_participant" in flags:
            log.warning(
                "ticket %s: follow-up from non-participant %s", ticket.number, msg.sender_address
            )
            audit.record_later(
                session,
                "follow_up_from_non_participant",
                ticket_id=ticket.id,
                article_id=article.id,
                sender=msg.sender_address,
            )
        else:
            audit.record_later(
                session, "article_received", ticket_id=ticket.id, article_id=article.id
            )
        if new_ticket:
            self._acknowledge(session, ticket, article, msg, flags)
        return Outcome(
            "stored",
            entry.sha256,
            ticket_number=ticket.number,
            article_id=article.id,
            new_ticket=new_ticket,
        )

    def _flags(self, session: Session, msg: ParsedMessage, message_id_seen: bool) -> list[str]:
        flags: list[str] = []
        if message_id_seen:
            # Same Message-ID, different bytes (the raw hash did not match): keep both, flag it.
            flags.append("message_id_conflict")
        if msg.bounce:
            flags.append("bounce")
        elif msg.auto_submitted:
            flags.append("auto_submitted")
        if msg.spam_flag or (
            msg.spam_score is not None and msg.spam_score >= self.settings.mail.spam_score_threshold
        ):
            flags.append("spam")
        if msg.sender_address in self.routing_table(session).system_addresses:
            flags.append("from_system")
        if msg.defects:
            flags.append("parse_defects")
        return flags

    def _acknowledge(
        self,
        session: Session,
        ticket: Ticket,
        article: Article,
        msg: ParsedMessage,
        flags: list[str],
    ) -> None:
        """The queue's automatic acknowledgement, unless that could start a mail loop."""
        if ticket.queue_id not in self.routing_table(session).ack_queues:
            return  # the common case costs no query
        queue = session.get(Queue, ticket.queue_id)
        if queue is None or not queue.auto_ack or not msg.sender_address:
            return
        if {"bounce", "auto_submitted", "spam", "from_system"} & set(flags):
            return
        cap = self.settings.mail.auto_reply_daily_cap
        if auto_replies.sent_today(session, msg.sender_address) >= cap:
            audit.record_later(
                session, "auto_reply_capped", ticket_id=ticket.id, sender=msg.sender_address
            )
            return
        body = (queue.ack_body or "").replace("{ticket}", ticket.number)
        queue_outbound(
            session,
            self.settings,
            ticket,
            to=[msg.sender_address],
            subject=queue.ack_subject or ticket.title,
            body=body,
            reply_to=article,
            auto=True,
        )
        auto_replies.note(session, msg.sender_address)

    def reprocess(self) -> list[Outcome]:
        """Store every message waiting in the spool; stops at the first database failure."""
        return [self.store(entry) for entry in self.spool.pending()]


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
