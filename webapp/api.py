"""The JSON API under /api/v1/, for volunteers' scripts: ``Authorization: Bearer <token>``.

A personal token (see :mod:`wikibridge.api_tokens`) only says who asks; what they may see is
decided by :func:`wikibridge.access.scope_for`, exactly as for the pages, through the same
domain functions. Anything outside the volunteer's queues is 404; a change in a queue they may
only read is 403; a missing, unknown or revoked token (or a deactivated volunteer) is 401.
The API reads no cookie, so it is exempt from CSRF. Errors are ``{"error": {code, message}}``.
The endpoints are described in ``static/openapi.json``, served at /api/v1/openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from wikibridge import access, api_tokens
from wikibridge.models import utcnow
from wikibridge.tickets import listing
from wikibridge.tickets import operations as ops
from wikibridge.tickets import search as ticket_search
from wikibridge.tickets.detail import ArticleView, ticket_detail

from . import api_json
from .auth import token_auth
from .database import SAFE_METHODS, db, settings, state
from .security import csrf
from .tickets import send_attachment

PREFIX = "/api/v1"
MAX_LIMIT = 100
bp = Blueprint("api", __name__, url_prefix=PREFIX)
V = TypeVar("V", bound=Callable[..., Any])


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens, never cookies: nothing a forged form could ride on


def without_token(view: V) -> V:
    """Mark an API view that needs no token (the API's own description)."""
    view.wikibridge_api_public = True  # type: ignore[attr-defined]
    return view


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error(status: int, code: str, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="wikibridge"'
    return response


def http_error(e: HTTPException) -> Response:
    """Any HTTP error under /api/v1/ (also unknown URLs and methods) as a JSON error."""
    status = e.code or 500
    code = (e.name or "error").lower().replace(" ", "_")
    response = error(status, code, e.description or e.name)
    if status == 405 and e.get_response().headers.get("Allow"):
        response.headers["Allow"] = e.get_response().headers["Allow"]
    return response


@bp.errorhandler(ApiError)
def _api_error(e: ApiError) -> Response:
    return error(e.status, e.code, e.message)


@bp.before_request
def _authenticate() -> Response | None:
    g.volunteer = None
    g.scope = access.NOBODY
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "wikibridge_api_public", False):
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return error(401, "unauthorized", "Send a personal API token: Authorization: Bearer …")
    session = db()
    found = api_tokens.lookup(session, secret.strip())
    if found is None or not found[1].active:
        return error(401, "invalid_token", "The token is unknown, revoked or no longer valid.")
    token, volunteer = found
    if not access.may_work(volunteer):
        return error(403, "not_approved", "Your account has not been approved yet.")
    now = utcnow()
    if api_tokens.needs_touch(token, now):
        if request.method in SAFE_METHODS:  # a read-only request: a short unit of work
            with state().sessions() as writer:
                api_tokens.touch(writer, token.id, now)
                writer.commit()
        else:  # commits with the request's change
            api_tokens.touch(session, token.id, now)
    g.volunteer = volunteer
    g.scope = access.scope_for(session, volunteer)
    return None


def _choice(name: str, allowed: Collection[str], default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        raise ApiError(400, "invalid_parameter", f"{name} must be one of {', '.join(allowed)}.")
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(400, "invalid_parameter", f"{name} must be a number from {low} to {high}.")
    return int(text)


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"There is no {what} you have access to.")


@bp.get("/openapi.json")
@token_auth
@without_token
def openapi() -> Response:
    response = current_app.send_static_file("openapi.json")
    response.mimetype = "application/json"
    return response


@bp.get("/queues")
@token_auth
def queues() -> Response:
    summaries = listing.dashboard(db(), g.scope)
    return jsonify(queues=[api_json.queue(s) for s in summaries])


@bp.get("/queues/<int:queue_id>")
@token_auth
def queue(queue_id: int) -> Response:
    for summary in listing.dashboard(db(), g.scope):
        if summary.queue.id == queue_id:
            return jsonify(api_json.queue(summary))
    raise _not_found("queue")


@bp.get("/queues/<int:queue_id>/tickets")
@token_auth
def queue_tickets(queue_id: int) -> Response:
    state_name = _choice("state", listing.STATE_FILTERS, listing.DEFAULT_FILTER)
    sort = _choice("sort", listing.SORTS, listing.DEFAULT_SORT)
    size = _int_arg("limit", listing.PAGE_SIZE, 1, MAX_LIMIT)
    after = request.args.get("after", "")
    try:
        page = listing.queue_page(
            db(), g.scope, queue_id, state=state_name, sort=sort, after=after, size=size
        )
    except ValueError:
        raise ApiError(400, "invalid_cursor", "after is not a cursor from a `next` link.") from None
    if page is None:
        raise _not_found("queue")
    next_url = None
    if page.next_cursor:
        next_url = url_for(
            "api.queue_tickets",
            queue_id=queue_id,
            state=state_name,
            sort=sort,
            limit=size,
            after=page.next_cursor,
            _external=True,
        )
    return jsonify(
        queue=api_json.queue_ref(page.queue),
        state=page.state,
        sort=page.sort,
        tickets=[api_json.ticket(t) for t in page.tickets],
        next_cursor=page.next_cursor,
        next=next_url,
    )


@bp.get("/tickets/<number>")
@token_auth
def ticket(number: str) -> Response:
    found = ticket_detail(db(), g.scope, number)
    if found is None:
        raise _not_found("ticket")
    return jsonify(api_json.detail(found))


@bp.get("/tickets/<number>/attachments/<int:attachment_id>")
@token_auth
def attachment(number: str, attachment_id: int) -> Response:
    found = access.attachment(db(), g.scope, number, attachment_id)
    if found is None:
        raise _not_found("attachment")
    return send_attachment(found)


@bp.post("/tickets/<number>/notes")
@token_auth
def add_note(number: str) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise ApiError(400, "invalid_body", 'Send a JSON object: {"text": "…"}.')
    session = db()
    actor = ops.Actor(g.volunteer.id, g.volunteer.username, g.scope, settings())
    try:
        note = ops.add_note(session, actor, number, body["text"])
    except ops.TicketNotFound:
        session.rollback()
        raise _not_found("ticket") from None
    except ops.ReadOnlyAccess as e:
        session.rollback()
        raise ApiError(403, "read_only", e.reason) from None
    except ops.OperationRefused as e:
        session.rollback()
        raise ApiError(422, "refused", e.reason) from None
    session.commit()
    response = jsonify(api_json.article(number, ArticleView(note, [], g.volunteer.username)))
    response.status_code = 201
    response.headers["Location"] = url_for("api.ticket", number=number, _external=True)
    return response


@bp.get("/search")
@token_auth
def search() -> Response:
    text = request.args.get("q", "")
    queue_id = request.args.get("queue", "")
    if queue_id and not queue_id.isdigit():
        raise ApiError(400, "invalid_parameter", "queue must be a queue id.")
    form = ticket_search.SearchForm(
        text=text,
        queue_id=int(queue_id) if queue_id else None,
        state=_choice("state", listing.STATE_FILTERS, ticket_search.DEFAULT_STATE),
        sort=_choice("sort", ticket_search.SORTS, ticket_search.DEFAULT_SORT),
        page=_int_arg("page", 1, 1, ticket_search.MAX_PAGES),
    )
    try:
        page = ticket_search.search(db(), g.scope, form)
    except ticket_search.QueryError as e:
        raise ApiError(400, "invalid_query", str(e)) from None
    if page is None:
        raise _not_found("queue")
    return jsonify(api_json.search(page))
