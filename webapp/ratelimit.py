"""A small in-process token bucket per client address, for the public (no login) pages.

Each worker process keeps its own buckets: with N workers a client gets up to N times the
rate, which is fine for a brake on scraping and form spam. Behind a reverse proxy every
request comes from the proxy's address unless the app is told the client's (ProxyFix).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """`capacity` requests at once, refilled at `capacity` per `period` seconds."""

    def __init__(
        self,
        capacity: int,
        period: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("a rate limit needs a capacity of at least 1 and a positive period")
        self.capacity = capacity
        self.rate = capacity / period
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        # client -> (tokens, time of the last update); least recently seen first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until a token is back."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # the longest idle client: nearly full again
            return wait


def retry_after(wait: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
