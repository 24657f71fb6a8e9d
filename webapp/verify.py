"""Public verification, no login: `/verify` (a page) and `/api/v1/verify/<number>` (JSON).

Anyone may ask whether a cited ticket exists, its coarse status and queue kind, the on-wiki
actions recorded for it, and whether a revision is one of them, made by a volunteer with access
to the ticket's queue at the time. Nothing of the mail is shown (see :mod:`wikibridge.verify`).
Editors may ask for a review of a ticket's actions. Lookups and review requests are rate
limited per client address; answers may be cached for a short while.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState

from wikibridge.tickets import review as reviews
from wikibridge.verify import RevisionCheck, TicketFacts, check_revision, ticket_facts
from wikibridge.wiki import sites

from .auth import public
from .database import db, settings
from .ratelimit import RateLimiter

bp = Blueprint("verify", __name__)

# (requests, seconds) per client address come from the [verify] settings; app.config can
# override them with VERIFY_LOOKUP_LIMIT and VERIFY_REVIEW_LIMIT.
MAX_AGE = 60
MAX_INPUT = 200
MAX_REVISION = 2**63 - 1


@dataclass(frozen=True)
class Limit:
    """`requests` per `window` seconds and client address (a sliding window)."""

    requests: int
    window: float
    limiter: RateLimiter

    def refused(self) -> bool:
        return not self.limiter.allow(_client(), self.requests, self.window)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    config = state.app.config
    limits = state.app.extensions["wikibridge"].settings.verify
    lookups = config.get("VERIFY_LOOKUP_LIMIT", (limits.lookups_per_minute, 60.0))
    reviews = config.get("VERIFY_REVIEW_LIMIT", (limits.reviews_per_hour, 3600.0))
    state.app.extensions["wikibridge_verify"] = {
        "lookups": Limit(int(lookups[0]), float(lookups[1]), RateLimiter()),
        "reviews": Limit(int(reviews[0]), float(reviews[1]), RateLimiter()),
    }


@bp.get("/verify")
@public
def page() -> Any:
    number = request.args.get("number", "").strip()[:MAX_INPUT]
    wiki = request.args.get("wiki", "").strip()[:MAX_INPUT]
    revision = request.args.get("revision", "").strip()[:MAX_INPUT]
    if not number:
        return _cache(_render(form={"wiki": wiki, "revision": revision}), private=True)
    limit = _limit("lookups")
    if limit.refused():
        return _limited_page(limit)
    facts, check, error = _lookup(number, wiki, revision)
    html = _render(facts=facts, check=check, error=error, form=_form(number, wiki, revision))
    return _cache(html, status=400 if error else 200, private=True)


@bp.get("/api/v1/verify/<number>")
@public
def api(number: str) -> Any:
    limit = _limit("lookups")
    if limit.refused():
        response = jsonify(error="too many requests; try again later", retry_after=_wait(limit))
        return _no_store(response, 429, _wait(limit))
    facts, check, error = _lookup(
        number.strip()[:MAX_INPUT],
        request.args.get("wiki", "").strip()[:MAX_INPUT],
        request.args.get("revision", "").strip()[:MAX_INPUT],
    )
    body = facts.to_dict()
    body["revision_check"] = check.to_dict() if check is not None else None
    body["error"] = error
    response = _cache(jsonify(body), status=400 if error else 200)
    # Wiki gadgets may ask from the browser: the answer is public and needs no cookies.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.post("/verify/<number>/review")
@public
def review(number: str) -> Any:
    limit = _limit("reviews")
    if limit.refused():
        return _limited_page(limit)
    fields = {name: request.form.get(name, "")[:6000] for name in ("username", "email", "reason")}
    session = db()
    try:
        checked = reviews.checked(number, fields["username"], fields["email"], fields["reason"])
        ticket = reviews.request_review(session, settings(), checked)
        session.commit()
    except reviews.ReviewRefused as e:
        session.rollback()
        facts = ticket_facts(session, number[:MAX_INPUT])
        html = _render(facts=facts, form=_form(number), review=fields, review_error=str(e))
        return _no_store(current_app.make_response(html), 400)
    html = render_template("verify/review_sent.html", number=number, reference=ticket.number)
    return _no_store(current_app.make_response(html), 200)


def _lookup(
    number: str, wiki: str, revision: str
) -> tuple[TicketFacts, RevisionCheck | None, str | None]:
    facts = ticket_facts(db(), number)
    if not facts.valid:
        return facts, None, f"not a valid ticket number: {facts.problem}"
    if not revision:
        return facts, None, None
    if not revision.isascii() or not revision.isdigit() or not 0 < int(revision) <= MAX_REVISION:
        return facts, None, "the revision must be a revision id (a positive whole number)"
    return facts, check_revision(db(), number, wiki, int(revision)), None


def _render(**values: Any) -> str:
    facts: TicketFacts | None = values.get("facts")
    links = {}
    if facts is not None:
        links = {i: sites.revision_url(a.wiki, a.revision) for i, a in enumerate(facts.actions)}
    values.setdefault("review", {})
    return render_template("verify/index.html", links=links, **values)


def _form(number: str, wiki: str = "", revision: str = "") -> dict[str, str]:
    return {"number": number, "wiki": wiki, "revision": revision}


def _limit(name: str) -> Limit:
    limit: Limit = current_app.extensions["wikibridge_verify"][name]
    return limit


def _wait(limit: Limit) -> int:
    """Seconds to wait, at most: the window of the limit (a request leaves it by then)."""
    return max(1, int(limit.window))


def _client() -> str:
    return request.remote_addr or "unknown"


def _cache(body: Any, status: int = 200, *, private: bool = False) -> Response:
    response = current_app.make_response(body)
    response.status_code = status
    # Pages carry the session's CSRF token for the review form: browser cache only.
    scope = "private" if private else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={MAX_AGE}"
    return response


def _no_store(response: Response, status: int, wait: int = 0) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


def _limited_page(limit: Limit) -> Response:
    html = render_template("verify/limited.html", retry_after=_wait(limit))
    return _no_store(current_app.make_response(html), 429, _wait(limit))
