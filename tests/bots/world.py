"""A wikibridge database acting on the test wiki, and ways to run the bots against both.

Bots run in this process with the bot account's pywikibot login (pywikibot allows one login
per wiki in a process), or as operators run them: ``python -m bots.NAME`` in a subprocess with
its own pywikibot directory, user-config.py and BotPassword file.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.testwiki import BOT, POLICY_PAGE, TestWiki
from wikibridge.config import Settings, WikiSettings
from wikibridge.models import Article, QueueAccess, Volunteer, WikiAction, utcnow
from wikibridge.store import articles, queues, tickets
from wikibridge.wiki.permission import MONTHS

ROOT = Path(__file__).resolve().parents[2]
PERMISSIONS = "permissions-commons"
INFO = "info-en"
POLICY_LINK = f"[[{POLICY_PAGE}]]"
# Volunteers: name -> (grants, listed publicly). Mallory is no volunteer at all.
VOLUNTEERS = {
    "Alice": ({PERMISSIONS: "rw", INFO: "rw"}, False),
    "Bob": ({PERMISSIONS: "rw"}, True),
    "Admin": ({PERMISSIONS: "admin"}, True),
}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def pending(on: date, *, month_name: bool = True) -> str:
    """A file description with a {{Permission pending}} tag dated ``on``."""
    month = MONTHS[on.month - 1] if month_name else f"{on.month:02d}"
    return (
        "=={{int:filedesc}}==\n{{Information\n|description={{en|1=A square}}\n"
        "|source=Own work\n"
        f"|permission={{{{Permission pending|year={on.year}|month={month}|day={on.day}}}}}\n"
        "}}\n\n=={{int:license-header}}==\n{{cc-by-sa-4.0}}\n"
    )


@dataclass
class Desk:
    wiki: TestWiki
    settings: Settings
    sessions: sessionmaker[Session]
    volunteer_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, wiki: TestWiki, settings: Settings, sessions: sessionmaker[Session]) -> Desk:
        wiki_settings = WikiSettings(policy_links=(f"{wiki.api_url}={POLICY_LINK}",))
        desk = cls(wiki, dataclasses.replace(settings, wiki=wiki_settings), sessions)
        with sessions.begin() as s:
            found = {
                PERMISSIONS: queues.ensure(s, PERMISSIONS, "permissions", wiki=wiki.api_url),
                INFO: queues.ensure(s, INFO, "info", wiki=wiki.api_url),
            }
            for central_id, (name, (grants, listed)) in enumerate(VOLUNTEERS.items(), start=1):
                volunteer = Volunteer(
                    central_id=central_id,
                    username=name,
                    approved=True,
                    identified=True,
                    public_listing=listed,
                )
                s.add(volunteer)
                s.flush()
                desk.volunteer_ids[name] = volunteer.id
                for queue, level in grants.items():
                    s.add(
                        QueueAccess(
                            volunteer_id=volunteer.id,
                            queue_id=found[queue].id,
                            level=level,
                            # Older than any edit of a test: the wiki keeps whole seconds.
                            granted_at=utcnow() - timedelta(hours=1),
                        )
                    )
        return desk

    def ticket(
        self, text: str, state: str, *, queue: str = PERMISSIONS, owner: str | None = None
    ) -> str:
        """A ticket whose first mail reads ``text``; returns its number."""
        with self.sessions.begin() as s:
            number = tickets.next_number(s, self.settings.system_id)
            found = queues.by_name(s, queue)
            assert found is not None
            ticket = tickets.create(
                s, number=number, title="Release", queue_id=found.id, requester="x@example.org"
            )
            ticket.state = state
            ticket.owner_id = self.volunteer_ids[owner] if owner else None
            articles.add(
                s, Article(ticket_id=ticket.id, kind="inbound", subject="Release", body_text=text)
            )
        return number

    def actions(self) -> list[WikiAction]:
        with self.sessions() as s:
            return list(s.scalars(select(WikiAction).order_by(WikiAction.id)))

    def upload(self, text: str, uploader: str = "Admin") -> str:
        """A small image with this description; returns "File:…" as the wiki spells it."""
        name = unique("Bots") + ".png"
        self.wiki.upload(name, text=text, comment="upload", user=uploader)
        return f"File:{name.replace('_', ' ')}"

    def newest_change(self) -> dict[str, Any]:
        return self.wiki.recent_changes(limit=1)[0]

    # -- running bots as operators do --------------------------------------------------------

    def pywikibot_dir(self, directory: Path) -> Path:
        """A pywikibot directory for the bot: user-config.py and a BotPassword file."""
        directory.mkdir(parents=True, exist_ok=True)
        family = f"testwiki{self.wiki.port}"
        account = self.wiki.bot
        (directory / "user-config.py").write_text(
            f"family = {family!r}\nmylang = {family!r}\n"
            f"family_files[{family!r}] = {self.wiki.api_url!r}\n"
            f"usernames[{family!r}][{family!r}] = {BOT!r}\n"
            "password_file = 'user-password.py'\n"
            "put_throttle = 0\nwrite_maxlag = 5\nmax_retries = 2\nretry_wait = 1\n"
        )
        password = directory / "user-password.py"
        password.write_text(
            f"({BOT!r}, BotPassword({account.app_id!r}, {account.bot_password!r}))\n"
        )
        password.chmod(0o600)
        return directory

    def run(
        self, module: str, *args: str, env: dict[str, str], directory: Path
    ) -> subprocess.CompletedProcess[str]:
        """``python -m bots.MODULE ARGS`` from the repository, with the desk's database."""
        environment = {
            **env,
            "PYWIKIBOT_DIR": str(self.pywikibot_dir(directory)),
            "PYTHONPATH": str(ROOT),
            "WIKIBRIDGE_WIKI_POLICY_LINKS": f"{self.wiki.api_url}={POLICY_LINK}",
        }
        environment.pop("PYWIKIBOT_NO_USER_CONFIG", None)
        result = subprocess.run(
            [sys.executable, "-m", f"bots.{module}", *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
