"""The router: which page's layout a request for Dash's layout gets.

Dash fetches the layout from the page itself, so the request's Referer is the page's URL: its
path picks the page and its query the page's state.  The router knows pages only by the names of
their entry functions (imported on first use, so ``import app`` stays light and a page's code
loads only when someone opens it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: Dash's route that serves the page's layout
LAYOUT_ROUTE = "_dash-layout"
#: the longest query of a page link that is read, and its most fields
MAX_QUERY_CHARS = 8000
MAX_QUERY_FIELDS = 200


def resolve(target: str) -> Any:
    """The function a ``"package.module:function"`` name stands for."""
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


def page_query(query: str) -> dict[str, str]:
    """A link's query as a dict (the last value of a repeated key wins); a query longer than
    :data:`MAX_QUERY_CHARS` is cut there, and one of more than :data:`MAX_QUERY_FIELDS` fields is
    not read at all (the page opens with its defaults)."""
    try:
        pairs = parse_qsl(query[:MAX_QUERY_CHARS], keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        return {}
    return dict(pairs)


@dataclass(frozen=True)
class Router:
    """Pages by path: ``pages`` maps a path to ``"module:function"`` taking the query as a dict of
    strings; ``prefixes`` maps a path prefix (``"/lesson/"``) to one taking the query dict and the
    rest of the path; every other path (and a request with no same-origin referrer) gets ``default``,
    a ``"module:function"`` taking the raw query string ('' for none)."""

    pages: Mapping[str, str]
    default: str
    prefixes: Mapping[str, str] = field(default_factory=dict)
    #: a path prefix that serves every page without the site's chrome (``/embed/maps`` is ``/maps``)
    embed: str = "/embed"

    def page_path(self, path: str) -> str:
        """``path`` with the embed prefix taken off (``/embed`` → ``/``)."""
        if self.embed and (path == self.embed or path.startswith(self.embed + "/")):
            return path[len(self.embed) :] or "/"
        return path

    def layout_for(self, referrer: str | None, host: str) -> Any:
        """The layout for a page at ``referrer`` (ignored unless it is on ``host``)."""
        if referrer:
            parts = urlsplit(referrer)
            if parts.netloc == host:
                path = self.page_path(parts.path)
                target = self.pages.get(path.rstrip("/"))
                if target is not None:
                    return resolve(target)(page_query(parts.query))
                for prefix, handler in self.prefixes.items():
                    if path.startswith(prefix):
                        return resolve(handler)(page_query(parts.query), path[len(prefix) :])
                return resolve(self.default)(parts.query)
        return resolve(self.default)("")
