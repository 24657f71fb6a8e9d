"""Fingerprinted static files: cached for a year by browsers and proxies, never stale.

Every ``url_for("static", filename=...)`` gets ``v=<short hash of the file's bytes>``. A request
whose ``v`` is the file's current hash is answered with a year-long, immutable Cache-Control: a
release that changes the file changes its URL, so nobody keeps an old stylesheet. Any other
request for a static file (no ``v``, or the ``v`` of an older release) keeps Flask's default,
``no-cache`` with an ETag and Last-Modified, so the browser revalidates and gets a 304.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
# 48 bits: a collision between two versions of one file is not a practical concern.
HASH_CHARS = 12
# Successful answers to a GET of the file itself (full, partial, unchanged) may be kept.
CACHEABLE_STATUS = (200, 206, 304)
_EXTENSION = "wikibridge.static_fingerprints"


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = {}
    app.url_defaults(_add_fingerprint)
    app.after_request(_cache_fingerprinted)


def fingerprint(app: Flask, filename: str) -> str | None:
    """The short hash of a static file's bytes, or None if there is no such file.

    Hashed on first use, not at start-up, and remembered for the life of the app: the files
    change only with a release. In debug mode they change while the app runs, so every call
    hashes again (a stale hash would be cached by the browser for a year).
    """
    cache: dict[str, str] = app.extensions[_EXTENSION]
    if filename in cache and not app.debug:
        return cache[filename]
    path = _static_path(app, filename)
    if path is None:
        return None  # not remembered: the names asked for are the clients' to choose
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()[:HASH_CHARS]
    cache[filename] = digest
    return digest


def _static_path(app: Flask, filename: str) -> str | None:
    """The file's path inside the static folder; None for a missing file or a way out of it."""
    if app.static_folder is None:
        return None
    path = safe_join(app.static_folder, filename)
    return path if path is not None and os.path.isfile(path) else None


def _add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """Add ``v`` to every URL of a static file (templates just call url_for)."""
    filename = values.get("filename")
    if endpoint != "static" or "v" in values or not isinstance(filename, str):
        return
    digest = fingerprint(current_app, filename)
    if digest is not None:
        values["v"] = digest


def _cache_fingerprinted(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code not in CACHEABLE_STATUS:
        return response
    filename = (request.view_args or {}).get("filename")
    version = request.args.get("v")
    if version and isinstance(filename, str) and version == fingerprint(current_app, filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response
