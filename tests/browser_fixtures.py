"""A real browser for page tests: Chromium driven by Playwright, and the app served over HTTP.

A pytest plugin of the root conftest. Chromium is looked up on PATH (or named by
WIKIBRIDGE_TEST_CHROMIUM); without it or without Playwright the browser tests skip locally and
fail under CI=true. The fixture is named `chromium`, not `browser`, so that it never mixes with
the pytest-playwright plugin's fixtures where that is installed. Playwright runs per module:
its event loop must not outlive the module, or other tests' asyncio code would find it running.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.databases import in_ci

# No background traffic: the tests count every request the browser makes.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 20_000


def chromium_path() -> str | None:
    return (
        os.environ.get("WIKIBRIDGE_TEST_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: browser tests never skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium, shared by the tests of a module; each test opens its own contexts."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (the test extras list it)")
    path = chromium_path()
    if path is None:
        _unavailable("chromium is not installed (scripts/install-system-deps.sh installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """A WSGI app served on a free loopback port by a thread.

    The port is known before the app is made, so its settings can name the app's own URL
    (the OAuth callback); set `app` before the first request.
    """

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.app is not None, "LiveServer.app was not set"
        return self.app(environ, start_response)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def live_server(app: Callable[..., Any] | None = None) -> Iterator[LiveServer]:
    server = LiveServer()
    server.app = app
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PageProblems(list[str]):
    """Console errors and uncaught exceptions of the pages a test opened."""

    def watch(self, page: Any) -> Any:
        page.on("console", lambda m: self.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.append(str(e)))
        # Browsers ask for it on their own; the app has none.
        page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
        return page


def new_page(browser: Any, base_url: str, problems: PageProblems | None = None) -> Any:
    """A page in a fresh context (its own cookies: another person at another computer)."""
    context = browser.new_context(base_url=base_url, ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    if problems is not None:
        problems.watch(page)
    return page


@pytest.fixture
def screenshots(pytestconfig: pytest.Config) -> Path:
    """Where page tests leave screenshots for people to look at (git-ignored)."""
    folder = pytestconfig.rootpath / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
