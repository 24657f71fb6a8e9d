"""Security headers, no inline script anywhere, and hostile HTML mail rendered harmless."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from webapp.demo import SeedResult
from webapp.security import CSP
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.store import volunteers

from . import helpers

HOSTILE = """
<html><head><base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">
<style>body { background: url(https://evil.example/bg.png) }</style>
<script>alert("head")</script></head>
<body onload="alert('body')">
<p>Please read <a href="javascript:alert('link')">this</a>,
<a href="JaVaScRiPt&#x3a;alert(1)">that</a>,
<a href="data:text/html,<script>alert(1)</script>">data</a>
and <a href="https://en.wikipedia.org/wiki/Example">the article</a>.</p>
<img src="https://tracker.example/pixel.gif" onerror="alert('img')">
<img src="//tracker.example/pixel2.gif"><img src="/healthz">
<svg><script>alert("svg")</script></svg><iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/steal"><input name="password"><button formaction="https://evil.example/">x</button></form>
<div style="position:fixed;top:0" onmouseover="alert('div')">Hover</div>
<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/y">
<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')></style></mglyph></table>
</mtext></math>
<p>The real text of the message.</p>
</body></html>
"""


# The app's own form targets: logging in and out, and the actions on a ticket.
OWN_FORM = re.compile(r"/logout|/login/demo|/language|/search|/tickets/\d+/[a-z]+")


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def parse(page: str) -> Collector:
    collector = Collector()
    collector.feed(page)
    return collector


def assert_no_active_content(page: str) -> None:
    tags = parse(page).tags
    names = {tag for tag, _ in tags}
    assert not names & {"script", "iframe", "object", "embed", "base", "svg", "math"}, names
    assert not [a for t, a in tags if t == "meta" and "http-equiv" in dict(a)]
    assert [t for t, _ in tags].count("style") == 0
    for action in [dict(a).get("action") or "" for t, a in tags if t == "form"]:
        assert OWN_FORM.fullmatch(action), action  # only our own forms
    for tag, attrs in tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            assert name != "formaction", tag
            text = (value or "").strip().lower()
            assert not text.startswith(("javascript:", "data:", "vbscript:")), (tag, name, value)
            if tag == "img" and name == "src":
                assert text.startswith("/tickets/"), value  # only our own cid: images


def test_hostile_html_mail_renders_harmless(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    q = helpers.queue(session, "info-en", "info-en@example.org")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, q.id, "rw")
    session.commit()
    raw = helpers.mail("<script>alert('subject')</script>", html=HOSTILE, text="text part")
    number = Ingestor(settings, session_factory).ingest(raw).ticket_number
    helpers.login(client, v)
    response = client.get(f"/tickets/{number}")
    page = response.get_data(as_text=True)
    assert "The real text of the message." in page
    assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;" in page  # escaped, not run
    assert 'href="https://en.wikipedia.org/wiki/Example"' in page
    assert "tracker.example" not in page
    assert "evil.example" not in page
    assert_no_active_content(page)


def test_inline_images_point_at_their_attachment(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    from email.message import EmailMessage

    q = helpers.queue(session, "info-en", "info-en@example.org")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, q.id, "rw")
    session.commit()
    msg = EmailMessage()
    msg["From"] = "reader@example.net"
    msg["To"] = "info-en@example.org"
    msg["Subject"] = "Screenshot"
    msg.set_content("see the screenshot")
    msg.add_alternative('<p>See:</p><img src="cid:shot@example.net">', subtype="html")
    html_part = msg.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        b"\x89PNG fake", maintype="image", subtype="png", cid="<shot@example.net>"
    )
    number = Ingestor(settings, session_factory).ingest(msg.as_bytes()).ticket_number
    helpers.login(client, v)
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    srcs = [dict(a).get("src") for t, a in parse(page).tags if t == "img"]
    assert len(srcs) == 1 and srcs[0] is not None
    assert srcs[0].startswith(f"/tickets/{number}/attachments/")
    assert client.get(srcs[0]).data == b"\x89PNG fake"


def test_every_page_has_the_headers_and_no_inline_script(
    demo_client: FlaskClient, demo_seed: SeedResult
) -> None:
    anonymous = ["/login", "/healthz", "/no-such-page"]
    for path in anonymous:
        _check_page(demo_client, path)
    demo_client.post("/login/demo", data={"csrf_token": helpers.csrf_token(demo_client)})
    numbers = sorted(set(demo_seed.tickets.values()))
    pages = ["/", "/queues/1", "/queues/1?state=all&sort=oldest", "/tickets/0"]
    pages += [f"/tickets/{n}" for n in numbers] + [f"/tickets/{numbers[0]}/reply"]
    for path in pages:
        _check_page(demo_client, path)


def _check_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (200, 404), path
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src" not in CSP and "unsafe-inline" not in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    if response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        assert "<script" not in page.lower(), path
        assert_no_active_content(page)


def test_session_cookie_flags(demo_client: FlaskClient) -> None:
    response = demo_client.post("/login/demo", data={"csrf_token": helpers.csrf_token(demo_client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over http on loopback (the default public_url)


def test_session_cookie_is_secure_off_loopback(settings: Settings) -> None:
    import dataclasses

    from webapp import create_app

    for url, secure in [
        ("https://vrt.example.org", True),
        ("http://vrt.example.org", True),
        ("http://127.0.0.1:8080", False),
        ("http://[::1]:5000", False),
        ("http://localhost:5000", False),
    ]:
        app = create_app(dataclasses.replace(settings, public_url=url))
        assert app.config["SESSION_COOKIE_SECURE"] is secure, url
        app.extensions["wikibridge"].engine.dispose()
