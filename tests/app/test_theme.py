"""The themes: a link's ``?theme=`` value, the header's switch, its place in every page header, and
the theme script in each page's head (the switching itself is in the browser: tests/browser/test_themes.py)."""

from __future__ import annotations

import re

import pytest
from dash import html

from app import create_app
from app.shell import theme
from app.shell.page_shell import theme_first


@pytest.mark.parametrize(
    ("value", "expected"),
    [("light", "light"), ("dark", "dark"), ("projector", "projector"), (" Dark ", "dark"), ("PROJECTOR", "projector"),
     ("", None), ("neon", None), ("dark;x", None), ("darkk", None), (None, None), (3, None), (["dark"], None)],
)  # fmt: skip
def test_a_theme_value_names_one_of_the_three_themes_or_none(value, expected):
    assert theme.parse_theme(value) == expected


def test_the_constants_are_the_names_the_browser_script_uses():
    assert (theme.LIGHT, theme.DARK, theme.PROJECTOR) == ("light", "dark", "projector")
    assert [name for name, _ in theme.THEMES] == ["light", "dark", "projector"] and theme.QUERY_KEY == "theme"


def test_the_switch_is_a_select_labelled_theme_with_three_options():
    switch = theme.theme_switch()
    assert isinstance(switch, html.Label) and switch.className == theme.SWITCH_CLASS
    label, select = switch.children
    assert label.children == "Theme"  # the <label> wraps the <select>: its accessible name
    assert isinstance(select, html.Select) and getattr(select, theme.SELECT_ATTRIBUTE) == ""
    assert [(o.value, o.children) for o in select.children] == [("light", "Light"), ("dark", "Dark"), ("projector", "Projector")]


def _served(client, path: str):
    """The layout Dash's renderer gets for a page at ``path`` (the router reads the Referer)."""
    r = client.get("/_dash-layout", headers={"Referer": f"http://localhost{path}"})
    assert r.status_code == 200
    return r.get_json()


def _headers(tree) -> list[list[dict]]:
    """The children of every ``<header>`` in a served (JSON) layout."""
    found = []

    def visit(node):
        if isinstance(node, list):
            for n in node:
                visit(n)
        elif isinstance(node, dict) and isinstance(node.get("props"), dict):
            kids = node["props"].get("children")
            if node.get("type") == "Header":
                found.append([k for k in (kids if isinstance(kids, list) else [kids]) if isinstance(k, dict)])
            visit(kids)

    visit(tree)
    return found


@pytest.fixture(scope="module")
def client():
    return create_app(warm=False).server.test_client()


@pytest.mark.parametrize("path", ["/", "/maps", "/lab", "/lessons", "/lesson/gd_quadratic", "/room"])
def test_every_page_header_gets_the_switch_after_its_page_links(client, path):
    headers = [[k["props"] for k in h] for h in _headers(_served(client, path))]
    with_links = [h for h in headers if any(p.get("aria-label") == "Pages" for p in h)]
    assert len(with_links) == 1, headers
    props = with_links[0]
    i = next(n for n, p in enumerate(props) if p.get("aria-label") == "Pages")
    assert props[i + 1].get("className") == theme.SWITCH_CLASS
    assert [p.get("className") for p in props].count(theme.SWITCH_CLASS) == 1


def test_theme_first_moves_the_theme_script_into_the_head_and_leaves_the_rest():
    scripts = '<script src="/a.js"></script>\n<script src="/assets/theme.js?m=12"></script>\n<script src="/b.js"></script>'
    moved = theme_first({"scripts": scripts, "css": '<link rel="stylesheet" href="/x.css">'})
    assert moved["scripts"] == '<script src="/a.js"></script>\n<script src="/b.js"></script>'
    assert moved["css"] == '<link rel="stylesheet" href="/x.css"><script src="/assets/theme.js?m=12"></script>'
    assert theme_first({"scripts": '<script src="/assets/mytheme.js"></script>'})["scripts"].count("mytheme") == 1


def test_the_index_page_runs_the_theme_script_in_its_head_before_any_other(client):
    page = client.get("/").data.decode()
    head, body = page.split("</head>", 1)
    in_head = re.findall(r'<script src="([^"]+)"', head)
    assert len(in_head) == 1 and re.fullmatch(r"/assets/theme\.js\?m=[\d.]+", in_head[0])
    assert "/theme.js" not in body and "/assets/theme.css" in head
