"""Search and statistics in a real browser (Debian's chromium driven by Playwright), on the demo
data: results are found from the header's box, the chart is drawn, and the page's
Content-Security-Policy is never violated (no inline script or style is needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser_fixtures import PageProblems, live_server, new_page

pytestmark = pytest.mark.slow


@pytest.fixture
def base_url(demo_app: Flask) -> Iterator[str]:
    with live_server(demo_app) as server:
        yield server.url


@pytest.fixture
def tab(chromium: Any, base_url: str) -> Iterator[Any]:
    page = new_page(chromium, base_url)
    yield page
    page.context.close()


def test_search_and_statistics_in_a_browser(tab: Any) -> None:
    page = tab
    problems = PageProblems()
    problems.watch(page)

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
