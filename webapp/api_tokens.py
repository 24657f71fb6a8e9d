"""A volunteer's personal API tokens: make one (shown once), see them, revoke one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from wikibridge import api_tokens

from .database import db

bp = Blueprint("api_tokens", __name__, url_prefix="/api-tokens")


@bp.get("")
def index() -> Any:
    return _page()


@bp.post("")
def create() -> Any:
    session = db()
    try:
        made = api_tokens.create(session, g.volunteer, request.form.get("name", ""))
    except api_tokens.TokenRefused as e:
        session.rollback()
        flash(e.reason, "error")
        return redirect(url_for("api_tokens.index"), 303)
    session.commit()
    # Shown in this answer only (pages are never cached); the database keeps its hash.
    return _page(new_secret=made.secret, new_name=made.token.name)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int) -> Response:
    session = db()
    token = api_tokens.revoke(session, g.volunteer, token_id)
    if token is None:
        abort(404)
    session.commit()
    flash(f"The token “{token.name}” is revoked: it no longer works.", "info")
    return redirect(url_for("api_tokens.index"), 303)


def _page(new_secret: str = "", new_name: str = "") -> Any:
    return render_template(
        "people/api_tokens.html",
        tokens=api_tokens.of_volunteer(db(), g.volunteer),
        new_secret=new_secret,
        new_name=new_name,
        max_name=api_tokens.MAX_NAME,
    )
