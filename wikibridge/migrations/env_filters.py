"""What Alembic's autogenerate compares: the models' tables, not database-specific extras
that hand-written migrations add (full-text search and word-pair tables, their shadow tables
and indexes)."""

from __future__ import annotations

from typing import Any

HAND_WRITTEN_PREFIXES = ("article_fts", "article_pairs")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name or "").startswith(HAND_WRITTEN_PREFIXES)
