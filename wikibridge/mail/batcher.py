"""Group commit for listeners: messages that arrive while a store is running are stored
together in the next one, with a single database commit and directory fsync.

One thread does the storing; each caller waits for its own message's outcome, so nothing is
acknowledged before it is on disk and in the database. Under light load a batch holds one
message and this is plain one-by-one storing; under load the batches grow by themselves.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from .ingest import Ingestor, Outcome

log = logging.getLogger(__name__)

MAX_BATCH = 100


@dataclass
class _Delivery:
    raw: bytes
    source: str
    queue: str  # the queue the delivery asked for (`ingest --queue`); empty: routing decides
    future: Future[Outcome] = field(default_factory=Future)


class BatchingIngestor:
    def __init__(self, ingestor: Ingestor, *, source: str, max_batch: int = MAX_BATCH) -> None:
        self.ingestor = ingestor
        self.source = source
        self.max_batch = max_batch
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"{source}-store", daemon=True)
        self._thread.start()

    def submit(self, raw: bytes, *, queue: str = "", source: str = "") -> Future[Outcome]:
        """Queue one message for the next batch; ``source`` defaults to the listener's."""
        delivery = _Delivery(raw, source or self.source, queue)
        self._queue.put(delivery)
        return delivery.future

    def close(self) -> None:
        """Store what is queued, make the spool's batches durable, then stop."""
        self._queue.put(None)
        self._thread.join()
        self.ingestor.checkpoint()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._store(batch)
            if stop:
                return

    def _store(self, batch: list[_Delivery]) -> None:
        try:
            outcomes = self.ingestor.ingest_many(
                [d.raw for d in batch],
                source=self.source,
                details=[(d.source, d.queue) for d in batch],
            )
        except Exception as e:  # noqa: BLE001 - TempFail or a bug: every waiter hears of it
            for d in batch:
                d.future.set_exception(e)
            return
        for d, outcome in zip(batch, outcomes, strict=True):
            d.future.set_result(outcome)
