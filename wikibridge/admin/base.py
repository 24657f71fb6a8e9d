"""What every admin operation shares: refusals, the audit record, before/after values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from wikibridge.access import Scope
from wikibridge.models import AuditEvent
from wikibridge.store import audit

T = TypeVar("T")
SHORT = 200  # longer text is not copied into the audit log, only noted as changed


class NotFound(LookupError):
    """Absent, or not the actor's to administer: both look the same from outside."""


class Invalid(ValueError):
    """Input refused; the message says why, in words for the volunteer."""


def require(allowed: bool) -> None:
    if not allowed:
        raise NotFound


def found(value: T | None) -> T:
    if value is None:
        raise NotFound
    return value


def record(session: Session, scope: Scope, action: str, **detail: Any) -> AuditEvent:
    """An audit event for an admin change, by the acting volunteer."""
    return audit.record(session, action, volunteer_id=scope.volunteer_id, **detail)


def auditable(value: Any) -> Any:
    """A value as the audit log keeps it: short text as it is, long text only as its length."""
    if isinstance(value, str) and len(value) > SHORT:
        return f"({len(value)} characters)"
    return value


def apply_changes(target: object, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set these attributes; return {name: [before, after]} for those that changed."""
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        before = getattr(target, name)
        if before != value:
            changed[name] = [auditable(before), auditable(value)]
            setattr(target, name, value)
    return changed


def text(value: object, label: str, *, limit: int, required: bool = False) -> str:
    """A one-line form value: stripped, bounded, without control characters."""
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise Invalid(f"{label} is required.")
    if len(cleaned) > limit:
        raise Invalid(f"{label} is too long (at most {limit} characters).")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in cleaned):
        raise Invalid(f"{label} must be a single line of text.")
    return cleaned


def long_text(value: object, label: str, *, limit: int = 20_000) -> str:
    """A multi-line form value with LF line ends."""
    cleaned = str(value or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(cleaned) > limit:
        raise Invalid(f"{label} is too long (at most {limit} characters).")
    return cleaned
