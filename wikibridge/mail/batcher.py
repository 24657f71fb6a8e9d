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

from .ingest import Ingestor, Outcome

log = logging.getLogger(__name__)

MAX_BATCH = 100


class BatchingIngestor:
    def __init__(self, ingestor: Ingestor, *, source: str, max_batch: int = MAX_BATCH) -> None:
        self.ingestor = ingestor
        self.source = source
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[bytes, Future[Outcome]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"{source}-store", daemon=True)
        self._thread.start()

    def submit(self, raw: bytes) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        self._queue.put((raw, future))
        return future

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

    def _store(self, batch: list[tuple[bytes, Future[Outcome]]]) -> None:
        try:
            outcomes = self.ingestor.ingest_many([raw for raw, _ in batch], source=self.source)
        except Exception as e:  # noqa: BLE001 - TempFail or a bug: every waiter hears of it
            for _, future in batch:
                future.set_exception(e)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)
