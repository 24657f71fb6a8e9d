"""The volunteers' web app: an app factory, one blueprint per feature.

``create_app()`` reads the settings when it is called (never at import time), so tests and
``wikibridge serve`` can pass their own.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask, make_response, render_template
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from wikibridge.config import Settings, load_settings

from . import (
    actions,
    admin,
    api,
    api_tokens,
    auth,
    dashboard,
    database,
    health,
    i18n,
    labels,
    oauth,
    queues,
    ratelimit,
    reply,
    search,
    security,
    static_files,
    stats,
    tickets,
    verify,
    wiki_actions,
)

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    if settings is None:
        settings = load_settings()
    app = Flask(__name__)
    # A reply's files plus its text; larger requests are refused (413) before a view runs.
    max_request = max(10, settings.tickets.max_attachment_bytes // (1024 * 1024) + 2) * 1024 * 1024
    app.config.from_mapping(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=max_request)
    security.configure(app, settings)
    app.config.update(overrides)
    database.init_app(app, settings)
    security.init_app(app)
    static_files.init_app(app)  # fingerprinted URLs, cached for a year
    i18n.init_app(app)

    features = (auth, oauth, dashboard, queues, tickets, actions, wiki_actions, reply, search)
    for module in (*features, stats, health):
        app.register_blueprint(module.bp)
    app.register_blueprint(verify.bp)  # public: no login
    app.register_blueprint(api_tokens.bp)
    api.init_app(app)  # the JSON API: bearer tokens, JSON errors, no CSRF
    ratelimit.init_app(app)  # first: a refused flood costs no database or wiki request
    auth.init_app(app)
    admin.init_app(app)  # the admin pages, /volunteers and /preferences
    oauth.init_app(app)  # after auth: rechecks the login auth has loaded

    app.add_template_filter(_when, "when")
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(OperationalError, _database_unavailable)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"demo": settings.demo}

    return app


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


# How long a client waits before trying again when the database cannot be reached (seconds).
RETRY_AFTER = 30
DATABASE_DOWN = (
    "The database cannot be reached right now. Nothing was changed; please try again in a minute."
)


def _database_unavailable(error: OperationalError) -> Any:
    """The database is down, restarting or busy past its timeout: a 503 that says so and when
    to try again, not an internal error (a page, or JSON under /api/v1/)."""
    log.error("database unavailable: %s", _first_line(error))
    response = make_response(_error_page(ServiceUnavailable(DATABASE_DOWN)))
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _first_line(error: DBAPIError) -> str:
    text = str(error.orig or error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def _error_page(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    if api.is_api_request():
        return api.http_error(error)
    name = labels.HTTP_ERRORS.get(error.code, error.name)
    return render_template("errors/error.html", code=error.code, name=name, error=error), error.code
