"""The ticket page's actions over HTTP: POST only, CSRF, rw access, redirect with a message;
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from wikibridge.models import Article, CannedResponse, OutboxJob, Queue, Ticket, Volunteer, utcnow
from wikibridge.store import articles, audit, canned, queues, tickets, volunteers

from . import helpers

INBOUND_ID = "question.1@mail.example.net"


@dataclass
class Site:
    session: Session
    client: FlaskClient
    info: Queue
    press: Queue
    alice: Volunteer  # rw on info and press
    bob: Volunteer  # rw on info
    carol: Volunteer  # ro on info
    dave: Volunteer  # nothing
    ticket: Ticket

    def as_(self, v: Volunteer) -> str:
        """Log in as `v`; returns a CSRF token of the new session."""
        helpers.login(self.client, v)
        return helpers.csrf_token(self.client, "/")

    def post(self, v: Volunteer, action: str, number: str = "", **form: object) -> TestResponse:
        number = number or self.ticket.number
        v.id  # noqa: B018 - loaded now, inside the test's transaction
        # End the test's own transaction (on SQLite a writing one blocks the app); a commit,
        # unlike a rollback, leaves the loaded objects usable without a new query.
        self.session.commit()
        token = self.as_(v)
        return self.client.post(f"/tickets/{number}/{action}", data={"csrf_token": token, **form})

    def refresh(self, t: Ticket | None = None) -> Ticket:
        self.session.expire_all()
        found = self.session.get(Ticket, (t or self.ticket).id)
        assert found is not None
        return found

    def actions(self, t: Ticket | None = None) -> list[str]:
        return [e.action for e in audit.for_ticket(self.session, (t or self.ticket).id)]


@pytest.fixture
def site(client: FlaskClient, session: Session) -> Site:
    info = helpers.queue(session, "info-en", "info-en@example.org")
    info.signature = "Regards,\n{volunteer}\n{queue}"
    press = helpers.queue(session, "press", "press@example.org", kind="press")
    people = {}
    for name, grants in {
        "Alice": [(info, "rw"), (press, "rw")],
        "Bob": [(info, "rw")],
        "Carol": [(info, "ro")],
        "Dave": [],
    }.items():
        v = helpers.volunteer(session, name)
        for q, level in grants:
            volunteers.grant(session, v.id, q.id, level)
        people[name] = v
    ticket = helpers.ticket(session, info, "Wrong birth date")
    _inbound(session, ticket, INBOUND_ID)
    session.commit()
    return Site(session, client, info, press, *people.values(), ticket)


def _inbound(session: Session, t: Ticket, message_id: str) -> Article:
    return articles.add(
        session,
        Article(
            ticket_id=t.id,
            kind="inbound",
            sender="reader@example.net",
            sender_address="reader@example.net",
            subject=t.title,
            body_text="Hello.",
            message_id=message_id,
        ),
    )


def redirected_to(response: TestResponse, path: str) -> None:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].split("#")[0] == path


def page(site: Site, path: str = "") -> str:
    response = site.client.get(path or f"/tickets/{site.ticket.number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_read_only_volunteer_sees_no_forms_and_gets_403(site: Site) -> None:
    site.as_(site.carol)
    html = page(site)
    assert "Wrong birth date" in html
    assert "/take" not in html and "/reply" not in html and "Actions" not in html
    response = site.post(site.carol, "take")
    assert response.status_code == 403
    assert "read-only access" in response.get_data(as_text=True)
    assert site.client.get(f"/tickets/{site.ticket.number}/reply").status_code == 403
    assert site.refresh().owner_id is None


def test_no_access_is_404_and_so_is_no_ticket(site: Site) -> None:
    assert site.post(site.dave, "take").status_code == 404
    assert site.post(site.dave, "note", text="hi").status_code == 404
    assert site.post(site.alice, "take", number="2099010110000001").status_code == 404
    assert site.client.get(f"/tickets/{site.ticket.number}/reply").status_code == 200
    assert site.actions() == []


def test_csrf_and_methods(site: Site) -> None:
    helpers.login(site.client, site.alice)
    number = site.ticket.number
    response = site.client.post(f"/tickets/{number}/take")
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    response = site.client.post(f"/tickets/{number}/take", data={"csrf_token": "forged"})
    assert response.status_code == 400
    for action in ("take", "release", "note", "state", "move", "merge", "split", "link", "spam"):
        assert site.client.get(f"/tickets/{number}/{action}").status_code == 405, action
    assert site.refresh().owner_id is None


def test_take_and_release(site: Site) -> None:
    response = site.post(site.alice, "take")
    redirected_to(response, f"/tickets/{site.ticket.number}")
    html = page(site)
    assert "You hold Ticket#" in html and "you hold the lock until" in html
    assert site.refresh().owner_id == site.alice.id

    # Bob sees who holds it, and no forms to act with; his POSTs are refused with a message.
    site.as_(site.bob)
    html = page(site)
    assert "Locked by Alice until" in html and "/note" not in html
    response = site.post(site.bob, "note", text="Mine now")
    redirected_to(response, f"/tickets/{site.ticket.number}")
    assert "locked by Alice" in page(site)
    assert site.actions() == ["lock_taken"]

    redirected_to(site.post(site.alice, "release"), f"/tickets/{site.ticket.number}")
    assert "is released" in page(site)
    assert site.refresh().locked_until is None
    assert site.actions() == ["lock_taken", "lock_released"]


def test_an_expired_lock_can_be_taken_over(site: Site) -> None:
    site.post(site.alice, "take")
    site.ticket = site.refresh()
    site.ticket.locked_until = utcnow() - timedelta(minutes=1)
    site.session.commit()
    site.post(site.bob, "take")
    assert site.refresh().owner_id == site.bob.id


def test_note_and_state_changes(site: Site) -> None:
    redirected_to(
        site.post(site.bob, "note", text="Checked the <b>sources</b>."),
        f"/tickets/{site.ticket.number}",
    )
    html = page(site)
    assert "Internal note" in html and "Checked the &lt;b&gt;sources&lt;/b&gt;." in html

    site.post(site.bob, "state", state="pending reminder", pending_until="")
    assert "needs a date and time" in page(site)
    when = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    site.post(site.bob, "state", state="pending reminder", pending_until=when)
    assert "is now pending reminder" in page(site)
    ticket = site.refresh()
    assert ticket.state == "pending reminder" and ticket.pending_until is not None

    site.post(site.bob, "state", state="closed successful", pending_until=when)
    assert site.refresh().closed_at is not None
    site.post(site.bob, "state", state="pending auto close+", pending_until=when)
    assert "cannot go from" in page(site)
    site.post(site.bob, "state", state="merged")
    assert site.refresh().state == "closed successful"
    assert site.actions() == ["note_added", "state_changed", "state_changed"]


def test_move_and_spam(site: Site) -> None:
    site.post(site.bob, "move", queue_id=site.press.id)
    assert "write access" in page(site)
    site.post(site.alice, "move", queue_id="not a number")
    assert "incomplete" in page(site)
    redirected_to(
        site.post(site.alice, "move", queue_id=site.press.id), f"/tickets/{site.ticket.number}"
    )
    assert site.refresh().queue_id == site.press.id

    other = helpers.ticket(site.session, site.info, "Buy cheap pills")
    site.session.commit()
    redirected_to(site.post(site.bob, "spam", number=other.number), f"/queues/{site.info.id}")
    assert "marked as spam" in page(site, f"/queues/{site.info.id}")
    other = site.refresh(other)
    assert other.state == "closed unsuccessful"
    spam = queues.by_name(site.session, "Junk")
    assert spam is not None and other.queue_id == spam.id
    assert site.client.get(f"/tickets/{other.number}").status_code == 404  # out of Bob's sight


def test_merge_split_and_links(site: Site) -> None:
    a, number = site.ticket, site.ticket.number
    b = helpers.ticket(site.session, site.info, "Same question again")
    follow_up = _inbound(site.session, a, "second@mail.example.net")
    site.session.commit()

    redirected_to(site.post(site.bob, "link", other=b.number, kind="child"), f"/tickets/{number}")
    assert f'child: <a href="/tickets/{b.number}">' in page(site)
    assert f'parent: <a href="/tickets/{number}">' in page(site, f"/tickets/{b.number}")
    [link] = [e for e in audit.for_ticket(site.session, a.id) if e.action == "linked"]

    split = site.post(site.bob, "split", article_id=follow_up.id)
    assert split.status_code == 303
    new_number = split.headers["Location"].rsplit("/", 1)[1]
    new = tickets.by_number(site.session, new_number)
    assert new is not None and new.queue_id == site.info.id
    assert [x.id for x in articles.for_ticket(site.session, new.id)] == [follow_up.id]
    assert "is moved from Ticket#" in page(site, f"/tickets/{new_number}")

    redirected_to(site.post(site.bob, "merge", target=b.number), f"/tickets/{b.number}")
    html = page(site, f"/tickets/{b.number}")
    assert "Merged here" in html and f"Ticket#{number}" in html
    html = page(site)
    assert "Merged into" in html and "Actions" not in html  # a merged ticket takes no action
    site.post(site.bob, "merge", number=b.number, target=number)
    assert "cycle" in page(site, f"/tickets/{b.number}")
    assert site.refresh(b).state == "new"
    assert link.detail["kind"] == "child"


def test_unlink(site: Site) -> None:
    b = helpers.ticket(site.session, site.info, "Related")
    site.session.commit()
    site.post(site.bob, "link", other=b.number, kind="related")
    html = page(site)
    link_id = html.split('name="link_id" value="', 1)[1].split('"', 1)[0]
    redirected_to(site.post(site.bob, "unlink", link_id=link_id), f"/tickets/{site.ticket.number}")
    assert "The link to Ticket#" in page(site)
    assert site.actions() == ["linked", "unlinked"]


def test_reply_with_a_canned_response(site: Site) -> None:
    response_text = canned.add(
        site.session,
        CannedResponse(queue_id=site.info.id, name="Fixed", body="We fixed ticket {ticket}."),
    )
    site.session.commit()
    number = site.ticket.number
    site.as_(site.alice)
    html = page(site, f"/tickets/{number}/reply")
    assert "Fixed" in html and 'value="reader@example.net"' in html
    html = page(site, f"/tickets/{number}/reply?canned={response_text.id}")
    assert f"We fixed ticket {number}." in html and "Regards,\nAlice\ninfo-en" in html
    body = html.split('name="body" rows="18" required>\n', 1)[1].split("</textarea>", 1)[0]

    token = helpers.csrf_token(site.client, f"/tickets/{number}/reply")
    response = site.client.post(
        f"/tickets/{number}/reply",
        data={
            "csrf_token": token,
            "to": "reader@example.net",
            "cc": "",
            "subject": "Re: Wrong birth date",
            "body": body,
            "state": "open",
            "files": (io.BytesIO(b"%PDF-1.4 proof"), "proof.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    redirected_to(response, f"/tickets/{number}")
    html = page(site)
    assert "Your reply is on its way." in html and "proof.pdf" in html
    [reply] = [a for a in articles.for_ticket(site.session, site.ticket.id) if a.kind == "outbound"]
    assert reply.body_text.endswith("Regards,\nAlice\ninfo-en")
    assert reply.in_reply_to == INBOUND_ID
    [job] = site.session.query(OutboxJob).all()
    assert job.kind == "send_mail" and job.payload == {"article_id": reply.id}
    assert site.refresh().state == "open"


@pytest.mark.parametrize("field", ["to", "cc", "subject"])
def test_reply_header_injection_is_refused_and_the_text_kept(site: Site, field: str) -> None:
    form = {
        "to": "reader@example.net",
        "cc": "",
        "subject": "Re: question",
        "body": "My long careful answer.",
        "state": "open",
    }
    form[field] = "reader@example.net\r\nBcc: everyone@example.org"
    response = site.post(site.alice, "reply", **form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "one line" in html and "My long careful answer." in html
    assert site.session.query(OutboxJob).count() == 0
    assert [a.kind for a in articles.for_ticket(site.session, site.ticket.id)] == ["inbound"]


def test_queue_view_and_dashboard_after_actions(site: Site) -> None:
    site.post(site.alice, "take")
    site.post(site.alice, "note", text="Working on it.")
    assert site.ticket.number in page(site, "/")
    assert site.ticket.number in page(site, f"/queues/{site.info.id}")
