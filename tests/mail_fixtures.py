"""Pytest fixtures for real mail servers (listed in ``pytest_plugins`` in tests/conftest.py)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from tests.mailservers import DovecotServer


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One dovecot for the session; tests keep apart by using their own folder."""
    server = DovecotServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def private_dovecot() -> Iterator[DovecotServer]:
    """A dovecot of the test's own, for tests that stop or restart the server."""
    server = DovecotServer(tls=False)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def imap_folder(dovecot: DovecotServer, request: pytest.FixtureRequest) -> str:
    """A new, empty folder of the test account on the session's dovecot."""
    folder = _folder_name(request)
    dovecot.create_folder(folder)
    return folder


def _folder_name(request: pytest.FixtureRequest) -> str:
    # Letters, digits and dashes only: "." is the maildir++ hierarchy separator.
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:40].strip("-")
    return f"{base}-{uuid.uuid4().hex[:8]}"
