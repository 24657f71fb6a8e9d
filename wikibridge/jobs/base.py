"""What a job handler is given, what it returns, and how it says a job cannot succeed."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.models import OutboxJob, Volunteer
from wikibridge.wiki.base import Credentials

# Run by the worker in the transaction that marks the job done (e.g. to add an audit event),
# so that the record of the side effect and the job's state change commit together.
Record = Callable[[Session], None]


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    # TLS trust for the SMTP server; None: the system's certificates (or SSL_CERT_FILE).
    smtp_ssl_context: ssl.SSLContext | None = None
    # The wiki login for an action: a volunteer's own, or the bot's (None). Default: the
    # settings' (wikibridge.wiki.credentials).
    credentials_for: Callable[[Volunteer | None], Credentials] | None = None


# A handler carries out one job. It opens its own short sessions (never one spanning the side
# effect) and must not change the job row. It returns an optional Record; raising
# PermanentJobError fails the job for good, any other exception (RetryJobError when its
# message says it all) schedules a retry.
Handler = Callable[[JobContext, OutboxJob], Record | None]


class JobError(Exception):
    """A failure explained for people: its message is kept as the job's last_error as is."""


class RetryJobError(JobError):
    """This attempt failed; a later one may succeed (a server down, a timeout, a 4xx reply)."""


class PermanentJobError(JobError):
    """The job cannot succeed by trying again (bad payload, a permanent refusal)."""
