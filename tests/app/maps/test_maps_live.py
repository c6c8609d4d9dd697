"""Live maps: the settings a slider drags, the coarse preview the route answers (the same map the engine computes at
that size, with the start's run over it), hostile requests refused, and a released value committed at full size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.maps import live
from app.maps.callbacks import render_outputs
from app.maps.ids import Ids
from app.maps.state import DEFAULT_MAP, config_from_store, map_from_query, map_query, state_data
from app.maps.sweep import run_sweep
from app.shell.raster import untyped
from optimizers import trace

HYPER = "kind=hyper&surface=quadratic&start=-9,4&steps=400&opt=momentum,color=0&grid=64&ax=lr,0.01,10,log&ay=momentum,0,0.99,lin"


def test_the_settings_a_slider_drags_are_the_optimizers_numbers_and_the_surfaces_parameters():
    adam = {s.id: s for s in live.live_settings(DEFAULT_MAP)}
    assert list(adam) == ["opt.lr", "opt.beta1", "opt.beta2", "opt.eps", "opt.weight_decay"]  # Himmelblau has none
    lr = adam["opt.lr"]
    assert lr.value == DEFAULT_MAP.entry.value("lr") and lr.log and lr.low > 0 and lr.label.startswith("η")
    assert 0 <= lr.position() <= live.SLIDER_POSITIONS
    hyper = {s.id: s for s in live.live_settings(map_from_query(HYPER))}
    assert "opt.lr" not in hyper and "opt.momentum" not in hyper  # on the map's axes
    assert {"s.kappa", "s.angle"} <= set(hyper) and hyper["s.kappa"].value == 10.0


def test_a_setting_is_clamped_into_its_range_and_unknown_ones_are_refused():
    cfg = live.with_setting(DEFAULT_MAP, "opt.lr", 1e9)
    assert cfg.entry.value("lr") == {s.id: s for s in live.live_settings(DEFAULT_MAP)}["opt.lr"].high
    assert cfg.grid == DEFAULT_MAP.grid and cfg.base.steps == DEFAULT_MAP.base.steps  # full size until previewed
    quad = live.with_setting(map_from_query(HYPER), "s.kappa", 25)
    assert dict(quad.base.surface_params)["kappa"] == 25
    for bad in ("opt.nope", "s.kappa", "opt.lr; drop"):
        with pytest.raises(live.BadRequest):
            live.with_setting(DEFAULT_MAP, bad, 0.1)  # Himmelblau has no kappa
    with pytest.raises(live.BadRequest):
        live.with_setting(DEFAULT_MAP, "opt.lr", float("nan"))


@pytest.mark.parametrize("args, reason", [
    ({"q": "x" * 5000, "p": "opt.lr", "v": "0.1"}, "q must be a map query"),
    ({"q": "", "p": "lr", "v": "0.1"}, "p must name a setting"),
    ({"q": "", "p": "opt.lr", "v": "fast"}, "v must be a number"),
    ({"q": "", "p": "opt.lr", "v": "inf"}, "finite"),
    ({"q": "", "p": "opt.momentum", "v": "0.5"}, "not a setting this map can drag"),
])  # fmt: skip
def test_hostile_requests_are_refused_with_a_reason(args, reason):
    with pytest.raises(live.BadRequest, match=reason):
        live.live_answer(args)


def test_the_preview_is_the_engines_map_at_the_live_size_with_the_starts_run_over_it():
    answer = live.live_answer({"q": "", "p": "opt.lr", "v": "0.2"})
    json.dumps(answer, allow_nan=False, default=lambda o: o.tolist())
    assert answer["value"] == 0.2 and answer["status"].startswith("preview 128×128 × 300 steps in ")
    assert answer["status"].endswith(" ms (float32)")  # coloured by minimum: the preview runs in float32
    full = live.with_setting(DEFAULT_MAP, "opt.lr", 0.2)
    assert map_from_query(answer["query"]) == full  # the link of the full map it previews
    small = live.coarse(full)
    assert (small.grid, small.base.steps) == (128, 300)
    from app.maps.state import build_surface

    smap = run_sweep(small, build_surface(small), precision="float32")
    assert smap.precision == "float32"
    (heat,) = [t for t in answer["figure"]["data"] if t.get("type") == "heatmap"]
    assert heat["z"]["dtype"] == "i1" and heat["z"]["shape"] == "128, 128"
    from app.maps.map_figure import map_figure

    (want,) = [t for t in map_figure(small, smap, build_surface(small))["data"] if t.get("type") == "heatmap"]
    assert np.array_equal(untyped(heat["z"]), untyped(want["z"]))  # the classes the full figure builder draws
    exact = run_sweep(small, build_surface(small))  # float64: the same colours on all but a few boundary cells
    assert exact.precision == "float64" and np.mean(exact.basin != smap.basin) < 0.005
    run = answer["figure"]["data"][-1]
    t = trace(build_surface(small), small.entry.config(), small.base.start, 300, small.base.modifiers())
    assert (run["x"][0], run["y"][0]) == tuple(np.round(t.positions[0], 5))
    assert run["x"][-1] == pytest.approx(t.positions[-1, 0], abs=1e-5)
    # the surface did not change: its contour lines stay the page's own
    assert {"name": "contours", "reuse": True} in answer["figure"]["data"]


def test_a_surface_setting_sends_the_new_contours_and_a_hyper_map_draws_no_run():
    big = HYPER.replace("grid=64", "grid=200")
    assert live.coarse(map_from_query(big)).grid == live.LIVE_HYPER_GRID == 64  # runs stepped one at a time
    answer = live.live_answer({"q": big, "p": "s.kappa", "v": "40"})
    assert "error" not in answer, answer
    assert answer["status"].startswith("preview 64×64 × 300 steps")
    names = [t.get("name") for t in answer["figure"]["data"]]
    assert not any(t.get("reuse") for t in answer["figure"]["data"])
    assert "run from the start" not in names
    assert map_from_query(answer["query"]).base.surface_params[0] == ("kappa", 40.0)


def test_a_preview_coloured_by_its_numbers_or_on_a_typed_formula_runs_in_float64():
    steps = live.live_answer({"q": "kind=basin&surface=himmelblau&opt=adam&show=steps", "p": "opt.lr", "v": "0.2"})
    assert "error" not in steps and steps["status"].endswith(" ms")  # steps to converge: float32 would change them
    from dataclasses import replace

    from app.explorer.config import FORMULA

    base = replace(DEFAULT_MAP.base.with_surface(FORMULA), formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    formula = map_query(replace(DEFAULT_MAP, base=base, show="minimum"))
    answer = live.live_answer({"q": formula, "p": "opt.lr", "v": "0.2"})
    assert "error" not in answer, answer
    assert answer["status"].startswith("preview 128×128") and answer["status"].endswith(" ms")  # evaluated in float64


def test_a_refused_combination_answers_its_reason_not_a_map():
    cfg = map_from_query("kind=basin&surface=himmelblau&opt=sgd,nesterov=1,momentum=0.9,color=0")
    assert cfg.notes == () and "opt.momentum" in {s.id for s in live.live_settings(cfg)}
    answer = live.live_answer({"q": map_query(cfg), "p": "opt.momentum", "v": "0"})
    assert answer == {"error": "SGD: nesterov requires momentum > 0 and dampening = 0.", "value": 0.0}


def test_a_released_value_is_committed_at_full_size_and_computed_at_once():
    store = state_data(DEFAULT_MAP)
    cfg = live.committed(store, {"p": "opt.lr", "v": 0.05, "n": 1})
    assert cfg is not None and cfg.entry.value("lr") == 0.05 and cfg.grid == DEFAULT_MAP.grid
    for hostile in (None, "x", {"p": "opt.lr", "v": "0.1"}, {"p": "opt.lr", "v": True}, {"p": "evil", "v": 1},
                    {"p": "opt.momentum", "v": 0.5}):  # fmt: skip
        assert live.committed(store, hostile) is None
    out = render_outputs(Ids.LIVE_COMMIT, {"p": "opt.lr", "v": 0.05, "n": 1}, {}, None, store)
    assert config_from_store(out["request"]).entry.value("lr") == 0.05
    assert config_from_store(out["request"]).grid == DEFAULT_MAP.grid
    assert render_outputs(Ids.LIVE_COMMIT, {"p": "nope"}, {}, None, store).__class__.__name__ == "NoUpdate"


def test_the_live_panel_follows_the_state_and_keeps_the_chosen_setting():
    store = state_data(DEFAULT_MAP)
    first = live.live_info(store, None)
    assert first["value"] == "opt.lr" and first["info"]["q"] == map_query(DEFAULT_MAP)
    assert [o["value"] for o in first["options"]][:2] == ["opt.lr", "opt.beta1"]
    kept = live.live_info(store, "opt.beta1")
    assert kept["value"] == "opt.beta1" and kept["position"] == {s.id: s for s in live.live_settings(DEFAULT_MAP)}[
        "opt.beta1"].position()
    assert live.live_info(store, "opt.gone")["value"] == "opt.lr"
    assert live.live_info(None, None) == {"options": [], "value": None, "info": None,
                                          "position": live.SLIDER_POSITIONS // 2}


def test_the_route_answers_json_and_refuses_bad_requests():
    from flask import Flask

    server = Flask("live-test")
    live.register(server)
    client = server.test_client()
    ok = client.get(live.ROUTE, query_string={"q": "", "p": "opt.lr", "v": "0.3"})
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    body = json.loads(ok.data)
    assert body["value"] == 0.3 and any(t.get("type") == "heatmap" for t in body["figure"]["data"])
    bad = client.get(live.ROUTE, query_string={"q": "", "p": "opt.lr", "v": "nan"})
    assert bad.status_code == 400 and "finite" in json.loads(bad.data)["reason"]


def test_a_released_slider_gets_its_full_map_from_the_route_and_the_pages_compute_is_then_a_cache_hit():
    from app.maps.compute import run_request
    from app.maps.state import request_data

    q = "kind=basin&surface=himmelblau&steps=300&opt=adam,lr=0.5&grid=64&show=minimum"
    answer = live.live_answer({"q": q, "p": "opt.lr", "v": "0.25", "full": "1"})
    assert answer["settled"] and answer["value"] == 0.25
    (heat,) = [t for t in answer["figure"]["data"] if t.get("type") == "heatmap"]
    assert heat["z"]["shape"] == "64, 64" and heat["z"]["dtype"] == "i1"  # the full grid, compact
    assert any(t.get("name") == "run from the start" for t in answer["figure"]["data"])
    assert {"name": "contours", "reuse": True} in answer["figure"]["data"]  # η moved: the page keeps its contours
    moved = live.live_answer({"q": q.replace("himmelblau", "quadratic"), "p": "s.kappa", "v": "30", "full": "1"})
    (lines,) = [t for t in moved["figure"]["data"] if t.get("name") == "contours"]
    assert not lines.get("reuse") and untyped(lines["x"]).size > 100  # the surface moved: its new contour lines
    full = live.with_setting(map_from_query(q), "opt.lr", 0.25)
    assert answer["status"].startswith("4\u2009096 runs × up to 300 steps")
    again = run_request(request_data(full))
    assert again.status.endswith("(computed earlier for the same settings)")  # the page's own compute: a hit
    big = "kind=basin&surface=himmelblau&steps=1000&opt=adam,lr=0.5&grid=400"
    assert map_from_query(big).work > live.SETTLE_WORK
    assert live.live_answer({"q": big, "p": "opt.lr", "v": "0.25", "full": "1"}) == {"defer": True, "value": 0.25}


def test_a_settled_maps_data_is_stored_after_its_answer_has_gone_and_a_failure_there_is_only_logged(caplog):
    from flask import Flask

    from app.hosting import result_cache
    from app.maps.compute import DATA_NAMESPACE, data_key, map_data
    from app.maps.state import build_surface

    server = Flask("live-settled-test")
    live.register(server)
    client = server.test_client()
    q = "kind=basin&surface=himmelblau&steps=200&opt=adam,lr=0.5&grid=24&show=minimum"
    full = live.with_setting(map_from_query(q), "opt.lr", 0.3)
    response = client.get(live.ROUTE, query_string={"q": q, "p": "opt.lr", "v": "0.3", "full": "1"})
    assert json.loads(response.data)["settled"]
    assert result_cache.peek(DATA_NAMESPACE, data_key(full)) is None  # answered first …
    response.close()
    stored = result_cache.peek(DATA_NAMESPACE, data_key(full))  # … stored once the answer has been sent
    assert stored is not None
    smap = map_data(full, build_surface(full))
    assert np.array_equal(smap.basin, run_sweep(full, build_surface(full)).basin)
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise OSError("the store is down")

    live.run_later([broken, lambda: calls.append("next")])
    assert calls == ["broken", "next"] and "work after the answer failed" in caplog.text
