"""The page themes (light, dark, projector) and the switch in every page header.

The switching is all in the browser: ``assets/theme.js`` picks the theme (a link's ``?theme=``,
then the saved choice, then the system's dark preference) and sets ``data-theme`` on ``<html>``;
``assets/theme.css`` restyles every page and its figures from that attribute.  The server only
draws the switch (:func:`theme_switch`, which every page header puts right after its page links)
and lets every page's link parser accept ``theme`` without a notice (:data:`QUERY_KEY`).
"""

from __future__ import annotations

from typing import Any

from dash import html

LIGHT = "light"
DARK = "dark"
PROJECTOR = "projector"
#: every theme, in the switch's order, with the switch's text
THEMES: tuple[tuple[str, str], ...] = ((LIGHT, "Light"), (DARK, "Dark"), (PROJECTOR, "Projector"))
#: the link key that chooses a theme (each page's link parser skips it: the browser reads it)
QUERY_KEY = "theme"
#: the class of the switch's wrapper; the ``<select>`` inside carries :data:`SELECT_ATTRIBUTE`
SWITCH_CLASS = "theme-switch"
SELECT_ATTRIBUTE = "data-theme-switch"


def parse_theme(value: Any) -> str | None:
    """The theme a ``?theme=`` value names (case and surrounding blanks ignored), None for anything else."""
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    return name if name in {n for n, _ in THEMES} else None


def theme_switch() -> html.Label:
    """The header's theme switch: a native ``<select>`` named "Theme" (keyboard and screen readers
    get the browser's own control); ``assets/theme.js`` shows the current theme in it and applies
    a choice at once, without a round trip to the server."""
    options = [html.Option(text, value=name) for name, text in THEMES]
    select = html.Select(options, className="theme-switch-select", **{SELECT_ATTRIBUTE: ""})
    return html.Label(className=SWITCH_CLASS, children=[html.Span("Theme", className="theme-switch-label"), select])
