"""On-wiki actions taken from tickets: what was asked, by whom, and what the wiki recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

# A revert is a rollback of a user's top edits or the undo of one revision (see params).
WIKI_ACTION_KINDS = ("revert", "permission", "permission_received", "hide", "notice")
WIKI_ACTION_STATES = ("queued", "done", "refused", "failed")


class WikiAction(Base):
    """One on-wiki action citing a ticket.

    A row is written when the action is requested (queued, or refused by the checks) and
    completed by the outbox job that performs it (done or failed). The revision ids are the
    wiki's own, so an editor's question "which ticket does revision N cite?" has an answer.
    """

    __tablename__ = "wiki_actions"
    __table_args__ = (
        Index("ix_wiki_actions_ticket", "ticket_id", "id"),
        Index("ix_wiki_actions_wiki_page", "wiki", "page"),
        Index("ix_wiki_actions_revision_after", "revision_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for a refusal that cited a number no ticket has; the number is kept regardless.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    ticket_number: Mapped[str] = mapped_column(String(40), default="")
    # None for bot tasks; revision deletion always has a volunteer.
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    kind: Mapped[str] = mapped_column(String(30))  # one of WIKI_ACTION_KINDS
    wiki: Mapped[str] = mapped_column(String(200), default="")  # API URL or site code
    page: Mapped[str] = mapped_column(String(300), default="")
    # Kind-specific choices: the user to roll back, the revision to undo or hide, the parts to
    # hide, the notice or reason chosen from fixed lists. Never text from a mail.
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The page's latest revision when the edit was attempted (the hidden one for "hide"), and
    # the revision the action made (None when no edit was needed or the action failed).
    revision_before: Mapped[int | None] = mapped_column(BigInteger)
    revision_after: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(10), default="queued")  # WIKI_ACTION_STATES
    # Why it was refused or failed; for a done action, a note such as "no change needed".
    error: Mapped[str] = mapped_column(Text, default="")
    outbox_job_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_jobs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
