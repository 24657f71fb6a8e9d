"""HTML mail sanitising: a safelist, no remote images, no script in any disguise."""

from __future__ import annotations

import pytest

from wikibridge.mail.sanitize import sanitize_html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        "<svg onload=alert(1)>",
        '<iframe src="https://evil.example/"></iframe>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<form action="https://evil.example/"><button>x</button></form>',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<a href="vbscript:msgbox(1)">x</a>',
    ],
)
def test_no_active_content_survives(hostile: str) -> None:
    clean = sanitize_html(hostile).lower()
    for needle in ("<script", "onerror", "onload", "javascript:", "vbscript:", "data:", "<iframe",
                   "<form", "<svg", "style=", "<style"):  # fmt: skip
        assert needle not in clean, (hostile, clean)


def test_remote_and_relative_images_are_dropped_cid_images_kept() -> None:
    html = (
        '<img src="https://tracker.example/p.gif"><img src="//t.example/p"><img src="/local">'
        '<img src="data:image/png;base64,AAAA"><img src="cid:part1@example.net" alt="logo">'
    )
    clean = sanitize_html(html)
    assert "tracker" not in clean and "t.example" not in clean and "/local" not in clean
    assert "data:" not in clean
    assert 'src="cid:part1@example.net"' in clean


def test_cid_images_are_rewritten_to_our_own_urls() -> None:
    urls = {"part1@example.net": "/tickets/1/attachments/7"}
    clean = sanitize_html(
        '<img src="cid:part1@example.net"><img src="cid:unknown@example.net">'
        '<img src="/tickets/1/attachments/8">',
        urls.get,
    )
    assert clean.count('src="/tickets/1/attachments/7"') == 1
    assert "unknown" not in clean and "attachments/8" not in clean


def test_ordinary_mail_keeps_its_shape() -> None:
    html = (
        '<p>Hello <b>there</b>, see <a href="https://en.wikipedia.org/wiki/X">X</a>.</p>'
        "<blockquote>quoted</blockquote><table><tr><td colspan=2>cell</td></tr></table>"
    )
    clean = sanitize_html(html)
    assert "<b>there</b>" in clean
    assert 'href="https://en.wikipedia.org/wiki/X"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert "<blockquote>quoted</blockquote>" in clean
    assert 'colspan="2"' in clean
