"""A queue's tickets, page by page, filtered by state and sorted by an allowlisted order."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template, request
from flask_babel import gettext as _

from wikibridge.tickets import listing

from .database import db

bp = Blueprint("queues", __name__, url_prefix="/queues")


@bp.get("/<int:queue_id>")
def view(queue_id: int) -> Any:
    try:
        page = listing.queue_page(
            db(),
            g.scope,
            queue_id,
            state=request.args.get("state", listing.DEFAULT_FILTER),
            sort=request.args.get("sort", listing.DEFAULT_SORT),
            after=request.args.get("after", ""),
        )
    except ValueError:
        abort(400, _("That page link is broken; start again from the first page."))
    if page is None:
        abort(404)
    return render_template(
        "queues/view.html",
        page=page,
        filters=list(listing.STATE_FILTERS),
        sorts=listing.SORTS,
    )
