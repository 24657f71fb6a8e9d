"""Static files: fingerprinted URLs cached for a year, everything else revalidated."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from webapp import create_app
from webapp.security import CSP
from wikibridge.config import Settings

YEAR = "public, max-age=31536000, immutable"
STATIC = Path(__file__).resolve().parents[2] / "webapp" / "static"


class Stylesheets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.hrefs.append(str(found["href"]))


def stylesheet(client: FlaskClient) -> str:
    """The stylesheet URL of the login page (a page anyone may see)."""
    parser = Stylesheets()
    parser.feed(client.get("/login").get_data(as_text=True))
    assert len(parser.hrefs) == 1, parser.hrefs
    return parser.hrefs[0]


def version_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["v"][0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def static_copy(tmp_path: Path) -> Path:
    """A copy of the static folder that a test may change."""
    return Path(shutil.copytree(STATIC, tmp_path / "static"))


@pytest.fixture
def make_app(settings: Settings, static_copy: Path) -> Iterator[Callable[[], Flask]]:
    """New apps serving the copy of the static folder (each with its own fingerprints)."""
    made: list[Flask] = []

    def make() -> Flask:
        app = create_app(settings, TESTING=True)
        app.static_folder = str(static_copy)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["wikibridge"].engine.dispose()


def test_the_page_links_its_stylesheet_with_a_fingerprint_cached_for_a_year(
    client: FlaskClient,
) -> None:
    url = stylesheet(client)
    assert urlsplit(url).path == "/static/style.css"
    version = version_of(url)
    assert len(version) >= 8 and digest(STATIC / "style.css").startswith(version)

    response = client.get(url)
    assert response.status_code == 200
    assert response.data == (STATIC / "style.css").read_bytes()
    assert response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == YEAR
    # The security headers apply to static files as to pages.
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_conditional_get_with_the_etag_is_answered_304(client: FlaskClient) -> None:
    url = stylesheet(client)
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["Cache-Control"] == YEAR


def test_without_the_current_fingerprint_the_browser_revalidates(client: FlaskClient) -> None:
    version = version_of(stylesheet(client))
    stale = "0" * len(version) if version != "0" * len(version) else "1" * len(version)
    for url in ("/static/style.css", f"/static/style.css?v={stale}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-cache", url
        etag = response.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304, url


def test_changing_a_file_changes_its_fingerprint(
    make_app: Callable[[], Flask], static_copy: Path
) -> None:
    before_app = make_app()
    before = stylesheet(before_app.test_client())
    assert digest(static_copy / "style.css").startswith(version_of(before))

    with (static_copy / "style.css").open("a") as f:
        f.write("\n.changed { color: red }\n")
    after_app = make_app()
    after = stylesheet(after_app.test_client())
    assert version_of(after) != version_of(before)
    assert digest(static_copy / "style.css").startswith(version_of(after))

    client = after_app.test_client()
    assert client.get(after).headers["Cache-Control"] == YEAR
    # The old release's URL still gets the file, but only for revalidation.
    old = client.get(before)
    assert old.status_code == 200 and b".changed" in old.data
    assert old.headers["Cache-Control"] == "no-cache"


def test_a_running_app_hashes_each_file_once(
    make_app: Callable[[], Flask], static_copy: Path
) -> None:
    app = make_app()
    before = stylesheet(app.test_client())
    (static_copy / "style.css").write_text("body { color: black }\n")
    assert stylesheet(app.test_client()) == before


def test_in_debug_mode_an_edited_file_gets_a_new_fingerprint(
    make_app: Callable[[], Flask], static_copy: Path
) -> None:
    app = make_app()
    app.debug = True
    before = stylesheet(app.test_client())
    (static_copy / "style.css").write_text("body { color: black }\n")
    after = stylesheet(app.test_client())
    assert version_of(after) != version_of(before)
    assert digest(static_copy / "style.css").startswith(version_of(after))


def test_an_unknown_static_file_is_404_without_a_fingerprint(app: Flask) -> None:
    client = app.test_client()
    with app.test_request_context():
        url = url_for("static", filename="no-such-file.css")
    assert "v=" not in url
    assert client.get(url).status_code == 404
    assert client.get("/static/no-such-file.css?v=0123456789ab").status_code == 404
    assert client.get("/static/../__init__.py").status_code == 404
