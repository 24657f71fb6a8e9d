"""`wikibridge worker` carries out on-wiki actions from the outbox, each with its
volunteer's own login, and leaves a volunteer's action waiting rather than using the bot."""

from __future__ import annotations

import pytest

from tests.wiki.actions_world import World, unique
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Worker
from wikibridge.wiki.actions import NoCredentials
from wikibridge.wiki.credentials import credentials_from_settings


def test_worker_runs_interleaved_volunteer_actions_under_their_own_accounts(world: World) -> None:
    first, second = unique("Page"), unique("Page")
    for title in (first, second):
        world.wiki.edit(title, "Some text.\n\nAn unsourced claim.", "create", user="Admin")
        world.wiki.edit(title, "Some text.\n\nA vandal was here.", "vandalism", user="Mallory")
    number = world.ticket("info-en::Wikipedia")
    revs = {t: world.wiki.revisions(t)[0]["revid"] for t in (first, second)}
    a = world.request(number, "Alice", "revert", page=first, revision=revs[first])
    b = world.request(number, "Admin", "revert", page=second, revision=revs[second])
    worker = Worker(
        JobContext(world.settings, world.sessions, credentials_for=world.credentials_for)
    )
    outcomes = worker.run_once()
    assert outcomes["done"] == 2, outcomes
    assert world.action(a.id).state == "done" and world.action(b.id).state == "done"
    assert world.wiki.revisions(first)[0]["user"] == "Alice"
    assert world.wiki.revisions(second)[0]["user"] == "Admin"
    for title in (first, second):
        assert f"[[ticket:{number}]]" in world.wiki.revisions(title)[0]["comment"]


def test_a_volunteer_action_without_their_login_waits_and_never_uses_the_bot(
    world: World,
) -> None:
    title = unique("Page")
    world.wiki.edit(title, "Text", "create", user="Admin")
    world.wiki.edit(title, "Text vandalised", "vandalism", user="Mallory")
    number = world.ticket("info-en::Wikipedia")
    revid = world.wiki.revisions(title)[0]["revid"]
    action = world.request(number, "Alice", "revert", page=title, revision=revid)
    worker = Worker(JobContext(world.settings, world.sessions))  # settings only: no OAuth token
    assert credentials_from_settings(world.settings)
    worker.run_once()
    assert world.wiki.revisions(title)[0]["user"] == "Mallory"  # no edit at all
    found = world.action(action.id)
    assert found.state in ("queued", "failed") and "log in" in found.error


def test_a_volunteers_stored_oauth_token_is_their_login(world: World) -> None:
    """The token their wiki login stored (sealed) is opened and used for their action only."""
    from dataclasses import replace

    from wikibridge.config import OAuthSettings
    from wikibridge.models import Volunteer
    from wikibridge.oauth.sealing import TOKENS, Sealer
    from wikibridge.store import oauth_tokens
    from wikibridge.wiki.base import OAuth1Token

    settings = replace(world.settings, oauth=OAuthSettings(consumer_key="ck", consumer_secret="cs"))
    with world.sessions.begin() as s:
        sealed = Sealer(settings.secret_key, TOKENS).seal({"key": "tk", "secret": "ts"})
        oauth_tokens.replace(s, world.volunteer_ids["Alice"], "1.0a", sealed)
    credentials_for = credentials_from_settings(settings, world.sessions)
    with world.sessions() as s:
        alice = s.get(Volunteer, world.volunteer_ids["Alice"])
        bob = s.get(Volunteer, world.volunteer_ids["Bob"])
    assert credentials_for(alice) == OAuth1Token("ck", "cs", "tk", "ts")
    with pytest.raises(NoCredentials):
        credentials_for(bob)  # Bob never logged in with OAuth: never Alice's, never the bot's
