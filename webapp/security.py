"""Cookies, CSRF, security headers, safe return URLs and the loopback check."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

from wikibridge.config import Settings

CSP = (
    "default-src 'self'; img-src 'self' data: cid:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# For downloaded attachments: nothing may load or run, even if a browser renders one.
ATTACHMENT_CSP = "default-src 'none'; sandbox"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# A proxy in front of the app makes every request come from loopback: these headers say so.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host")
SESSION_LIFETIME = timedelta(hours=12)

csrf = CSRFProtect()


def configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="wikibridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not is_loopback_http(settings.public_url),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The token lives as long as the session; login replaces both.
        WTF_CSRF_TIME_LIMIT=None,
    )


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Pages show confidential mail: no copies in shared or browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def allow_form_target(response: Response, url: str) -> Response:
    """Let the page's forms lead to `url`'s origin as well as to this site.

    A browser applies form-action to every redirect that follows a form's submission, so the
    login button, whose POST is answered with a redirect to the wiki, needs the wiki's origin.
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


def is_loopback_http(url: str) -> bool:
    """Whether the app is served over plain http on this machine only (no Secure cookies)."""
    parts = urlsplit(url)
    return parts.scheme == "http" and _is_loopback_host(parts.hostname or "")


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_request() -> bool:
    """Whether the request comes straight from this machine (not through a proxy)."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    addr = (request.remote_addr or "").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: same-origin return URLs only."""
    if not target or len(target) > 2000:
        return None
    if any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
