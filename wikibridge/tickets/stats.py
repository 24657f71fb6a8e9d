"""Traffic statistics for volunteers: per visible queue, per day or week, the tickets created,
closed, and the open backlog at the end of each day or week. Days are UTC days; weeks start on
Monday, and the first and last week are cut to the period.

Everything goes through a :class:`wikibridge.access.Scope`: only visible queues are counted,
and a queue filter naming another gives None (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Queue
from wikibridge.store import stats as store

DEFAULT_WEEKS = 8
MAX_DAYS = 731  # two years of days: a bounded page, chart and export
GRANULARITIES = ("day", "week")
DEFAULT_GRANULARITY = "week"


class PeriodError(ValueError):
    """The period cannot be shown; the message says why, for the volunteer."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def check(self) -> Period:
        if self.end < self.start:
            raise PeriodError("The start date is after the end date.")
        if self.days > MAX_DAYS:
            raise PeriodError(f"Choose a period of at most {MAX_DAYS} days.")
        return self


def default_period(today: date) -> Period:
    """The last eight weeks: from the Monday seven weeks before this week's, to today."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(weeks=DEFAULT_WEEKS - 1), today)


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # inclusive
    created: int
    closed: int
    open: int  # the backlog at the end of the bucket


@dataclass(frozen=True)
class QueueTraffic:
    queue: Queue
    open_before: int  # the backlog when the period began
    buckets: list[Bucket]

    @property
    def created(self) -> int:
        return sum(b.created for b in self.buckets)

    @property
    def closed(self) -> int:
        return sum(b.closed for b in self.buckets)

    @property
    def open_after(self) -> int:
        return self.buckets[-1].open if self.buckets else self.open_before


@dataclass(frozen=True)
class Traffic:
    period: Period
    granularity: str
    queues: list[QueueTraffic]
    total: list[Bucket]  # the queues above, added up


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _bucket_starts(period: Period, granularity: str) -> list[date]:
    if granularity == "day":
        return [period.start + timedelta(days=i) for i in range(period.days)]
    first_monday = period.start - timedelta(days=period.start.weekday())
    starts = [period.start]
    monday = first_monday + timedelta(weeks=1)
    while monday <= period.end:
        starts.append(monday)
        monday += timedelta(weeks=1)
    return starts


def _series(
    period: Period,
    granularity: str,
    open_before: int,
    created: dict[date, int],
    closed: dict[date, int],
) -> list[Bucket]:
    starts = _bucket_starts(period, granularity)
    ends = [s - timedelta(days=1) for s in starts[1:]] + [period.end]
    backlog = open_before
    buckets = []
    for start, end in zip(starts, ends, strict=True):
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        made = sum(created.get(d, 0) for d in days)
        done = sum(closed.get(d, 0) for d in days)
        backlog += made - done
        buckets.append(Bucket(start, end, made, done, backlog))
    return buckets


def add_up(period: Period, granularity: str, queues: list[QueueTraffic]) -> list[Bucket]:
    starts = _bucket_starts(period, granularity)
    ends = [s - timedelta(days=1) for s in starts[1:]] + [period.end]
    return [
        Bucket(
            start,
            end,
            sum(q.buckets[i].created for q in queues),
            sum(q.buckets[i].closed for q in queues),
            sum(q.buckets[i].open for q in queues),
        )
        for i, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def traffic(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    granularity: str = DEFAULT_GRANULARITY,
    queue_id: int | None = None,
) -> Traffic | None:
    """Traffic of the visible queues (or one of them) in the period: three grouped queries.
    None when `queue_id` is outside the scope; PeriodError for a period that cannot be shown.
    Unknown granularities fall back to the default."""
    period.check()
    if queue_id is not None and not scope.can_see(queue_id):
        return None
    granularity = granularity if granularity in GRANULARITIES else DEFAULT_GRANULARITY
    queues: list[Queue] = [
        q for q in access.visible_queues(session, scope) if queue_id in (None, q.id)
    ]
    ids = [q.id for q in queues]
    start, end = _midnight(period.start), _midnight(period.end + timedelta(days=1))
    before = store.open_at(session, ids, start)
    created = store.created_per_day(session, ids, start, end)
    closed = store.closed_per_day(session, ids, start, end)
    rows = []
    for q in queues:
        made = {day: n for (qid, day), n in created.items() if qid == q.id}
        done = {day: n for (qid, day), n in closed.items() if qid == q.id}
        open_before = before.get(q.id, 0)
        rows.append(
            QueueTraffic(q, open_before, _series(period, granularity, open_before, made, done))
        )
    return Traffic(period, granularity, rows, add_up(period, granularity, rows))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(data: Traffic) -> list[list[str]]:
    """The export: a header, then one row per queue and day (or week). Text that a spreadsheet
    would run as a formula is prefixed with an apostrophe."""
    rows = [["queue", "start", "end", "created", "closed", "open"]]
    for q in data.queues:
        name = "'" + q.queue.name if q.queue.name.startswith(_FORMULA_START) else q.queue.name
        for b in q.buckets:
            rows.append(
                [
                    name,
                    b.start.isoformat(),
                    b.end.isoformat(),
                    str(b.created),
                    str(b.closed),
                    str(b.open),
                ]
            )
    return rows
