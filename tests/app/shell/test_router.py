"""The router picks a page by the referrer's path and hands it the referrer's query."""

from __future__ import annotations

import pytest

from app.shell.router import MAX_QUERY_CHARS, MAX_QUERY_FIELDS, Router, page_query, resolve

CALLS: list[tuple[str, object]] = []


def maps_layout(query):
    CALLS.append(("maps", query))
    return "maps page"


def explorer_layout(query):
    CALLS.append(("explorer", query))
    return "explorer page"


ROUTER = Router({"/maps": f"{__name__}:maps_layout"}, f"{__name__}:explorer_layout")


@pytest.fixture(autouse=True)
def fresh_calls():
    CALLS.clear()


def test_a_page_path_gets_its_page_with_the_query_as_a_dict():
    assert ROUTER.layout_for("http://host:8050/maps/?kind=hyper&grid=64&x=", "host:8050") == "maps page"
    assert CALLS == [("maps", {"kind": "hyper", "grid": "64", "x": ""})]


def test_every_other_path_gets_the_default_page_with_the_raw_query():
    assert ROUTER.layout_for("http://host:8050/anything?surface=rosenbrock", "host:8050") == "explorer page"
    assert CALLS == [("explorer", "surface=rosenbrock")]


def test_another_origin_or_no_referrer_gets_the_default_view():
    ROUTER.layout_for("http://evil.example/maps?kind=hyper", "host:8050")
    ROUTER.layout_for(None, "host:8050")
    assert CALLS == [("explorer", ""), ("explorer", "")]


def test_a_query_with_too_many_fields_opens_the_page_with_its_defaults():
    query = "&".join(f"k{i}=1" for i in range(MAX_QUERY_FIELDS + 5))
    assert ROUTER.layout_for(f"http://host/maps?{query}", "host") == "maps page"
    assert CALLS == [("maps", {})]


def test_page_query_cuts_an_overlong_query_and_keeps_the_last_repeated_value():
    assert page_query("a=1&a=2&b=") == {"a": "2", "b": ""}
    assert page_query("a=" + "x" * (MAX_QUERY_CHARS + 50)) == {"a": "x" * (MAX_QUERY_CHARS - 2)}


def test_resolve_names_a_function_by_module_and_name():
    assert resolve("app.shell.router:resolve") is resolve
