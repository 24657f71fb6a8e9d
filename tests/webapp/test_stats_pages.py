"""The statistics page (server-drawn SVG chart, no script) and its CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import Queue, Volunteer
from wikibridge.store import volunteers

from . import helpers

MONDAY = date(2025, 3, 3)
TUESDAY = MONDAY + timedelta(days=1)
WEEK = "from=2025-03-03&to=2025-03-09"


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def world(session: Session) -> tuple[Volunteer, Queue, Queue]:
    """Three tickets created Monday in each queue, one of them closed Tuesday."""
    info = helpers.queue(session, "info-en")
    press = helpers.queue(session, "press")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, info.id, "ro")
    for q in (info, press):
        for hour in (8, 9, 10):
            t = helpers.ticket(session, q)
            t.created_at = at(MONDAY, hour)
            t.closed_at = at(TUESDAY, 15) if hour == 8 else None
    session.commit()
    return alice, info, press


def cells(page: str, day: str) -> tuple[int, ...]:
    row = re.search(rf"<td>{day}</td>\s*" + r'<td class="num">(\d+)</td>\s*' * 3, page)
    assert row is not None, day
    return tuple(int(n) for n in row.groups())


def test_the_page_shows_the_numbers_and_an_svg_chart_without_script(
    client: FlaskClient, world: tuple[Volunteer, Queue, Queue]
) -> None:
    helpers.login(client, world[0])
    response = client.get(f"/stats?{WEEK}&by=day")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert cells(page, "2025-03-03") == (3, 0, 3)
    assert cells(page, "2025-03-04") == (0, 1, 2)
    assert cells(page, "2025-03-09") == (0, 0, 2)
    assert '<td class="num" data-total="created">3</td>' in page
    assert '<td class="num" data-total="closed">1</td>' in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg and "<rect" in svg and "<polyline" in svg
    assert "2025-03-03: 3 created" in svg and "2025-03-04: 1 closed" in svg
    assert "<script" not in page.lower()
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "press" not in page  # the other queue: not listed, not counted


def test_weeks_add_the_days_up(client: FlaskClient, world: tuple[Volunteer, Queue, Queue]) -> None:
    helpers.login(client, world[0])
    page = client.get(f"/stats?{WEEK}&by=week").get_data(as_text=True)
    assert cells(page, "2025-03-03 – 2025-03-09") == (3, 1, 2)


def test_the_csv_has_the_same_numbers(
    client: FlaskClient, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, _press = world
    helpers.login(client, alice)
    page = client.get(f"/stats?{WEEK}&by=day&queue={info.id}").get_data(as_text=True)
    link = re.search(r'href="(/stats\.csv\?[^"]+)"', page)
    assert link is not None
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["queue", "start", "end", "created", "closed", "open"]
    assert rows[1] == ["info-en", "2025-03-03", "2025-03-03", "3", "0", "3"]
    assert rows[2] == ["info-en", "2025-03-04", "2025-03-04", "0", "1", "2"]
    assert len(rows) == 8 and all(r[0] == "info-en" for r in rows[1:])


def test_other_queues_are_404(client: FlaskClient, world: tuple[Volunteer, Queue, Queue]) -> None:
    alice, _info, press = world
    helpers.login(client, alice)
    assert client.get(f"/stats?queue={press.id}").status_code == 404
    assert client.get(f"/stats.csv?queue={press.id}").status_code == 404
    assert client.get("/stats?queue=abc").status_code == 404
    rows = client.get(f"/stats.csv?{WEEK}").get_data(as_text=True)
    assert "press" not in rows


def test_a_bad_period_says_why(client: FlaskClient, world: tuple[Volunteer, Queue, Queue]) -> None:
    helpers.login(client, world[0])
    page = client.get("/stats?from=2025-03-09&to=2025-03-01").get_data(as_text=True)
    assert "The start date is after the end date." in page
    assert "<svg" in page  # the default period instead
    assert "Write dates as YYYY-MM-DD." in client.get("/stats?from=soon").get_data(as_text=True)
    assert client.get("/stats.csv?from=2020-01-01&to=2025-01-01").status_code == 400


def test_the_default_is_the_last_eight_weeks(
    client: FlaskClient, world: tuple[Volunteer, Queue, Queue]
) -> None:
    helpers.login(client, world[0])
    page = client.get("/stats").get_data(as_text=True)
    assert len(re.findall(r"<td>\d{4}-\d\d-\d\d( – \d{4}-\d\d-\d\d)?</td>", page)) == 8
    assert 'href="/stats"' in client.get("/").get_data(as_text=True)
