"""Claiming outbox jobs: each due job goes to one worker, also when workers race."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.models import OutboxJob, utcnow
from wikibridge.store import jobs as store


def enqueue(session_factory: sessionmaker[Session], n: int, **kw: object) -> list[int]:
    with session_factory.begin() as session:
        return [store.enqueue(session, "noop", {"i": i}, **kw).id for i in range(n)]  # type: ignore[arg-type]


def test_two_workers_never_claim_the_same_job(session_factory: sessionmaker[Session]) -> None:
    ids = enqueue(session_factory, 50)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            start.wait(timeout=10)
            while True:
                with session_factory.begin() as session:
                    batch = store.claim(session, name, limit=4)
                    # Hold the claim's row locks a moment, so the other worker meets them.
                    time.sleep(0.005)
                if not batch:
                    return
                claimed[name].extend(job.id for job in batch)
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    everything = claimed["a"] + claimed["b"]
    assert len(everything) == len(set(everything)), "a job was claimed twice"
    assert sorted(everything) == ids
    if session_factory.kw["bind"].dialect.name == "postgresql":
        # SQLite's busy handler may let one writer take every turn; that is fair enough.
        assert claimed["a"] and claimed["b"], "both workers should have had work"
    with session_factory() as session:
        rows = session.scalars(select(OutboxJob)).all()
        assert {(j.state, j.attempts) for j in rows} == {("running", 1)}
        holder = {j.id: j.locked_by for j in rows}
        assert all(holder[i] == name for name, ids in claimed.items() for i in ids)


def test_claim_takes_due_jobs_in_order(session_factory: sessionmaker[Session]) -> None:
    later = enqueue(session_factory, 1, run_after=utcnow() + timedelta(hours=1))
    due = enqueue(session_factory, 3)
    with session_factory.begin() as session:
        got = store.claim(session, "w", limit=10)
        assert [j.id for j in got] == due
        assert all(j.state == "running" and j.attempts == 1 for j in got)
        assert all(j.locked_until is not None and j.locked_until > utcnow() for j in got)
    with session_factory.begin() as session:
        assert store.claim(session, "w") == []
    assert later


def test_due_by_leaves_later_jobs(session_factory: sessionmaker[Session]) -> None:
    before = utcnow()
    enqueue(session_factory, 1)
    with session_factory.begin() as session:
        assert store.claim(session, "w", due_by=before - timedelta(seconds=1)) == []
        assert len(store.claim(session, "w", due_by=utcnow())) == 1


def test_an_expired_lease_is_taken_over(session_factory: sessionmaker[Session]) -> None:
    [job_id] = enqueue(session_factory, 1)
    with session_factory.begin() as session:
        store.claim(session, "dead", lease=timedelta(seconds=-1))
    with session_factory.begin() as session:
        [job] = store.claim(session, "alive")
        assert (job.id, job.locked_by, job.attempts) == (job_id, "alive", 2)
    with session_factory.begin() as session:
        # The dead worker's late outcome does not count; the live one's does.
        assert store.finish(session, job_id, "dead") is False
        assert store.finish(session, job_id, "alive") is True


def test_release_gives_jobs_back_uncounted(session_factory: sessionmaker[Session]) -> None:
    ids = enqueue(session_factory, 2)
    with session_factory.begin() as session:
        store.claim(session, "w")
    with session_factory.begin() as session:
        assert store.release(session, ids, "other") == 0
        assert store.release(session, ids, "w") == 2
    with session_factory() as session:
        rows = session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()
        assert [(j.state, j.attempts, j.locked_until) for j in rows] == [("pending", 0, None)] * 2


def test_listing_and_retry_failed(session_factory: sessionmaker[Session]) -> None:
    [a, b] = enqueue(session_factory, 2)
    with session_factory.begin() as session:
        [job_a, _job_b] = store.claim(session, "w")
        store.fail(session, job_a, "w", "550 no such user")
        store.finish(session, b, "w")
    with session_factory() as session:
        assert [(j.id, n) for j, n in store.listing(session)] == [(a, None)]
        assert store.listing(session, ("done",))[0][0].id == b
    with session_factory.begin() as session:
        assert store.retry_failed(session, b) is False
        assert store.retry_failed(session, a) is True
    with session_factory() as session:
        job = session.get(OutboxJob, a)
        assert job is not None
        assert (job.state, job.attempts) == ("pending", 0)
