"""Administration pages (volunteers, access, queues, routing rules, canned responses, news),
the public volunteer list and a volunteer's preferences.

Who may do what is decided in :mod:`wikibridge.access`; the pages only ask. Volunteers who
administer nothing get 404 for every admin URL.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from wikibridge import access
from wikibridge.admin import content as admin_content
from wikibridge.models import NewsItem

from ..database import db
from . import content, queues, rules, volunteers  # noqa: F401 - they add their views to bp
from .common import bp
from .public import bp as public_bp

__all__ = ["bp", "init_app", "public_bp"]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.context_processor(_template_helpers)


def _template_helpers() -> dict[str, Any]:
    return {"can_admin": _can_admin, "global_admin": _global_admin, "login_news": _login_news}


def _can_admin() -> bool:
    return access.can_admin_any(g.get("scope", access.NOBODY))


def _global_admin() -> bool:
    return access.is_global_admin(g.get("scope", access.NOBODY))


def _login_news() -> list[NewsItem]:
    return admin_content.login_news(db())
