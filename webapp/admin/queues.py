"""Admin pages: the queue tree, a queue's settings, its place in the tree and its addresses."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.admin import queues
from wikibridge.admin.base import Invalid
from wikibridge.models import QUEUE_KINDS, Queue

from ..database import db, settings
from .common import act, bp, form_int


@bp.get("/queues")
def queue_list() -> Any:
    return render_template(
        "admin/queues.html",
        nodes=queues.administered(db(), g.scope),
        can_create_top=access.can_place_queue(g.scope, None),
    )


@bp.route("/queues/new", methods=["GET", "POST"])
def queue_new() -> Any:
    session = db()
    parent_id = form_int(request.values.get("parent_id"))
    given = queues.from_form(request.form) if request.method == "POST" else None
    error = ""
    if given is not None:
        try:
            queue = queues.create(session, g.scope, request.form.get("label", ""), parent_id, given)
        except Invalid as exc:
            session.rollback()
            error = str(exc)
        else:
            session.commit()
            return _saved(_("Queue %(name)s created.", name=queue.name), queue.id)
    return render_template(
        "admin/queue_new.html",
        parents=queues.administered(session, g.scope),
        parent_id=parent_id,
        can_create_top=access.can_place_queue(g.scope, None),
        settings=given or queues.Settings(kind="info", language="en"),
        label=request.form.get("label", ""),
        kinds=QUEUE_KINDS,
        error=error,
    ), (400 if error else 200)


@bp.route("/queues/<int:queue_id>", methods=["GET", "POST"])
def queue(queue_id: int) -> Any:
    session = db()
    found = queues.get(session, g.scope, queue_id)
    given = queues.from_form(request.form) if request.method == "POST" else None
    error = ""
    if given is not None:
        try:
            queues.update(session, g.scope, queue_id, given)
        except Invalid as exc:
            session.rollback()
            error = str(exc)
            found = queues.get(session, g.scope, queue_id)
        else:
            session.commit()
            return _saved(_("Settings of %(name)s saved.", name=found.name), queue_id)
    return _page(found, given or queues.settings_of(found), error)


def _page(found: Queue, values: queues.Settings, error: str) -> Any:
    session = db()
    return render_template(
        "admin/queue.html",
        queue=found,
        label=found.name.rsplit("::", 1)[-1],
        settings=values,
        kinds=QUEUE_KINDS,
        parents=queues.possible_parents(session, g.scope, found),
        can_move_top=access.can_place_queue(g.scope, None),
        can_route=access.can_manage_routing(g.scope),
        error=error,
    ), (400 if error else 200)


def _saved(message: str, queue_id: int) -> Response:
    flash(message)
    return redirect(url_for("admin.queue", queue_id=queue_id), 303)


@bp.post("/queues/<int:queue_id>/rename")
def rename(queue_id: int) -> Response:
    label = request.form.get("label", "")
    parent_id = form_int(request.form.get("parent_id"))
    mail = settings().mail
    protected = (mail.spam_queue, mail.fallback_queue)

    def change() -> str:
        q = queues.rename(db(), g.scope, queue_id, label, parent_id, protected)
        return _("The queue is now %(name)s.", name=q.name)

    return act(change, url_for("admin.queue", queue_id=queue_id))


@bp.post("/queues/<int:queue_id>/addresses")
def add_address(queue_id: int) -> Response:
    address = request.form.get("address", "")
    display_name = request.form.get("display_name", "")

    def change() -> str:
        row = queues.add_address(db(), g.scope, queue_id, address, display_name)
        return _("%(address)s added.", address=row.address)

    return act(change, url_for("admin.queue", queue_id=queue_id))


@bp.post("/queues/<int:queue_id>/addresses/<int:address_id>/remove")
def remove_address(queue_id: int, address_id: int) -> Response:
    def change() -> str:
        queues.remove_address(db(), g.scope, queue_id, address_id)
        return _("Address removed.")

    return act(change, url_for("admin.queue", queue_id=queue_id))
