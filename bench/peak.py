"""Peak resident memory of one command, measured from a fresh, small process.

    python -m bench.peak INPUT_FILE COMMAND [ARG...]

``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the largest peak of all the children a process
has waited for; and on Linux a child's peak starts at its parent's size when it was spawned,
since the child runs in its parent's memory until it execs the command. A benchmark or a test
that holds a 34 MB message and the libraries that built it is bigger than the ingest it would
measure. So the command runs as the only child of this wrapper, which holds nothing: it pipes
the file in slices into the command's standard input, as a mail server does, and prints one
JSON line (exit code, peak, seconds, the command's output).
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    returncode: int
    peak_mb: float  # the command's peak resident memory, MiB
    seconds: float
    stdout: str
    stderr: str


def measure(
    command: Sequence[str], input_file: Path, env: Mapping[str, str], cwd: Path | None = None
) -> Measured:
    """Run `command` with `input_file` on its standard input, through a fresh wrapper."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.peak", str(input_file), *command],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return Measured(**json.loads(result.stdout))


def _run(input_file: Path, command: list[str]) -> Measured:
    # The command's output goes to files: a full pipe would stall it while the input is fed.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err)
        assert proc.stdin is not None
        # A command that stops reading (it failed) breaks the pipe; its exit code says why.
        with contextlib.suppress(BrokenPipeError), input_file.open("rb") as source:
            shutil.copyfileobj(source, proc.stdin)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        returncode = proc.wait()
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=returncode,
            peak_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            seconds=seconds,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


if __name__ == "__main__":
    measured = _run(Path(sys.argv[1]), sys.argv[2:])
    print(json.dumps(measured.__dict__))
