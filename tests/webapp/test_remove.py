"""Soft delete from the ticket page: queue admins only, audited; the ticket vanishes from lists,
search and the ticket page, and public verification says "removed"."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import Ticket
from wikibridge.store import audit, volunteers

from . import helpers


def test_a_queue_admin_deletes_a_ticket_others_cannot(
    client: FlaskClient, session: Session
) -> None:
    info = helpers.queue(session, "info-en", "info-en@example.org")
    admin = helpers.volunteer(session, "Queenie")
    worker = helpers.volunteer(session, "Walter")
    volunteers.grant(session, admin.id, info.id, "admin")
    volunteers.grant(session, worker.id, info.id, "rw")
    ticket = helpers.ticket(session, info, "Zanzibar question")
    number, ticket_id, queue_id = ticket.number, ticket.id, info.id
    session.commit()

    def post(v: object) -> str:
        helpers.login(client, v)  # type: ignore[arg-type]
        session.commit()  # loading `v` again must not keep SQLite's write lock from the app
        token = helpers.csrf_token(client, "/")
        response = client.post(f"/tickets/{number}/remove", data={"csrf_token": token})
        assert response.status_code == 303
        return str(response.headers["Location"])

    # A volunteer with write access sees no button, and is refused.
    helpers.login(client, worker)
    assert "Delete the ticket" not in client.get(f"/tickets/{number}").get_data(as_text=True)
    post(worker)
    session.expire_all()
    assert session.get(Ticket, ticket_id).removed_at is None  # type: ignore[union-attr]
    session.commit()  # the test's own read must not hold SQLite's write lock

    helpers.login(client, admin)
    assert "Delete the ticket" in client.get(f"/tickets/{number}").get_data(as_text=True)
    assert post(admin) == f"/queues/{queue_id}"
    session.expire_all()
    removed = session.get(Ticket, ticket_id)
    assert removed is not None and removed.removed_at is not None  # the row stays
    assert "ticket_removed" in [e.action for e in audit.for_ticket(session, ticket_id)]
    session.commit()

    assert client.get(f"/tickets/{number}").status_code == 404
    assert number not in client.get(f"/queues/{queue_id}").get_data(as_text=True)
    assert number not in client.get("/search?q=Zanzibar").get_data(as_text=True)
    facts = client.get(f"/api/v1/verify/{number}").get_json()
    assert facts["exists"] is True and facts["status"] == "removed"
    page = client.get(f"/verify?number={number}", headers={"Accept-Language": "de"}).get_data(
        as_text=True
    )
    assert "seine Nummer bleibt vergeben" in page
