"""The counts an operator watches (`wikibridge status`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wikibridge.models import Article, OutboxJob, Ticket


def counts(session: Session) -> dict[str, int]:
    tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
    open_tickets = (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.state.in_(("new", "open", "pending reminder")))
        )
        or 0
    )
    articles = session.scalar(select(func.count()).select_from(Article)) or 0
    jobs = dict(
        session.execute(
            select(OutboxJob.state, func.count())
            .where(OutboxJob.state.in_(("pending", "running", "failed")))
            .group_by(OutboxJob.state)
        ).all()
    )
    return {
        "tickets": int(tickets),
        "open_tickets": int(open_tickets),
        "articles": int(articles),
        "jobs_pending": int(jobs.get("pending", 0)) + int(jobs.get("running", 0)),
        "jobs_failed": int(jobs.get("failed", 0)),
    }
