"""Outbox jobs: enqueue in the caller's transaction; claim, finish and fail them for the worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from wikibridge.models import OutboxJob, Ticket, utcnow


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    ticket_id: int | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 8,
) -> OutboxJob:
    job = OutboxJob(
        kind=kind,
        payload=payload,
        ticket_id=ticket_id,
        run_after=run_after or utcnow(),
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    return job


def enqueue_many(
    session: Session, kind: str, items: list[tuple[dict[str, Any], int | None]], at: datetime
) -> None:
    """Jobs of one kind, each (payload, ticket id), due at `at`, with one statement (bulk
    ingest; nothing is read back)."""
    rows = [
        {"kind": kind, "payload": payload, "ticket_id": ticket_id, "run_after": at}
        for payload, ticket_id in items
    ]
    if rows:
        session.execute(insert(OutboxJob), rows)


def claim(
    session: Session,
    worker: str,
    *,
    limit: int = 10,
    lease: timedelta = timedelta(minutes=5),
    due_by: datetime | None = None,
) -> list[OutboxJob]:
    """Take up to `limit` due jobs for this worker.

    Due means pending and past run_after (or `due_by`, when given: a worker's pass takes only
    what was due when it began, not the jobs it has itself just put back for a retry), or
    running with an expired lease (its worker died).
    On PostgreSQL the candidate rows are locked with SKIP LOCKED, so workers on many machines
    never take the same job; SQLite serialises writers, which gives the same guarantee.
    """
    now = utcnow()
    due_by = min(due_by, now) if due_by is not None else now
    due = (
        select(OutboxJob.id)
        .where(
            ((OutboxJob.state == "pending") & (OutboxJob.run_after <= due_by))
            | ((OutboxJob.state == "running") & (OutboxJob.locked_until < now))
        )
        .order_by(OutboxJob.run_after, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id.in_(ids))
        .values(
            state="running",
            locked_by=worker,
            locked_until=now + lease,
            attempts=OutboxJob.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    stmt = select(OutboxJob).where(OutboxJob.id.in_(ids)).order_by(OutboxJob.id)
    return list(session.scalars(stmt, execution_options={"populate_existing": True}))


def finish(session: Session, job_id: int, worker: str) -> bool:
    """Mark a job done; False when this worker no longer holds it (its lease was taken over)."""
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.locked_by == worker, OutboxJob.state == "running")
        .values(state="done", finished_at=utcnow(), locked_until=None, last_error="")
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, job_ids: list[int], worker: str) -> int:
    """Give claimed jobs back untried (a worker stopping): due again, the attempt not counted."""
    if not job_ids:
        return 0
    result = session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.id.in_(job_ids), OutboxJob.locked_by == worker, OutboxJob.state == "running"
        )
        .values(state="pending", locked_until=None, attempts=OutboxJob.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def retry_later(session: Session, job: OutboxJob, worker: str, error: str, delay: timedelta) -> str:
    """Record a failed attempt: pending again after `delay`, or failed for good at the limit."""
    final = job.attempts >= job.max_attempts
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job.id, OutboxJob.locked_by == worker)
        .values(
            state="failed" if final else "pending",
            run_after=utcnow() + delay,
            locked_until=None,
            last_error=error[:4000],
            finished_at=utcnow() if final else None,
        )
        .execution_options(synchronize_session=False)
    )
    return "failed" if final else "pending"


def fail(session: Session, job: OutboxJob, worker: str, error: str) -> None:
    """A job that cannot succeed (bad payload, permanent refusal): failed now, for a person."""
    session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job.id, OutboxJob.locked_by == worker)
        .values(state="failed", locked_until=None, last_error=error[:4000], finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxJob.state, func.count()).group_by(OutboxJob.state)).all()
    return {state: int(n) for state, n in rows}


def listing(
    session: Session, states: tuple[str, ...] = ("pending", "running", "failed"), limit: int = 50
) -> list[tuple[OutboxJob, str | None]]:
    """Jobs in these states, newest first, each with its ticket's number (None without one)."""
    stmt = (
        select(OutboxJob, Ticket.number)
        .outerjoin(Ticket, Ticket.id == OutboxJob.ticket_id)
        .where(OutboxJob.state.in_(states))
        .order_by(OutboxJob.id.desc())
        .limit(limit)
    )
    return [(job, number) for job, number in session.execute(stmt)]


def failed(session: Session, limit: int = 50) -> list[OutboxJob]:
    stmt = (
        select(OutboxJob)
        .where(OutboxJob.state == "failed")
        .order_by(OutboxJob.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def retry_failed(session: Session, job_id: int) -> bool:
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.state == "failed")
        .values(state="pending", run_after=utcnow(), attempts=0, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
