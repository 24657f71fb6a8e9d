"""Text a reply is built from: canned responses, salutations and signatures with variables.

The variables are ``{ticket}``, ``{requester}``, ``{queue}`` and ``{volunteer}`` (``{agent}``,
Znuny's word, is the same as ``{volunteer}``). Only these names are replaced; any other text in
braces stays as written, and nothing in the template is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from wikibridge.models import Queue

VARIABLES = ("ticket", "requester", "queue", "volunteer", "agent")
_VARIABLE = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")


class Numbered(Protocol):
    """What the variables need of a ticket: a stored one, or one that batch ingest is about
    to insert."""

    @property
    def number(self) -> str: ...

    @property
    def requester(self) -> str: ...


def variables(ticket: Numbered, queue: Queue, volunteer: str = "") -> dict[str, str]:
    return {
        "ticket": ticket.number,
        "requester": ticket.requester,
        "queue": queue.name,
        "volunteer": volunteer,
        "agent": volunteer,
    }


def fill(template: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template or "")


def join_parts(*parts: str) -> str:
    """Salutation, text and signature, a blank line apart; empty parts left out."""
    cleaned = [p.replace("\r\n", "\n").replace("\r", "\n").strip("\n") for p in parts]
    return "\n\n".join(p for p in cleaned if p.strip())


def wrap(body: str, ticket: Numbered, queue: Queue, volunteer: str = "") -> str:
    """The body between the queue's salutation and signature, their variables filled in."""
    values = variables(ticket, queue, volunteer)
    return join_parts(fill(queue.salutation, values), body, fill(queue.signature, values))
