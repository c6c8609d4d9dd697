"""The links between the app's pages, one list for every page header.

A new page adds itself to :data:`PAGES` and puts :func:`page_links` in its header; each page
keeps its own header styling (the class names it passes).
"""

from __future__ import annotations

from dash import html

#: (path, link text) of every page, in the order the headers list them
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Explorer"), ("/maps", "Sweep maps"), ("/lab", "Autoencoder lab"), ("/lessons", "Lessons"),
)  # fmt: skip


def page_links(current: str, nav_class: str, link_class: str) -> html.Nav:
    """A ``<nav aria-label="Pages">`` with a link to every page but ``current`` (a path of :data:`PAGES`)."""
    if current not in {path for path, _ in PAGES}:
        raise ValueError(f"unknown page {current!r}")
    links = [html.A(text, href=path, className=link_class) for path, text in PAGES if path != current]
    return html.Nav(className=nav_class, children=links, **{"aria-label": "Pages"})
