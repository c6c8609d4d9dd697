"""A small JSON endpoint for the Explorer's fast path: one hyperparameter moved, the race recomputed.

    GET /_descent/race?q=<canonical query>&slot=0&key=lr&s=-2.99&scale=log

answers the race of the configuration ``q`` with optimizer
``slot``'s ``key`` set to what the slider position ``s`` stands for (the same
rounding as the Dash callback's), sanitized: ``{"payload": ..., ...}`` (see
:func:`app.explorer.views.race_entry`; the payload's ``query`` is the new link, its
``index.rev`` is the page's to fill).  The Dash callback that follows computes
the same configuration, so it is a hit in the shared result cache.  Anything
malformed is answered 400 with a reason.
"""

from __future__ import annotations

import math
import re
from typing import Any

from app.explorer.config import MAX_OPTIMIZERS, MAX_QUERY_CHARS
from app.explorer.ids import RACE_ROUTE
from app.explorer.inputs import slider_value
from app.explorer.query import from_query
from app.explorer.sanitize import sanitize

ROUTE = RACE_ROUTE
SCALES = ("log", "lin", "int")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


class BadRequest(ValueError):
    """A request the endpoint refuses (answered 400)."""


def moved(args: Any) -> Any:
    """The configuration a fast-path request asks for; :class:`BadRequest` if it is malformed."""
    q = args.get("q", "")
    if not isinstance(q, str) or len(q) > MAX_QUERY_CHARS:
        raise BadRequest("q must be an Explorer query")
    try:
        slot = int(args.get("slot", ""))
        s = float(args.get("s", ""))
    except ValueError:
        raise BadRequest("slot must be an integer and s a number") from None
    key, scale = args.get("key", ""), args.get("scale", "")
    if not 0 <= slot < MAX_OPTIMIZERS or not math.isfinite(s) or abs(s) > 1e6:
        raise BadRequest("slot or s out of range")
    if not _KEY.fullmatch(key or "") or scale not in SCALES:
        raise BadRequest("bad key or scale")
    raw = from_query(q).to_dict()
    if slot >= len(raw["optimizers"]):
        raise BadRequest("no optimizer in that slot")
    raw["optimizers"][slot]["values"][key] = slider_value(s, scale)
    return sanitize(raw)


def register(server: Any) -> None:
    """Add the fast-path route to the Flask server."""
    from flask import Response, request

    from app.explorer.views import cached_race_text

    @server.get(ROUTE)
    def fast_race() -> Any:
        try:
            cfg = moved(request.args)
        except BadRequest as exc:
            return {"error": "bad request", "reason": str(exc)}, 400
        response = Response(cached_race_text(cfg), mimetype="application/json")  # the cached JSON, as stored
        response.headers["Cache-Control"] = "private, max-age=600"
        return response
