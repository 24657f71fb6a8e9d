"""The bots' command lines: pywikibot's global options, page generator options, their own."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bots import citation_watcher, pending_sweeper, tag_permissions, volunteer_list
from bots.common import Arguments


@pytest.fixture
def parse(bot_site: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Arguments]]:
    """A bot's parse function on the test wiki; pywikibot's config is restored afterwards."""
    from pywikibot import config

    for name in ("simulate", "family", "mylang"):
        monkeypatch.setattr(config, name, getattr(config, name))
    site = [f"-family:{bot_site.family.name}", f"-code:{bot_site.code}", "-nolog"]

    def run(bot: Any, *args: str) -> Arguments:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Site objects have been created before ..."
            parsed: Arguments = bot.parse([*site, *args])
        return parsed

    yield run


def test_simulate_and_always(parse: Callable[..., Arguments]) -> None:
    from pywikibot import config

    assert not config.simulate
    parsed = parse(pending_sweeper, "-simulate", "-always", "-days:45")
    assert config.simulate is True
    assert parsed.options == {"always": True, "days": 45}
    assert parsed.unknown == [] and not parsed.help
    assert parsed.factory is not None and parsed.factory.gens == []


def test_without_options(parse: Callable[..., Arguments]) -> None:
    from pywikibot import config

    parsed = parse(tag_permissions)
    assert not config.simulate
    assert parsed.options == {}
    assert parsed.factory is not None and parsed.factory.gens == []


def test_generator_options_go_to_the_factory(
    parse: Callable[..., Arguments], bot_site: Any
) -> None:
    parsed = parse(
        pending_sweeper, "-page:File:A b.png", "-transcludes:Permission pending", "-ns:6", "-always"
    )
    assert parsed.options == {"always": True}
    assert parsed.unknown == []
    assert parsed.factory is not None
    assert len(parsed.factory.gens) == 2
    generator = parsed.factory.getCombinedGenerator()
    first = next(iter(generator))
    assert first.title() == "File:A b.png"
    assert first.site == bot_site


def test_each_bot_has_its_options(parse: Callable[..., Arguments]) -> None:
    assert parse(tag_permissions, "-days:7").options == {"days": 7}
    assert parse(volunteer_list, "-title:Project:VRT/List").options == {"title": "Project:VRT/List"}
    parsed = parse(citation_watcher, "-report:User:X/Report", "-state:/srv/state.json", "-hours:2")
    assert parsed.options == {"report": "User:X/Report", "state": "/srv/state.json", "hours": 2}


def test_unknown_and_malformed_arguments(parse: Callable[..., Arguments]) -> None:
    parsed = parse(tag_permissions, "-days:many", "-title:X", "-bogus", "positional", "-help")
    assert parsed.unknown == ["-days:many", "-title:X", "-bogus", "positional"]
    assert parsed.help
    assert parse(volunteer_list, "-title").unknown == ["-title"]
