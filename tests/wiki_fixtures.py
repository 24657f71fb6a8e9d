"""pytest plugin: a real MediaWiki test wiki for the session (see tests/testwiki.py).

Register with ``pytest_plugins = ["tests.wiki_fixtures"]``. When PHP or MediaWiki are missing
they are installed if the tests run as root; otherwise the tests using the wiki skip, except
under CI=true, where they fail.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.testwiki import TestWiki, deps_installed, install_deps, prepare_pywikibot

# pywikibot reads its configuration when first imported: keep it away from user files.
prepare_pywikibot()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"test wiki unavailable (CI=true: never skip): {reason}")
    pytest.skip(f"test wiki unavailable: {reason}")


def _ensure_deps() -> None:
    if deps_installed():
        return
    if os.geteuid() != 0:
        _unavailable("PHP and MediaWiki are not installed; run scripts/install-testwiki-deps.sh")
    try:
        install_deps()
    except (OSError, subprocess.CalledProcessError) as exc:
        _unavailable(f"installing PHP and MediaWiki failed: {exc}")
    if not deps_installed():
        _unavailable("PHP and MediaWiki are still missing after the installation")


@pytest.fixture(scope="session")
def test_wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestWiki]:
    """A running MediaWiki 1.39 with accounts Admin, WikibridgeBot, Alice, Bob and Mallory."""
    _ensure_deps()
    wiki = TestWiki(tmp_path_factory.mktemp("testwiki"))
    try:
        wiki.setup()
        yield wiki
    finally:
        wiki.stop()
