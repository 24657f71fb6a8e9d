"""How the JSON API writes queues, tickets, articles and search results.

Only what the ticket page shows is written, and never an HTML body: for inbound HTML mail
the API gives the plain-text rendition made at ingest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from wikibridge.models import Attachment, Queue, Ticket
from wikibridge.tickets.detail import ArticleView, TicketDetail
from wikibridge.tickets.listing import QueueSummary
from wikibridge.tickets.search import SearchPage

Json = dict[str, Any]


def when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def queue(summary: QueueSummary) -> Json:
    return {
        **queue_ref(summary.queue),
        "parent_id": summary.queue.parent_id,
        "kind": summary.queue.kind,
        "language": summary.queue.language,
        "level": summary.level,
        "counts": dict(summary.counts),
    }


def queue_ref(q: Queue) -> Json:
    return {"id": q.id, "name": q.name}


def ticket(t: Ticket) -> Json:
    return {
        "number": t.number,
        "title": t.title,
        "state": t.state,
        "priority": t.priority,
        "queue_id": t.queue_id,
        "created_at": when(t.created_at),
        "updated_at": when(t.updated_at),
        "pending_until": when(t.pending_until),
        "closed_at": when(t.closed_at),
        "url": url_for("api.ticket", number=t.number, _external=True),
    }


def detail(d: TicketDetail) -> Json:
    return {
        **ticket(d.ticket),
        "queue": queue_ref(d.queue),
        "level": d.level,
        "requester": d.ticket.requester,
        "owner": d.owner or None,
        "locked_until": when(d.ticket.locked_until),
        "merged_into": d.merged_into.number if d.merged_into else None,
        "merged_from": [t.number for t in d.merged_from],
        "links": [{"kind": link.kind, "number": link.other.number} for link in d.links],
        "articles": [article(d.ticket.number, view) for view in d.articles],
    }


def article(number: str, view: ArticleView) -> Json:
    a = view.article
    return {
        "id": a.id,
        "kind": a.kind,
        "created_at": when(a.created_at),
        "author": view.author or None,
        "sender": a.sender,
        "to": a.to,
        "cc": a.cc,
        "subject": a.subject,
        "text": a.body_text,
        "flags": list(a.flags or []),
        "attachments": [attachment(number, f) for f in view.attachments],
    }


def attachment(number: str, f: Attachment) -> Json:
    return {
        "id": f.id,
        "filename": f.filename,
        "content_type": f.content_type,
        "size": f.size,
        "inline": f.inline,
        "url": url_for("api.attachment", number=number, attachment_id=f.id, _external=True),
    }


def search(page: SearchPage) -> Json:
    return {
        "query": page.form.text,
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "page_size": page.page_size,
        "capped": page.capped,
        "exact": ticket(page.exact) if page.exact else None,
        "results": [
            {
                "ticket": ticket(r.ticket),
                "queue_name": r.queue_name,
                "snippet": [{"text": text, "match": match} for text, match in r.snippet],
            }
            for r in page.results
        ],
    }
