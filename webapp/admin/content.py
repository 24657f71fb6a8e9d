"""Admin pages: canned responses and news items."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.admin import content, queues
from wikibridge.admin.base import Invalid

from .. import labels
from ..database import db
from .common import act, bp


@bp.get("/canned")
def canned_list() -> Any:
    session = db()
    return render_template(
        "admin/canned.html",
        responses=content.canned_list(session, g.scope),
        queue_names={n.queue.id: n.queue.name for n in queues.administered(session, g.scope)},
        variables=labels.translated(content.VARIABLES, labels.VARIABLES),
    )


@bp.route("/canned/new", methods=["GET", "POST"])
def canned_new() -> Any:
    return _canned(None)


@bp.route("/canned/<int:canned_id>", methods=["GET", "POST"])
def canned(canned_id: int) -> Any:
    return _canned(canned_id)


def _canned(canned_id: int | None) -> Any:
    session = db()
    row = content.get_canned(session, g.scope, canned_id) if canned_id is not None else None
    if request.method == "POST":
        given = content.canned_from_form(request.form)
    elif row is not None:
        given = content.CannedInput(row.queue_id, row.name, row.subject, row.body, row.language)
    else:
        given = content.CannedInput(None, "", "", "")
    error = ""
    if request.method == "POST":
        try:
            if row is None:
                made = content.create_canned(session, g.scope, given)
                message = _("Canned response %(name)s created.", name=made.name)
            else:
                content.update_canned(session, g.scope, row.id, given)
                message = _("Canned response %(name)s saved.", name=row.name)
        except Invalid as exc:
            session.rollback()
            error = str(exc)
        else:
            session.commit()
            flash(message)
            return redirect(url_for("admin.canned_list"), 303)
    return render_template(
        "admin/canned_edit.html",
        canned_id=canned_id,
        canned=given,
        queues=queues.administered(session, g.scope),
        may_be_global=access.can_admin_canned(g.scope, None),
        variables=labels.translated(content.VARIABLES, labels.VARIABLES),
        error=error,
    ), (400 if error else 200)


@bp.post("/canned/<int:canned_id>/delete")
def canned_delete(canned_id: int) -> Response:
    def change() -> str:
        content.delete_canned(db(), g.scope, canned_id)
        return _("Canned response deleted.")

    return act(change, url_for("admin.canned_list"))


@bp.get("/news")
def news_list() -> Any:
    return render_template("admin/news.html", items=content.news_list(db(), g.scope))


@bp.route("/news/new", methods=["GET", "POST"])
def news_new() -> Any:
    return _news(None)


@bp.route("/news/<int:news_id>", methods=["GET", "POST"])
def news(news_id: int) -> Any:
    return _news(news_id)


def _news(news_id: int | None) -> Any:
    session = db()
    row = content.get_news(session, g.scope, news_id) if news_id is not None else None
    if request.method == "POST":
        given = content.news_from_form(request.form)
    elif row is not None:
        given = content.NewsInput(row.title, row.body, row.published)
    elif not access.can_manage_news(g.scope):
        abort(404)
    else:
        given = content.NewsInput("", "", False)
    error = ""
    if request.method == "POST":
        try:
            if row is None:
                content.create_news(session, g.scope, given)
            else:
                content.update_news(session, g.scope, row.id, given)
        except Invalid as exc:
            session.rollback()
            error = str(exc)
        else:
            session.commit()
            flash(_("News item saved."))
            return redirect(url_for("admin.news_list"), 303)
    return render_template("admin/news_edit.html", news_id=news_id, item=given, error=error), (
        400 if error else 200
    )
