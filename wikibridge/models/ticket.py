"""Tickets, their articles and attachments, and the daily ticket-number counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # Queue views: tickets of a queue in a state, newest change first, keyset by id.
        Index("ix_tickets_queue_state_updated", "queue_id", "state", "updated_at", "id"),
        # ... and of a queue in any of several states (or all), and of an owner: the database
        # walks the index in order and stops after a page, instead of sorting the whole queue.
        Index("ix_tickets_queue_updated", "queue_id", "updated_at", "id"),
        Index("ix_tickets_owner_updated", "owner_id", "updated_at", "id"),
        Index("ix_tickets_owner_state", "owner_id", "state"),
        # The worker's auto-close: pending tickets whose time has passed.
        Index("ix_tickets_state_pending", "state", "pending_until"),
        Index("ix_tickets_requester", "requester"),
        # Statistics: tickets of a queue created, and closed, per day.
        Index("ix_tickets_queue_created", "queue_id", "created_at"),
        Index("ix_tickets_queue_closed", "queue_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    state: Mapped[str] = mapped_column(String(40), default="new")
    priority: Mapped[int] = mapped_column(default=3)  # 1 (very low) .. 5 (very high)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    locked_until: Mapped[datetime | None]  # the owner's lock; an idle lock expires
    requester: Mapped[str] = mapped_column(String(320), default="")  # lower-case address
    pending_until: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]  # soft delete: the number stays reserved
    # Purged by `wikibridge purge`: the row is a tombstone, its articles and title are gone.
    purged_at: Mapped[datetime | None]

    articles: Mapped[list[Article]] = relationship(
        back_populates="ticket", order_by="Article.id", lazy="raise_on_sql"
    )


class TicketCountDelta(Base):
    """Live tickets per queue and state, kept by database triggers as +1/-1 rows.

    Triggers (migration 0003) add a row whenever a ticket is created, deleted, or changes queue,
    state or removal; the dashboard sums the rows instead of counting a million tickets. Rows
    are only ever inserted, so concurrent writers never wait on a shared counter; the worker
    folds them into one row per queue and state now and then (store.ticket_counts.compact).
    """

    __tablename__ = "ticket_count_deltas"
    __table_args__ = (Index("ix_ticket_count_deltas_queue_state", "queue_id", "state"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(40))
    delta: Mapped[int] = mapped_column(BigInteger)


class TicketCounter(Base):
    """Znuny's DateChecksum counter: one row per day, incremented atomically."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD (UTC)
    value: Mapped[int] = mapped_column(Integer, default=0)


ARTICLE_KINDS = ("inbound", "outbound", "note")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(10))  # one of ARTICLE_KINDS
    sender: Mapped[str] = mapped_column(String(1000), default="")  # From, as displayed
    sender_address: Mapped[str] = mapped_column(String(320), default="")  # lower case
    to: Mapped[str] = mapped_column(Text, default="")
    cc: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(1000), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")  # raw; sanitised when shown
    message_id: Mapped[str] = mapped_column(String(1000), default="", index=True)
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    # The raw inbound message in the spool, by SHA-256: one article per distinct message.
    raw_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    raw_size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Visible warnings: cites_other_ticket, sender_not_participant (older mail),
    # message_id_conflict, auto_submitted, bounce,
    # spam, from_system, parse_defects.
    flags: Mapped[list[str]] = mapped_column(default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="articles")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="article", order_by="Attachment.id", lazy="raise_on_sql"
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    blob_sha256: Mapped[str] = mapped_column(String(64), index=True)  # content-addressed
    filename: Mapped[str] = mapped_column(String(255))  # sanitised display name
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    content_id: Mapped[str] = mapped_column(String(500), default="")
    inline: Mapped[bool] = mapped_column(default=False)

    article: Mapped[Article] = relationship(back_populates="attachments")


class TicketLink(Base):
    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="related")
    note: Mapped[str] = mapped_column(Text, default="")
