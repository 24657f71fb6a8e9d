"""Languages: Flask-Babel with English and German, and the language menu in the header.

The language of a page is the one chosen in the menu (kept in the session, also across login
and logout), else the best match of the browser's Accept-Language, else English. The menu is
a small POST form (CSRF-checked, no script), so it works under the strict CSP.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from . import labels
from .auth import LANGUAGE_KEY, public
from .security import safe_next

# Locale code -> the language's own name, as the menu shows it.
LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"

bp = Blueprint("i18n", __name__)
babel = Babel()


def select_locale() -> str:
    chosen = session.get(LANGUAGE_KEY)
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {
            "languages": LANGUAGES,
            "current_language": current_language(),
            **labels.template_globals(),
        }


@bp.post("/language")
@public
def choose() -> Response:
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session[LANGUAGE_KEY] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"), 303)
