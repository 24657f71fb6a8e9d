"""What the bots share: command-line arguments, the database, the wiki's name, messages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pywikibot
from pywikibot import config, i18n, pagegenerators
from pywikibot.bot import show_help
from pywikibot.site import BaseSite
from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import ConfigError, Settings, load_settings
from wikibridge.db import make_engine, make_sessionmaker

# Edit summaries and talk-page texts, pywikibot's i18n way: language code -> text with
# %(name)s parameters. Fixed text only: parameters are ticket links, policy links, checked
# page titles, dates and counts, never text from a mail.
MESSAGES: dict[str, dict[str, str]] = {
    "tag_permissions-summary": {
        "en": "Permission confirmed per %(ticket)s (%(policy)s)",
        "de": "Genehmigung bestätigt laut %(ticket)s (%(policy)s)",
    },
    "pending_sweeper-summary": {
        "en": "No permission has reached the Volunteer Response Team (%(policy)s) since %(since)s",
        "de": "Seit %(since)s ist keine Genehmigung beim Support-Team (%(policy)s) eingegangen",
    },
    "pending_sweeper-notice-summary": {
        "en": "Notice: permission missing for [[:%(file)s]]",
        "de": "Hinweis: Genehmigung für [[:%(file)s]] fehlt",
    },
    "pending_sweeper-notice-heading": {
        "en": "Permission missing for [[:%(file)s]]",
        "de": "Genehmigung für [[:%(file)s]] fehlt",
    },
    "pending_sweeper-notice": {
        "en": "Hello. [[:%(file)s]] has been waiting for a permission since %(since)s, but none "
        "has reached the Volunteer Response Team (%(policy)s). Unless the copyright holder "
        "sends one, the file may be deleted after seven days. ~~~~",
        "de": "Hallo. Für [[:%(file)s]] wird seit %(since)s eine Genehmigung erwartet, aber beim "
        "Support-Team (%(policy)s) ist keine eingegangen. Wenn der Rechteinhaber sie nicht "
        "sendet, kann die Datei nach sieben Tagen gelöscht werden. ~~~~",
    },
    "citation_watcher-summary": {
        "en": "Ticket citations that do not check out: %(count)s",
        "de": "Ticket-Zitate, die nicht stimmen: %(count)s",
    },
    "volunteer_list-summary": {
        "en": "Volunteers who chose to be listed: %(count)s",
        "de": "Ehrenamtliche, die genannt werden möchten: %(count)s",
    },
}


def message(site: BaseSite, key: str, **params: Any) -> str:
    """The message in the site's language, else a fallback language, else English."""
    text = i18n.translate(site, MESSAGES[key], params, fallback=True)
    assert isinstance(text, str)
    return text


@dataclass
class Arguments:
    """A bot's command line, parsed: its own options, the page generator options, the rest."""

    options: dict[str, Any] = field(default_factory=dict)
    factory: pagegenerators.GeneratorFactory | None = None
    unknown: list[str] = field(default_factory=list)
    help: bool = False


def parse_args(args: Sequence[str], own: Mapping[str, Any]) -> Arguments:
    """Global options first (``-simulate``, ``-user:``, ``-family:`` ... set pywikibot's
    config), then page generator options, then the bot's ``own`` options: name -> default,
    whose type says how to read ``-name:value`` (a bool option is ``-name``). ``-always`` is
    every bot's."""
    local = pywikibot.handle_args(list(args), do_help=False)
    factory = pagegenerators.GeneratorFactory()
    local = factory.handle_args(local)
    parsed = Arguments(factory=factory)
    kinds = {"always": False, **own}
    for arg in local:
        name, _, value = arg.removeprefix("-").partition(":")
        if arg == "-help":
            parsed.help = True
        elif not arg.startswith("-") or name not in kinds:
            parsed.unknown.append(arg)
        elif isinstance(kinds[name], bool):
            parsed.options[name] = True
        elif isinstance(kinds[name], int):
            if not value.isdigit():
                parsed.unknown.append(arg)
            else:
                parsed.options[name] = int(value)
        elif value:
            parsed.options[name] = value
        else:
            parsed.unknown.append(arg)
    return parsed


def stop_for_help(module: str, parsed: Arguments) -> bool:
    """Show the help (``-help``) or the unknown arguments; True: the bot must not run."""
    if parsed.help:
        show_help(module)
        return True
    return pywikibot.bot.suggest_help(unknown_parameters=parsed.unknown)


def simulating() -> bool:
    """Whether ``-simulate`` was given: the wiki and the database are left as they are."""
    return bool(config.simulate)


def site_wiki(site: BaseSite) -> str:
    """The site's API URL: how wikibridge's queues name the wiki they act on."""
    return f"{site.protocol()}://{site.hostname()}{site.apipath()}"


@contextmanager
def database(*, read_only: bool = False) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """The wikibridge database of ``WIKIBRIDGE_CONFIG`` (and ``WIKIBRIDGE_*`` variables);
    ``read_only`` sessions for a bot that only reads (they never take SQLite's write lock)."""
    try:
        settings = load_settings()
    except ConfigError as e:
        raise SystemExit(f"wikibridge configuration (WIKIBRIDGE_CONFIG): {e}") from None
    engine = make_engine(settings.database_url)
    try:
        yield settings, make_sessionmaker(engine, read_only=read_only)
    finally:
        engine.dispose()
