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
from pathlib import Path

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.files import ContentStore, fsync_dir
from wikibridge.store import audit

from .batch import Batch, NumberInBatch
from .parse import ParsedMessage, parse_message
from .route import RoutingTable
from .spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

EX_TEMPFAIL = 75
ROUTING_TTL = 5.0  # seconds
# A spool checkpoint (one sync of the file system) after this many batches or seconds.
CHECKPOINT_JOURNALS = 50
CHECKPOINT_SECONDS = 30.0


# A parsed message ready to store: its spool entry, the parse, its size, its attachments' blobs.
Prepared = tuple[SpoolEntry, ParsedMessage, int, list[str]]


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
        self._journals_closed = 0
        self._checkpointed_at = time.monotonic()

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
        """Accept one message: on disk first, then in the database (a batch of one)."""
        return self.ingest_many([raw], source=source, queue=queue)[0]

    def ingest_many(
        self,
        raws: Sequence[bytes],
        *,
        source: str = "batch",
        queue: str = "",
        details: Sequence[tuple[str, str]] | None = None,
    ) -> list[Outcome]:
        """Accept several messages with one database commit (group commit).

        For a listener that receives many messages (LMTP, IMAP, an mbox import): the messages
        are written to the spool in one journal file with one fsync, and the database commits
        once for the batch. A caller acknowledges the messages only after this returns, so the
        guarantee is the same as one by one. If anything in the batch fails, the batch is
        stored again one message at a time, so one bad message cannot hold up the others.
        A single message takes the spool's per-message path (a journal would not save a sync).
        ``details``: each message's (source, queue), when they are not all ``source``, ``queue``.
        """
        if details is not None:
            details = list(details)
            if len(details) != len(raws):
                raise ValueError("one (source, queue) per message")
        journal: Path | None = None
        try:
            if len(raws) == 1:
                src, q = details[0] if details else (source, queue)
                entries = [self.spool.accept(raws[0], source=src, queue=q)]
            else:
                entries, journal = self.spool.accept_batch(
                    raws, source=source, queue=queue, details=details
                )
        except OSError as e:
            raise TempFail(f"cannot write the spool: {e.strerror or e}") from e
        keep: list[bytes | None] = list(raws) if journal is not None else [None] * len(raws)
        new_dirs: set[Path] = set()
        prepared = [
            self._prepare(entry, raw, new_dirs, kept)
            for entry, raw, kept in zip(entries, raws, keep, strict=True)
        ]
        self._sync_blobs(new_dirs)
        if len(entries) == 1:
            return [self._store_one(entries[0], prepared[0])]
        try:
            outcomes = self._store_batch(prepared)
        except (IntegrityError, DataError, NumberInBatch):
            outcomes = [
                self._store_one(e, p, kept)
                for e, p, kept in zip(entries, prepared, keep, strict=True)
            ]
        except (OperationalError, DBAPIError) as e:
            raise TempFail(f"database unavailable: {_first_line(e)}") from e
        else:
            for outcome, entry, kept in zip(outcomes, entries, keep, strict=True):
                if outcome.status != "quarantined":
                    self.spool.done(entry, kept)
        self._close_journal(journal)
        return outcomes

    def _close_journal(self, journal: Path | None) -> None:
        if journal is None:
            return
        self.spool.close_journal(journal)
        self._journals_closed += 1
        if (
            self._journals_closed >= CHECKPOINT_JOURNALS
            or time.monotonic() - self._checkpointed_at > CHECKPOINT_SECONDS
        ):
            self.checkpoint()

    def checkpoint(self) -> None:
        """Make the raw files of stored batches durable and drop their journals; a listener
        calls it when it stops (else the next checkpoint or `spool reprocess` does it)."""
        self._journals_closed = 0
        self._checkpointed_at = time.monotonic()
        try:
            self.spool.checkpoint()
        except OSError:
            log.exception("spool checkpoint failed; the journals are kept")

    def store(self, entry: SpoolEntry, raw: bytes | None = None) -> Outcome:
        """Store a spooled message in the database (again: it is idempotent)."""
        if raw is None:
            raw = self.spool.read(entry.sha256)
        new_dirs: set[Path] = set()
        # verify: after a crash, an attachment file may be missing or incomplete
        prepared = self._prepare(entry, raw, new_dirs, verify=True)
        self._sync_blobs(new_dirs)
        return self._store_one(entry, prepared)

    def _store_one(
        self, entry: SpoolEntry, prepared: Prepared | Outcome, journaled: bytes | None = None
    ) -> Outcome:
        """Store one message in its own transaction. `journaled`: its bytes, when it came in a
        spool journal rather than as a file in incoming/."""
        if isinstance(prepared, Outcome):
            return prepared
        for attempt in range(3):
            try:
                outcome = self._store_batch([prepared])[0]
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
                reason = f"database rejected it: {_first_line(e)}"
                return self._quarantine(entry, reason, journaled)
            except (OperationalError, DBAPIError) as e:
                raise TempFail(f"database unavailable: {_first_line(e)}") from e
        self.spool.done(entry, journaled)
        return outcome

    def _store_batch(self, prepared: Sequence[Prepared | Outcome]) -> list[Outcome]:
        """One transaction for the messages that were parsed (quarantined ones pass)."""
        todo = [p for p in prepared if not isinstance(p, Outcome)]
        if not todo:
            return [p for p in prepared if isinstance(p, Outcome)]
        with self._session() as session, session.begin():
            batch = Batch(self, session, [(entry, msg) for entry, msg, _, _ in todo])
            outcomes = [
                p if isinstance(p, Outcome) else batch.add(i, *p) for i, p in enumerate(prepared)
            ]
            batch.finish()
            audit.write_later(session)
        return outcomes

    def _prepare(
        self,
        entry: SpoolEntry,
        raw: bytes,
        new_dirs: set[Path],
        journaled: bytes | None = None,
        *,
        verify: bool = False,
    ) -> Prepared | Outcome:
        """Parse and write the attachments; or quarantine a message that cannot be parsed.

        The attachments of a journaled message are not fsync'd: the journal keeps the message
        they come from until a checkpoint has synced them.
        """
        if len(raw) > self.settings.mail.max_message_bytes:
            reason = f"message of {len(raw)} bytes exceeds max_message_bytes"
            return self._quarantine(entry, reason, journaled)
        try:
            msg = parse_message(raw)
        except Exception as e:  # noqa: BLE001 - any parser failure: keep the mail, say why
            log.exception("cannot parse message %s", entry.sha256)
            reason = f"cannot parse: {type(e).__name__}: {e}"
            return self._quarantine(entry, reason, journaled)
        try:
            synced = journaled is None
            blob_ids = [
                self.blobs.put(a.data, new_dirs=new_dirs, synced=synced, verify=verify)
                for a in msg.attachments
            ]
        except OSError as e:
            raise TempFail(f"cannot write attachments: {e.strerror or e}") from e
        return entry, msg, len(raw), blob_ids

    def _sync_blobs(self, new_dirs: set[Path]) -> None:
        """The directory entries of new attachment files reach the disk before the commit
        that refers to them: once per directory and batch, not once per file."""
        try:
            for folder in new_dirs:
                fsync_dir(folder)
        except OSError as e:
            raise TempFail(f"cannot write attachments: {e.strerror or e}") from e

    def _quarantine(self, entry: SpoolEntry, reason: str, journaled: bytes | None) -> Outcome:
        try:
            self.spool.quarantine(entry, reason, journaled)
        except OSError as e:
            raise TempFail(f"cannot write the quarantine: {e.strerror or e}") from e
        log.warning("quarantined %s: %s", entry.sha256, reason)
        return Outcome("quarantined", entry.sha256, reason=reason)

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

    def reprocess(self) -> list[Outcome]:
        """Store every message waiting in the spool; stops at the first database failure."""
        self.recover_journals()
        return [self.store(entry) for entry in self.spool.pending()]

    def recover_journals(self) -> int:
        """Rewrite, durably, the raw files and attachments of batches whose process stopped
        before a checkpoint (they were stored, but their files may not have reached the disk),
        then drop those journals. Returns the number of messages looked at."""
        count = 0
        for path, records in self.spool.closed_journals():
            for _, raw in records:
                self.spool.raw.put(raw, verify=True)
                try:
                    msg = parse_message(raw)
                except Exception:  # noqa: BLE001, S112 - it was quarantined then; nothing to add
                    continue
                for a in msg.attachments:
                    self.blobs.put(a.data, verify=True)
                count += 1
            path.unlink(missing_ok=True)
        return count


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
