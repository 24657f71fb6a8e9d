"""Run the `wikibridge` command as the mail server or an operator would: a new process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wikibridge(
    *args: str, env: dict[str, str], stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    env = {**env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "wikibridge", *args],
        input=stdin,
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=timeout,
    )
