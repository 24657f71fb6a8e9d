"""HTML mail made safe to show inside a page: a safelist of tags and attributes (nh3).

Scripts, styles, forms, frames, event handlers and ``javascript:`` links never pass. Images load
only from the message itself (``cid:`` parts, which the caller may point at its own attachment
URLs); remote images are dropped, so opening a ticket does not tell the sender it was read.
"""

from __future__ import annotations

from collections.abc import Callable

import nh3

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
        "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
        "ul", "var",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
# Content dropped with its tag, not only the tag.
DROP_WITH_CONTENT = frozenset({"script", "style", "title", "head", "template", "noscript"})
LINK_SCHEMES = ("http:", "https:", "mailto:")
URL_SCHEMES = frozenset({"http", "https", "mailto", "cid"})


def sanitize_html(html: str, cid_url: Callable[[str], str | None] | None = None) -> str:
    """A safe fragment of `html`. `cid_url` maps a Content-ID to a same-origin image URL."""

    ours: set[str] = set()  # the relative URLs cid_url made: the only relative URLs kept

    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr in ("href", "cite"):
            return value if value.strip().lower().startswith(LINK_SCHEMES) else None
        if tag == "img" and attr == "src":
            if not value.lower().startswith("cid:"):
                return None  # remote (or any other) image: not loaded
            if cid_url is None:
                return value
            url = cid_url(value[4:].strip("<>"))
            if url is not None:
                ours.add(url)
            return url
        return value

    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=keep,
        url_schemes=set(URL_SCHEMES),
        url_relative=lambda url: url if url in ours else None,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
