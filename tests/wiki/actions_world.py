"""A database with queues, volunteers and tickets, wired to the test wiki, for action tests."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.testwiki import BOT, POLICY_PAGE, TestWiki
from wikibridge.config import Settings, WikiSettings
from wikibridge.models import AuditEvent, OutboxJob, QueueAccess, Volunteer, WikiAction
from wikibridge.store import queues, tickets
from wikibridge.wiki.actions import NoCredentials, perform, request_action
from wikibridge.wiki.base import BotPassword, Credentials, Page, PageReader, Revision

PERMISSIONS = "permissions-commons"
INFO = "info-en"
INFO_WIKIPEDIA = "info-en::Wikipedia"
POLICY_LINK = f"[[{POLICY_PAGE}]]"

# Who may do what: a grant on info-en covers info-en::Wikipedia.
GRANTS = {
    "Alice": {PERMISSIONS: "rw", INFO: "rw"},
    "Bob": {PERMISSIONS: "rw"},
    "Mallory": {PERMISSIONS: "ro", INFO: "ro"},
    "Admin": {PERMISSIONS: "admin", INFO: "rw"},
}


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


class ExplodingReader:
    """A PageReader that fails the test when asked: the refusal came before any API call."""

    calls = 0

    def page(self, title: str) -> Page:
        self.calls += 1
        raise AssertionError("the wiki was asked")

    def user_exists(self, name: str) -> bool:
        self.calls += 1
        raise AssertionError("the wiki was asked")

    def revision(self, revid: int) -> Revision | None:
        self.calls += 1
        raise AssertionError("the wiki was asked")


@dataclass
class World:
    wiki: TestWiki
    settings: Settings
    sessions: sessionmaker[Session]
    volunteer_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, wiki: TestWiki, settings: Settings, sessions: sessionmaker[Session]) -> World:
        wiki_settings = WikiSettings(
            user_agent="wikibridge-tests/0.1",
            policy_links=(f"{wiki.api_url}={POLICY_LINK}",),
            maxlag=5,
            timeout=60,
            max_retries=0,
        )
        world = cls(wiki, dataclasses.replace(settings, wiki=wiki_settings), sessions)
        with sessions.begin() as s:
            qs = {
                PERMISSIONS: queues.ensure(s, PERMISSIONS, "permissions", wiki=wiki.api_url),
                INFO_WIKIPEDIA: queues.ensure(s, INFO_WIKIPEDIA, "info", wiki=wiki.api_url),
            }
            qs[INFO] = queues.by_name(s, INFO)  # type: ignore[assignment]
            for central_id, (name, grants) in enumerate(GRANTS.items(), start=1):
                volunteer = Volunteer(
                    central_id=central_id, username=name, approved=True, identified=True
                )
                s.add(volunteer)
                s.flush()
                world.volunteer_ids[name] = volunteer.id
                for queue, level in grants.items():
                    s.add(
                        QueueAccess(volunteer_id=volunteer.id, queue_id=qs[queue].id, level=level)
                    )
        return world

    # -- database ---------------------------------------------------------------------------

    def ticket(self, queue: str = PERMISSIONS) -> str:
        with self.sessions.begin() as s:
            number = tickets.next_number(s, self.settings.system_id)
            found = queues.by_name(s, queue)
            assert found is not None
            tickets.create(
                s, number=number, title="A request", queue_id=found.id, requester="x@example.org"
            )
        return number

    def volunteer(self, s: Session, name: str | None) -> Volunteer | None:
        return None if name is None else s.get(Volunteer, self.volunteer_ids[name])

    def request(
        self,
        number: str,
        who: str | None,
        kind: str,
        reader: PageReader | None = None,
        **params: Any,
    ) -> WikiAction:
        """Request an action and commit (a refusal is committed too, then re-raised)."""
        with self.sessions() as s:
            try:
                action = request_action(
                    s, self.settings, number, self.volunteer(s, who), kind, reader=reader, **params
                )
            finally:
                s.commit()
        return action

    def action(self, action_id: int) -> WikiAction:
        with self.sessions() as s:
            found = s.get(WikiAction, action_id)
            assert found is not None
            return found

    def audit_actions(self, action_id: int) -> list[str]:
        with self.sessions() as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
            return [e.action for e in events if e.detail.get("action_id") == action_id]

    def jobs(self) -> list[OutboxJob]:
        with self.sessions() as s:
            return list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))

    # -- wiki -------------------------------------------------------------------------------

    def credentials_for(self, volunteer: Volunteer | None) -> Credentials:
        """Each volunteer's own BotPassword on the test wiki; bot tasks use the bot's."""
        name = BOT if volunteer is None else volunteer.username
        if name not in self.wiki.accounts:
            raise NoCredentials(f"{name} never logged in")
        account = self.wiki.account(name)
        return BotPassword(account.bot_username, account.bot_password)

    def perform(self, action_id: int, credentials_for: Any = None) -> WikiAction:
        return perform(
            self.sessions, self.settings, action_id, credentials_for or self.credentials_for
        )

    def newest_change(self) -> int:
        changes = self.wiki.recent_changes(limit=1)
        return int(changes[0]["rcid"]) if changes else 0

    def file(self, text: str, uploader: str = "Admin") -> str:
        """Upload a small image with this description; returns "File:…"."""
        name = unique("Upload").replace(" ", "_") + ".png"
        self.wiki.upload(name, text=text, comment="upload", user=uploader)
        return f"File:{name}"
