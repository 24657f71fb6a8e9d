"""The volunteer's start page: their queues with counts, and the tickets they own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from wikibridge.tickets import listing

from .database import db

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index() -> Any:
    session = db()
    return render_template(
        "dashboard/index.html",
        queues=listing.dashboard(session, g.scope),
        owned=listing.owned_open(session, g.scope),
        buckets=list(listing.BUCKETS),
    )
