"""SQLAlchemy 2.0 typed models. SQL that uses them lives in ``wikibridge.store``."""

from .api_token import ApiToken
from .base import Base, utcnow
from .events import JOB_STATES, AuditEvent, AutoReply, OutboxJob
from .news import NewsItem
from .oauth import OAUTH_PROTOCOLS, OAuthToken
from .queue import (
    QUEUE_KINDS,
    QUEUE_SEPARATOR,
    RULE_FIELDS,
    CannedResponse,
    Queue,
    QueueAddress,
    RoutingRule,
)
from .ticket import (
    ARTICLE_KINDS,
    Article,
    Attachment,
    Ticket,
    TicketCountDelta,
    TicketCounter,
    TicketLink,
)
from .volunteer import ACCESS_LEVELS, QueueAccess, Volunteer
from .wiki import WIKI_ACTION_KINDS, WIKI_ACTION_STATES, WikiAction

__all__ = [
    "ACCESS_LEVELS",
    "ARTICLE_KINDS",
    "JOB_STATES",
    "OAUTH_PROTOCOLS",
    "QUEUE_KINDS",
    "QUEUE_SEPARATOR",
    "RULE_FIELDS",
    "WIKI_ACTION_KINDS",
    "WIKI_ACTION_STATES",
    "ApiToken",
    "Article",
    "Attachment",
    "AuditEvent",
    "AutoReply",
    "Base",
    "CannedResponse",
    "NewsItem",
    "OAuthToken",
    "OutboxJob",
    "Queue",
    "QueueAccess",
    "QueueAddress",
    "RoutingRule",
    "Ticket",
    "TicketCountDelta",
    "TicketCounter",
    "TicketLink",
    "Volunteer",
    "WikiAction",
    "utcnow",
]
