"""Queues: create, rename, move in the tree, settings, and the addresses mail arrives at.

A queue's name is its full path ("info-en::Wikipedia"), so renaming or moving a queue renames
every queue below it too. The queues named in the mail settings (spam and fallback) keep their
names: ingest finds them by name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import QUEUE_KINDS, QUEUE_SEPARATOR, Queue, QueueAddress
from wikibridge.store import admin_queues as store

from . import tree
from .base import Invalid, apply_changes, found, long_text, record, require, text

LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[a-z0-9.-]+\.[a-z0-9-]+")
NAME_LIMIT = 200


@dataclass(frozen=True)
class Settings:
    """What a queue admin may set on a queue."""

    kind: str
    language: str
    wiki: str = ""
    signature: str = ""
    salutation: str = ""
    auto_ack: bool = False
    ack_subject: str = ""
    ack_body: str = ""

    def cleaned(self) -> dict[str, object]:
        if self.kind not in QUEUE_KINDS:
            raise Invalid(f"The kind must be one of: {', '.join(QUEUE_KINDS)}.")
        language = self.language.strip().lower()
        if not LANGUAGE.fullmatch(language) or len(language) > 12:
            raise Invalid("The language must be a language code such as en, de or pt-br.")
        ack_subject = text(self.ack_subject, "The acknowledgement subject", limit=250)
        ack_body = long_text(self.ack_body, "The acknowledgement body")
        if self.auto_ack and not (ack_subject and ack_body.strip()):
            raise Invalid("An automatic acknowledgement needs a subject and a body.")
        return {
            "kind": self.kind,
            "language": language,
            "wiki": text(self.wiki, "The wiki", limit=200),
            "signature": long_text(self.signature, "The signature"),
            "salutation": long_text(self.salutation, "The salutation"),
            "auto_ack": self.auto_ack,
            "ack_subject": ack_subject,
            "ack_body": ack_body,
        }


def administered(session: Session, scope: Scope) -> list[tree.Node]:
    """The queues this scope may administer, as a tree."""
    return [n for n in tree.ordered(store.all_queues(session)) if _mine(scope, n.queue.id)]


def possible_parents(session: Session, scope: Scope, queue: Queue) -> list[tree.Node]:
    """Where this queue may be moved: queues the scope administers, not it or those below it."""
    nodes = administered(session, scope)
    below = {q.id for q in tree.descendants(queue.id, [n.queue for n in nodes])}
    return [n for n in nodes if n.queue.id != queue.id and n.queue.id not in below]


def get(session: Session, scope: Scope, queue_id: int) -> Queue:
    require(access.can_admin_queue(scope, queue_id))
    return found(store.get(session, queue_id))


def create(
    session: Session, scope: Scope, label: str, parent_id: int | None, settings: Settings
) -> Queue:
    require(access.can_place_queue(scope, parent_id))
    parent = found(store.get(session, parent_id)) if parent_id is not None else None
    name = _full_name(label, parent)
    taken = store.name_taken(session, [name], [])
    if taken:
        raise Invalid(f"There already is a queue named {taken}.")
    queue = store.add(session, Queue(name=name, parent_id=parent_id, **settings.cleaned()))
    record(session, scope, "queue_created", queue_id=queue.id, name=name, parent_id=parent_id)
    return queue


def update(session: Session, scope: Scope, queue_id: int, settings: Settings) -> Queue:
    queue = get(session, scope, queue_id)
    changed = apply_changes(queue, settings.cleaned())
    if changed:
        session.flush()
        record(session, scope, "queue_updated", queue_id=queue.id, changes=changed)
    return queue


def rename(
    session: Session,
    scope: Scope,
    queue_id: int,
    label: str,
    parent_id: int | None,
    protected: Collection[str] = (),
) -> Queue:
    """Give a queue a new own name and/or a new parent; the queues below follow it."""
    queue = get(session, scope, queue_id)
    if parent_id != queue.parent_id:
        require(access.can_place_queue(scope, parent_id))
    parent = found(store.get(session, parent_id)) if parent_id is not None else None
    new_name = _full_name(label, parent)
    if new_name == queue.name and parent_id == queue.parent_id:
        return queue
    if queue.name in protected:
        raise Invalid(f"{queue.name} is named in the mail settings; it keeps its name.")
    below = tree.descendants(queue.id, store.all_queues(session))
    if parent_id is not None and (parent_id == queue.id or parent_id in {q.id for q in below}):
        raise Invalid("A queue cannot be moved under itself or one of its own sub-queues.")
    if any(q.name in protected for q in below):
        raise Invalid("A queue below this one is named in the mail settings; it keeps its name.")
    renames = {q.id: new_name + q.name[len(queue.name) :] for q in below}
    if any(len(n) > NAME_LIMIT for n in [new_name, *renames.values()]):
        raise Invalid(f"Full queue names are at most {NAME_LIMIT} characters.")
    taken = store.name_taken(session, [new_name, *renames.values()], [queue.id, *renames])
    if taken:
        raise Invalid(f"There already is a queue named {taken}.")
    before = {"name": queue.name, "parent_id": queue.parent_id}
    queue.name, queue.parent_id = new_name, parent_id
    for q in below:
        q.name = renames[q.id]
    session.flush()
    after = {"name": new_name, "parent_id": parent_id}
    record(session, scope, "queue_renamed", queue_id=queue.id, before=before, after=after)
    return queue


def add_address(
    session: Session, scope: Scope, queue_id: int, address: str, display_name: str = ""
) -> QueueAddress:
    require(access.can_manage_routing(scope))
    queue = found(store.get(session, queue_id))
    value = text(address, "The address", limit=254, required=True).lower()
    if not _ADDRESS.fullmatch(value):
        raise Invalid(f"{value} is not an e-mail address (name@example.org).")
    existing = store.address(session, value)
    if existing is not None:
        owner = found(store.get(session, existing.queue_id))
        raise Invalid(f"{value} already belongs to the queue {owner.name}.")
    name = text(display_name, "The display name", limit=200)
    row = store.add_address(session, queue.id, value, name)
    record(session, scope, "queue_address_added", queue_id=queue.id, address=value)
    return row


def remove_address(session: Session, scope: Scope, queue_id: int, address_id: int) -> None:
    require(access.can_manage_routing(scope))
    queue = found(store.get(session, queue_id))
    row = found(store.address_by_id(session, address_id))
    require(row.queue_id == queue.id)
    address = row.address
    store.delete_address(session, row)
    session.expire(queue, ["addresses"])
    record(session, scope, "queue_address_removed", queue_id=queue.id, address=address)


def settings_of(queue: Queue) -> Settings:
    return Settings(
        kind=queue.kind,
        language=queue.language,
        wiki=queue.wiki,
        signature=queue.signature,
        salutation=queue.salutation,
        auto_ack=queue.auto_ack,
        ack_subject=queue.ack_subject,
        ack_body=queue.ack_body,
    )


def from_form(form: Mapping[str, str]) -> Settings:
    return Settings(
        kind=form.get("kind", ""),
        language=form.get("language", ""),
        wiki=form.get("wiki", ""),
        signature=form.get("signature", ""),
        salutation=form.get("salutation", ""),
        auto_ack=form.get("auto_ack") == "on",
        ack_subject=form.get("ack_subject", ""),
        ack_body=form.get("ack_body", ""),
    )


def _full_name(label: str, parent: Queue | None) -> str:
    own = text(label, "The name", limit=NAME_LIMIT, required=True)
    if QUEUE_SEPARATOR in own:
        raise Invalid(f"The name must not contain {QUEUE_SEPARATOR}: choose the parent instead.")
    name = f"{parent.name}{QUEUE_SEPARATOR}{own}" if parent is not None else own
    if len(name) > NAME_LIMIT:
        raise Invalid(f"Full queue names are at most {NAME_LIMIT} characters.")
    return name


def _mine(scope: Scope, queue_id: int) -> bool:
    return access.can_admin_queue(scope, queue_id)
