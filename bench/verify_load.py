"""The public verify API under load: gunicorn with N workers on an archive, driven by wrk.

    python -m bench verify --dir /var/tmp/wb-archive [--workers 2] [--seconds 20]

Starts `wikibridge serve` on the archive of ``python -m bench archive`` (its ``facts.json``),
with the public lookup limit lifted (one load client from one address would be refused after
60 lookups a minute otherwise), and lets wrk ask for 1,000 different existing ticket numbers in
turn over loopback. Prints requests per second and the latency percentiles wrk measured, and
adds them to the archive's ``results-<database>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from wikibridge.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
# wrk's Lua hook: each request asks for the next number of the list, round robin.
_SCRIPT = """
numbers = {%s}
i = 0
request = function()
  i = (i %% #numbers) + 1
  return wrk.format("GET", "/api/v1/verify/" .. numbers[i])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample_numbers(url: str, count: int) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        top = conn.execute(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)).scalar_one()
        step = max(1, top // count)
        ids = list(range(1, top + 1, step))[:count]
        numbers = list(conn.execute(select(Ticket.number).where(Ticket.id.in_(ids))).scalars())
    engine.dispose()
    return numbers


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the web app did not start")


def parse_wrk(report: str) -> dict[str, Any]:
    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    latency = {
        f"p{p}_ms": round(ms(v, u), 2)
        for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", report, re.M)
    }
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return {
        "requests_per_second": float(rate.group(1)) if rate else 0.0,
        "errors": int(bad.group(1)) if bad else 0,
        **latency,
    }


def run(directory: Path, workers: int, seconds: int, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed (Debian package wrk)")
    facts = json.loads((directory / "facts.json").read_text())
    numbers = sample_numbers(facts["database_url"], 1000)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")},
        "WIKIBRIDGE_DATABASE_URL": facts["database_url"],
        "WIKIBRIDGE_DATA_DIR": str(directory / "data"),
        "WIKIBRIDGE_SECRET_KEY": "bench",
        "WIKIBRIDGE_VERIFY_LOOKUPS_PER_MINUTE": "100000000",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wikibridge",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],  # fmt: skip
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(port)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_SCRIPT % ",".join(f'"{n}"' for n in numbers))
        base = f"http://127.0.0.1:{port}"
        warm = [wrk, "-t1", "-c4", "-d3s", "-s", script.name, base]
        subprocess.run(warm, capture_output=True, check=True)
        command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                   "-s", script.name, base]  # fmt: skip
        report = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(report)
    return {"workers": workers, "connections": connections, **parse_wrk(report)}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench verify", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dir", required=True, type=Path, help="the archive's directory")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args(argv)
    result = run(args.dir, args.workers, args.seconds, args.connections)
    line = (
        f"verify API, {result['workers']} workers: {result['requests_per_second']:,.0f} "
        f"requests/s, p50 {result.get('p50_ms')} ms, p99 {result.get('p99_ms')} ms, "
        f"{result['errors']} errors (target: 1,000/s, p99 <= 50 ms)"
    )
    print(line)
    facts = json.loads((args.dir / "facts.json").read_text())
    kind = "postgresql" if facts["database_url"].startswith("postgresql") else "sqlite"
    results = args.dir / f"results-{kind}.json"
    data = json.loads(results.read_text()) if results.exists() else {}
    data["verify_load"] = result
    results.write_text(json.dumps(data, indent=2))
