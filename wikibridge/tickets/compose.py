"""Replying to a ticket by e-mail: the draft a volunteer starts from, and sending it.

The draft's text is the queue's salutation, a canned response (if one is picked) and the queue's
signature, variables filled in; the volunteer edits it and the article records exactly what is
sent. Header fields are checked here, before anything is stored: addresses must be addresses,
and no field may hold a line break or another control character (header injection). Files are
stored as content-addressed blobs like inbound attachments; the worker attaches them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses

from sqlalchemy.orm import Session

from wikibridge.files import ContentStore
from wikibridge.mail.parse import safe_filename
from wikibridge.models import Article, Attachment, CannedResponse, Queue, Ticket, utcnow
from wikibridge.store import articles, audit, canned

from . import states, texts
from .guards import (
    Actor,
    OperationRefused,
    acting,
    clean_text,
    lock_holder,
    refuse_if_locked,
    visible,
    writable,
)
from .operations import apply_state, check_state, parse_time
from .outbound import queue_outbound, queue_sender

# States a ticket may take when the reply is sent.
REPLY_STATES = (states.OPEN, states.CLOSED_OK, *states.PENDING)
MAX_RECIPIENTS = 50
MAX_SUBJECT = 500
MAX_BODY_CHARS = 500_000
MAX_FILES = 20
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}"
_ADDRESS = re.compile(f"{_LOCAL}@{_DOMAIN}")
_NEEDS_QUOTES = re.compile(r'[()<>\[\]:;@\\,."]')
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


@dataclass(frozen=True)
class Draft:
    to: str = ""
    cc: str = ""
    subject: str = ""
    body: str = ""
    state: str = states.OPEN
    pending_until: str = ""  # as typed: YYYY-MM-DD HH:MM (UTC)


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ComposeForm:
    ticket: Ticket
    queue: Queue
    sender: str  # the From of the reply; empty when the queue has no address to send from
    draft: Draft
    canned: list[CannedResponse]
    chosen: int | None


def canned_for(session: Session, queue: Queue) -> list[CannedResponse]:
    """The canned responses of the queue, of the queues above it, and the global ones."""
    ids: list[int] = []
    current: Queue | None = queue
    while current is not None and current.id not in ids and len(ids) < 20:
        ids.append(current.id)
        current = session.get(Queue, current.parent_id) if current.parent_id else None
    return canned.for_queues(session, ids)


def compose(
    session: Session, actor: Actor, number: str, canned_id: int | None = None
) -> ComposeForm:
    """The reply form of a ticket, prefilled; reads only (it may run in a read-only session)."""
    ticket = writable(session, actor, number, lock_row=False)
    refuse_if_locked(session, actor, ticket, utcnow())
    queue = session.get(Queue, ticket.queue_id)
    assert queue is not None
    responses = canned_for(session, queue)
    values = texts.variables(ticket, queue, actor.username)
    title = ticket.title.strip()
    subject = title if title.lower().startswith("re:") or not title else f"Re: {title}"
    middle = ""
    if canned_id is not None:
        picked = next((c for c in responses if c.id == canned_id), None)
        if picked is None:
            raise OperationRefused("That canned response is not offered for this queue.")
        middle = texts.fill(picked.body, values)
        subject = texts.fill(picked.subject, values) or subject
    # Prefilled with the newest sender who is known to the ticket: a stranger who wrote with a
    # guessed [Ticket#N] (flagged at ingest) must not receive the answer to someone else.
    last = next(
        (
            a
            for a in articles.newest_inbound(session, ticket.id)
            if "sender_not_participant" not in (a.flags or [])
        ),
        None,
    )
    to = last.sender_address if last is not None and last.sender_address else ticket.requester
    # The salutation, the canned text (or room to write), the signature.
    parts = (texts.fill(queue.salutation, values), middle, texts.fill(queue.signature, values))
    body = "\n\n".join(texts.join_parts(p) for p in parts).strip("\n")
    draft = Draft(to=to, subject=subject, body=body)
    return ComposeForm(ticket, queue, queue_sender(session, queue), draft, responses, canned_id)


def reply(
    session: Session,
    actor: Actor,
    number: str,
    draft: Draft,
    uploads: list[Upload] | None = None,
) -> Article:
    """Send the reply through the outbox and set the ticket's state.

    The reply answers the newest inbound mail (In-Reply-To, References). A ticket nobody holds
    is taken by the volunteer who replies, as Znuny does.
    """
    visible(session, actor, number)  # first: outside the scope it is 404, whatever the draft
    to = parse_addresses(draft.to, "To")
    cc = parse_addresses(draft.cc, "Cc")
    if not to:
        raise OperationRefused("The reply needs at least one address in To.")
    if len(to) + len(cc) > MAX_RECIPIENTS:
        raise OperationRefused("A reply can go to at most %(most)d addresses.", most=MAX_RECIPIENTS)
    subject = one_line(draft.subject, "Subject")
    if len(subject) > MAX_SUBJECT:
        raise OperationRefused(
            "The subject can have at most %(most)d characters.", most=MAX_SUBJECT
        )
    body = clean_text(draft.body)
    if not body.strip():
        raise OperationRefused("The reply is empty.")
    if len(body) > MAX_BODY_CHARS:
        raise OperationRefused("A reply can have at most %(most)d characters.", most=MAX_BODY_CHARS)
    if draft.state not in REPLY_STATES:
        raise OperationRefused("After a reply the ticket can be open, pending or closed.")
    files = _check_uploads(actor, uploads or [])

    pending_until = parse_time(draft.pending_until) if draft.state in states.PENDING else None
    ticket = writable(session, actor, number)
    now = utcnow()
    acting(session, actor, ticket, now)
    change = draft.state != ticket.state or draft.state in states.PENDING
    if change:
        check_state(ticket, draft.state, pending_until, now)
    queue = session.get(Queue, ticket.queue_id)
    assert queue is not None
    if not queue_sender(session, queue):
        raise OperationRefused(
            "The queue %(queue)s has no address to send mail from; a queue admin must add one.",
            queue=queue.name,
        )
    if lock_holder(ticket, now) is None:
        _take_for_reply(session, actor, ticket, now)
    article = queue_outbound(
        session,
        actor.settings,
        ticket,
        to=to,
        cc=cc,
        subject=subject or ticket.title,
        body=body,
        reply_to=articles.last_inbound(session, ticket.id),
        author_id=actor.volunteer_id,
        complete=True,
        attachments=_store_files(actor, files),
    )
    if change:
        apply_state(session, actor, ticket, draft.state, pending_until, now)
    return article


def _take_for_reply(session: Session, actor: Actor, ticket: Ticket, now: datetime) -> None:
    ticket.owner_id = actor.volunteer_id
    ticket.locked_until = now + actor.lock_timeout
    audit.record(
        session,
        "lock_taken",
        ticket_id=ticket.id,
        volunteer_id=actor.volunteer_id,
        until=ticket.locked_until.isoformat(timespec="seconds"),
        reason="reply",
    )


def one_line(value: str, field: str) -> str:
    """A header field's text: refused if it holds a line break or another control character."""
    value = value or ""
    if any(_is_control(ch) for ch in value):
        raise OperationRefused("%(field)s must be one line of text (no line breaks).", field=field)
    return value.strip()


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t"


def parse_addresses(value: str, field: str) -> list[str]:
    """The addresses in a To or Cc field, each as ``Name <address>`` or ``address``."""
    value = one_line(value, field).strip(" ,")
    if not value:
        return []
    out = []
    for name, address in getaddresses([value]):
        if not name and not address:
            raise OperationRefused(
                "%(field)s: %(value)r is not a list of e-mail addresses.",
                field=field,
                value=value[:80],
            )
        if not _ADDRESS.fullmatch(address) or len(address) > 254:
            shown = address or name
            raise OperationRefused(
                "%(field)s: %(value)r is not an e-mail address.", field=field, value=shown[:80]
            )
        name = name.strip()
        if name and _NEEDS_QUOTES.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(f"{name} <{address}>" if name else address)
    return out


def _check_uploads(actor: Actor, uploads: list[Upload]) -> list[Upload]:
    if len(uploads) > MAX_FILES:
        raise OperationRefused("A reply can have at most %(most)d files.", most=MAX_FILES)
    limit = actor.settings.tickets.max_attachment_bytes
    total = sum(len(u.data) for u in uploads)
    if total > limit:
        raise OperationRefused(
            "The files are %(total)s together; a reply can carry at most %(most)s.",
            total=_size(total),
            most=_size(limit),
        )
    return uploads


def _store_files(actor: Actor, uploads: list[Upload]) -> list[Attachment]:
    blobs = ContentStore(actor.settings.blob_dir)
    rows = []
    for index, upload in enumerate(uploads):
        content_type = upload.content_type.lower().split(";", 1)[0].strip()
        if not _CONTENT_TYPE.fullmatch(content_type):
            content_type = "application/octet-stream"
        rows.append(
            Attachment(
                blob_sha256=blobs.put(upload.data),
                filename=safe_filename(upload.filename, index, content_type),
                content_type=content_type[:255],
                size=len(upload.data),
            )
        )
    return rows


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} kB"
