"""Canned responses (per queue, or global) and the news shown on the login page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import CannedResponse, NewsItem
from wikibridge.store import admin_content as store
from wikibridge.store import admin_queues

from .base import Invalid, apply_changes, found, long_text, record, require, text
from .queues import LANGUAGE

# The variables a canned response, salutation or signature may use, filled in when a reply is
# written. Other text in braces stays as written; nothing is evaluated.
VARIABLES = {
    "ticket": "the ticket number, such as 2022031410007974",
    "requester": "the requester's e-mail address",
    "queue": "the full name of the ticket's queue",
    "volunteer": "the username of the volunteer who writes the reply",
}
NEWS_ON_LOGIN = 5


@dataclass(frozen=True)
class CannedInput:
    queue_id: int | None
    name: str
    subject: str
    body: str
    language: str = "en"

    def cleaned(self) -> dict[str, object]:
        language = self.language.strip().lower() or "en"
        if not LANGUAGE.fullmatch(language) or len(language) > 12:
            raise Invalid("The language must be a language code such as en, de or pt-br.")
        return {
            "queue_id": self.queue_id,
            "name": text(self.name, "The name", limit=200, required=True),
            "subject": text(self.subject, "The subject", limit=250),
            "body": long_text(self.body, "The text"),
            "language": language,
        }


def canned_from_form(form: Mapping[str, str]) -> CannedInput:
    queue = form.get("queue_id", "")
    return CannedInput(
        queue_id=int(queue) if queue.isdigit() else None,
        name=form.get("name", ""),
        subject=form.get("subject", ""),
        body=form.get("body", ""),
        language=form.get("language", ""),
    )


def canned_list(session: Session, scope: Scope) -> list[CannedResponse]:
    """The canned responses this scope may edit."""
    require(access.can_admin_any(scope))
    return [c for c in store.all_canned(session) if access.can_admin_canned(scope, c.queue_id)]


def get_canned(session: Session, scope: Scope, canned_id: int) -> CannedResponse:
    row = found(store.canned(session, canned_id))
    require(access.can_admin_canned(scope, row.queue_id))
    return row


def create_canned(session: Session, scope: Scope, given: CannedInput) -> CannedResponse:
    require(access.can_admin_canned(scope, given.queue_id))
    values = given.cleaned()
    _queue_exists(session, given.queue_id)
    row = CannedResponse(**values)
    store.add(session, row)
    record(session, scope, "canned_created", canned_id=row.id, queue_id=row.queue_id, name=row.name)
    return row


def update_canned(
    session: Session, scope: Scope, canned_id: int, given: CannedInput
) -> CannedResponse:
    row = get_canned(session, scope, canned_id)
    require(access.can_admin_canned(scope, given.queue_id))  # also where it moves to
    values = given.cleaned()
    _queue_exists(session, given.queue_id)
    changed = apply_changes(row, values)
    if changed:
        session.flush()
        record(session, scope, "canned_updated", canned_id=row.id, changes=changed)
    return row


def delete_canned(session: Session, scope: Scope, canned_id: int) -> None:
    """Delete a canned response; the audit event keeps its text."""
    row = get_canned(session, scope, canned_id)
    kept = {"queue_id": row.queue_id, "name": row.name, "subject": row.subject, "body": row.body}
    store.delete(session, row)
    record(session, scope, "canned_deleted", canned_id=canned_id, **kept)


@dataclass(frozen=True)
class NewsInput:
    title: str
    body: str
    published: bool

    def cleaned(self) -> dict[str, object]:
        return {
            "title": text(self.title, "The title", limit=200, required=True),
            "body": long_text(self.body, "The text", limit=5000),
            "published": self.published,
        }


def news_from_form(form: Mapping[str, str]) -> NewsInput:
    return NewsInput(form.get("title", ""), form.get("body", ""), form.get("published") == "on")


def news_list(session: Session, scope: Scope) -> list[NewsItem]:
    require(access.can_manage_news(scope))
    return store.all_news(session)


def get_news(session: Session, scope: Scope, news_id: int) -> NewsItem:
    require(access.can_manage_news(scope))
    return found(store.news(session, news_id))


def create_news(session: Session, scope: Scope, given: NewsInput) -> NewsItem:
    require(access.can_manage_news(scope))
    row = NewsItem(author_id=scope.volunteer_id, **given.cleaned())
    store.add(session, row)
    record(session, scope, "news_created", news_id=row.id, title=row.title, published=row.published)
    return row


def update_news(session: Session, scope: Scope, news_id: int, given: NewsInput) -> NewsItem:
    row = get_news(session, scope, news_id)
    changed = apply_changes(row, given.cleaned())
    if changed:
        session.flush()
        record(session, scope, "news_updated", news_id=row.id, changes=changed)
    return row


def login_news(session: Session) -> list[NewsItem]:
    """Published news for the login page, newest first (anyone may read it)."""
    return store.published_news(session, NEWS_ON_LOGIN)


def _queue_exists(session: Session, queue_id: int | None) -> None:
    if queue_id is not None and admin_queues.get(session, queue_id) is None:
        raise Invalid("That queue does not exist.")
