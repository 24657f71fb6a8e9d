"""Group commit: concurrent deliveries are stored together, each waiter gets its own outcome."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.mail.batcher import BatchingIngestor
from wikibridge.mail.ingest import Ingestor, TempFail
from wikibridge.models import Article


class CountingIngestor(Ingestor):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.batches: list[int] = []

    def ingest_many(self, raws: Any, **kwargs: Any) -> Any:
        self.batches.append(len(raws))
        return super().ingest_many(raws, **kwargs)


def test_concurrent_messages_share_commits(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    ingestor = CountingIngestor(settings, session_factory)
    batcher = BatchingIngestor(ingestor, source="test")
    mails = [make_mail(subject=f"Message {i}") for i in range(60)]
    with ThreadPoolExecutor(12) as pool:
        futures = list(pool.map(batcher.submit, mails))
    outcomes = [f.result(timeout=60) for f in futures]
    batcher.close()
    assert [o.status for o in outcomes] == ["stored"] * 60
    assert len({o.ticket_number for o in outcomes}) == 60
    assert sum(ingestor.batches) == 60
    assert max(ingestor.batches) > 1  # messages that waited were stored together
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 60


def test_a_database_failure_reaches_every_waiter(settings: Settings) -> None:
    down = replace(settings, database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    engine = make_engine(down.database_url, connect_args={"connect_timeout": 2})
    batcher = BatchingIngestor(Ingestor(down, make_sessionmaker(engine)), source="test")
    futures = [batcher.submit(make_mail(subject=f"m{i}")) for i in range(5)]
    for future in futures:
        with pytest.raises(TempFail):
            future.result(timeout=60)
    batcher.close()
    engine.dispose()
