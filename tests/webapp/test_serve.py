"""`wikibridge serve` as an operator runs it: a real gunicorn answering real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "wikibridge", *args]


def environment(base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.pop("WIKIBRIDGE_DEMO", None)
    return env


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"serve did not answer within 60 s:\n{log.read_text()}")


@pytest.mark.slow
def test_serve_demo_answers_over_http_and_stops_on_sigterm(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command("serve", "--demo", "--port", str(port), "--workers", "2"),
            cwd=ROOT,
            env=environment(settings_env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"{base}/healthz", proc, log)
        status, headers, body = get(f"{base}/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "schema": "at head"}
        status, headers, body = get(f"{base}/login")
        assert status == 200
        assert "Demo login" in body and "Demo mode" in body
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        status, _, _ = get(f"{base}/")
        assert status == 200  # urllib followed the redirect to the login page
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            returncode = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert returncode == 0, log.read_text()
    assert "demo mode" in log.read_text()


def test_serve_refuses_a_database_not_at_head(tmp_path: Path) -> None:
    env = environment(dict(os.environ))
    env.update(
        WIKIBRIDGE_DATA_DIR=str(tmp_path / "data"),
        WIKIBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        WIKIBRIDGE_SECRET_KEY="test-secret",
    )
    env.pop("WIKIBRIDGE_CONFIG", None)
    result = subprocess.run(
        command("serve", "--port", str(free_port())),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "schema is at nothing" in result.stderr
    assert "wikibridge db upgrade" in result.stderr


def test_serve_is_listed_and_has_its_own_help() -> None:
    env = environment(dict(os.environ))
    listing = subprocess.run(
        command("--help"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "serve" in listing.stdout
    help_text = subprocess.run(
        command("serve", "--help"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert help_text.returncode == 0
    for option in ("--host", "--port", "--workers", "--demo"):
        assert option in help_text.stdout
