"""Search and statistics in a real browser (Debian's chromium driven by Playwright), on the demo
data: results are found from the header's box, the chart is drawn, and the page's
Content-Security-Policy is never violated (no inline script or style is needed)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.databases import in_ci

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.slow


@pytest.fixture
def base_url(demo_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def tab(base_url: str) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if in_ci():
            pytest.fail("Playwright is not installed")
        pytest.skip("Playwright is not installed")
    if CHROMIUM is None:
        if in_ci():
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(base_url=base_url)
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def test_search_and_statistics_in_a_browser(tab: Any) -> None:
    page = tab
    problems: list[str] = []
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto("/login")
    page.get_by_role("button", name="Demo login").click()
    page.wait_for_url("**/")

    box = page.get_by_role("search").first.get_by_role("searchbox")
    box.fill('"birth date"')
    box.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("table.results tbody tr").count() >= 1
    marks = " ".join(page.locator("table.results mark").all_inner_texts()).lower()
    assert "birth" in marks and "date" in marks

    page.goto("/search?q=x")
    assert "at least 2 letters" in page.locator("main").inner_text()

    page.get_by_role("link", name="Statistics").click()
    page.wait_for_url("**/stats")
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("rect.bar").count() > 0
    width = chart.bounding_box()["width"]
    assert width > 300
    page.locator("select[name=by]").select_option("day")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/stats?*by=day*")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith("-day.csv")

    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p]
    assert problems == []
