"""The ticket page's "On-wiki actions" panel without a wiki: the list in one query, the forms
offered per queue kind and access, German words; on SQLite and PostgreSQL. (Starting actions
against the real test wiki: tests/wiki/test_panel.py.)"""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import Queue, Ticket, utcnow
from wikibridge.store import queues, volunteers
from wikibridge.store import wiki_actions as store

from . import helpers

FORM = "/wiki-actions"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _queue(session: Session, name: str, kind: str, wiki: str = "commons") -> Queue:
    return queues.ensure(session, name, kind, wiki=wiki)


def _action(session: Session, ticket: Ticket, volunteer_id: int | None, **fields: object) -> int:
    values: dict[str, object] = {
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "volunteer_id": volunteer_id,
        "kind": "permission",
        "wiki": "commons",
        "page": "File:Red square.png",
        "summary": f"Permission confirmed per [[ticket:{ticket.number}]] ([[COM:VRT]])",
        "state": "done",
        "revision_before": 100,
        "revision_after": 101,
        "done_at": utcnow(),
        **fields,
    }
    return store.add(session, **values).id


def _statements(app: Flask, client: FlaskClient, url: str) -> list[str]:
    """The SQL the app runs to answer a GET."""
    with helpers.sql_statements(app) as seen:
        assert client.get(url).status_code == 200
    return seen


def test_the_list_is_one_query_whatever_the_number_of_actions_and_volunteers(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    q = _queue(session, "permissions-commons", "permissions")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, q.id, "rw")
    one, many = helpers.ticket(session, q), helpers.ticket(session, q)
    _action(session, one, alice.id)
    names = []
    for i in range(6):
        v = helpers.volunteer(session, f"Volunteer{i}")
        volunteers.grant(session, v.id, q.id, "rw")
        _action(session, many, v.id, page=f"File:Square {i}.png")
        names.append(v.username)
    bot = _action(session, many, None, kind="notice", page="User talk:Uploader")
    session.commit()
    helpers.login(client, alice)

    few = _statements(app, client, f"/tickets/{one.number}")
    lots = _statements(app, client, f"/tickets/{many.number}")
    assert len(lots) == len(few) > 0
    assert len([s for s in lots if "FROM wiki_actions" in s]) == 1

    page = html.unescape(client.get(f"/tickets/{many.number}").get_data(as_text=True))
    for name in names:
        assert f"<td>{name}</td>" in page
    bot_row = re.search(rf'<tr id="wiki-action-{bot}".*?</tr>', page, re.S)
    assert bot_row and "<td>bot</td>" in bot_row.group(0)
    # Newest first; links to the wiki by its site code.
    assert page.index("File:Square 5.png") < page.index("File:Square 0.png")
    commons = "https://commons.wikimedia.org/w/index.php"
    assert f'href="{commons}?title=File:Square_0.png"' in page
    assert f'href="{commons}?diff=101&oldid=100"' in page
    assert f'href="{commons}?oldid=100"' in page


def test_forms_follow_the_queue_kind_and_the_access(client: FlaskClient, session: Session) -> None:
    permissions = _queue(session, "permissions-commons", "permissions")
    info = _queue(session, "info-en", "info", wiki="enwiki")
    spam = _queue(session, "spam", "spam")
    nowhere = _queue(session, "press", "press", wiki="")
    alice = helpers.volunteer(session, "Alice")
    carol = helpers.volunteer(session, "Carol")
    for q in (permissions, info, spam, nowhere):
        volunteers.grant(session, alice.id, q.id, "rw")
        volunteers.grant(session, carol.id, q.id, "ro")
    tickets = {q.name: helpers.ticket(session, q) for q in (permissions, info, spam, nowhere)}
    merged = helpers.ticket(session, permissions, state="merged")
    merged.merged_into_id = tickets["permissions-commons"].id
    done = _action(session, tickets["info-en"], alice.id, kind="revert", wiki="enwiki")
    session.commit()

    def kinds(number: str) -> set[str]:
        page = client.get(f"/tickets/{number}").get_data(as_text=True)
        assert "On-wiki actions" in page
        hidden = re.findall(r'name="kind" value="([a-z_]+)"', page)
        template = re.search(
            r'<select id="wa-permission-kind" name="kind">(.*?)</select>', page, re.S
        )
        options = re.findall(r'value="([a-z_]+)"', template.group(1)) if template else []
        return set(hidden) | set(options)

    helpers.login(client, alice)
    assert kinds(tickets["permissions-commons"].number) == {
        "revert",
        "permission",
        "permission_received",
        "hide",
        "notice",
    }
    assert kinds(tickets["info-en"].number) == {"revert", "hide", "notice"}
    assert kinds(tickets["spam"].number) == set()
    assert kinds(tickets["press"].number) == set()  # the queue names no wiki
    assert kinds(merged.number) == set()

    helpers.login(client, carol)
    page = client.get(f"/tickets/{tickets['info-en'].number}").get_data(as_text=True)
    assert f'id="wiki-action-{done}"' in page and FORM not in page
    assert 'href="https://en.wikipedia.org/w/index.php?diff=101&amp;oldid=100"' in page


def test_the_panel_speaks_german(client: FlaskClient, session: Session) -> None:
    q = _queue(session, "permissions-commons", "permissions")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, q.id, "rw")
    t = helpers.ticket(session, q)
    _action(session, t, alice.id, state="failed", error="the page is protected")
    session.commit()
    helpers.login(client, alice)
    page = client.get(f"/tickets/{t.number}", headers=GERMAN).get_data(as_text=True)
    for german in ("Aktionen im Wiki", "fehlgeschlagen", "Zurücksetzen", "Diskussionsseite"):
        assert german in page, german
    for english in ("On-wiki actions", "Queue the revert", "Edit summary", "failed<"):
        assert english not in page, english
