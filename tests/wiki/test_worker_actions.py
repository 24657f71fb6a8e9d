"""`wikibridge worker` carries out on-wiki actions from the outbox, each with its
volunteer's own login, and leaves a volunteer's action waiting rather than using the bot."""

from __future__ import annotations

from tests.wiki.actions_world import World, unique
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Worker
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
