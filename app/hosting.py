"""What a hosted demo adds to the Flask server: a health check, safe headers, no tracebacks.

``install(server)`` is called by ``create_app``; it is idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.exceptions import HTTPException

log = logging.getLogger("descent_lab")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    # same-origin: Dash fetches a page's layout in a second request whose Referer carries the link's query
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def install(server: Any) -> None:
    """Add /health, security headers, and generic error pages to a Flask server."""
    if server.config.get("DESCENT_LAB_HOSTING"):
        return
    server.config["DESCENT_LAB_HOSTING"] = True
    server.config["PROPAGATE_EXCEPTIONS"] = False
    server.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024  # uploads to the lab are capped below this

    @server.route("/health")
    def health() -> Any:
        from app.cli import _version

        return {"status": "ok", "version": _version()}

    @server.after_request
    def headers(response: Any) -> Any:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @server.errorhandler(Exception)
    def no_traceback(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return {"error": exc.name}, exc.code
        log.exception("unhandled error")  # the details go to the server log, never to the browser
        return {"error": "internal error"}, 500
