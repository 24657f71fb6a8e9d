"""On-wiki actions from tickets: request one (checks, record, outbox job), then perform it.

:func:`request_action` runs in the caller's transaction and never commits: the WikiAction and
its outbox job are written together, so an action is queued if and only if it was recorded.
:func:`perform` runs later, in the worker, with short transactions of its own and none open
while the wiki is called. Each job logs in afresh with the credentials of the volunteer who
asked (``credentials_for``), so one volunteer's login never carries another's edit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from wikibridge.config import Settings
from wikibridge.models import Queue, Ticket, Volunteer, WikiAction, utcnow
from wikibridge.store import audit, jobs
from wikibridge.store import tickets as ticket_store
from wikibridge.store import wiki_actions as store
from wikibridge.tickets.numbers import is_valid

from . import checks, sites, summaries
from .base import Credentials, PageReader, WikiError, same_user
from .checks import ActionRefused
from .executors import EXECUTORS, Outcome, Work
from .mwclient_adapter import WikiSession

WIKI_ACTION_JOB = "wiki_action"

#: Returns the login for a volunteer's action (None: a bot task). May raise NoCredentials.
CredentialsFor = Callable[[Volunteer | None], Credentials]

__all__ = [
    "WIKI_ACTION_JOB",
    "ActionRefused",
    "CredentialsFor",
    "InvalidJob",
    "NoCredentials",
    "RetryLater",
    "handle_wiki_action_job",
    "perform",
    "request_action",
]


class NoCredentials(Exception):
    """The volunteer has no usable login (never logged in, token withdrawn)."""


class RetryLater(Exception):
    """The wiki failed for now (lag, read-only, network); the action stays queued."""


class InvalidJob(Exception):
    """The job's payload names no existing action; running it again cannot help."""


def wiki_session(settings: Settings, api_url: str, credentials: Credentials | None) -> WikiSession:
    options = settings.wiki
    return WikiSession(
        api_url,
        credentials,
        user_agent=options.user_agent,
        maxlag=options.maxlag,
        timeout=options.timeout,
        max_retries=options.max_retries,
    )


def request_action(
    session: Session,
    settings: Settings,
    ticket: Ticket | str,
    volunteer: Volunteer | None,
    kind: str,
    *,
    reader: PageReader | None = None,
    **params: Any,
) -> WikiAction:
    """Check and queue an action citing ``ticket`` (a Ticket, or a number as cited).

    ``volunteer`` None is a bot task. ``reader`` answers the page checks (default: an anonymous
    session on the queue's wiki). A refusal raises ActionRefused after adding the refused
    WikiAction (and an audit event) to the session: commit to keep that record.
    """
    try:
        plan = checks.check_local(session, ticket, volunteer, kind, params)
        if reader is None:
            with wiki_session(settings, plan.api_url, None) as anonymous:
                plan = checks.check_wiki(plan, anonymous)
        else:
            plan = checks.check_wiki(plan, reader)
        link = summaries.policy_link(settings.wiki, plan.wiki)
        summary = summaries.summary(plan.purpose, plan.ticket.number, link)
    except (WikiError, ValueError) as e:
        reason = e.reason if isinstance(e, WikiError) else str(e)
        refusal = ActionRefused(f"the wiki could not be asked: {reason}")
        refusal.action = record_refusal(session, ticket, volunteer, kind, params, refusal.reason)
        raise refusal from e
    except ActionRefused as refusal:
        refusal.action = record_refusal(session, ticket, volunteer, kind, params, refusal.reason)
        raise
    action = store.add(
        session,
        ticket_id=plan.ticket.id,
        ticket_number=plan.ticket.number,
        volunteer_id=volunteer.id if volunteer else None,
        kind=kind,
        wiki=plan.wiki,
        page=plan.page,
        params=plan.params,
        summary=summary,
        state="queued",
    )
    job = jobs.enqueue(session, WIKI_ACTION_JOB, {"action_id": action.id}, ticket_id=plan.ticket.id)
    action.outbox_job_id = job.id
    audit.record(
        session,
        "wiki_action_requested",
        ticket_id=plan.ticket.id,
        volunteer_id=action.volunteer_id,
        action_id=action.id,
        kind=kind,
        wiki=plan.wiki,
        page=plan.page,
    )
    session.flush()
    return action


def record_refusal(
    session: Session,
    ticket: Ticket | str,
    volunteer: Volunteer | None,
    kind: str,
    params: Mapping[str, Any],
    reason: str,
) -> WikiAction:
    found = ticket if isinstance(ticket, Ticket) else None
    if found is None and is_valid(ticket_number := str(ticket)):
        found = ticket_store.by_number(session, ticket_number)
    number = found.number if found else str(ticket)[:40]
    # The wiki it would have acted on: named in the request, else the ticket's queue's.
    queue = session.get(Queue, found.queue_id) if found else None
    wiki = str(params.get("wiki") or (queue.wiki if queue else ""))
    # Only short scalars are kept: a refused request may carry anything.
    kept = {str(k)[:40]: str(v)[:300] for k, v in list(params.items())[:10]}
    action = store.add(
        session,
        ticket_id=found.id if found else None,
        ticket_number=number,
        volunteer_id=volunteer.id if volunteer else None,
        kind=kind[:30],
        wiki=wiki[:200],
        page=str(params.get("page", ""))[:300],
        params=kept,
        state="refused",
        error=reason,
        done_at=utcnow(),
    )
    if found is not None:
        audit.record(
            session,
            "wiki_action_refused",
            ticket_id=found.id,
            volunteer_id=action.volunteer_id,
            action_id=action.id,
            kind=action.kind,
            reason=reason,
        )
    return action


def perform(
    session_factory: sessionmaker[Session],
    settings: Settings,
    action_id: int,
    credentials_for: CredentialsFor,
) -> WikiAction:
    """Carry out a queued action on the wiki; return it in its final state.

    An action that is done, refused or failed already is returned as it is (no second edit).
    Refusals by the wiki (conflict, abuse filter, block, protection, revoked login) end it as
    failed, with the reason on the action and an audit event on the ticket. A failure that may
    pass (lag, read-only wiki, network) leaves it queued and raises RetryLater.
    """
    with session_factory() as session:
        action = store.get(session, action_id)
        if action is None:
            raise InvalidJob(f"wiki action {action_id} does not exist")
        if action.state != "queued":
            return action
        volunteer = session.get(Volunteer, action.volunteer_id) if action.volunteer_id else None

    def remember(revid: int) -> None:
        with session_factory.begin() as s:
            store.set_revision_before(s, action_id, revid)

    try:
        if volunteer is None and action.kind not in checks.BOT_KINDS:
            raise WikiError("needsvolunteer", f"a {action.kind} action needs a volunteer's account")
        try:
            credentials = credentials_for(volunteer)
        except NoCredentials as e:
            raise WikiError("nocredentials", f"no usable login: {e}") from e
        with wiki_session(settings, sites.api_url(action.wiki), credentials) as wiki:
            username = wiki.username or ""
            if volunteer is not None and not same_user(username, volunteer.username):
                raise WikiError(
                    "wronguser",
                    f"the login given for {volunteer.username} is {username}'s; nothing was done",
                )
            work = Work(
                action_id=action.id,
                kind=action.kind,
                page=action.page,
                params=dict(action.params),
                summary=action.summary,
                number=action.ticket_number,
                policy_link=summaries.policy_link(settings.wiki, action.wiki),
                revision_before=action.revision_before,
                username=username,
                agent=volunteer.username if volunteer else str(action.params.get("agent", "")),
                today=utcnow().date(),
                remember=remember,
            )
            outcome = EXECUTORS[action.kind](wiki, work)
    except WikiError as e:
        if e.retryable:
            with session_factory.begin() as s:
                store.note_error(s, action_id, e.reason)
            raise RetryLater(e.reason) from e
        return _complete(session_factory, action, "failed", Outcome(None, None, e.reason), e.code)
    except ValueError as e:  # a value the wikitext builders refuse; retrying will not help
        return _complete(session_factory, action, "failed", Outcome(None, None, str(e)), "invalid")
    return _complete(session_factory, action, "done", outcome, "")


def _complete(
    session_factory: sessionmaker[Session],
    action: WikiAction,
    state: str,
    outcome: Outcome,
    code: str,
) -> WikiAction:
    with session_factory.begin() as session:
        if store.finish(
            session,
            action.id,
            state=state,
            error=outcome.note,
            revision_before=outcome.revision_before,
            revision_after=outcome.revision_after,
        ):
            audit.record(
                session,
                f"wiki_action_{state}",
                ticket_id=action.ticket_id,
                volunteer_id=action.volunteer_id,
                action_id=action.id,
                kind=action.kind,
                page=action.page,
                revision=outcome.revision_after,
                **({"code": code, "reason": outcome.note} if state == "failed" else {}),
            )
    with session_factory() as session:
        final = store.get(session, action.id)
        assert final is not None
        return final


def handle_wiki_action_job(
    payload: Mapping[str, Any],
    settings: Settings,
    session_factory: sessionmaker[Session],
    credentials_for: CredentialsFor,
) -> str:
    """The outbox handler for ``wiki_action`` jobs; returns the action's final state.

    Raises InvalidJob (fail the job for good) or RetryLater (run it again later).
    """
    action_id = payload.get("action_id")
    if not isinstance(action_id, int) or isinstance(action_id, bool):
        raise InvalidJob(f"the payload names no wiki action: {dict(payload)!r}")
    return perform(session_factory, settings, action_id, credentials_for).state
