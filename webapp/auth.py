"""Login, logout, the waiting page, and the check in front of every other page.

Every view needs an approved volunteer unless it is marked :func:`public`; an unapproved one
is sent to the waiting page. Login starts a fresh session (cleared, new id, new CSRF token).
Wiki login (MediaWiki OAuth) is in :mod:`webapp.oauth`; without its settings the login page
says which ones it needs. The demo login exists only in demo mode, from this machine.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wikibridge import access
from wikibridge.access import NOBODY
from wikibridge.config import Settings
from wikibridge.models import Volunteer
from wikibridge.store import volunteers
from wikibridge.volunteers import record_login

from .database import db, settings
from .demo import DEMO_CENTRAL_ID
from .security import allow_form_target, is_loopback_request, safe_next

bp = Blueprint("auth", __name__)
V = TypeVar("V", bound=Callable[..., Any])

# Settings that wiki login (MediaWiki OAuth) needs: (section, name).
OAUTH_SETTINGS = (("oauth", "wiki_url"), ("oauth", "consumer_key"), ("oauth", "consumer_secret"))
# The session key of the language chosen in the menu (see i18n.py); kept across login and logout.
LANGUAGE_KEY = "language"


def public(view: V) -> V:
    """Mark a view as open to visitors who are not logged in."""
    view.wikibridge_public = True  # type: ignore[attr-defined]
    return view


def for_unapproved(view: V) -> V:
    """Mark a view as open to logged-in volunteers who are not approved yet."""
    view.wikibridge_unapproved = True  # type: ignore[attr-defined]
    return view


def token_auth(view: V) -> V:
    """Mark a view that authenticates its own requests by a bearer token (the JSON API):
    the login session is not read, so no cookie can act for the caller."""
    view.wikibridge_token_auth = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    app.before_request(_load_volunteer)
    app.context_processor(lambda: {"volunteer": g.get("volunteer")})


def _load_volunteer() -> Response | None:
    g.volunteer = None
    g.scope = NOBODY
    if request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "wikibridge_token_auth", False):
        return None
    volunteer_id = session.get("volunteer_id")
    if isinstance(volunteer_id, int):
        volunteer = volunteers.get(db(), volunteer_id)
        if volunteer is None or not volunteer.active:
            clear_session()
        else:
            g.volunteer = volunteer
    if view is None or getattr(view, "wikibridge_public", False):
        return None
    if g.volunteer is None:
        return redirect(url_for("auth.login", next=_here()))
    if getattr(view, "wikibridge_unapproved", False):
        return None
    if not access.may_work(g.volunteer):
        return redirect(url_for("auth.waiting"))
    g.scope = access.scope_for(db(), g.volunteer)
    return None


def _here() -> str:
    return request.full_path.rstrip("?") if request.query_string else request.path


def missing_login_settings(config: Settings) -> list[str]:
    """The settings wiki login still needs, as `section.name (WIKIBRIDGE_SECTION_NAME)`."""
    missing = []
    for section, name in OAUTH_SETTINGS:
        if not getattr(getattr(config, section), name):
            missing.append(f"{section}.{name} (WIKIBRIDGE_{section.upper()}_{name.upper()})")
    return missing


def clear_session() -> None:
    """Empty the session but for the chosen language, which is no secret and no login."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language is not None:
        session[LANGUAGE_KEY] = language


def start_session(volunteer: Volunteer) -> None:
    """A new session for this volunteer: nothing from the anonymous one survives (but its
    language)."""
    clear_session()
    session["volunteer_id"] = volunteer.id
    session["sid"] = secrets.token_urlsafe(16)
    session.permanent = True


@bp.get("/login")
@public
def login() -> Any:
    target = safe_next(request.args.get("next"))
    if g.volunteer is not None:
        return redirect(target or url_for("dashboard.index"))
    config = settings()
    missing = missing_login_settings(config)
    page = render_template(
        "auth/login.html",
        wiki_name="" if missing else config.oauth.display_name,
        missing=missing,
        offer_demo=config.demo and is_loopback_request(),
        next=target or "",
    )
    response = current_app.make_response(page)
    # The login button's POST is answered with a redirect to the wiki.
    return allow_form_target(response, config.oauth.script_url) if not missing else response


@bp.post("/login/demo")
@public
def demo_login() -> Response:
    if not settings().demo:
        abort(404)
    if not is_loopback_request():
        abort(403, _("The demo login is only offered to requests from this machine."))
    session_db = db()
    volunteer = volunteers.by_central_id(session_db, DEMO_CENTRAL_ID)
    if volunteer is None:
        flash(_("There is no demo volunteer: start the app with `wikibridge serve --demo`."))
        return redirect(url_for("auth.login"))
    record_login(session_db, volunteer, "demo")
    session_db.commit()
    start_session(volunteer)
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))


@bp.post("/logout")
@public
def logout() -> Response:
    clear_session()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.get("/waiting")
@for_unapproved
def waiting() -> Any:
    if access.may_work(g.volunteer):
        return redirect(url_for("dashboard.index"))
    return render_template("auth/waiting.html")
