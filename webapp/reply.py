"""Replying to a ticket by e-mail: the compose page (GET) and sending (POST).

A refused reply shows the form again with what the volunteer wrote and the reason, so no text
is lost; a sent one redirects to the ticket, where the reply already is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from wikibridge.tickets import compose
from wikibridge.tickets.compose import ComposeForm, Draft, Upload
from wikibridge.tickets.operations import OperationRefused, ReadOnlyAccess, TicketNotFound

from . import labels
from .actions import actor
from .database import db, settings

bp = Blueprint("reply", __name__, url_prefix="/tickets")


@bp.get("/<number>/reply")
def form(number: str) -> Any:
    canned = request.args.get("canned", "")
    canned_id = int(canned) if canned.isdigit() and len(canned) < 18 else None
    try:
        found = compose.compose(db(), actor(), number, canned_id)
    except TicketNotFound:
        abort(404)
    except ReadOnlyAccess as e:
        abort(403, labels.refusal(e))
    except OperationRefused as e:
        flash(labels.refusal(e), "error")
        return redirect(url_for("tickets.view", number=number), 303)
    return _page(found, found.draft)


@bp.post("/<number>/reply")
def send(number: str) -> Any:
    session = db()
    draft = Draft(
        to=request.form.get("to", ""),
        cc=request.form.get("cc", ""),
        subject=request.form.get("subject", ""),
        body=request.form.get("body", ""),
        state=request.form.get("state", "open"),
        pending_until=request.form.get("pending_until", ""),
    )
    uploads = [_upload(f) for f in request.files.getlist("files") if f.filename]
    try:
        article = compose.reply(session, actor(), number, draft, uploads)
    except TicketNotFound:
        session.rollback()
        abort(404)
    except ReadOnlyAccess as e:
        session.rollback()
        abort(403, labels.refusal(e))
    except OperationRefused as e:
        session.rollback()
        try:
            found = compose.compose(session, actor(), number)
        except OperationRefused:
            flash(labels.refusal(e), "error")
            return redirect(url_for("tickets.view", number=number), 303)
        error = labels.refusal(e)
        return _page(found, draft, error=error, lost_files=len(uploads)), 400
    session.commit()
    flash(_("Your reply is on its way."), "info")
    return redirect(url_for("tickets.view", number=number, _anchor=f"article-{article.id}"), 303)


def _upload(file: FileStorage) -> Upload:
    return Upload(file.filename or "", file.mimetype or "", file.read())


def _page(found: ComposeForm, draft: Draft, error: str = "", lost_files: int = 0) -> str:
    return render_template(
        "tickets/reply.html",
        f=found,
        draft=draft,
        error=error,
        lost_files=lost_files,
        max_mb=round(settings().tickets.max_attachment_bytes / (1024 * 1024), 1),
        reply_states=compose.REPLY_STATES,
    )
