"""A progress line on standard error for long benchmark steps (rate and time left)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, what: str, total: int) -> None:
        self.what = what
        self.total = max(1, total)
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.5 and done < self.total:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        left = (self.total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\r{self.what} [{bar}] {done:,}/{self.total:,} {rate:,.0f}/s, {left:,.0f} s left "
        )
        sys.stderr.flush()

    def done(self) -> None:
        self.update(self.total)
        sys.stderr.write("\n")
