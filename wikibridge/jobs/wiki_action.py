"""The outbox handler for on-wiki actions: one job, one action, one fresh wiki session."""

from __future__ import annotations

from wikibridge.models import OutboxJob
from wikibridge.wiki.actions import InvalidJob, RetryLater, handle_wiki_action_job
from wikibridge.wiki.credentials import credentials_from_settings

from .base import JobContext, PermanentJobError, Record, RetryJobError


def wiki_action(ctx: JobContext, job: OutboxJob) -> Record | None:
    credentials_for = ctx.credentials_for or credentials_from_settings(ctx.settings, ctx.sessions)
    try:
        handle_wiki_action_job(job.payload, ctx.settings, ctx.sessions, credentials_for)
    except InvalidJob as e:
        raise PermanentJobError(str(e)) from e
    except RetryLater as e:
        raise RetryJobError(str(e)) from e
    return None
