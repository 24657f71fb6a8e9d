"""Traffic statistics per queue and day or week, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Queue, Ticket
from wikibridge.store import volunteers
from wikibridge.tickets import stats
from wikibridge.tickets.stats import Period, PeriodError

from .webapp import helpers

MONDAY = date(2025, 3, 3)
WEEK = Period(MONDAY, MONDAY + timedelta(days=6))


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def made(session: Session, q: Queue, created: datetime, closed: datetime | None = None) -> Ticket:
    t = helpers.ticket(session, q)
    t.created_at = created
    t.closed_at = closed
    session.flush()
    return t


def scope_of(session: Session, *queues: Queue) -> Scope:
    v = helpers.volunteer(session)
    for q in queues:
        volunteers.grant(session, v.id, q.id, "ro")
    session.commit()
    return access.scope_for(session, v)


def traffic_data(session: Session) -> tuple[Scope, Queue, Queue]:
    """Three created Monday (one at the first and one at the last microsecond of the day),
    one of them closed Tuesday; one older ticket still open; one closed before the week;
    one removed; and the same again in a queue the volunteer cannot see."""
    info = helpers.queue(session, "info-en")
    wp = helpers.queue(session, "info-en::Wikipedia")
    press = helpers.queue(session, "press")
    for q in (wp, press):
        first = made(session, q, at(MONDAY, 0, 0), at(MONDAY + timedelta(days=1), 9))
        made(session, q, at(MONDAY, 11))
        last = made(session, q, at(MONDAY, 12))
        last.created_at = at(MONDAY, 23, 59) + timedelta(seconds=59, microseconds=999999)
        made(session, q, at(MONDAY - timedelta(days=30)))
        made(session, q, at(MONDAY - timedelta(days=30)), at(MONDAY - timedelta(days=1)))
        made(session, q, at(MONDAY)).removed_at = at(MONDAY, 13)
        assert first.closed_at is not None
    session.flush()
    return scope_of(session, info), info, wp


def test_created_closed_and_backlog_per_day(session: Session) -> None:
    scope, info, wp = traffic_data(session)
    data = stats.traffic(session, scope, WEEK, granularity="day")
    assert data is not None
    assert [q.queue.name for q in data.queues] == ["info-en", "info-en::Wikipedia"]
    by_name = {q.queue.name: q for q in data.queues}
    assert [(b.created, b.closed, b.open) for b in by_name["info-en"].buckets] == [(0, 0, 0)] * 7
    wiki = by_name["info-en::Wikipedia"]
    assert wiki.open_before == 1
    assert [(b.start, b.created, b.closed, b.open) for b in wiki.buckets[:3]] == [
        (MONDAY, 3, 0, 4),
        (MONDAY + timedelta(days=1), 0, 1, 3),
        (MONDAY + timedelta(days=2), 0, 0, 3),
    ]
    assert (wiki.created, wiki.closed, wiki.open_after) == (3, 1, 3)
    assert [(b.created, b.closed, b.open) for b in data.total[:2]] == [(3, 0, 4), (0, 1, 3)]


def test_weeks_start_on_monday_and_are_cut_to_the_period(session: Session) -> None:
    scope, _info, wp = traffic_data(session)
    period = Period(MONDAY - timedelta(days=2), MONDAY + timedelta(days=8))  # Sat .. Tue
    data = stats.traffic(session, scope, period, granularity="week", queue_id=wp.id)
    assert data is not None and [q.queue.name for q in data.queues] == ["info-en::Wikipedia"]
    buckets = data.queues[0].buckets
    assert [(b.start, b.end) for b in buckets] == [
        (MONDAY - timedelta(days=2), MONDAY - timedelta(days=1)),
        (MONDAY, MONDAY + timedelta(days=6)),
        (MONDAY + timedelta(days=7), MONDAY + timedelta(days=8)),
    ]
    assert [(b.created, b.closed, b.open) for b in buckets] == [(0, 1, 1), (3, 1, 3), (0, 0, 3)]


def test_other_queues_are_404_and_never_counted(session: Session) -> None:
    scope, _info, _wp = traffic_data(session)
    press = helpers.queue(session, "press")
    assert stats.traffic(session, scope, WEEK, queue_id=press.id) is None
    nobody = stats.traffic(session, access.NOBODY, WEEK)
    assert nobody is not None and nobody.queues == []
    assert all(b.created == 0 for b in nobody.total)


def test_the_csv_has_the_same_numbers(session: Session) -> None:
    scope, _info, _wp = traffic_data(session)
    data = stats.traffic(session, scope, WEEK, granularity="day")
    assert data is not None
    rows = stats.csv_rows(data)
    assert rows[0] == ["queue", "start", "end", "created", "closed", "open"]
    assert ["info-en::Wikipedia", "2025-03-03", "2025-03-03", "3", "0", "4"] in rows
    assert ["info-en::Wikipedia", "2025-03-04", "2025-03-04", "0", "1", "3"] in rows
    assert len(rows) == 1 + 2 * 7


def test_a_queue_name_cannot_become_a_spreadsheet_formula(session: Session) -> None:
    q = helpers.queue(session, "=HYPERLINK(1)")
    scope = scope_of(session, q)
    data = stats.traffic(session, scope, WEEK)
    assert data is not None
    assert stats.csv_rows(data)[1][0] == "'=HYPERLINK(1)"


def test_periods() -> None:
    assert stats.default_period(date(2025, 3, 5)) == Period(date(2025, 1, 13), date(2025, 3, 5))
    with pytest.raises(PeriodError, match="after"):
        Period(MONDAY, MONDAY - timedelta(days=1)).check()
    with pytest.raises(PeriodError, match="at most"):
        Period(MONDAY, MONDAY + timedelta(days=stats.MAX_DAYS)).check()
