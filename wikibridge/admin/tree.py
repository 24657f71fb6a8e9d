"""The queue tree in display order: depth first, children by name, each queue once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wikibridge.models import QUEUE_SEPARATOR, Queue


@dataclass(frozen=True)
class Node:
    queue: Queue
    depth: int

    @property
    def label(self) -> str:
        """The queue's own name, without its parents'."""
        return self.queue.name.rsplit(QUEUE_SEPARATOR, 1)[-1]


def ordered(queues: Iterable[Queue]) -> list[Node]:
    """Parents before their children. Queues caught in a (broken) cycle come last, at depth 0."""
    by_id = {q.id: q for q in queues}
    children: dict[int | None, list[Queue]] = {}
    for q in by_id.values():
        parent = q.parent_id if q.parent_id in by_id else None
        children.setdefault(parent, []).append(q)
    out: list[Node] = []
    seen: set[int] = set()
    stack = [(q, 0) for q in sorted(children.get(None, []), key=_key, reverse=True)]
    while stack:
        q, depth = stack.pop()
        if q.id in seen:
            continue
        seen.add(q.id)
        out.append(Node(q, depth))
        kids = sorted(children.get(q.id, []), key=_key, reverse=True)
        stack.extend((k, depth + 1) for k in kids)
    out.extend(Node(q, 0) for q in sorted(by_id.values(), key=_key) if q.id not in seen)
    return out


def ancestors(queue_id: int, parents: dict[int, int | None]) -> list[int]:
    """The queue and its ancestors, nearest first (a cycle is cut where it closes)."""
    chain: list[int] = []
    current: int | None = queue_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def descendants(queue_id: int, queues: Sequence[Queue]) -> list[Queue]:
    """Every queue below this one (not the queue itself)."""
    parents = {q.id: q.parent_id for q in queues}
    by_id = {q.id: q for q in queues}
    return [by_id[i] for i in parents if i != queue_id and queue_id in ancestors(i, parents)]


def _key(q: Queue) -> str:
    return q.name.casefold()
