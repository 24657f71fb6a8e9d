"""Which wiki a queue acts on: a site code ("commons", "enwiki", "wikipedia:de") or an API URL.

Queues name their wiki either way (see ``Queue.wiki``); the adapters need an API URL. Only the
Wikimedia families are known by code: any other wiki is configured by its API URL.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode, urlsplit

# Single-project codes, as pywikibot and the Wikimedia database names spell them.
_SPECIAL = {
    "commons": "commons.wikimedia.org",
    "commonswiki": "commons.wikimedia.org",
    "meta": "meta.wikimedia.org",
    "metawiki": "meta.wikimedia.org",
    "species": "species.wikimedia.org",
    "specieswiki": "species.wikimedia.org",
    "wikidata": "www.wikidata.org",
    "wikidatawiki": "www.wikidata.org",
}
# Database-name suffix -> family domain ("dewiki" -> de.wikipedia.org).
_FAMILIES = {
    "wiki": "wikipedia",
    "wiktionary": "wiktionary",
    "wikisource": "wikisource",
    "wikiquote": "wikiquote",
    "wikibooks": "wikibooks",
    "wikinews": "wikinews",
    "wikiversity": "wikiversity",
    "wikivoyage": "wikivoyage",
}
_DBNAME = re.compile(rf"([a-z]{{2,3}}(?:_[a-z0-9]+)*)({'|'.join(_FAMILIES)})")
_FAMILY_CODE = re.compile(rf"({'|'.join(_FAMILIES.values())}):([a-z]{{2,3}}(?:-[a-z0-9]+)*)")

# Policy pages cited in edit summaries where the wiki has a known shortcut.
KNOWN_POLICY_LINKS = {
    "commons.wikimedia.org": "[[COM:VRT]]",
    "en.wikipedia.org": "[[WP:VRT]]",
    "meta.wikimedia.org": "[[VRT]]",
    "www.wikidata.org": "[[WD:VRT]]",
}


class UnknownWiki(ValueError):
    """A wiki identifier that is neither a known site code nor an http(s) API URL."""


def api_url(wiki: str) -> str:
    """The API URL of a wiki named by a site code or by its API URL."""
    wiki = wiki.strip()
    if wiki.startswith(("http://", "https://")):
        parts = urlsplit(wiki)
        if not parts.netloc or not parts.path.endswith(".php"):
            raise UnknownWiki(f"{wiki!r} is not an API URL (…/api.php)")
        return wiki
    host = _host_of_code(wiki)
    if host is None:
        raise UnknownWiki(
            f"{wiki!r} is not a known site code; configure the wiki by its API URL instead"
        )
    return f"https://{host}/w/api.php"


def host(wiki: str) -> str:
    """The host name of a wiki (for policy links and display)."""
    return urlsplit(api_url(wiki)).netloc


def index_url(wiki: str, **query: str | int) -> str | None:
    """A link to the wiki's index.php with this query; None for a wiki we cannot place."""
    try:
        api = api_url(wiki)
    except UnknownWiki:
        return None
    # Titles keep their colons and slashes, as the wiki's own links do.
    encoded = urlencode(query, safe=":/", quote_via=quote)
    return f"{api.removesuffix('api.php')}index.php?{encoded}"


def page_url(wiki: str, title: str) -> str | None:
    return index_url(wiki, title=title.replace(" ", "_")) if title else None


def revision_url(wiki: str, revid: int | None) -> str | None:
    return index_url(wiki, oldid=revid) if revid else None


def diff_url(wiki: str, before: int | None, after: int | None) -> str | None:
    """The change from ``before`` to ``after`` (without ``before``: ``after`` and its parent)."""
    if not after:
        return None
    if before:
        return index_url(wiki, diff=after, oldid=before)
    return index_url(wiki, diff="prev", oldid=after)


def _host_of_code(code: str) -> str | None:
    code = code.lower()
    if code in _SPECIAL:
        return _SPECIAL[code]
    m = _FAMILY_CODE.fullmatch(code)
    if m:
        return f"{m.group(2)}.{m.group(1)}.org"
    m = _DBNAME.fullmatch(code)
    if m:
        return f"{m.group(1).replace('_', '-')}.{_FAMILIES[m.group(2)]}.org"
    return None
