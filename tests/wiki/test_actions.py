"""On-wiki actions against the real test wiki, on SQLite and on PostgreSQL.

Every action makes its edit on the wiki; the wiki's own record (revisions, recent changes,
log) shows ``[[ticket:N]]``; the WikiAction holds the wiki's revision ids; running a job again
makes no second edit.
"""

from __future__ import annotations

from tests.wiki.actions_world import INFO_WIKIPEDIA, POLICY_LINK, World, unique
from wikibridge.wiki.actions import WIKI_ACTION_JOB, handle_wiki_action_job

PENDING = (
    "=={{int:filedesc}}==\n"
    "{{Information\n|description={{en|1=A red square}}\n|date=2024-01-02\n|source=Own work\n"
    "|author=Carol\n|permission={{Permission pending|year=2024|month=January|day=2}}\n"
    "|other versions=\n}}\n\n=={{int:license-header}}==\n{{self|cc-by-sa-4.0}}\n"
)


def cites(number: str, purpose: str) -> str:
    return f"{purpose} per [[ticket:{number}]] ({POLICY_LINK})"


def test_permission_tag_is_one_edit_by_the_volunteer(world: World) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title)
    assert action.state == "queued"
    job = world.jobs()[-1]
    assert (job.kind, job.payload, job.id) == (
        WIKI_ACTION_JOB,
        {"action_id": action.id},
        action.outbox_job_id,
    )
    before = world.wiki.revisions(title)

    done = world.perform(action.id)

    assert done.state == "done", done.error
    text = world.wiki.page_text(title)
    assert text is not None
    assert f"|permission={{{{PermissionTicket|id={number}|user=Alice}}}}\n" in text
    assert "Permission pending" not in text
    revisions = world.wiki.revisions(title)
    assert len(revisions) == len(before) + 1
    top = revisions[0]
    assert (top["user"], top["comment"]) == ("Alice", cites(number, "Permission confirmed"))
    assert (done.revision_before, done.revision_after) == (before[0]["revid"], top["revid"])
    change = next(rc for rc in world.wiki.recent_changes() if rc["revid"] == top["revid"])
    assert f"[[ticket:{number}]]" in change["comment"]
    assert world.audit_actions(action.id) == ["wiki_action_requested", "wiki_action_done"]

    # The job again (a second worker, a redelivery): no second edit.
    assert world.perform(action.id).revision_after == top["revid"]
    payload = {"action_id": action.id}
    assert handle_wiki_action_job(payload, world.settings, world.sessions, world.credentials_for)
    assert len(world.wiki.revisions(title)) == len(revisions)

    # Another volunteer tagging the same file for the same ticket: no edit at all.
    again = world.perform(world.request(number, "Bob", "permission", page=title).id)
    assert (again.state, again.revision_after) == ("done", None)
    assert "already carries the template" in again.error
    assert len(world.wiki.revisions(title)) == len(revisions)


def test_permission_received(world: World) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Bob", "permission_received", page=title, reason="insufficient")
    done = world.perform(action.id)
    assert done.state == "done", done.error
    text = world.wiki.page_text(title) or ""
    assert f"{{{{Permission received|id={number}|year=" in text
    assert "|user=Bob|reason=insufficient}}" in text
    top = world.wiki.revisions(title)[0]
    assert (top["user"], top["comment"]) == (
        "Bob",
        cites(number, "Permission received, not sufficient yet"),
    )
    assert done.revision_after == top["revid"]


def test_rollback_of_a_users_top_edits(world: World) -> None:
    title = unique("Rollback")
    world.wiki.edit(title, "A fair article.", "create", user="Alice")
    good = world.wiki.revisions(title)[0]["revid"]
    world.wiki.edit(title, "A fair article. Claim one.", "add", user="Mallory")
    world.wiki.edit(title, "A fair article. Claim one. Claim two.", "add", user="Mallory")
    last_bad = world.wiki.revisions(title)[0]["revid"]
    number = world.ticket(INFO_WIKIPEDIA)

    action = world.request(
        number, "Admin", "revert", page=title, user="Mallory", purpose="unsourced"
    )
    done = world.perform(action.id)

    assert done.state == "done", done.error
    assert world.wiki.page_text(title) == "A fair article."
    top = world.wiki.revisions(title)[0]
    assert (top["user"], top["comment"]) == ("Admin", cites(number, "Removing unsourced claims"))
    assert (done.revision_before, done.revision_after) == (last_bad, top["revid"])
    assert top["revid"] != good
    world.perform(action.id)
    assert world.wiki.revisions(title)[0]["revid"] == top["revid"]


def test_undo_of_one_revision(world: World) -> None:
    title = unique("Undo")
    world.wiki.edit(title, "line one\n\nline two\n\nline three", "create", user="Bob")
    world.wiki.edit(
        title, "line one\n\nline two: private@example.org\n\nline three", "x", user="Mallory"
    )
    bad = world.wiki.revisions(title)[0]["revid"]
    world.wiki.edit(title, "line one\n\nline two: private@example.org\n\nline 3", "y", user="Bob")
    number = world.ticket(INFO_WIKIPEDIA)

    done = world.perform(
        world.request(
            number, "Alice", "revert", page=title, revision=bad, purpose="personal_data"
        ).id
    )

    assert done.state == "done", done.error
    assert world.wiki.page_text(title) == "line one\n\nline two\n\nline 3"
    top = world.wiki.revisions(title)[0]
    assert (top["user"], top["comment"]) == (
        "Alice",
        cites(number, "Removing personal information"),
    )
    assert done.revision_after == top["revid"]


def test_hide_a_revisions_text(world: World) -> None:
    title = unique("Hide")
    world.wiki.edit(title, "harmless", "create", user="Bob")
    world.wiki.edit(title, "my phone is 555-0100", "oops", user="Mallory")
    secret = world.wiki.revisions(title)[0]["revid"]
    world.wiki.edit(title, "harmless", "revert", user="Bob")
    number = world.ticket(INFO_WIKIPEDIA)

    done = world.perform(world.request(number, "Admin", "hide", page=title, revision=secret).id)

    assert done.state == "done", done.error
    assert (done.revision_before, done.revision_after) == (secret, None)
    hidden = {r["revid"]: r for r in world.wiki.revisions(title, content=True)}[secret]
    assert hidden.get("texthidden") or hidden["slots"]["main"].get("texthidden")
    assert not hidden.get("commenthidden")
    logs = [
        rc
        for rc in world.wiki.recent_changes(rctype="log")
        if rc["logtype"] == "delete" and rc["title"] == title
    ]
    assert len(logs) == 1
    assert logs[0]["user"] == "Admin"
    assert logs[0]["comment"] == cites(number, "Hiding personal information")

    # Hiding it again changes nothing and writes no second log entry.
    again = world.perform(world.request(number, "Admin", "hide", page=title, revision=secret).id)
    assert (again.state, again.revision_before) == ("done", secret)
    assert "hidden already" in again.error
    logs = world.wiki.recent_changes(rctype="log")
    assert len([rc for rc in logs if rc["logtype"] == "delete" and rc["title"] == title]) == 1


def test_talk_page_notice(world: World) -> None:
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(
        number, "Alice", "notice", page="User talk:Bob", notice="permission_confirmed", about=title
    )
    done = world.perform(action.id)
    assert done.state == "done", done.error
    top = world.wiki.revisions("User talk:Bob")[0]
    assert (top["user"], top["comment"]) == ("Alice", cites(number, "Notice"))
    assert done.revision_after == top["revid"]
    text = world.wiki.page_text("User talk:Bob") or ""
    assert f"== Permission for [[:{title}]] ==" in text
    assert f"[[ticket:{number}]], {POLICY_LINK}" in text


def test_retry_after_a_lost_answer_records_the_saved_edit(world: World) -> None:
    """The first attempt's edit was saved but its answer never arrived (a timeout): the retry
    finds the edit by its summary and account, and does not edit again."""
    title = world.file(PENDING)
    number = world.ticket()
    action = world.request(number, "Alice", "permission", page=title)
    base = world.wiki.revisions(title)[0]["revid"]
    # What the lost first attempt did: it recorded the revision, then saved the edit.
    with world.sessions.begin() as s:
        from wikibridge.store import wiki_actions

        wiki_actions.set_revision_before(s, action.id, base)
    tagged = f"{{{{PermissionTicket|id={number}|user=Alice}}}}"
    saved = world.wiki.edit(
        title,
        PENDING.replace("{{Permission pending|year=2024|month=January|day=2}}", tagged),
        action.summary,
        user="Alice",
    )
    # Someone else edits after it; the retry must still find it.
    world.wiki.edit(
        title, (world.wiki.page_text(title) or "") + "\n[[Category:Red]]", "cat", user="Bob"
    )
    count = len(world.wiki.revisions(title))

    done = world.perform(action.id)

    assert done.state == "done", done.error
    assert (done.revision_before, done.revision_after) == (base, saved["newrevid"])
    assert done.error == "saved by an earlier attempt"
    assert len(world.wiki.revisions(title)) == count
