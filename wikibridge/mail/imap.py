"""Fetching mail from IMAP mailboxes (the ``[[imap]]`` settings) into tickets.

The order of operations is what keeps mail safe: a message is fetched with ``BODY.PEEK[]``
(which leaves it unseen), handed to the :class:`~wikibridge.mail.ingest.Ingestor`, and only
after the ingest returned is it marked ``\\Seen`` (or deleted). Whatever breaks in between --
the database, the connection, this process -- the message is still unseen in the mailbox and
the next run fetches it again; ingest is idempotent by content hash, so a message that was
stored but not yet marked comes back as a duplicate and is marked then.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from wikibridge.config import ImapMailbox

from .ingest import Ingestor, Outcome, TempFail

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 200  # messages per mailbox and run: one run stays short, the next one goes on
DEFAULT_TIMEOUT = 60.0  # seconds for any one network operation

_UID_RE = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The server refused a command; the message says which."""


@dataclass
class FetchReport:
    mailbox: str
    found: int = 0  # messages the search returned
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    more: bool = False  # the limit stopped the run before every found message was handled
    error: str = ""  # why the run of this mailbox stopped early; empty when it did not
    tempfail: bool = False  # the error was ours (database, spool): retrying later will help
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def handled(self) -> int:
        return self.stored + self.duplicate + self.quarantined

    def summary(self) -> str:
        text = (
            f"{self.mailbox}: {self.stored} stored, {self.duplicate} duplicate, "
            f"{self.quarantined} quarantined"
        )
        if self.more:
            text += f", {self.found - self.handled} left for the next run"
        if self.error:
            text += f"; stopped: {self.error}"
        return text


Connector = Callable[[ImapMailbox, float], imaplib.IMAP4]


def connect(mailbox: ImapMailbox, timeout: float = DEFAULT_TIMEOUT) -> imaplib.IMAP4:
    """An authenticated connection using the mailbox's security setting."""
    # The default context verifies the certificate and the host name against the system's
    # trust store (SSL_CERT_FILE / SSL_CERT_DIR point elsewhere, e.g. at a private CA).
    context = ssl.create_default_context()
    conn: imaplib.IMAP4
    if mailbox.security == "tls":
        conn = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == "starttls":
            try:
                conn.starttls(ssl_context=context)
            except BaseException:
                _close(conn)
                raise
    try:
        conn.login(mailbox.username, mailbox.password)
    except BaseException:
        _close(conn)
        raise
    return conn


def fetch_mailbox(
    mailbox: ImapMailbox,
    ingestor: Ingestor,
    *,
    limit: int = DEFAULT_LIMIT,
    timeout: float = DEFAULT_TIMEOUT,
    connector: Connector = connect,
    should_stop: Callable[[], bool] = lambda: False,
) -> FetchReport:
    """Store up to ``limit`` new messages of one mailbox; never raises for a mailbox problem.

    Errors end the run of this mailbox and are in the report, so that a caller looping over
    several mailboxes goes on with the next one.
    """
    report = FetchReport(mailbox.name)
    try:
        conn = connector(mailbox, timeout)
    except (imaplib.IMAP4.error, OSError) as e:
        report.error = f"cannot connect to {mailbox.host}:{mailbox.port} or log in: {_text(e)}"
        _log_report(report)
        return report
    try:
        _fetch(conn, mailbox, ingestor, report, limit, should_stop)
    except TempFail as e:
        report.error = f"cannot store mail now, will retry: {e}"
        report.tempfail = True
    except (imaplib.IMAP4.error, OSError, ImapError) as e:
        report.error = f"IMAP: {_text(e)}"
    except Exception as e:  # noqa: BLE001 - a bug must not stop the other mailboxes
        log.exception("imap:%s: unexpected error", mailbox.name)
        report.error = f"unexpected error: {e!r}"
    finally:
        _logout(conn)
    _log_report(report)
    return report


def _log_report(report: FetchReport) -> None:
    # A poll that found nothing is not news: a looping fetcher would log it every minute.
    if report.error:
        log.warning("imap %s", report.summary())
    elif report.found:
        log.info("imap %s", report.summary())
    else:
        log.debug("imap %s", report.summary())


def fetch_all(
    mailboxes: Iterable[ImapMailbox],
    ingestor: Ingestor,
    *,
    limit: int = DEFAULT_LIMIT,
    timeout: float = DEFAULT_TIMEOUT,
    connector: Connector = connect,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[FetchReport]:
    reports = []
    for mailbox in mailboxes:
        if should_stop():
            break
        reports.append(
            fetch_mailbox(
                mailbox,
                ingestor,
                limit=limit,
                timeout=timeout,
                connector=connector,
                should_stop=should_stop,
            )
        )
    return reports


def _fetch(
    conn: imaplib.IMAP4,
    mailbox: ImapMailbox,
    ingestor: Ingestor,
    report: FetchReport,
    limit: int,
    should_stop: Callable[[], bool],
) -> None:
    _ok(conn.select(_quote(mailbox.folder)), f"SELECT {mailbox.folder}")
    # Deleting mailboxes take everything: a message marked \Seen by a person reading the
    # mailbox is still ours to store. Others take what nobody has seen yet.
    criterion = "ALL" if mailbox.delete else "UNSEEN"
    data = _ok(conn.uid("SEARCH", criterion), f"UID SEARCH {criterion}")
    uids = sorted({int(u) for part in data if part for u in part.split()})
    report.found = len(uids)
    report.more = len(uids) > limit
    uidplus = mailbox.delete and "UIDPLUS" in _capabilities(conn)
    deleted_without_expunge = False
    source = f"imap:{mailbox.name}"
    if uids:
        log.info("imap:%s: %d message(s) to fetch from %s", mailbox.name, len(uids), mailbox.folder)
    try:
        for uid in uids[:limit]:
            if should_stop():
                report.more = True
                break
            raw = _fetch_raw(conn, uid)
            if raw is None:
                # Gone since the search (another client expunged it): nothing to store.
                log.info("imap:%s: uid %d vanished before it was fetched", mailbox.name, uid)
                continue
            outcome = ingestor.ingest(raw, source=source, queue=mailbox.queue)
            # From here on the message is safe on our side; only now may it leave the inbox.
            _count(report, outcome)
            log.info(
                "imap:%s: uid %d %s%s",
                mailbox.name,
                uid,
                outcome.status,
                f" as ticket {outcome.ticket_number}" if outcome.ticket_number else "",
            )
            if mailbox.delete:
                _ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE \\Deleted")
                if uidplus:
                    _ok(conn.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
                else:
                    deleted_without_expunge = True
            else:
                _ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "STORE \\Seen")
    finally:
        if deleted_without_expunge:
            # Without UIDPLUS only a plain EXPUNGE removes them; it also removes messages
            # that another client marked \Deleted, which is what that client asked for.
            _expunge_quietly(conn, mailbox.name)


def _fetch_raw(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"UID FETCH {uid}")
    for part in data:
        # A literal comes as (b'7 (UID 12 BODY[] {345}', b'<the message>'); unsolicited
        # FETCH responses for other messages (flag changes) may come along: match the UID.
        if isinstance(part, tuple) and len(part) == 2:
            match = _UID_RE.search(part[0])
            if match is None or int(match.group(1)) == uid:
                return bytes(part[1])
    return None


def _count(report: FetchReport, outcome: Outcome) -> None:
    report.outcomes.append(outcome)
    if outcome.status == "stored":
        report.stored += 1
    elif outcome.status == "duplicate":
        report.duplicate += 1
    else:
        report.quarantined += 1


def _capabilities(conn: imaplib.IMAP4) -> set[str]:
    # imaplib keeps the capabilities from before the login; servers announce more after it.
    typ, data = conn.capability()
    if typ != "OK" or not data or not data[0]:
        return {c.upper() for c in conn.capabilities}
    return {c.upper() for c in data[0].decode("ascii", "replace").split()}


def _expunge_quietly(conn: imaplib.IMAP4, name: str) -> None:
    try:
        conn.expunge()
    except (imaplib.IMAP4.error, OSError) as e:
        # Marked \Deleted and stored: the next run sees them again as duplicates.
        log.warning("imap:%s: EXPUNGE failed: %s", name, _text(e))


def _ok(response: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = response
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {typ} {detail}".strip())
    return data


def _quote(folder: str) -> str:
    # imaplib sends mailbox names as given; a quoted string also works for names with spaces.
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(conn: imaplib.IMAP4) -> None:
    # LOGOUT, not CLOSE: CLOSE would expunge messages that others marked \Deleted.
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        _close(conn)


def _close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.shutdown()


def _text(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__
