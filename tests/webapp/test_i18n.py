"""Languages: German from Accept-Language or the menu, English otherwise, a complete catalogue."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import webapp
from webapp.i18n import LANGUAGES
from wikibridge.models import Ticket, Volunteer, utcnow
from wikibridge.store import volunteers

from . import helpers

# The core's refusals carry English templates that pybabel extract finds by these names.
REFUSALS = ("OperationRefused", "TicketNotFound", "ReadOnlyAccess")
TRANSLATIONS = Path(webapp.__file__).parent / "translations"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
# English words of the interface that a German page must never show.
ENGLISH_UI = (
    "Log out",
    "Log in",
    "Reply",
    "Internal note",
    "Queue",
    "Your queues",
    "Your tickets",
    "Search tickets",
    "Statistics",
    "Preferences",
    "Take (lock)",
    "Mark as spam",
    "Requester",
    "History",
)
_LANG = re.compile(r'<html lang="([a-z]+)">')


def _world(session: Session) -> tuple[Volunteer, str]:
    q = helpers.queue(session, "info-de", "info-de@example.org")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, q.id, "rw")
    t = helpers.ticket(session, q, "Eine Frage")
    session.commit()
    return alice, t.number


def _lang(page: str) -> str:
    found = _LANG.search(page)
    assert found is not None
    return found.group(1)


def _visible_text(page: str) -> str:
    """The page without tags, attribute values of tags aside (aria-label, placeholder stay)."""
    return re.sub(r"<[^>]*>", " ", page)


def _english_words(page: str) -> list[str]:
    text = _visible_text(page)
    labels = " ".join(re.findall(r'(?:aria-label|placeholder)="([^"]*)"', page))
    return [w for w in ENGLISH_UI if re.search(rf"\b{re.escape(w)}\b", f"{text} {labels}")]


def test_accept_language_gives_german_pages(client: FlaskClient, session: Session) -> None:
    alice, number = _world(session)
    login = client.get("/login", headers=GERMAN).get_data(as_text=True)
    assert _lang(login) == "de"
    assert "Anmelden" in login and _english_words(login) == []

    helpers.login(client, alice)
    dashboard = client.get("/", headers=GERMAN).get_data(as_text=True)
    assert "Ihre Warteschlangen" in dashboard and "Abmelden" in dashboard
    assert _english_words(dashboard) == []

    ticket = client.get(f"/tickets/{number}", headers=GERMAN).get_data(as_text=True)
    assert _lang(ticket) == "de"
    for german in ("Warteschlange", "Ticket übernehmen", "Per E-Mail antworten", "Interne Notiz"):
        assert german in ticket
    assert _english_words(ticket) == []

    reply = client.get(f"/tickets/{number}/reply", headers=GERMAN).get_data(as_text=True)
    assert "Antworten" in reply and _english_words(reply) == []


def test_english_by_default_and_for_unsupported_languages(
    client: FlaskClient, session: Session
) -> None:
    for headers in ({}, {"Accept-Language": "fr-FR,fr;q=0.9,ja;q=0.5"}):
        page = client.get("/login", headers=headers).get_data(as_text=True)
        assert _lang(page) == "en"
        assert "Log in" in page and "Anmelden" not in page
    # Among supported languages the browser's best one wins.
    best = client.get("/login", headers={"Accept-Language": "fr, de;q=0.8, en;q=0.5"})
    assert _lang(best.get_data(as_text=True)) == "de"


def test_the_menu_chooses_the_language_for_the_session(
    client: FlaskClient, session: Session
) -> None:
    alice, number = _world(session)
    page = client.get("/login").get_data(as_text=True)
    assert 'value="en"' in page and ">English<" in page and ">Deutsch<" in page
    token = helpers.csrf_token(client)

    # Without the CSRF token the choice is refused.
    assert client.post("/language", data={"language": "de"}).status_code == 400
    response = client.post(
        "/language", data={"language": "de", "next": "/login", "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    # The choice beats the browser's Accept-Language, and survives the login.
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(page) == "de"
    with client.session_transaction() as sess:
        sess["volunteer_id"] = alice.id
    page = client.get(f"/tickets/{number}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Interne Notiz" in page and _english_words(page) == []

    # An unknown choice changes nothing; English can be chosen back; foreign targets are refused.
    client.post("/language", data={"language": "xx", "csrf_token": token})
    assert "Interne Notiz" in client.get(f"/tickets/{number}").get_data(as_text=True)
    response = client.post(
        "/language", data={"language": "en", "next": "https://evil.example/", "csrf_token": token}
    )
    assert response.status_code == 303 and "evil" not in response.headers["Location"]
    page = client.get(f"/tickets/{number}", headers=GERMAN).get_data(as_text=True)
    assert _lang(page) == "en" and "Internal note" in page


def test_logout_keeps_the_language(client: FlaskClient, session: Session) -> None:
    alice, _ = _world(session)
    helpers.login(client, alice)
    token = helpers.csrf_token(client, "/")
    client.post("/language", data={"language": "de", "csrf_token": token})
    page = client.post("/logout", data={"csrf_token": token}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Sie sind abgemeldet." in text and _lang(text) == "de"


def test_flash_messages_and_error_pages_are_german(client: FlaskClient, session: Session) -> None:
    alice, number = _world(session)
    token = _in_german(client, alice)
    page = _note(client, number, "Eine Notiz", token)
    assert "Ihre Notiz ist hinzugefügt." in page and "Interne Notiz" in page
    missing = client.get("/tickets/2099010110000001")
    assert missing.status_code == 404 and "Nicht gefunden" in missing.get_data(as_text=True)


def _strings(string: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string or ())


def test_the_cores_refusals_are_german(client: FlaskClient, session: Session) -> None:
    """A refusal from the core (here: someone else holds the lock) is shown translated, its
    values filled in."""
    alice, number = _world(session)
    bob = helpers.volunteer(session, "Bob")
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
    volunteers.grant(session, bob.id, ticket.queue_id, "rw")
    ticket.owner_id, ticket.locked_until = bob.id, utcnow() + timedelta(minutes=30)
    session.commit()
    token = _in_german(client, alice)
    page = _note(client, number, "Eine Notiz", token)
    assert f"Ticket#{number} ist von Bob bis " in page and "gesperrt; warten Sie" in page
    assert "Die Notiz ist leer." in _note(client, number, " ", token)


def _in_german(client: FlaskClient, volunteer: Volunteer) -> str:
    """Logged in, the language menu set to German; the CSRF token of the session."""
    helpers.login(client, volunteer)
    token = helpers.csrf_token(client, "/")
    client.post("/language", data={"language": "de", "csrf_token": token})
    return token


def _note(client: FlaskClient, number: str, text: str, token: str) -> str:
    """The page after adding a note (or being refused)."""
    response = client.post(
        f"/tickets/{number}/note",
        data={"text": text, "csrf_token": token},
        follow_redirects=True,
    )
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_the_catalogue_is_complete_and_compiled(language: str) -> None:
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    catalogue = read_po((folder / "messages.po").open("rb"))
    compiled = read_mo((folder / "messages.mo").open("rb"))
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id}
    untranslated = []
    for msgid in sorted(ids, key=str):
        message = catalogue.get(msgid if isinstance(msgid, str) else msgid[0])
        strings = () if message is None else _strings(message.string)
        if message is None or message.fuzzy or not all(strings):
            untranslated.append(msgid)
            continue
        done = compiled.get(message.id if isinstance(message.id, str) else message.id[0])
        assert done is not None and _strings(done.string) == strings, f"{msgid}: compile again"
    assert untranslated == []


def test_every_marked_string_is_in_the_template() -> None:
    """The .pot is up to date: extracting again finds no msgid it lacks."""
    from babel.messages.extract import extract_from_dir

    root = Path(webapp.__file__).parent.parent
    method_map = [
        ("webapp/**.py", "python"),
        ("wikibridge/tickets/**.py", "python"),  # refusals the core explains to volunteers
        ("webapp/templates/**.html", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    keywords |= {name: None for name in REFUSALS}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    assert sorted(m for m in found if template.get(m) is None) == []
