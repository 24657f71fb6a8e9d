"""Wiki login: /oauth/start sends the browser to the wiki, /oauth/callback brings it back.

What the login needs between the two (request token and secret, or state and PKCE verifier) is
sealed into the session cookie, which is signed but readable by the browser, and opened once:
a callback without it, with another login's state, or older than ten minutes is refused. A
logged-in volunteer's access token is shown to the wiki again every `oauth.recheck_seconds`,
so a grant revoked on the wiki or a new block ends the session here too.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from wikibridge import oauth
from wikibridge.config import Settings
from wikibridge.oauth import AccountBlocked, OAuthError, Sealer, StateMismatch, TokenRevoked
from wikibridge.store import oauth_tokens
from wikibridge.volunteers import VolunteerInactive, end_wiki_login, log_in_with_wiki

from .auth import clear_session, public, start_session
from .database import settings, state
from .security import safe_next

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

PENDING = "oauth_pending"
PENDING_MAX_AGE = 600  # seconds from the login button to the callback
CHECKED = "oauth_checked"  # when the wiki last confirmed this session's login
RETRY_AFTER_OUTAGE = 60  # seconds before asking an unreachable wiki again


def init_app(app: Flask) -> None:
    # Runs after auth's loader has set g.volunteer.
    app.before_request(_recheck)


def _configured() -> Settings:
    config = settings()
    if not config.oauth.configured:
        abort(404)
    return config


def _sealer(purpose: str) -> Sealer:
    return Sealer(settings().secret_key, purpose)


def refused(title: str, message: str, status: int) -> Any:
    return render_template("auth/refused.html", title=title, message=message), status


def blocked_page(username: str = "") -> Any:
    if username:
        message = _(
            "The wiki account %(name)s is blocked on the wiki, and blocked accounts cannot log "
            "in here. If the block ends, you can log in again.",
            name=username,
        )
    else:
        message = _(
            "Your wiki account is blocked on the wiki, and blocked accounts cannot log in here. "
            "If the block ends, you can log in again."
        )
    return refused(_("Your wiki account is blocked"), message, 403)


@bp.post("/start")
@public
def start() -> Any:
    config = _configured()
    client = oauth.wiki_login(config)
    try:
        started = client.start()
    except OAuthError as e:
        return refused(_("Wiki login failed"), str(e), 502)
    pending = {
        **started.pending,
        "protocol": client.protocol,
        "next": safe_next(request.form.get("next")) or "",
    }
    session[PENDING] = _sealer(oauth.PENDING_LOGIN).seal(pending).decode()
    return redirect(started.authorize_url)


@bp.get("/callback")
@public
def callback() -> Any:
    """The wiki sends the browser here (a GET, so the view opens its own writable session)."""
    config = _configured()
    sealed = session.pop(PENDING, None)
    if not isinstance(sealed, str):
        return refused(
            _("Wiki login failed"),
            _(
                "This login was not started here, has already been used or has expired. "
                "Please start again."
            ),
            400,
        )
    try:
        pending = _sealer(oauth.PENDING_LOGIN).open(sealed, max_age=PENDING_MAX_AGE)
        client = oauth.wiki_login(config, str(pending.get("protocol", "")))
        token = client.finish(request.args, pending)
        identity = client.identify(token)
        with state().sessions() as db:
            volunteer = log_in_with_wiki(
                db, identity, client.protocol, _sealer(oauth.TOKENS).seal(token)
            )
            db.commit()
    except AccountBlocked as e:
        return blocked_page(e.username)
    except VolunteerInactive:
        return refused(
            _("Account disabled"),
            _("Your volunteer account has been deactivated here. Ask a queue administrator."),
            403,
        )
    except StateMismatch as e:
        return refused(_("Wiki login failed"), str(e), 400)
    except TokenRevoked as e:
        flash(str(e))
        return redirect(url_for("auth.login"))
    except OAuthError as e:
        return refused(_("Wiki login failed"), str(e), 502)
    start_session(volunteer)
    session[CHECKED] = time.time()
    target = safe_next(str(pending.get("next") or ""))
    return redirect(target or url_for("dashboard.index"))


def _recheck() -> Any:
    """Ask the wiki again, now and then, whether the volunteer's login still holds."""
    volunteer = g.get("volunteer")
    checked = session.get(CHECKED)
    # Sessions without a wiki login (the demo login) have nothing to recheck.
    if volunteer is None or not isinstance(checked, int | float):
        return None
    config = settings()
    interval = config.oauth.recheck_seconds
    if not config.oauth.configured or not interval or time.time() - checked < interval:
        return None
    if request.endpoint in ("static", "auth.logout"):
        return None
    try:
        identity = _identify_again(config, volunteer.id)
    except AccountBlocked:
        _end(volunteer.id, "blocked on the wiki")
        return blocked_page(volunteer.username)
    except TokenRevoked as e:
        _end(volunteer.id, "refused by the wiki")
        flash(str(e))
        return redirect(url_for("auth.login", next=request.path))
    except OAuthError:
        # The wiki is unreachable: keep working, and ask again in a minute.
        session[CHECKED] = time.time() - interval + RETRY_AFTER_OUTAGE
        return None
    if identity.blocked or identity.central_id != volunteer.central_id:
        _end(volunteer.id, "blocked on the wiki")
        return blocked_page(volunteer.username)
    session[CHECKED] = time.time()
    return None


def _identify_again(config: Settings, volunteer_id: int) -> oauth.Identity:
    sealer = _sealer(oauth.TOKENS)
    with state().sessions() as db:
        stored = oauth_tokens.current(db, volunteer_id)
        if stored is None:
            raise TokenRevoked(_("Your wiki login has ended; please log in again."))
        token = sealer.open(stored.sealed)
        client = oauth.wiki_login(config, stored.protocol)
        try:
            return client.identify(token)
        except oauth.TokenExpired:
            token = client.refresh(token)
            oauth_tokens.reseal(db, stored, sealer.seal(token))
            db.commit()
            return client.identify(token)


def _end(volunteer_id: int, reason: str) -> None:
    with state().sessions() as db:
        end_wiki_login(db, volunteer_id, reason)
        db.commit()
    clear_session()
