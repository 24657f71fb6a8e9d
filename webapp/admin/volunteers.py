"""Admin pages: volunteers, their approval and grants, and who has access to what."""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.admin import overview, queues, volunteers
from wikibridge.admin.base import Invalid, NotFound
from wikibridge.models import ACCESS_LEVELS

from .. import labels
from ..database import db
from .common import act, bp, form_int


@bp.get("/")
def index() -> Any:
    return render_template("admin/index.html", is_global=access.is_global_admin(g.scope))


@bp.get("/volunteers")
def volunteer_list() -> Any:
    rows = volunteers.listing(db(), g.scope)
    return render_template(
        "admin/volunteers.html", rows=rows, can_manage=access.can_manage_volunteers(g.scope)
    )


@bp.get("/volunteers/<int:volunteer_id>")
def volunteer(volunteer_id: int) -> Any:
    session = db()
    return render_template(
        "admin/volunteer.html",
        row=volunteers.detail(session, g.scope, volunteer_id),
        queues=queues.administered(session, g.scope),
        levels=ACCESS_LEVELS,
        level_names=labels.translated(volunteers.LEVEL_NAMES, labels.LEVELS),
        can_manage=access.can_manage_volunteers(g.scope),
    )


def _back(volunteer_id: int) -> str:
    return url_for("admin.volunteer", volunteer_id=volunteer_id)


@bp.post("/volunteers/<int:volunteer_id>/approve")
def approve(volunteer_id: int) -> Response:
    identified = request.form.get("identified") == "on"

    def change() -> str:
        v = volunteers.approve(db(), g.scope, volunteer_id, identified)
        return _("%(name)s is approved.", name=v.username)

    return act(change, _back(volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/deactivate")
def deactivate(volunteer_id: int) -> Response:
    def change() -> str:
        v = volunteers.deactivate(db(), g.scope, volunteer_id)
        return _("%(name)s is deactivated.", name=v.username)

    return act(change, _back(volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/reactivate")
def reactivate(volunteer_id: int) -> Response:
    def change() -> str:
        v = volunteers.reactivate(db(), g.scope, volunteer_id)
        return _("%(name)s is active again.", name=v.username)

    return act(change, _back(volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/grant")
def grant(volunteer_id: int) -> Response:
    queue_id = form_int(request.form.get("queue_id"))
    level = request.form.get("level", "")

    def change() -> str:
        if queue_id is None:
            raise Invalid(_("Choose a queue."))
        row = volunteers.grant(db(), g.scope, volunteer_id, queue_id, level)
        return _("Access granted: %(level)s.", level=row.level)

    return act(change, _back(volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/revoke")
def revoke(volunteer_id: int) -> Response:
    queue_id = form_int(request.form.get("queue_id"))

    def change() -> str:
        if queue_id is None:
            raise NotFound
        volunteers.revoke(db(), g.scope, volunteer_id, queue_id)
        return _("Access revoked.")

    return act(change, _back(volunteer_id))


@bp.get("/access")
def access_overview() -> Any:
    return render_template(
        "admin/access.html",
        queues=overview.who_has_access(db(), g.scope),
        level_names=labels.translated(volunteers.LEVEL_NAMES, labels.LEVELS),
    )
