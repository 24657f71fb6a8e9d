"""Admin pages: routing rules in order, and trying them on a pasted message."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.admin import queues, rules
from wikibridge.admin.base import Invalid
from wikibridge.models import RULE_FIELDS, RoutingRule

from .. import labels
from ..database import db, settings
from .common import act, bp


@bp.get("/rules")
def rule_list() -> Any:
    session = db()
    return render_template(
        "admin/rules.html",
        rules=rules.all_rules(session, g.scope),
        queue_names={n.queue.id: n.queue.name for n in queues.administered(session, g.scope)},
        field_help=labels.translated(rules.FIELD_HELP, labels.FIELDS),
    )


@bp.route("/rules/new", methods=["GET", "POST"])
def rule_new() -> Any:
    return _edit(None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
def rule(rule_id: int) -> Any:
    return _edit(rule_id)


def _edit(rule_id: int | None) -> Any:
    """The rule form. "Save" stores it; "Try" routes the pasted message with the rule as
    entered (saved or not) in its place, and writes nothing."""
    if not access.can_manage_routing(g.scope):
        abort(404)
    session = db()
    row = rules.get(session, g.scope, rule_id) if rule_id is not None else None
    given = rules.from_form(request.form) if request.method == "POST" else _input_of(row)
    error, result = "", None
    if request.method == "POST":
        try:
            if request.form.get("do") == "try":
                result = rules.preview(
                    session,
                    g.scope,
                    settings(),
                    request.form.get("message", ""),
                    given,
                    rule_id or 0,
                )
                session.rollback()
            elif row is None:
                saved = rules.create(session, g.scope, given)
                session.commit()
                return _saved(_("Rule %(name)s created.", name=saved.name or saved.id))
            else:
                rules.update(session, g.scope, row.id, given)
                session.commit()
                return _saved(_("Rule %(name)s saved.", name=row.name or row.id))
        except Invalid as exc:
            session.rollback()
            error = str(exc)
    return render_template(
        "admin/rule.html",
        rule_id=rule_id,
        rule=given,
        fields=RULE_FIELDS,
        field_help=labels.translated(rules.FIELD_HELP, labels.FIELDS),
        queues=queues.administered(session, g.scope),
        message=request.form.get("message", ""),
        result=result,
        error=error,
    ), (400 if error else 200)


def _input_of(row: RoutingRule | None) -> rules.RuleInput:
    if row is None:
        return rules.RuleInput("", "recipient", "", "", None, True)
    return rules.RuleInput(
        row.name, row.field, row.header_name, row.pattern, row.queue_id, row.enabled
    )


def _saved(message: str) -> Response:
    flash(message)
    return redirect(url_for("admin.rule_list"), 303)


@bp.post("/rules/<int:rule_id>/move")
def rule_move(rule_id: int) -> Response:
    offset = -1 if request.form.get("direction") == "up" else 1

    def change() -> str:
        rules.move(db(), g.scope, rule_id, offset)
        return _("Order changed.")

    return act(change, url_for("admin.rule_list"))


@bp.post("/rules/<int:rule_id>/enabled")
def rule_enabled(rule_id: int) -> Response:
    enabled = request.form.get("enabled") == "on"

    def change() -> str:
        row = rules.set_enabled(db(), g.scope, rule_id, enabled)
        return (
            _("Rule %(name)s enabled.", name=row.name or row.id)
            if enabled
            else _("Rule %(name)s disabled.", name=row.name or row.id)
        )

    return act(change, url_for("admin.rule_list"))


@bp.route("/rules/preview", methods=["GET", "POST"])
def rule_preview() -> Any:
    """Route a pasted message with the rules as they are saved."""
    if not access.can_manage_routing(g.scope):
        abort(404)
    session = db()
    error, result = "", None
    if request.method == "POST":
        try:
            result = rules.preview(session, g.scope, settings(), request.form.get("message", ""))
        except Invalid as exc:
            error = str(exc)
        session.rollback()
    return render_template(
        "admin/preview.html",
        message=request.form.get("message", ""),
        result=result,
        error=error,
    ), (400 if error else 200)
