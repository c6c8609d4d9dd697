"""The classroom load test still speaks the Explorer's protocol: every request it replays gets a valid answer.

The benchmark builds its callback requests from the server's own layout and
dependencies, so a change of the app that breaks them (a renamed store, a new
input, a callback that now fails) must show up here rather than as a benchmark
that quietly measures error pages.  The figures themselves are the script's
business (``bench/bench_load.py``), not this test's.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "bench_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_load", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def server():
    with bench.served(workers=2, threads=4) as s:
        yield s
    assert bench.log_problems(s.log) == [], s.log[-4000:]


def test_each_replayed_request_gets_a_valid_answer(server):
    samples = []
    tab = bench.Student(server.base, random.Random(7), samples.append, lessons=bench.lesson_links())
    tab.open("saddle")
    tab.move_slider(bench.id_key({"type": "slider", "group": "hp", "slot": 0, "key": "lr", "scale": "log"}))
    tab.move_slider()
    tab.click_map()
    tab.pick_lesson()
    tab.open("beale")  # a second visit: the browser holds the scripts already
    # the only 204 allowed: the formulas asked for at boot, before the page has painted its map
    bad = [(s.kind, s.status, s.error) for s in samples if s.error or s.status not in (200, 204)
           or (s.status == 204 and s.kind != "tex")]  # fmt: skip
    assert bad == []
    kinds = [s.kind for s in samples]
    assert set(kinds) == set(bench.KINDS)
    assert kinds.count("page") == 2 and kinds.count("layout") == 2
    assert kinds.count("static") == len(tab.cached) > 10  # each file once: the second visit uses the cache
    assert tab.page is not None and tab.page.link == "/" + bench.lesson_links()["beale"]


def test_the_requests_are_built_like_the_browsers():
    """The body of a slider move, from a small page: pattern ids expanded in layout order, the renderer's
    JSON (whole floats as integers), the parsed form of a pattern id, values the component lacks left out."""
    slider = {"type": "slider", "slot": 0, "key": "lr"}
    layout = {"type": "Div", "namespace": "h", "props": {"children": [
        {"type": "Store", "namespace": "d", "props": {"id": "config-store", "data": {"query": "?a"}}},
        {"type": "Slider", "namespace": "d", "props": {"id": slider, "value": -2.0, "min": -5.0, "max": 1.0}},
        {"type": "Slider", "namespace": "d", "props": {"id": {**slider, "slot": 1}, "value": -3.0}},
        {"type": "Button", "namespace": "h", "props": {"id": "go"}},
    ]}}  # fmt: skip
    deps = [{"output": "..config-store.data...payload-store.data@ab12..", "clientside_function": None,
             "inputs": [{"id": '{"key":["ALL"],"slot":["ALL"],"type":"slider"}', "property": "value"},
                        {"id": "go", "property": "n_clicks"}],
             "state": [{"id": "config-store", "property": "data"}]},
            {"output": "..boot-store.data...rendered-store.data..", "inputs": [], "state": []},
            {"output": "surface-tex.children", "inputs": [], "state": []}]  # fmt: skip
    page = bench.Page(layout, bench.explorer_callbacks(deps), "E1", "/?a")
    key = bench.id_key(slider)
    assert key == '{"key":"lr","slot":0,"type":"slider"}'
    page.set(key, "value", -1.5)
    body = bench.as_js(page.body("collect", [key + ".value"]))
    assert body["output"] == deps[0]["output"]
    assert body["outputs"] == [{"id": "config-store", "property": "data"},
                               {"id": "payload-store", "property": "data@ab12"}]  # fmt: skip
    assert body["inputs"] == [
        [{"id": slider, "property": "value", "value": -1.5},
         {"id": {**slider, "slot": 1}, "property": "value", "value": -3}],
        {"id": "go", "property": "n_clicks"},
    ]  # fmt: skip
    assert body["changedPropIds"] == [key + ".value"] and body["parsedChangedPropsIds"] == [slider]
    assert body["state"] == [{"id": "config-store", "property": "data", "value": {"query": "?a"}}]
    # an answer is applied to the page; new children count as changed for the callbacks they feed
    changes = page.apply({"multi": True, "response": {"config-store": {"data": {"query": "?b"}}}})
    assert changes == [("config-store", "data")] and page.get("config-store", "data") == {"query": "?b"}
    with pytest.raises(bench.DriftError, match="no longer one of its inputs"):  # a request the page cannot make
        page.body("collect", ["config-store.data"])
    with pytest.raises(bench.ProtocolError, match="collect"):
        bench.explorer_callbacks(deps[1:])


def test_a_short_class_run_has_no_errors(server):
    results = bench.run_class(server.base, students=2, duration=3.0, think=(0.05, 0.2), ramp=0.2, assets=False,
                              mix={"slider": 2, "click": 2, "lesson": 1, "open": 1})  # fmt: skip
    fig = bench.figures(results)
    assert fig["error_count"] == 0, fig["errors"]
    assert {"open", "slider", "click"} <= set(fig["actions"])
    assert fig["requests"]["slider"]["n"] >= 2 and fig["requests"]["all requests"]["p50"] > 0
    assert "p95" in bench.report(fig, [], []) and fig["requests_per_s"] > 0
