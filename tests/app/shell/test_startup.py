"""Server start: the first request of any kind does not compute a race; the warm-up fills the
result cache with the default view and warms the other pages only after the first page."""

from __future__ import annotations

import threading

import app as app_package
from app import FIRST_PAGE, create_app
from app.explorer import layout


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
    monkeypatch.setattr("app.explorer.compute.warm", lambda: calls.append("kernels"))
    monkeypatch.setattr("app.explorer.layout.page", lambda cfg=None: calls.append("default view"))
    monkeypatch.setattr("app.maps.page.warm", lambda: calls.append("maps"))
    monkeypatch.setattr("app.lab.page.warm", lambda: calls.append("lab"))
    monkeypatch.setattr(app_package, "FIRST_PAGE_SETTLE", 0.05)
    first_page = threading.Event()
    worker = threading.Thread(target=app_package._warm_all, args=(first_page, lambda: calls.append("job launcher")))
    worker.start()
    worker.join(timeout=1.0)
    assert worker.is_alive() and calls == ["default view"]  # the other kernels, pages and the job launcher wait
    first_page.set()
    worker.join(timeout=5.0)
    assert not worker.is_alive() and calls == ["default view", "job launcher", "kernels", "maps", "lab"]


def test_building_the_app_starts_no_job_launcher(monkeypatch):
    """The launcher's start (and its warm-up) is left to the warm-up, after the first page."""
    from app.hosting.launcher_client import Launcher

    started: list[int] = []
    monkeypatch.setattr(Launcher, "ensure", lambda self: started.append(1) or 0)
    dash_app = create_app(warm=False)
    assert started == []
    dash_app._background_manager.start_launcher()
    assert started == [1]


def run_probe(code: str, tmp_path) -> dict:
    """Run ``code`` in a fresh Python process (stores in ``tmp_path``); the JSON its last line printed."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DESCENT_LAB_JOBS_DIR": str(tmp_path / "jobs"), "DESCENT_LAB_RESULTS_DIR": str(tmp_path / "results")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


ASSEMBLY_PROBE = """
import gc, json
import app
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
inside = {}
real_assemble = app._assemble
def assemble(kwargs):
    inside["before"] = len(collections)
    result = real_assemble(kwargs)
    inside["after"] = len(collections)
    return result
app._assemble = assemble
app.create_app(warm=False)
enabled = gc.isenabled()
n = len(collections)
gc.collect()
print(json.dumps({"inside": inside["after"] - inside["before"], "enabled": enabled, "collected": len(collections) - n}))
"""


def test_assembling_the_app_runs_no_cycle_collection_and_leaves_the_collector_on(tmp_path):
    """A fresh process imports Dash and the engine with the collector paused, then turns it back on."""
    report = run_probe(ASSEMBLY_PROBE, tmp_path)
    assert report == {"inside": 0, "enabled": True, "collected": 1}


def test_assembling_the_app_keeps_a_collector_the_caller_turned_off():
    import gc

    gc.disable()
    try:
        create_app(warm=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_python_m_app_builds_a_frozen_app_warmed_in_the_background_then_serves(monkeypatch):
    """``python -m app``: create the app (frozen, warmed in the background), then serve (run is faked)."""
    import app.__main__ as entry

    events: list[str] = []

    class FakeApp:
        def run(self, **kwargs):
            events.append(f"run {kwargs['host']}:{kwargs['port']}")

    def fake_create_app(**kwargs):
        events.append(f"create {sorted(kwargs.items())}")
        return FakeApp()

    monkeypatch.setattr(app_package, "create_app", fake_create_app)
    assert entry.main(["--port", "8123"]) == 0
    assert events == ["create [('freeze', True), ('warm', 'background')]", "run 127.0.0.1:8123"]


FROZEN_PROBE = """
import gc, json
import app
gc.collect()
frozen_before = gc.get_freeze_count()
app.create_app(warm=False, freeze=True)
print(json.dumps({"frozen": gc.get_freeze_count() - frozen_before, "young": gc.get_count()[0], "enabled": gc.isenabled()}))
"""


def test_a_frozen_app_leaves_the_collector_nothing_of_the_start_to_scan(tmp_path):
    """With ``freeze``, the objects of the start go out of the collector's reach before it is back on."""
    report = run_probe(FROZEN_PROBE, tmp_path)
    assert report["enabled"] and report["frozen"] > 100_000 and report["young"] < 1_000
