"""Verification of edits made on the real test wiki: the wiki's own revision ids, users and
times, checked against what wikibridge recorded (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from tests.wiki.actions_world import INFO_WIKIPEDIA, World, unique
from tests.wiki.test_actions import PENDING
from wikibridge.citations import NO_ACCESS, OK, Citation, check_citations
from wikibridge.models import QueueAccess, utcnow
from wikibridge.verify import check_revision, ticket_facts


def test_edits_on_the_wiki_verify(world: World) -> None:
    with world.sessions.begin() as s:  # the grants are older than any edit of this test
        s.execute(update(QueueAccess).values(granted_at=utcnow() - timedelta(hours=1)))
    api = world.wiki.api_url
    title = world.file(PENDING)
    number = world.ticket()
    done = world.perform(world.request(number, "Alice", "permission", page=title).id)
    assert done.state == "done", done.error
    tagged = world.wiki.revisions(title)[0]
    assert tagged["revid"] == done.revision_after

    # Bob cites an info ticket in an edit summary: he has no access to info queues.
    info_number = world.ticket(INFO_WIKIPEDIA)
    page = unique("Verify sandbox")
    cited = world.wiki.edit(page, "Some text.", f"Per [[ticket:{info_number}]]", user="Bob")

    with world.sessions() as s:
        check = check_revision(s, number, api, tagged["revid"])
        assert (check.ok, check.editor) == (True, "Alice"), check.reason
        assert not check_revision(s, info_number, api, cited["newrevid"]).recorded
        facts = ticket_facts(s, number)
        assert [(a.page, a.revision, a.volunteer) for a in facts.actions] == [
            (title.replace("_", " "), tagged["revid"], "Alice")
        ]

        # What the citation watcher sees in recent changes.
        changes = {rc["revid"]: rc for rc in world.wiki.recent_changes(limit=100)}
        citations = [
            Citation(
                number=num,
                wiki=api,
                page=changes[revid]["title"],
                editor=changes[revid]["user"],
                when=datetime.fromisoformat(changes[revid]["timestamp"]),
                template=template,
            )
            for num, revid, template in [
                (number, tagged["revid"], True),
                (info_number, cited["newrevid"], False),
            ]
        ]
        results = check_citations(s, citations)
    assert [r.reason for r in results] == [OK, NO_ACCESS]
