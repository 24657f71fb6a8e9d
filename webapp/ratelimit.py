"""A small in-process rate limit on the login pages, per client address.

Login endpoints make outgoing requests to the wiki and write to the database, so an anonymous
flood of them is cheap to send and dear to answer. Each worker process counts on its own: the
limit is a brake, not an exact quota. Behind a reverse proxy, the proxy must pass the client's
address on (e.g. with werkzeug's ProxyFix), or every client shares the proxy's count.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_babel import gettext as _

# Endpoints counted together: the login page, both logins and the wiki's callback.
LIMITED = ("auth.login", "auth.demo_login", "oauth.start", "oauth.callback")
# Requests allowed per window (seconds); a login takes three (page, start, callback).
DEFAULT_LIMIT = (30, 60.0)
# Forget idle addresses once this many are tracked, so memory stays bounded.
MAX_TRACKED = 10_000


class RateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: float, now: float | None = None) -> bool:
        """Count a request for `key`; False when it is over `limit` within `window` seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > MAX_TRACKED:
                self._forget_idle(now - window)
            return True

    def _forget_idle(self, before: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= before]:
            del self._hits[key]


def init_app(app: Flask) -> None:
    app.config.setdefault("LOGIN_RATE_LIMIT", DEFAULT_LIMIT)
    app.extensions["login_rate_limiter"] = RateLimiter()
    app.before_request(_check)


def _check() -> Response | None:
    if request.endpoint not in LIMITED:
        return None
    limit, window = current_app.config["LOGIN_RATE_LIMIT"]
    limiter: RateLimiter = current_app.extensions["login_rate_limiter"]
    if limiter.allow(request.remote_addr or "unknown", int(limit), float(window)):
        return None
    page = render_template(
        "auth/refused.html",
        title=_("Too many login attempts"),
        message=_("Too many login requests came from your address. Please wait a minute."),
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(int(window))
    return response
