"""Starting an on-wiki action from the ticket page's "On-wiki actions" panel.

One POST route for every kind (CSRF-checked like every form). Visibility first (404), then
read-write access (403), then the form: only the fields of the chosen kind are read, and the
checks of :func:`wikibridge.wiki.actions.request_action` decide; a refusal is recorded on the
ticket and committed like a queued action. There is no free-text field: the edit summary is
built by the core from the ticket number and fixed text.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from wikibridge.tickets import guards
from wikibridge.tickets.operations import Actor
from wikibridge.wiki.actions import ActionRefused, request_action

from . import labels
from .actions import KeptRefusal, run

bp = Blueprint("wiki_actions", __name__, url_prefix="/tickets")

# The form fields each kind reads (the checks decide what is required and valid).
FIELDS: dict[str, tuple[str, ...]] = {
    "revert": ("page", "purpose", "user", "revision"),
    "permission": ("page",),
    "permission_received": ("page", "reason"),
    "hide": ("page", "purpose", "revision"),
    "notice": ("page", "notice", "about"),
}
# The longest value kept from a field: titles are at most 255 characters on MediaWiki.
MAX_FIELD = 300


def panel_url(number: str) -> str:
    return url_for("tickets.view", number=number, _anchor="wiki-actions")


def form_params(kind: str) -> dict[str, Any]:
    """The kind's fields as sent; an empty field is left out (a revert names one of two)."""
    params: dict[str, Any] = {}
    for name in FIELDS.get(kind, ("page",)):
        value = request.form.get(name, "").strip()[:MAX_FIELD]
        if value:
            params[name] = value
    if kind == "hide":
        # None ticked is sent as none (refused), not as the default "content".
        params["parts"] = [p[:MAX_FIELD] for p in request.form.getlist("parts")][:10]
    return params


@bp.post("/<number>/wiki-actions")
def start(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket = guards.writable(session, a, number, lock_row=False)
        kind = request.form.get("kind", "").strip()[:MAX_FIELD]
        params = form_params(kind)
        try:
            action = request_action(session, a.settings, ticket, g.volunteer, kind, **params)
        except ActionRefused as e:
            raise KeptRefusal(
                _("The on-wiki action was refused: %(reason)s", reason=e.reason),
                panel_url(number),
            ) from e
        return _(
            "The on-wiki action (%(kind)s on %(page)s) is queued; it is carried out shortly.",
            kind=labels.WIKI_ACTION_KINDS.get(action.kind, action.kind),
            page=action.page,
        ), panel_url(number)

    return run(number, operation)
