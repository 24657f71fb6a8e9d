"""Job handlers by kind. A new kind of job is one more entry here; the worker loop stays."""

from __future__ import annotations

from wikibridge.tickets.outbound import SEND_MAIL
from wikibridge.wiki.actions import WIKI_ACTION_JOB

from .base import Handler
from .send_mail import send_mail
from .wiki_action import wiki_action

HANDLERS: dict[str, Handler] = {
    SEND_MAIL: send_mail,
    WIKI_ACTION_JOB: wiki_action,
}


def default_handlers() -> dict[str, Handler]:
    return dict(HANDLERS)
