"""pending_sweeper against the real test wiki, run as operators run it (a subprocess)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.bots.world import Desk, pending
from wikibridge.models import utcnow
from wikibridge.tickets.states import OPEN
from wikibridge.wiki.permission import MONTHS


def test_simulate_changes_nothing(desk: Desk, settings_env: dict[str, str], tmp_path: Path) -> None:
    old = utcnow().date() - timedelta(days=45)
    title = desk.upload(pending(old), uploader="Alice")
    desk.wiki.run_jobs()
    newest = desk.newest_change()["rcid"]

    # No generator option: every file transcluding the templates, which would be tagged.
    result = desk.run(
        "pending_sweeper", "-simulate", "-always", env=settings_env, directory=tmp_path
    )

    out = result.stdout + result.stderr
    assert f"{title}: no permission since {old.isoformat()}" in out, out
    assert "SIMULATION: edit action blocked" in out
    assert desk.newest_change()["rcid"] == newest
    assert desk.actions() == []


def test_tags_an_expired_file_notifies_its_uploader_and_leaves_a_file_with_an_open_ticket(
    desk: Desk, settings_env: dict[str, str], tmp_path: Path
) -> None:
    today = utcnow().date()
    old = today - timedelta(days=31)
    expired = desk.upload(pending(old), uploader="Alice")
    waiting = desk.upload(pending(old, month_name=False), uploader="Bob")
    fresh = desk.upload(pending(today - timedelta(days=3)), uploader="Bob")
    leftover = desk.upload(
        pending(old).replace("}}\n}}", "}} {{PermissionOTRS|id=2013102810001251}}\n}}"),
        uploader="Bob",
    )
    number = desk.ticket(f"Here is my release for {waiting}.", OPEN)
    talk_before = len(desk.wiki.revisions("User talk:Alice"))
    waiting_text = desk.wiki.page_text(waiting)
    fresh_text = desk.wiki.page_text(fresh)
    leftover_text = desk.wiki.page_text(leftover)

    result = desk.run(
        "pending_sweeper",
        "-always",
        f"-page:{expired}",
        f"-page:{waiting}",
        f"-page:{fresh}",
        f"-page:{leftover}",
        env=settings_env,
        directory=tmp_path,
    )

    text = desk.wiki.page_text(expired)
    assert text is not None
    month = MONTHS[today.month - 1]
    tag = f"{{{{No permission since|day={today.day}|month={month}|year={today.year}}}}}"
    assert f"|permission={tag}\n" in text
    assert "Permission pending" not in text
    top = desk.wiki.revisions(expired)[0]
    assert top["user"] == "WikibridgeBot"
    assert top["comment"] == (
        f"No permission has reached the Volunteer Response Team ([[Commons:VRT]]) since {old}"
    )

    talk = desk.wiki.revisions("User talk:Alice", content=True)
    assert len(talk) == talk_before + 1
    assert talk[0]["user"] == "WikibridgeBot"
    notice = talk[0]["slots"]["main"]["content"]
    assert f"== Permission missing for [[:{expired}]] ==" in notice
    assert f"waiting for a permission since {old.isoformat()}" in notice

    assert desk.wiki.page_text(waiting) == waiting_text
    assert desk.wiki.page_text(fresh) == fresh_text
    assert desk.wiki.page_text(leftover) == leftover_text
    out = result.stdout + result.stderr
    assert "Tagged {{No permission since}}: 1" in out
    assert f"{expired}: no permission since {old.isoformat()}; notified Alice" in out
    assert "Left alone: 3" in out
    assert f"{leftover}: carries a permission tag for ticket 2013102810001251" in out
    assert f"{waiting}: ticket {number} is open" in out
    assert f"{fresh}: waiting since {(today - timedelta(days=3)).isoformat()}" in out

    # A second run: nothing is pending on the tagged file any more.
    newest = desk.newest_change()["rcid"]
    desk.run("pending_sweeper", "-always", f"-page:{expired}", env=settings_env, directory=tmp_path)
    assert desk.newest_change()["rcid"] == newest
