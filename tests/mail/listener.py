"""A real `wikibridge lmtp` process for tests, as an operator runs it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.cli import ROOT
from tests.mailservers import free_port
from wikibridge.mail import handoff


@dataclass
class RunningListener:
    proc: subprocess.Popen[bytes]
    log: Path  # its standard error: one line per message can fill a pipe and block it

    @property
    def stderr_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_listener(env: dict[str, str], data_dir: Path, *args: str) -> Iterator[RunningListener]:
    """A `wikibridge lmtp` process, once its ingest socket answers; stopped with SIGTERM."""
    with tempfile.TemporaryDirectory(prefix="wb-listener-") as tmp:
        log = Path(tmp) / "stderr"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "wikibridge", "lmtp", "--port", str(free_port()), *args],
                cwd=ROOT,
                env={**env, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        running = RunningListener(proc, log)
        path = handoff.socket_path(data_dir)
        try:
            deadline = time.monotonic() + 30
            while not answers(path):
                assert proc.poll() is None, running.stderr_text
                assert time.monotonic() < deadline, "the listener did not start"
                time.sleep(0.05)
            yield running
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
