"""What a hosted demo adds to the Flask server: a health check, safe headers, no tracebacks.

``install(server, callbacks)`` is called by ``create_app``; it is idempotent.  A
callback request whose envelope is not what the page sends (not JSON, a callback
the app does not have, inputs that are not lists) is refused with 400 before Dash
reads it; the values inside are each callback's to validate.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from flask import request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("descent_lab")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # same-origin: Dash fetches a page's layout in a second request whose Referer carries the link's query
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


#: pages under this path prefix may be framed by the origins :func:`frame_ancestors` names
EMBED_PREFIX = "/embed"
#: space-separated origins allowed to frame the ``/embed`` pages (e.g. "https://slides.example.org")
FRAME_ANCESTORS_ENV = "DESCENT_LAB_FRAME_ANCESTORS"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def parse_origins(text: str) -> tuple[str, ...]:
    """The origins of a space- or comma-separated list; ValueError naming the first that is not an origin
    (``scheme://host[:port]``, no path, no wildcard)."""
    out = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        origin = item.rstrip("/")
        if not _ORIGIN.match(origin) or len(origin) > 200:
            raise ValueError(f"{item[:80]!r} is not an origin such as https://slides.example.org")
        out.append(origin)
    return tuple(dict.fromkeys(out))


def frame_ancestors() -> tuple[str, ...]:
    """The origins allowed to frame the ``/embed`` pages (from :data:`FRAME_ANCESTORS_ENV`; a bad entry is
    logged and none is allowed)."""
    try:
        return parse_origins(os.environ.get(FRAME_ANCESTORS_ENV, ""))
    except ValueError as exc:
        log.error("%s: %s; /embed pages are framed by this site only", FRAME_ANCESTORS_ENV, exc)
        return ()


def framing_headers(path: str) -> dict[str, str]:
    """Who may frame the page at ``path``: this site only, except ``/embed…`` pages, which the origins
    of :func:`frame_ancestors` may frame as well (CSP ``frame-ancestors``; X-Frame-Options cannot name
    another origin, so those pages send none)."""
    if path == EMBED_PREFIX or path.startswith(EMBED_PREFIX + "/"):
        return {"Content-Security-Policy": " ".join(("frame-ancestors", "'self'", *frame_ancestors()))}
    return {"Content-Security-Policy": "frame-ancestors 'self'", "X-Frame-Options": "SAMEORIGIN"}


def callback_envelope_problem(body: Any, callbacks: Mapping[str, Any] | None) -> str | None:
    """Why a ``/_dash-update-component`` body is not a callback request of this app (None: it is)."""
    if not isinstance(body, dict):
        return "not a JSON object"
    output = body.get("output")
    if not isinstance(output, str):
        return "no output"
    if callbacks is not None and output not in callbacks:
        return "unknown callback"
    for key in ("inputs", "state", "changedPropIds"):
        if key in body and not isinstance(body[key], list):
            return f"{key} is not a list"
    if not isinstance(body.get("inputs"), list):
        return "no inputs"
    if "outputs" in body and not isinstance(body["outputs"], (dict, list)):
        return "outputs is not a list"
    for entry in _flat(body["inputs"]) + _flat(body.get("state") or []):
        if not isinstance(entry, dict) or "id" not in entry or not isinstance(entry.get("property"), str):
            return "malformed input"
    if not all(isinstance(p, str) for p in body.get("changedPropIds") or []):
        return "malformed changedPropIds"
    return None


def _flat(entries: list[Any]) -> list[Any]:
    return [e for group in entries for e in (group if isinstance(group, list) else [group])]


def install(server: Any, callbacks: Mapping[str, Any] | None = None) -> None:
    """Add /health, security headers, callback-envelope checks and generic error pages to a Flask server.

    ``callbacks``: the Dash app's ``callback_map`` (requests for other outputs are refused).
    """
    if server.config.get("DESCENT_LAB_HOSTING"):
        return
    server.config["DESCENT_LAB_HOSTING"] = True
    server.config["PROPAGATE_EXCEPTIONS"] = False
    server.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024  # uploads to the lab are capped below this

    @server.route("/health")
    def health() -> Any:
        from app.version import version

        return {"status": "ok", "version": version()}

    @server.before_request
    def check_callback_envelope() -> Any:
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        problem = callback_envelope_problem(request.get_json(silent=True), callbacks)
        if problem is not None:
            return {"error": "bad callback request", "reason": problem}, 400
        return None

    @server.after_request
    def headers(response: Any) -> Any:
        for key, value in {**SECURITY_HEADERS, **framing_headers(request.path)}.items():
            response.headers.setdefault(key, value)
        return response

    @server.errorhandler(Exception)
    def no_traceback(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return {"error": exc.name}, exc.code
        log.exception("unhandled error")  # the details go to the server log, never to the browser
        return {"error": "internal error"}, 500
