"""Queues (a tree), their addresses, routing rules and canned responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

QUEUE_KINDS = ("info", "permissions", "press", "role", "review", "spam", "system")
QUEUE_SEPARATOR = "::"


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Full path, Znuny style: "info-en::Wikipedia". Unique, so mail routing can name it.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="info")
    language: Mapped[str] = mapped_column(String(12), default="en")
    # The wiki this queue acts on, as a pywikibot site code or an API URL.
    wiki: Mapped[str] = mapped_column(String(200), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    salutation: Mapped[str] = mapped_column(Text, default="")
    # Optional acknowledgement sent to the requester of a new ticket (through the outbox).
    auto_ack: Mapped[bool] = mapped_column(default=False)
    ack_subject: Mapped[str] = mapped_column(String(250), default="")
    ack_body: Mapped[str] = mapped_column(Text, default="")
    valid: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list[QueueAddress]] = relationship(
        back_populates="queue", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def primary_address(self) -> str:
        return self.addresses[0].address if self.addresses else ""


class QueueAddress(Base):
    """An address mail arrives at; it also is the From of replies sent from its queue."""

    __tablename__ = "queue_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    display_name: Mapped[str] = mapped_column(String(200), default="")

    queue: Mapped[Queue] = relationship(back_populates="addresses")


RULE_FIELDS = ("recipient", "header", "subject", "body", "language", "sender")


class RoutingRule(Base):
    """Ordered rules for new mail: the first that matches picks the queue."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("ix_routing_rules_position", "position", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200), default="")
    field: Mapped[str] = mapped_column(String(20))  # one of RULE_FIELDS
    header_name: Mapped[str] = mapped_column(String(100), default="")
    pattern: Mapped[str] = mapped_column(Text)  # a regular expression, case-insensitive
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    enabled: Mapped[bool] = mapped_column(default=True)


class CannedResponse(Base):
    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(250), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(12), default="en")
