"""The lesson pages' header: the brand and the links to every page."""

from __future__ import annotations

from dash import html

from app.shell.header import page_links
from app.shell.theme import theme_switch

INDEX_PATH = "/lessons"


def header() -> html.Header:
    return html.Header(className="lesson-top", children=[
        html.Div(className="brand", children=[html.A("Descent Lab", href="/", className="lesson-brand"),
                                              html.Span("lessons", className="sub")]),
        page_links(INDEX_PATH, "lesson-pages", "lesson-page-link"),
        theme_switch(),
    ])  # fmt: skip
