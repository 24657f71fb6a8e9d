"""The ticket page and attachment downloads (reached only through a visible ticket)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, send_file, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.mail.sanitize import sanitize_html
from wikibridge.models import Attachment
from wikibridge.tickets.choices import choices_for
from wikibridge.tickets.detail import ArticleView, ticket_detail
from wikibridge.wiki import panel as wiki_panel

from .database import db, state
from .security import ATTACHMENT_CSP

bp = Blueprint("tickets", __name__, url_prefix="/tickets")
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


@bp.get("/<number>")
def view(number: str) -> Any:
    session = db()
    detail = ticket_detail(session, g.scope, number)
    if detail is None:
        abort(404)
    bodies = {view.article.id: _body(number, view) for view in detail.articles}
    choices = choices_for(session, g.scope, detail)
    panel = wiki_panel.panel_for(session, g.scope, detail.ticket, detail.queue)
    return render_template(
        "tickets/view.html", d=detail, bodies=bodies, c=choices, p=panel, forms=wiki_panel
    )


def _body(number: str, view: ArticleView) -> Markup | None:
    """The article's HTML part, sanitised; inline images point at their attachment."""
    if not view.article.body_html:
        return None
    by_cid = {a.content_id.strip("<>"): a.id for a in view.attachments if a.content_id}

    def cid_url(cid: str) -> str | None:
        if cid not in by_cid:
            return None
        return url_for("tickets.attachment", number=number, attachment_id=by_cid[cid])

    return Markup(sanitize_html(view.article.body_html, cid_url))  # noqa: S704 - sanitised


@bp.get("/<number>/attachments/<int:attachment_id>")
def attachment(number: str, attachment_id: int) -> Any:
    found = access.attachment(db(), g.scope, number, attachment_id)
    if found is None:
        abort(404)
    return send_attachment(found)


def send_attachment(found: Attachment) -> Response:
    """An attachment as a download that nothing can render or run (also used by the API)."""
    path = state().blobs.path(found.blob_sha256)
    if not path.is_file():
        current_app.logger.error("attachment %s: blob %s is missing", found.id, found.blob_sha256)
        abort(404)
    content_type = found.content_type.lower().split(";", 1)[0].strip()
    response = send_file(
        path,
        mimetype=content_type if _MIME.fullmatch(content_type) else "application/octet-stream",
        as_attachment=True,
        download_name=found.filename or f"attachment-{found.id}",
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = ATTACHMENT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
