"""The worker loop: claim due outbox jobs, run their handlers, record the outcome.

Each step has its own short transaction: the claim (committed before any side effect), the
handler's reads, and the outcome (done, retry later, failed). No transaction spans a mail
server or a wiki, so a slow server never holds database locks.

Delivery is at least once. A worker that dies after a side effect but before the outcome
commits leaves its job running; when the lease expires another worker runs it again, and the
mail goes out a second time. The window is kept small (the outcome is committed right after the
send, retried a few times when the database hiccups) and a repeat is recognisable: the message
is built from the stored article, with the same Message-ID and Date every time.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from wikibridge.models import OutboxJob, utcnow
from wikibridge.store import jobs as store
from wikibridge.store import ticket_counts
from wikibridge.tickets import auto_close

from .base import Handler, JobContext, JobError, PermanentJobError, Record

log = logging.getLogger(__name__)
T = TypeVar("T")
# Seconds between housekeeping rounds (auto-close, folding the ticket count rows).
COMPACT_EVERY = 60.0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: base * 2**(attempt-1), capped, then 50-100 % of it."""

    base: float = 30.0
    cap: float = 3600.0

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        full = min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 32))
        return timedelta(seconds=rng.uniform(full / 2, full))


def worker_name() -> str:
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(
        self,
        context: JobContext,
        *,
        handlers: Mapping[str, Handler] | None = None,
        batch: int = 10,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=15),
        job_budget: timedelta = timedelta(minutes=5),
        name: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if handlers is None:
            from .handlers import default_handlers

            handlers = default_handlers()
        if job_budget >= lease:
            raise ValueError("the lease must be longer than the time allowed for one job")
        self.context = context
        self.handlers = dict(handlers)
        self.batch = batch
        self.backoff = backoff or Backoff()
        self.lease = lease
        # A job after the first of a batch starts only with at least this much of its lease
        # left; otherwise the rest of the batch is given back and claimed afresh, so a slow
        # batch does not let leases run out under a live worker.
        self.job_budget = job_budget
        self.name = name or worker_name()
        self.rng = rng or random.Random()
        self._stop = threading.Event()
        self._compacted_at: float | None = None

    # -- stopping ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the job under way, give back the rest of the batch, then return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- loops ------------------------------------------------------------------------------

    def run_once(self) -> Counter[str]:
        """Run every job that is due now (not those this pass puts back for a retry)."""
        started = utcnow()
        outcomes: Counter[str] = Counter()
        self._housekeeping()
        while not self.stopping:
            claimed = self._claim(started)
            if not claimed:
                break
            self._run_batch(claimed, outcomes)
        return outcomes

    def run_forever(self, interval: float) -> Counter[str]:
        """Poll every `interval` seconds until stop(); a database outage is waited out."""
        log.info("worker %s started, polling every %g s", self.name, interval)
        outcomes: Counter[str] = Counter()
        while not self.stopping:
            try:
                outcomes.update(self.run_once())
            except SQLAlchemyError as e:
                log.error("database error, trying again in %g s: %s", interval, _first_line(e))
            self._stop.wait(interval)
        log.info("worker %s stopped", self.name)
        return outcomes

    def _housekeeping(self) -> None:
        """At most once a minute per worker: close the tickets whose auto-close time has
        passed, and fold the ticket count rows (store.ticket_counts)."""
        now = time.monotonic()
        if self._compacted_at is not None and now - self._compacted_at < COMPACT_EVERY:
            return
        self._compacted_at = now
        with self.context.sessions.begin() as session:
            closed = auto_close.close_due(session, utcnow())
        if closed:
            log.info("closed %d ticket(s) whose pending time had passed", closed)
        with self.context.sessions.begin() as session:
            ticket_counts.compact(session)

    # -- one batch --------------------------------------------------------------------------

    def _claim(self, due_by: datetime) -> list[OutboxJob]:
        with self.context.sessions.begin() as session:
            return store.claim(
                session, self.name, limit=self.batch, lease=self.lease, due_by=due_by
            )

    def _run_batch(self, claimed: list[OutboxJob], outcomes: Counter[str]) -> None:
        for i, job in enumerate(claimed):
            lease_left = (job.locked_until or utcnow()) - utcnow()
            if self.stopping or (i > 0 and lease_left < self.job_budget):
                outcomes["released"] += self._release([j.id for j in claimed[i:]])
                return
            outcomes[self.run_job(job)] += 1

    def _release(self, job_ids: list[int]) -> int:
        return self._in_transaction(lambda s: store.release(s, job_ids, self.name)) or 0

    def run_job(self, job: OutboxJob) -> str:
        """Run one claimed job and record its outcome: done, pending (a retry) or failed."""
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                known = ", ".join(sorted(self.handlers)) or "none"
                raise PermanentJobError(f"unknown job kind {job.kind!r} (known: {known})")
            record = handler(self.context, job)
        except PermanentJobError as e:
            return self._fail(job, _describe(e))
        except Exception as e:  # noqa: BLE001 - any other failure is worth another try
            if not isinstance(e, JobError):
                log.info("job %s %s raised", job.id, job.kind, exc_info=True)
            return self._retry(job, _describe(e))
        return self._done(job, record)

    def _done(self, job: OutboxJob, record: Record | None) -> str:
        def commit(session: Session) -> bool:
            if not store.finish(session, job.id, self.name):
                log.warning("job %s: its lease had passed to another worker", job.id)
            if record is not None:
                try:
                    with session.begin_nested():
                        record(session)
                except Exception:  # noqa: BLE001 - the job is done all the same
                    log.exception("job %s: recording what it did failed", job.id)
            return True

        # The side effect happened: try hard to say so, or the job will run a second time.
        if not self._in_transaction(commit, tries=4):
            return "unrecorded"
        log.info("job %s %s: done (attempt %s)", job.id, job.kind, job.attempts)
        return "done"

    def _retry(self, job: OutboxJob, error: str) -> str:
        delay = self.backoff.delay(job.attempts, self.rng)
        state = self._in_transaction(lambda s: store.retry_later(s, job, self.name, error, delay))
        if state is None:
            return "unrecorded"
        if state == "failed":
            log.error(
                "job %s %s: failed after %s attempts: %s", job.id, job.kind, job.attempts, error
            )
        else:
            log.warning(
                "job %s %s: attempt %s of %s failed, next in %.0f s: %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                delay.total_seconds(),
                error,
            )
        return state

    def _fail(self, job: OutboxJob, error: str) -> str:
        def commit(session: Session) -> bool:
            store.fail(session, job, self.name, error)
            return True

        if not self._in_transaction(commit):
            return "unrecorded"
        log.error("job %s %s: failed: %s", job.id, job.kind, error)
        return "failed"

    def _in_transaction(self, fn: Callable[[Session], T], tries: int = 2) -> T | None:
        """Run `fn` in a transaction of its own; on a database error try again, then log it.

        When the outcome cannot be written the job stays running; once its lease expires a
        worker runs it again (the at-least-once window described above).
        """
        for attempt in range(1, tries + 1):
            try:
                with self.context.sessions.begin() as session:
                    return fn(session)
            except SQLAlchemyError as e:
                if attempt == tries:
                    log.error("cannot record a job's outcome: %s", _first_line(e))
                    return None
                time.sleep(0.5 * 2**attempt)
        return None


def stop_on_signals(
    worker: Worker, signums: Iterable[int] = (signal.SIGTERM, signal.SIGINT)
) -> None:
    """SIGTERM or SIGINT stops the worker after its current job; a second one ends it now."""
    signums = tuple(signums)

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping after the current job", signal.Signals(signum).name)
        worker.stop()
        for s in signums:
            signal.signal(s, signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL)

    for s in signums:
        signal.signal(s, handler)


def _describe(e: BaseException) -> str:
    """The text kept in last_error: a JobError's own words, else the exception and its text."""
    text = " ".join(str(e).split())
    if isinstance(e, JobError) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__
