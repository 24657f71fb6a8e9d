"""The `wikibridge` command as an operator and a mail server use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli import ROOT, wikibridge
from tests.mailbuilder import make_mail
from wikibridge.config import load_settings


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")}
    env.update(WIKIBRIDGE_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def test_example_configuration_loads() -> None:
    settings = load_settings({"WIKIBRIDGE_CONFIG": str(ROOT / "config.example.toml")})
    assert settings.system_id == "10" and settings.mail.spam_queue == "Junk"


def test_status_counts_on_a_fresh_sqlite_install(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    assert b"schema upgraded" in wikibridge("db", "upgrade", env=env).stdout
    assert b"already at" in wikibridge("db", "upgrade", env=env).stdout
    assert wikibridge("ingest", env=env, stdin=make_mail()).returncode == 0
    result = wikibridge("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["tickets"] == 1 and counts["articles"] == 1
    assert counts["quarantined"] == 0 and counts["jobs_failed"] == 0
    human = wikibridge("status", env=env).stdout.decode()
    assert "quarantined messages" in human and "jobs pending" in human


def test_status_before_the_schema_exists_says_what_to_do(tmp_path: Path) -> None:
    result = wikibridge("status", env=clean_env(tmp_path))
    assert result.returncode == 1
    assert b"wikibridge db upgrade" in result.stderr and b"Traceback" not in result.stderr


def test_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "wb.toml"
    cfg.write_text("[smtp]\nport = 'twenty-five'\n")
    result = wikibridge("status", env=clean_env(tmp_path, WIKIBRIDGE_CONFIG=str(cfg)))
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        "Error: configuration error: smtp.port has an invalid value 'twenty-five'"
    )


def test_ingest_with_a_broken_configuration_asks_the_mail_server_to_retry(tmp_path: Path) -> None:
    env = clean_env(tmp_path, WIKIBRIDGE_CONFIG=str(tmp_path / "missing.toml"))
    result = wikibridge("ingest", env=env, stdin=make_mail())
    assert result.returncode == 75 and b"does not exist" in result.stderr


def test_ingest_imports_only_what_it_needs(tmp_path: Path) -> None:
    """The pipe runs once per message: no web app, wiki libraries or migrations on that path."""
    env = clean_env(tmp_path)
    assert wikibridge("db", "upgrade", env=env).returncode == 0
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wikibridge", "ingest"],
        input=make_mail(),
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in proc.stderr.decode().splitlines()
        if line.startswith("import time:")
    }
    assert imported.isdisjoint(
        {
            "flask",
            "webapp",
            "pywikibot",
            "mwclient",
            "alembic",
            "langdetect",
            "gunicorn",
            "aiosmtpd",
            "requests",
        }
    ), sorted(imported)
