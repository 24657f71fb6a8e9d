"""One database session per request, closed when the request ends.

Requests that change nothing (GET, HEAD, OPTIONS) get a read-only session, which refuses to
write, never takes SQLite's write lock, and on PostgreSQL runs each statement on its own (no
BEGIN and ROLLBACK around a page; see :func:`wikibridge.db.make_request_sessionmaker`). A view
that changes state is a POST and commits its own unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from wikibridge import schema
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_request_sessionmaker, make_sessionmaker
from wikibridge.files import ContentStore

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class WebState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    blobs: ContentStore
    head_revision: str | None


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    _require_schema(engine)
    app.extensions["wikibridge"] = WebState(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_request_sessionmaker(engine),
        blobs=ContentStore(settings.blob_dir),
        head_revision=schema.quick_head_revision(),
    )
    app.teardown_appcontext(_close)


def _require_schema(engine: Engine) -> None:
    """Refuse to build the app on a schema that is not at head (raises SchemaMismatch, whose
    message says to run `wikibridge db upgrade`). A database that cannot be reached now is
    left to /healthz and the requests: it may well be back before the first one."""
    try:
        schema.require_head(engine)
    except OperationalError:
        pass
    finally:
        engine.dispose()  # no connection may cross gunicorn's fork


def state() -> WebState:
    web_state: WebState = current_app.extensions["wikibridge"]
    return web_state


def settings() -> Settings:
    return state().settings


def db() -> Session:
    """This request's session: read-only for safe methods, writable for POST."""
    if "db" not in g:
        web = state()
        g.db = (web.read_sessions if request.method in SAFE_METHODS else web.sessions)()
    session: Session = g.db
    return session


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
