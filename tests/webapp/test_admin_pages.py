"""Queue, routing-rule, canned-response and news pages: what an admin sees and changes."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.store import queues

from ..admin_audit import events, last
from . import admin_support

MESSAGE = (
    "From: Reporter <reporter@news.example>\r\n"
    "To: info-en@example.org\r\n"
    "Subject: Press enquiry\r\n"
    "Message-ID: <p1@news.example>\r\n"
    "\r\n"
    "Hello, I write for a newspaper.\r\n"
)
SETTINGS = {"kind": "info", "language": "en"}


def test_queue_tree_create_rename_addresses(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.admin)
    status, location, page = admin_support.post(
        client, "/admin/queues/new", token, label="BLP", parent_id=str(w.sub.id), **SETTINGS
    )
    assert status == 303 and "Queue info-en::Wikipedia::BLP created." in page
    blp = queues.by_name(session, "info-en::Wikipedia::BLP")
    session.commit()
    assert blp is not None and location == f"/admin/queues/{blp.id}"
    tree = client.get("/admin/queues").get_data(as_text=True)
    assert tree.index(">info-en<") < tree.index(">info-en::Wikipedia<") < tree.index("BLP")

    _, _, page = admin_support.post(
        client,
        f"/admin/queues/{w.sub.id}/rename",
        token,
        label="English Wikipedia",
        parent_id=str(w.info.id),
    )
    assert "The queue is now info-en::English Wikipedia." in page
    assert "info-en::English Wikipedia::BLP" in client.get("/admin/queues").get_data(as_text=True)

    status, _, page = admin_support.post(
        client, f"/admin/queues/{w.sub.id}", token, kind="press", language="xx-not valid"
    )
    assert status == 400 and "language code" in page
    assert 'value="xx-not valid"' in page  # what was entered stays in the form

    address = f"/admin/queues/{w.sub.id}/addresses"
    _, _, page = admin_support.post(client, address, token, address="press@example.org")
    assert "press@example.org already belongs to the queue press." in page
    _, _, page = admin_support.post(client, address, token, address="wp@example.org")
    assert "wp@example.org added." in page
    assert last(session, "queue_address_added")[0] == w.admin.id


def test_invalid_pattern_gives_a_clear_error(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.admin)
    form = {"name": "Commons", "field": "recipient", "queue_id": str(w.sub.id), "enabled": "on"}
    status, _, page = admin_support.post(
        client, "/admin/rules/new", token, pattern="permissions-[a-z", **form
    )
    assert status == 400
    assert "The pattern is not a valid regular expression: unterminated character set" in page
    assert 'value="permissions-[a-z"' in page
    assert events(session, "rule_created") == []
    status, location, page = admin_support.post(
        client, "/admin/rules/new", token, pattern="permissions-[a-z]+@example\\.org", **form
    )
    assert location == "/admin/rules" and "Rule Commons created." in page
    assert page.index(">Press</a>") < page.index(">Commons</a>")  # new rules go last
    new_id = last(session, "rule_created")[1]["rule_id"]
    _, _, page = admin_support.post(client, f"/admin/rules/{new_id}/move", token, direction="up")
    assert page.index(">Commons</a>") < page.index(">Press</a>")
    _, _, page = admin_support.post(client, f"/admin/rules/{w.rule.id}/enabled", token)
    assert "Rule Press disabled." in page
    assert last(session, "rule_disabled")[1] == {"rule_id": w.rule.id}


def test_rule_preview_shows_the_matching_rule(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.admin)
    status, _, page = admin_support.post(client, "/admin/rules/preview", token, message=MESSAGE)
    assert status == 200
    assert '<dt>Matching rule</dt><dd class="verdict">Press</dd>' in page
    assert '<dt>Queue</dt><dd class="verdict">press' in page

    # Trying an edited rule on the rule's page: nothing is saved.
    form = {"name": "Press", "field": "subject", "queue_id": str(w.press.id), "enabled": "on"}
    status, _, page = admin_support.post(
        client,
        f"/admin/rules/{w.rule.id}",
        token,
        do="try",
        pattern="sports",
        message=MESSAGE,
        **form,
    )
    assert status == 200
    assert '<dt>This rule</dt><dd class="verdict">does not match</dd>' in page
    assert '<dt>Queue</dt><dd class="verdict">info-en' in page  # by its address now
    assert events(session, "rule_updated") == []
    status, _, page = admin_support.post(
        client, f"/admin/rules/{w.rule.id}", token, do="try", pattern="(", message=MESSAGE, **form
    )
    assert status == 400 and "not a valid regular expression" in page

    status, _, page = admin_support.post(client, "/admin/rules/preview", token, message="")
    assert status == 400 and "Paste a whole message" in page


def test_canned_responses_page_documents_the_variables(
    client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.queue_admin)
    page = client.get("/admin/canned/new").get_data(as_text=True)
    for name in ("{ticket}", "{requester}", "{queue}", "{volunteer}"):
        assert f"<code>{name}</code>" in page
    assert "(global" not in page  # queue admins write canned responses for their queues only
    status, _, page = admin_support.post(
        client,
        "/admin/canned/new",
        token,
        queue_id=str(w.sub.id),
        name="Sources",
        subject="Re: [Ticket#{ticket}]",
        body="Dear {requester},",
        language="en",
    )
    assert status == 303 and "Canned response Sources created." in page
    assert last(session, "canned_created")[0] == w.queue_admin.id
    status, _, _ = admin_support.post(
        client, "/admin/canned/new", token, name="Everywhere", body="Hello"
    )
    assert status == 404  # a global one is for global admins


def test_news_written_by_an_admin_show_on_the_login_page(
    client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.admin)
    status, _, page = admin_support.post(
        client,
        "/admin/news/new",
        token,
        title="Maintenance on Sunday",
        body="Two hours.",
        published="on",
    )
    assert status == 303 and "Maintenance on Sunday" in page
    assert last(session, "news_created")[0] == w.admin.id
    admin_support.post(client, "/logout", token)
    login = client.get("/login").get_data(as_text=True)
    assert "Maintenance on Sunday" in login and "Two hours." in login
    assert login.index("Maintenance on Sunday") < login.index("Welcome")  # newest first
