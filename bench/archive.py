"""Generate a realistic archive fast: bulk inserts straight into the tables, not the ingest path.

    python -m bench archive --database sqlite --dir /var/tmp/wb-archive --tickets 1000000

Shape (scaled by --tickets): 40 queues in a tree (8 top-level queues with 4 sub-queues each),
400 volunteers with access to 1-5 queues each, tickets spread over ten years with Zipf-distributed
queues and senders, about three articles per ticket on average (most threads short, some with
200 articles), words drawn from a Zipf-distributed vocabulary, an attachment on one article in
twenty. Rare words (``bench-rare-N``) are planted in a few articles so that searches for them
have known answers; ``facts.json`` in the directory records them with the volunteer and the
tickets the page benchmarks open.

The database is written with the same schema as production (migrations), then loaded with
executemany (SQLite) or COPY (PostgreSQL); SQLite's full-text index is built once at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from bench.mailgen import WORDS
from bench.progress import Progress
from bench.targets import create_database
from wikibridge import schema
from wikibridge.db import make_engine
from wikibridge.models import (
    Article,
    Attachment,
    Queue,
    QueueAccess,
    QueueAddress,
    Ticket,
    Volunteer,
)
from wikibridge.store import ticket_counts
from wikibridge.tickets import states
from wikibridge.tickets.numbers import format_number

TOP_QUEUES = ("info-en", "info-de", "info-fr", "permissions", "permissions-commons", "press",
              "quality", "oversight")  # fmt: skip
SUB_QUEUES = ("general", "biographies", "companies", "junk")
STATES = (
    (states.CLOSED_OK,) * 85 + (states.CLOSED_FAIL,) * 5 + (states.OPEN,) * 5 + (states.NEW,) * 3
    + (states.PENDING_REMINDER,) * 2
)  # fmt: skip
# SQLite's triggers that index each new article (full text, word pairs): dropped during the
# bulk load, the indexes built once at the end, the triggers created again as they were.
_INDEX_TRIGGERS = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
    "AND name IN ('article_fts_insert', 'article_pairs_insert')"
)
CHUNK = 20_000  # rows per executemany / COPY batch: bounded memory at any archive size
EPOCH = datetime(2016, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3650)


@dataclass
class Facts:
    """What the page benchmarks need to know about the generated archive."""

    database_url: str
    tickets: int
    articles: int = 0
    attachments: int = 0
    queues: int = 0
    volunteers: int = 0
    seconds: float = 0.0
    #: A volunteer with read access to exactly five queues (the searches run as them).
    restricted_volunteer_id: int = 0
    restricted_queue_ids: list[int] = field(default_factory=list)
    #: An administrator-like volunteer with access to every queue.
    busy_volunteer_id: int = 0
    #: Ticket numbers with 50 and with 200 articles, inside the restricted volunteer's queues.
    ticket_50: str = ""
    ticket_200: str = ""
    rare_word: str = ""
    common_word: str = WORDS[0]
    phrase: str = ""


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """The base words first (most frequent), then made-up words of 2-4 syllables."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words = list(WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choices(syllables, k=rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextMaker:
    """Mail bodies from Zipf-distributed words; a pool of sentences keeps generation fast."""

    def __init__(self, rng: random.Random, words: int = 30_000, sentences: int = 20_000) -> None:
        self.rng = rng
        vocab = vocabulary(words, rng)
        weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))
        self.sentences = [
            " ".join(rng.choices(vocab, cum_weights=weights, k=rng.randint(6, 16))).capitalize()
            + "."
            for _ in range(sentences)
        ]
        self.subjects = [
            " ".join(rng.choices(vocab, cum_weights=weights, k=rng.randint(2, 6))).capitalize()
            for _ in range(5_000)
        ]

    def body(self) -> str:
        picked = self.rng.choices(self.sentences, k=self.rng.randint(3, 12))
        return " ".join(picked)

    def subject(self) -> str:
        return self.rng.choice(self.subjects)


def zipf_picker(n: int, rng: random.Random, s: float = 1.1) -> Iterator[int]:
    """Endless indexes 0..n-1, index i with weight 1/(i+1)^s, drawn in blocks for speed."""
    weights = list(itertools.accumulate(1 / (i + 1) ** s for i in range(n)))
    population = range(n)
    while True:
        yield from rng.choices(population, cum_weights=weights, k=4096)


def thread_lengths(tickets: int, rng: random.Random) -> Iterator[int]:
    """Articles per ticket: mostly 1-4, a few long threads; mean about three."""
    big = {rng.randrange(tickets) for _ in range(max(2, tickets // 5000))}
    for i in range(tickets):
        if i in big:
            yield 200
        elif i % 997 == 0:
            yield 50
        else:
            yield min(40, 1 + int(rng.expovariate(0.42)))


class Loader:
    """Bulk writes per table in chunks, with the fastest path each database offers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def write(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        table = model.__table__
        with self.engine.begin() as conn:
            if not self.postgres:
                conn.execute(insert(table), list(rows))
                return
            defaults = _defaults(table)
            columns = list({**defaults, **rows[0]})
            raw = conn.connection.driver_connection
            assert raw is not None
            names = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row([_pg_value(row.get(c, defaults.get(c))) for c in columns])


def _defaults(table: Any) -> dict[str, Any]:
    """Python-side column defaults, which COPY (unlike an ORM or Core insert) never applies."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is None or column.primary_key:
            continue
        values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values


def _pg_value(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value)
    return value


def generate(url: str, tickets: int, seed: int = 1) -> Facts:
    started = time.monotonic()
    rng = random.Random(seed)
    engine = make_engine(url)
    schema.upgrade(engine)
    loader = Loader(engine)
    facts = Facts(database_url=url, tickets=tickets)
    index_triggers: list[tuple[str, str]] = []
    if not loader.postgres:
        with engine.begin() as conn:  # rebuilt once at the end: far faster than per row
            index_triggers = [(str(n), str(sql)) for n, sql in conn.execute(_INDEX_TRIGGERS)]
            for name, _ in index_triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))

    queue_ids = _queues(loader, facts)
    volunteer_ids = _volunteers(loader, facts, queue_ids, rng)
    _tickets_and_articles(loader, facts, queue_ids, volunteer_ids, rng)

    if not loader.postgres:
        print("building the full-text index ...", file=sys.stderr)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO article_fts(article_fts) VALUES ('rebuild')"))
            print("building the word-pair index ...", file=sys.stderr)
            conn.execute(
                text(
                    "INSERT INTO article_pairs(rowid, subject, body_text) SELECT id, "
                    "wikibridge_word_pairs(subject), wikibridge_word_pairs(body_text) "
                    "FROM articles"
                )
            )
            for _, sql in index_triggers:
                conn.execute(text(sql))
    if loader.postgres:  # rows came with their ids: move the id sequences past them
        with engine.begin() as conn:
            for table in ("queues", "queue_addresses", "volunteers", "queue_access", "tickets",
                          "articles", "attachments"):  # fmt: skip
                next_id = f"(SELECT coalesce(max(id), 0) + 1 FROM {table})"  # noqa: S608
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, {next_id}, false)"))
    print("folding the ticket counts ...", file=sys.stderr)
    with Session(engine) as session, session.begin():
        ticket_counts.compact(session)
    print("analysing ...", file=sys.stderr)
    if loader.postgres:
        # VACUUM too: folding the counts left a million dead delta rows, which a busy server's
        # autovacuum may reach late (a long transaction holds it back), and every dashboard
        # would read them until then. Outside a transaction, as VACUUM must be.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    facts.seconds = round(time.monotonic() - started, 1)
    return facts


def _queues(loader: Loader, facts: Facts) -> list[int]:
    rows: list[dict[str, Any]] = []
    addresses: list[dict[str, Any]] = []
    next_id = 1
    for top in TOP_QUEUES:
        parent = next_id
        kind = "permissions" if top.startswith("permissions") else "info"
        rows.append({"id": parent, "name": top, "parent_id": None, "kind": kind})
        addresses.append({"queue_id": parent, "address": f"{top}@example.org"})
        next_id += 1
        for sub in SUB_QUEUES:
            name = f"{top}::{sub}"
            rows.append({"id": next_id, "name": name, "parent_id": parent, "kind": kind})
            next_id += 1
    for row in rows:
        row.update(wiki="en.wikipedia.org", valid=True, created_at=EPOCH, language="en")
    loader.write(Queue, rows)
    loader.write(QueueAddress, addresses)
    facts.queues = len(rows)
    return [row["id"] for row in rows]


def _volunteers(
    loader: Loader, facts: Facts, queue_ids: list[int], rng: random.Random
) -> list[int]:
    people = []
    access = []
    for i in range(1, 401):
        people.append(
            {
                "id": i,
                "central_id": 100_000 + i,
                "username": f"Volunteer {i}",
                "approved": True,
                "identified": True,
                "active": True,
                "is_admin": i == 1,
                "created_at": EPOCH,
            }
        )
        if i == 1:
            granted = queue_ids  # the busy volunteer: every queue
        elif i == 2:
            granted = queue_ids[:5]  # the restricted volunteer: exactly five queues
        else:
            granted = rng.sample(queue_ids, rng.randint(1, 5))
        for q in granted:
            access.append({"volunteer_id": i, "queue_id": q, "level": "rw", "granted_at": EPOCH})
    loader.write(Volunteer, people)
    loader.write(QueueAccess, access)
    facts.volunteers = len(people)
    facts.busy_volunteer_id = 1
    facts.restricted_volunteer_id = 2
    facts.restricted_queue_ids = queue_ids[:5]
    return [p["id"] for p in people]


def _tickets_and_articles(
    loader: Loader,
    facts: Facts,
    queue_ids: list[int],
    volunteer_ids: list[int],
    rng: random.Random,
) -> None:
    texts = TextMaker(rng)
    queues = zipf_picker(len(queue_ids), rng, s=0.8)
    senders = zipf_picker(200_000, rng)
    owners = zipf_picker(len(volunteer_ids), rng)
    restricted = set(facts.restricted_queue_ids)
    rare_every = max(1, facts.tickets // 20)  # about 20 articles carry the rare word
    facts.rare_word = "bench-rare-7"
    facts.phrase = f"{texts.sentences[0].split()[1]} {texts.sentences[0].split()[2]}"
    ticket_rows: list[dict[str, Any]] = []
    article_rows: list[dict[str, Any]] = []
    attachment_rows: list[dict[str, Any]] = []
    article_id = 0
    counters: dict[str, int] = {}
    step = SPAN / facts.tickets
    progress = Progress("tickets", facts.tickets)

    def flush() -> None:
        loader.write(Ticket, ticket_rows)
        loader.write(Article, article_rows)
        loader.write(Attachment, attachment_rows)
        facts.attachments += len(attachment_rows)
        ticket_rows.clear()
        article_rows.clear()
        attachment_rows.clear()

    for index, length in enumerate(thread_lengths(facts.tickets, rng)):
        ticket_id = index + 1
        created = EPOCH + step * index
        day = created.date()
        key = day.strftime("%Y%m%d")
        counters[key] = counters.get(key, 0) + 1
        number = format_number(day, "10", counters[key])
        queue_id = queue_ids[next(queues)]
        if length >= 50 and queue_id not in restricted:
            queue_id = facts.restricted_queue_ids[index % 5]  # long threads the searcher sees
        if length == 50 and not facts.ticket_50:
            facts.ticket_50 = number
        if length == 200 and not facts.ticket_200:
            facts.ticket_200 = number
        sender = f"reader{next(senders)}@example.net"
        state = rng.choice(STATES)
        subject = texts.subject()
        updated = created + timedelta(hours=length * 3)
        ticket_rows.append(
            {
                "id": ticket_id,
                "number": number,
                "title": subject,
                "queue_id": queue_id,
                "state": state,
                "priority": 3,
                "owner_id": volunteer_ids[next(owners)] if state != states.NEW else None,
                "requester": sender,
                "created_at": created,
                "updated_at": updated,
                "closed_at": updated if state in states.CLOSED else None,
                "pending_until": updated + SPAN if state in states.PENDING else None,
            }
        )
        for position in range(length):
            article_id += 1
            inbound = position % 2 == 0
            body = texts.body()
            if article_id % rare_every == 0:
                body += f" {facts.rare_word}"
            article_rows.append(
                {
                    "id": article_id,
                    "ticket_id": ticket_id,
                    "kind": "inbound" if inbound else "outbound",
                    "sender": sender if inbound else "info-en@example.org",
                    "sender_address": sender if inbound else "info-en@example.org",
                    "to": "info-en@example.org" if inbound else sender,
                    "cc": "",
                    "subject": subject if position == 0 else f"Re: [Ticket#{number}] {subject}",
                    "body_text": body,
                    "body_html": "",
                    "message_id": f"<{ticket_id}.{position}@bench.example>",
                    "in_reply_to": "",
                    "references": "",
                    "raw_sha256": None,
                    "raw_size": len(body) + 600,
                    "flags": [],
                    "author_id": None,
                    "created_at": created + timedelta(hours=position * 3),
                }
            )
            if article_id % 20 == 0:
                attachment_rows.append(
                    {
                        "article_id": article_id,
                        "blob_sha256": f"{article_id:064x}",
                        "filename": f"scan-{article_id}.pdf",
                        "content_type": "application/pdf",
                        "size": 150_000,
                        "content_id": "",
                        "inline": False,
                    }
                )
        if len(article_rows) >= CHUNK:
            flush()
            progress.update(ticket_id)
    flush()
    progress.done()
    facts.articles = article_id


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench archive", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--dir", required=True, type=Path, help="where the archive and facts go")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    url = create_database(args.database, args.dir)
    facts = generate(url, args.tickets, args.seed)
    (args.dir / "facts.json").write_text(json.dumps(asdict(facts), indent=2))
    print(json.dumps(asdict(facts), indent=2))
