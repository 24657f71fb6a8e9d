"""Time the main pages and checks on a generated archive, through the real code paths.

    python -m bench archive --database sqlite --dir /var/tmp/wb-archive --tickets 1000000
    python -m bench pages --dir /var/tmp/wb-archive

The Flask app runs in this process (its test client: routing, login check, views, templates,
the store's queries; no network), as the volunteers in ``facts.json``. Each operation is
timed ``--rounds`` times after a warm-up; the median and the 95th percentile are printed and
written to ``results-<database>.json`` in the archive's directory, next to the targets of the
million-ticket issue. Citation checking calls the checker the citation bot uses, on 10,000
generated recent-change entries. The process's peak resident memory is reported as the web
worker's (it served every page above).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from bench.progress import Progress

#: Targets (p95, milliseconds) from the million-ticket issue, for the report.
TARGETS_MS = {
    "dashboard": 30,
    "queue first page": 30,
    "queue deep page": 30,
    "ticket, 50 articles": 60,
    "ticket, 200 articles": 60,
    "search rare word": 100,
    "search phrase": 100,
    "search common word": 250,
}
_NEXT = re.compile(r'rel="next" href="([^"]+)"')


@dataclass
class Figure:
    name: str
    median_ms: float
    p95_ms: float
    rounds: int
    target_ms: float | None = None

    def line(self) -> str:
        target = f"target {self.target_ms:g} ms" if self.target_ms else ""
        verdict = ""
        if self.target_ms:
            verdict = "ok" if self.p95_ms <= self.target_ms else "MISSED"
        return (
            f"{self.name:<24} median {self.median_ms:8.1f} ms   p95 {self.p95_ms:8.1f} ms"
            f"   {target} {verdict}"
        )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(name: str, rounds: int, operation: Callable[[int], None]) -> Figure:
    for i in range(min(5, rounds)):  # warm the caches, as a running server's would be
        operation(i)
    times = []
    progress = Progress(name, rounds)
    for i in range(rounds):
        started = time.perf_counter()
        operation(i)
        times.append((time.perf_counter() - started) * 1000)
        progress.update(i + 1)
    progress.done()
    return Figure(
        name,
        round(statistics.median(times), 2),
        round(percentile(times, 0.95), 2),
        rounds,
        TARGETS_MS.get(name),
    )


class Pages:
    """The web app on the archive, with a logged-in test client per volunteer."""

    def __init__(self, directory: Path, facts: dict[str, Any]) -> None:
        from webapp import create_app
        from wikibridge.config import load_settings

        env = {
            **os.environ,
            "WIKIBRIDGE_DATABASE_URL": facts["database_url"],
            "WIKIBRIDGE_DATA_DIR": str(directory / "data"),
            "WIKIBRIDGE_SECRET_KEY": "bench",
            # One client asks hundreds of times a minute; the public limit would refuse it.
            "WIKIBRIDGE_VERIFY_LOOKUPS_PER_MINUTE": "100000000",
        }
        self.app = create_app(load_settings(env))
        self.facts = facts
        from webapp.commands import settle

        settle()  # as a gunicorn worker does after building the app

    def client(self, volunteer_id: int) -> FlaskClient:
        client = self.app.test_client()
        with client.session_transaction() as session:
            session["volunteer_id"] = volunteer_id
        return client


def get(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url}: {response.status_code}")
    return response.get_data(as_text=True)


def deep_page_url(client: FlaskClient, first: str, depth: int) -> str:
    """Follow the keyset "next page" link ``depth`` times."""
    url = first
    for _ in range(depth):
        match = _NEXT.search(get(client, url))
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    return url


def measure(directory: Path, rounds: int) -> dict[str, Any]:
    facts = json.loads((directory / "facts.json").read_text())
    pages = Pages(directory, facts)
    busy = pages.client(facts["busy_volunteer_id"])
    restricted = pages.client(facts["restricted_volunteer_id"])
    queue = facts["restricted_queue_ids"][0]
    figures: list[Figure] = []

    figures.append(timed("dashboard", rounds, lambda i: get(busy, "/") and None))
    first = f"/queues/{queue}?state=all"
    figures.append(timed("queue first page", rounds, lambda i: get(busy, first) and None))
    deep = deep_page_url(busy, first, 40)
    figures.append(timed("queue deep page", rounds, lambda i: get(busy, deep) and None))
    for label, key in (
        ("ticket, 50 articles", "ticket_50"),
        ("ticket, 200 articles", "ticket_200"),
    ):
        url = f"/tickets/{facts[key]}"
        figures.append(timed(label, rounds, lambda i, url=url: get(busy, url) and None))
    for label, query in (
        ("search rare word", facts["rare_word"]),
        ("search phrase", f'"{facts["phrase"]}"'),
        ("search common word", facts["common_word"]),
    ):
        url = "/search?" + _query(q=query)
        figures.append(timed(label, rounds, lambda i, url=url: get(restricted, url) and None))

    numbers = _sample_numbers(pages, 1000)
    public = pages.app.test_client()
    figures.append(
        timed(
            "verify API",
            rounds,
            lambda i: get(public, f"/api/v1/verify/{numbers[i % len(numbers)]}") and None,
        )
    )
    citations = _citation_rate(pages, numbers)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "database": "postgresql" if facts["database_url"].startswith("postgresql") else "sqlite",
        "tickets": facts["tickets"],
        "articles": facts["articles"],
        "figures": [vars(f) for f in figures],
        "citations_per_second": citations,
        "web_peak_rss_mb": round(peak_mb, 1),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _query(**args: str) -> str:
    from urllib.parse import urlencode

    return urlencode(args)


def _sample_numbers(pages: Pages, count: int) -> list[str]:
    from sqlalchemy import select

    from wikibridge.models import Ticket

    engine = pages.app.extensions["wikibridge"].engine
    with engine.connect() as conn:
        top = conn.execute(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)).scalar_one()
        rng = random.Random(7)
        ids = [rng.randint(1, top) for _ in range(count)]
        return list(conn.execute(select(Ticket.number).where(Ticket.id.in_(ids))).scalars())


def _citation_rate(pages: Pages, numbers: list[str], entries: int = 10_000) -> float:
    """Entries per second through the citation checker (median of five runs)."""
    from wikibridge.citations import Citation, check_citations

    rng = random.Random(11)
    now = datetime.now(UTC)
    batch = [
        Citation(
            number=rng.choice(numbers) if i % 10 else f"20990101100{i:05d}1",
            wiki="en.wikipedia.org",
            page=f"File:Scan {i}.jpg" if i % 3 == 0 else f"Article {i}",
            editor=f"Volunteer {rng.randint(1, 400)}",
            when=now,
            template=i % 3 == 0,
        )
        for i in range(entries)
    ]
    sessions = pages.app.extensions["wikibridge"].sessions
    rates = []
    for _ in range(5):
        with sessions() as session:
            started = time.perf_counter()
            results = check_citations(session, batch)
            rates.append(entries / (time.perf_counter() - started))
        assert len(results) == entries
    return round(statistics.median(rates))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench pages", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dir", required=True, type=Path, help="the archive's directory")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    result = measure(args.dir, args.rounds)
    for figure in result["figures"]:
        print(Figure(**figure).line())
    print(f"{'citation checking':<24} {result['citations_per_second']:,} entries/s (target 2,000)")
    print(f"{'web worker peak RSS':<24} {result['web_peak_rss_mb']} MB (target 200)")
    out = args.dir / f"results-{result['database']}.json"
    if out.exists():  # keep what other benchmarks (python -m bench verify) added
        result = {**json.loads(out.read_text()), **result}
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}", file=sys.stderr)
