"""The admin blueprint, its gate, and how its views finish a change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.admin.base import Invalid, NotFound

from .. import labels
from ..database import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _only_admins() -> None:
    """The admin pages do not exist for volunteers who administer nothing."""
    if not access.can_admin_any(g.scope):
        abort(404)


@bp.errorhandler(NotFound)
def _not_found(_error: NotFound) -> Any:
    error = HTTPNotFound()
    name = labels.HTTP_ERRORS[404]
    return render_template("errors/error.html", code=404, name=name, error=error), 404


def act(change: Callable[[], str], back: str) -> Response:
    """Run one admin change and commit it with a note of what was done; when the input is
    refused, nothing is written and the note says why. Either way, back to `back`."""
    session = db()
    try:
        message = change()
    except Invalid as exc:
        session.rollback()
        flash(str(exc))
        return redirect(back, 303)
    session.commit()
    flash(message)
    return redirect(back, 303)


def form_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
