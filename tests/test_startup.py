"""Server start: the first request of any kind does not compute a race; the warm-up fills the
result cache with the default view and warms the other pages only after the first page."""

from __future__ import annotations

import threading

import app as app_package
from app import FIRST_PAGE, create_app, layout


def component_ids(node) -> set:
    """Every component id in a serialized Dash layout."""
    found = set()
    if isinstance(node, dict):
        if isinstance(node.get("props"), dict) and isinstance(node["props"].get("id"), str):
            found.add(node["props"]["id"])
        for value in node.values():
            found |= component_ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= component_ids(value)
    return found


def test_the_first_request_of_any_kind_does_not_compute_the_page(monkeypatch):
    """Dash validates the layout on its first request; only the layout route builds the real page."""
    built = []
    real_page = layout.page
    monkeypatch.setattr(layout, "page", lambda cfg=None: built.append(cfg) or real_page(cfg))
    dash_app = create_app(warm=False)
    client = dash_app.server.test_client()
    assert client.get("/").status_code == 200  # the index page: Dash sets itself up here
    assert client.get("/health").status_code == 200
    assert built == [] and not dash_app.server.extensions[FIRST_PAGE].is_set()
    r = client.get("/_dash-layout")
    assert r.status_code == 200 and "map" in component_ids(r.get_json())  # the Explorer, with its map
    assert len(built) == 1 and dash_app.server.extensions[FIRST_PAGE].is_set()


def test_background_warm_up_caches_the_default_view_then_waits_for_the_first_page_before_the_rest(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr("app.compute.warm", lambda: calls.append("kernels"))
    monkeypatch.setattr("app.layout.page", lambda cfg=None: calls.append("default view"))
    monkeypatch.setattr("app.maps_page.warm", lambda: calls.append("maps"))
    monkeypatch.setattr("app.lab_page.warm", lambda: calls.append("lab"))
    monkeypatch.setattr(app_package, "FIRST_PAGE_SETTLE", 0.05)
    first_page = threading.Event()
    worker = threading.Thread(target=app_package._warm_all, args=(first_page,))
    worker.start()
    worker.join(timeout=1.0)
    assert worker.is_alive() and calls == ["default view"]  # the other kernels and pages wait
    first_page.set()
    worker.join(timeout=5.0)
    assert not worker.is_alive() and calls == ["default view", "kernels", "maps", "lab"]
