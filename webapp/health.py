"""`/healthz`: the app answers and its database schema is the one it needs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from wikibridge import schema

from .auth import public
from .database import state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    web = state()
    try:
        current = schema.current_revision(web.engine)
    except SQLAlchemyError:
        return jsonify(status="error", schema="database unreachable"), 503
    if current != web.head_revision:
        return jsonify(status="error", schema=f"at {current or 'nothing'}, needs upgrade"), 503
    return jsonify(status="ok", schema="at head")
