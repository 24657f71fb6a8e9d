"""Where the test mail lives: our corpus, and CPython's own e-mail test messages."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from tests.databases import in_ci

CORPUS_DIR = Path(__file__).parent / "corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.eml"))


def corpus(name: str) -> bytes:
    return (CORPUS_DIR / name).read_bytes()


def cpython_email_files() -> list[Path]:
    """``msg_*.txt`` from the standard library's email tests; skips (fails in CI) without them."""
    folder = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
    files = sorted(folder.glob("msg_*.txt"))
    if not files:
        message = f"CPython's email test data is not installed (looked in {folder})"
        if in_ci():
            pytest.fail(message + " (CI=true: never skip)")
        pytest.skip(message)
    return files
