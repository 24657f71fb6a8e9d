"""The ``send_mail`` job: deliver an outbound article written by ``queue_outbound``."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from wikibridge.files import ContentStore
from wikibridge.mail.send import (
    HeaderError,
    OutgoingFile,
    PermanentSendError,
    TemporarySendError,
    build_message,
    send,
)
from wikibridge.models import Article, OutboxJob, Queue, Ticket
from wikibridge.store import articles, audit
from wikibridge.tickets.outbound import queue_sender

from .base import JobContext, PermanentJobError, Record, RetryJobError

log = logging.getLogger(__name__)


def send_mail(ctx: JobContext, job: OutboxJob) -> Record:
    article_id = job.payload.get("article_id")
    if not isinstance(article_id, int):
        raise PermanentJobError(f"the payload names no article: {job.payload!r}")
    # A short read transaction, over before the SMTP conversation starts: on SQLite every
    # transaction of a writing session holds the database's write lock.
    with ctx.sessions() as session:
        article = session.get(Article, article_id)
        if article is None or article.kind != "outbound":
            raise PermanentJobError(f"article {article_id} does not exist or is not outbound")
        ticket = session.get(Ticket, article.ticket_id)
        queue = session.get(Queue, ticket.queue_id) if ticket is not None else None
        if ticket is None or queue is None:
            raise PermanentJobError(f"the ticket or queue of article {article_id} is missing")
        # The From recorded with the article is what the volunteer saw when writing it.
        sender = article.sender or queue_sender(session, queue)
        if not sender:
            raise PermanentJobError(f"queue {queue.name!r} has no address to send mail from")
        attached = [
            (a.filename, a.content_type, a.blob_sha256)
            for a in articles.attachments_of_article(session, article.id)
        ]
        ticket_id = ticket.id

    try:
        # The article's text already holds the queue's salutation and signature.
        msg = build_message(article, sender=sender, files=_files(ctx, attached))
    except HeaderError as e:
        raise PermanentJobError(str(e)) from e

    try:
        refused = send(ctx.settings.smtp, msg, ssl_context=ctx.smtp_ssl_context)
    except PermanentSendError as e:
        raise PermanentJobError(str(e)) from e
    except TemporarySendError as e:
        raise RetryJobError(str(e)) from e

    if refused:
        # Accepted for the others: sending again would give them a second copy.
        log.warning("article %s: the server refused %s", article_id, ", ".join(sorted(refused)))

    def record(session: Session) -> None:
        audit.record(
            session,
            "mail_sent",
            ticket_id=ticket_id,
            article_id=article_id,
            job_id=job.id,
            refused=sorted(refused),
        )

    return record


def _files(ctx: JobContext, attached: list[tuple[str, str, str]]) -> list[OutgoingFile]:
    """The attachments' files from the content store; a missing one fails the job for good."""
    if not attached:
        return []
    blobs = ContentStore(ctx.settings.blob_dir)
    files = []
    for filename, content_type, sha256 in attached:
        try:
            data = blobs.get(sha256)
        except (OSError, ValueError) as e:
            raise PermanentJobError(f"the file of attachment {filename!r} is missing: {e}") from e
        files.append(OutgoingFile(filename, content_type, data))
    return files
