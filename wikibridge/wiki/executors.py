"""The wiki work of each kind of action, written to be safe to run again.

A job may run twice: its worker can die, or the wiki's answer can be lost to a timeout after
the edit was saved. So before editing, each kind looks at the page: an edit with this
action's exact summary by this account after the revision recorded before the first attempt
is that attempt's edit, and is recorded instead of editing again; a page that already is as
the action would leave it gets no edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import permission, summaries
from .base import Page, Revision, WikiError, same_user
from .mwclient_adapter import WikiSession


@dataclass
class Work:
    """What an executor needs, copied out of the database before the wiki is called."""

    action_id: int
    kind: str
    page: str
    params: dict[str, Any]
    summary: str
    number: str
    policy_link: str
    revision_before: int | None
    username: str  # the account that acts, as the wiki spells it
    agent: str  # the volunteer named in permission templates
    today: date
    # Stores revision_before (once) and commits, before the first edit attempt.
    remember: Callable[[int], None]

    def before(self, revid: int) -> None:
        if self.revision_before is None:
            self.remember(revid)
            self.revision_before = revid


@dataclass(frozen=True)
class Outcome:
    revision_before: int | None
    revision_after: int | None  # None: no edit was needed
    note: str = ""


def earlier_attempt(wiki: WikiSession, work: Work) -> Revision | None:
    """This action's own edit, saved by an earlier attempt whose answer was lost."""
    if work.revision_before is None:
        return None  # the first attempt: nothing can be there yet
    for revision in wiki.revisions_after(work.page, work.revision_before):
        if same_user(revision.user, work.username) and revision.comment == work.summary:
            return revision
    return None


def _found(revision: Revision) -> Outcome:
    return Outcome(revision.parentid, revision.revid, "saved by an earlier attempt")


def current(wiki: WikiSession, work: Work) -> Page:
    """The page as it is now; one deleted or turned into a redirect since the request fails."""
    page = wiki.page(work.page)
    if not page.exists:
        raise WikiError("missingtitle", f"the page {work.page!r} does not exist (any more)")
    if page.redirect:
        raise _moved(work)
    return page


def _moved(work: Work) -> WikiError:
    # Acting on the redirect would tag or change the wrong page; the volunteer checked this
    # title, so following the redirect silently could act on a page nobody looked at.
    return WikiError(
        "redirect",
        f"the page {work.page!r} is a redirect now (moved?); nothing was done: "
        "request the action on the page it leads to",
    )


def tag(wiki: WikiSession, work: Work) -> Outcome:
    """permission and permission_received: a template on the file description page."""
    found = earlier_attempt(wiki, work)
    if found is not None:
        return _found(found)
    page = current(wiki, work)
    if work.kind == "permission":
        text = permission.add_permission_ticket(page.text, work.number, work.agent)
    else:
        reason = str(work.params.get("reason", ""))
        text = permission.add_permission_received(
            page.text, work.number, work.agent, work.today, reason
        )
    if text == page.text:
        return Outcome(page.revid, None, "the page already carries the template; no edit")
    work.before(page.revid)
    result = wiki.edit(
        work.page,
        text,
        work.summary,
        baserevid=page.revid,
        assertuser=work.username,
    )
    return Outcome(result.previous or page.revid, result.revid)


def revert(wiki: WikiSession, work: Work) -> Outcome:
    """Roll back a user's latest edits, or undo one revision."""
    found = earlier_attempt(wiki, work)
    if found is not None:
        return _found(found)
    page = current(wiki, work)
    if "user" in work.params:
        target = str(work.params["user"])
        if not same_user(page.user, target):
            raise WikiError(
                "alreadyrolled",
                f"the latest edit of {page.title!r} is by {page.user}, not {target}: "
                "reverted already, or edited since",
            )
        work.before(page.revid)
        rollback = wiki.rollback(work.page, target, work.summary, assertuser=work.username)
        return Outcome(rollback.old_revid, rollback.revid)
    work.before(page.revid)
    undone = int(work.params["revision"])
    result = wiki.undo(work.page, undone, work.summary, assertuser=work.username)
    if result.revid is None:
        return Outcome(page.revid, None, f"revision {undone} is undone already; no edit")
    return Outcome(result.previous or page.revid, result.revid)


def hide(wiki: WikiSession, work: Work) -> Outcome:
    """Revision deletion; the revision is recorded as revision_before, there is no new one."""
    revid = int(work.params["revision"])
    parts = tuple(work.params.get("parts", ("content",)))
    revision = wiki.revision(revid)
    if revision is None:
        raise WikiError("nosuchrevid", f"revision {revid} does not exist (any more)")
    if all(revision.hidden(part) for part in parts):
        return Outcome(revid, None, f"the revision's {', '.join(parts)} is hidden already")
    work.before(revid)
    wiki.hide_revision(revision.title, revid, parts, work.summary, assertuser=work.username)
    return Outcome(revid, None)


def notice(wiki: WikiSession, work: Work) -> Outcome:
    """A message in a new section of a talk page (created when missing)."""
    found = earlier_attempt(wiki, work)
    if found is not None:
        return _found(found)
    page = wiki.page(work.page)
    if page.redirect:
        raise _moved(work)
    kind = summaries.Notice[str(work.params["notice"]).upper()]
    heading, text = summaries.notice(
        kind, work.number, work.policy_link, str(work.params.get("about", ""))
    )
    work.before(page.revid)  # 0 when the talk page does not exist yet
    result = wiki.new_section(work.page, heading, text, work.summary, assertuser=work.username)
    return Outcome(result.previous or page.revid, result.revid)


EXECUTORS: dict[str, Callable[[WikiSession, Work], Outcome]] = {
    "permission": tag,
    "permission_received": tag,
    "revert": revert,
    "hide": hide,
    "notice": notice,
}
