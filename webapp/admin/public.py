"""The public volunteer list (no login; bots read it too) and a volunteer's own preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge.admin import volunteers

from ..auth import public
from ..database import db

bp = Blueprint("people", __name__)


@bp.get("/volunteers")
@public
def volunteer_list() -> Any:
    """Usernames of approved, active volunteers who chose to be listed; nothing else."""
    return render_template("people/volunteers.html", usernames=volunteers.public_usernames(db()))


@bp.get("/volunteers.json")
@public
def volunteer_list_json() -> Any:
    return jsonify(volunteers=volunteers.public_usernames(db()))


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> Any:
    if request.method == "GET":
        return render_template("people/preferences.html")
    session = db()
    listed = request.form.get("public_listing") == "on"
    volunteers.set_public_listing(session, g.volunteer, listed)
    session.commit()
    flash(
        _("You are on the public volunteer list.")
        if listed
        else _("You are not on the public list.")
    )
    return _back()


def _back() -> Response:
    return redirect(url_for("people.preferences"), 303)
