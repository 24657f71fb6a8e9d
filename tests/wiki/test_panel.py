"""The ticket page's "On-wiki actions" panel against the real test wiki, on SQLite and
PostgreSQL: a volunteer starts an action from the page, `wikibridge worker` carries it out, and
the page shows the wiki's revision ids; refusals are shown and recorded; read-only volunteers
see the list without forms (403 on POST); volunteers of other queues get 404."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.wiki.actions_world import INFO_WIKIPEDIA, POLICY_LINK, World, unique
from tests.wiki.test_actions import PENDING
from webapp import create_app
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Worker
from wikibridge.models import OutboxJob, WikiAction

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = "/wiki-actions"


@dataclass
class Web:
    world: World
    app: Flask
    client: FlaskClient

    def as_(self, name: str) -> None:
        with self.client.session_transaction() as sess:
            sess.clear()
            sess["volunteer_id"] = self.world.volunteer_ids[name]

    def page(self, number: str) -> str:
        response = self.client.get(f"/tickets/{number}")
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def post(self, name: str, number: str, **form: object) -> TestResponse:
        self.as_(name)
        match = _TOKEN.search(self.client.get("/").get_data(as_text=True))
        assert match
        return self.client.post(
            f"/tickets/{number}{FORM}", data={"csrf_token": match.group(1), **form}
        )

    def run_worker(self) -> dict[str, int]:
        context = JobContext(
            self.world.settings, self.world.sessions, credentials_for=self.world.credentials_for
        )
        return Worker(context).run_once()

    def actions(self, number: str) -> list[WikiAction]:
        with self.world.sessions() as s:
            stmt = select(WikiAction).where(WikiAction.ticket_number == number)
            return list(s.scalars(stmt.order_by(WikiAction.id)))

    def job_count(self) -> int:
        with self.world.sessions() as s:
            return len(s.scalars(select(OutboxJob)).all())


@pytest.fixture
def web(world: World) -> Iterator[Web]:
    app = create_app(world.settings, TESTING=True)
    yield Web(world, app, app.test_client())
    app.extensions["wikibridge"].engine.dispose()


def row(page: str, action_id: int) -> str:
    """The panel's table row of one action, as text with its links' targets."""
    match = re.search(rf'<tr id="wiki-action-{action_id}".*?</tr>', page, re.S)
    assert match, f"action {action_id} is not on the page"
    return html.unescape(match.group(0))


def test_permission_from_the_ticket_page_is_done_by_the_worker_and_shown(web: Web) -> None:
    world = web.world
    title = world.file(PENDING).replace("_", " ")  # as the wiki normalises it
    number = world.ticket()
    web.as_("Alice")
    page = web.page(number)
    assert "On-wiki actions" in page and "No on-wiki actions yet." in page
    assert f'action="/tickets/{number}{FORM}"' in page
    assert 'value="permission"' in page and 'value="permission_received"' in page

    response = web.post("Alice", number, kind="permission", page=title)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tickets/{number}#wiki-actions")
    (action,) = web.actions(number)
    assert (action.state, action.kind, action.page) == ("queued", "permission", title)
    queued = web.page(number)
    assert "is queued" in queued  # the flash message
    assert "queued" in row(queued, action.id)

    before = world.wiki.revisions(title)
    assert web.run_worker()["done"] == 1

    (done,) = web.actions(number)
    assert done.state == "done", done.error
    top = world.wiki.revisions(title)[0]
    assert top["user"] == "Alice" and top["revid"] == done.revision_after
    assert top["comment"] == f"Permission confirmed per [[ticket:{number}]] ({POLICY_LINK})"
    assert done.revision_before == before[0]["revid"]
    text = world.wiki.page_text(title) or ""
    assert f"{{{{PermissionTicket|id={number}|user=Alice}}}}" in text

    shown = row(web.page(number), done.id)
    assert "done" in shown and "Alice" in shown and title in shown
    assert f"[[ticket:{number}]]" in shown  # the summary
    assert f"index.php?diff={done.revision_after}&oldid={done.revision_before}" in shown
    assert f"index.php?oldid={done.revision_before}" in shown
    assert f"index.php?title={title.replace(' ', '_')}" in shown


def test_revert_from_the_ticket_page_undoes_the_revision_under_the_volunteers_account(
    web: Web,
) -> None:
    world = web.world
    title = unique("Page")
    world.wiki.edit(title, "Some text.", "create", user="Admin")
    world.wiki.edit(title, "Some text. A vandal was here.", "vandalism", user="Mallory")
    vandalism = world.wiki.revisions(title)[0]["revid"]
    number = world.ticket(INFO_WIKIPEDIA)
    web.as_("Alice")
    page = web.page(number)
    assert 'value="revert"' in page and 'value="permission"' not in page  # an info queue

    response = web.post(
        "Alice", number, kind="revert", page=title, revision=str(vandalism), purpose="unsourced"
    )
    assert response.status_code == 303
    assert web.run_worker()["done"] == 1

    (done,) = web.actions(number)
    assert done.state == "done", done.error
    top = world.wiki.revisions(title)[0]
    assert (top["user"], top["revid"]) == ("Alice", done.revision_after)
    assert top["comment"] == f"Removing unsourced claims per [[ticket:{number}]] ({POLICY_LINK})"
    assert world.wiki.page_text(title) == "Some text."
    shown = row(web.page(number), done.id)
    assert "done" in shown and f"diff={done.revision_after}" in shown
    assert f"[[ticket:{number}]]" in shown


def test_refusals_are_shown_on_the_page_and_recorded(web: Web) -> None:
    world = web.world
    number = world.ticket(INFO_WIKIPEDIA)
    missing = unique("Missing page")
    since = world.newest_change()
    jobs = web.job_count()

    response = web.post("Alice", number, kind="revert", page=missing, user="Mallory")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#wiki-actions")
    page = web.page(number)
    reason = f"the page '{missing}' does not exist"
    assert f"The on-wiki action was refused: {reason}" in html.unescape(page)

    # A kind the queue's kind does not allow: refused before any call to the wiki.
    web.post("Alice", number, kind="permission", page="File:Anything.png")
    # No free-text summary reaches the wiki: an unknown field is not read at all.
    web.post("Alice", number, kind="revert", page=missing, user="X", summary="mail text")

    missing_action, permission, second = web.actions(number)
    assert all(a.state == "refused" for a in (missing_action, permission, second))
    assert reason in missing_action.error
    assert missing_action.wiki == world.wiki.api_url  # the queue's, where it would have acted
    assert "only from permissions queues" in permission.error
    assert "mail text" not in str(second.params) and second.summary == ""
    assert web.job_count() == jobs  # nothing queued
    assert world.newest_change() == since  # and nothing done on the wiki

    page = web.page(number)
    shown = row(page, permission.id)
    assert "refused" in shown and "only from permissions queues" in shown
    assert reason in row(page, missing_action.id)
    # Newest first.
    assert page.index(f"wiki-action-{second.id}") < page.index(f"wiki-action-{permission.id}")
    assert page.index(f"wiki-action-{permission.id}") < page.index(
        f"wiki-action-{missing_action.id}"
    )


def test_read_only_volunteers_see_the_list_only_and_others_nothing(web: Web) -> None:
    world = web.world
    title = unique("Page")
    world.wiki.edit(title, "Text", "create", user="Admin")
    number = world.ticket(INFO_WIKIPEDIA)
    action = world.request(number, "Alice", "revert", page=title, user="Mallory")

    web.as_("Mallory")  # ro on info-en, which covers info-en::Wikipedia
    page = web.page(number)
    assert "On-wiki actions" in page and "Alice" in row(page, action.id)
    assert FORM not in page and 'name="kind"' not in page
    response = web.post("Mallory", number, kind="revert", page=title, user="Alice")
    assert response.status_code == 403
    assert len(web.actions(number)) == 1  # not even a refusal is recorded

    # Bob has no access to info-en: the ticket does not exist for him, form or no form.
    web.as_("Bob")
    assert web.client.get(f"/tickets/{number}").status_code == 404
    assert web.post("Bob", number, kind="revert", page=title, user="Alice").status_code == 404
    assert web.post("Bob", number).status_code == 404
    assert len(web.actions(number)) == 1
