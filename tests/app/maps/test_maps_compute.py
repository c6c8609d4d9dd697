"""Computing a map: progress, stopping, the work budget, untrusted requests and the analytic bound."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from dash import no_update
from maps_helpers import heatmaps, no_nan_json, small

from app.maps.compute import KERNEL_NOTE, TIME_LIMIT, run_request
from app.maps.layout import work_text
from app.maps.map_figure import heavy_ball_bound
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import (
    DEFAULT_MAP,
    WORK_BUDGET,
    config_from_store,
    map_axes,
    map_from_query,
    map_query,
    request_data,
)
from app.shell.raster import untyped


def test_compute_reports_progress_and_draws_the_map():
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=20)
    seen: list[tuple[str, str]] = []
    out = run_request(request_data(cfg), report=seen.append)
    percents = [float(p) for p, _ in seen]
    assert percents[0] == 0 and percents[-1] == 100 and percents == sorted(percents) and len(seen) >= 10
    assert seen[-1][1] == "100 % · 400 of 400 runs"
    no_nan_json(out.figure)
    (hm,) = heatmaps(out.figure)
    assert untyped(hm["z"]).size == 400
    assert config_from_store(out.meta) == cfg and len(out.meta["minima"]) == 4
    assert "400 runs" in out.status and out.explain == ""


def test_a_map_job_that_must_load_its_kernel_first_says_so_before_its_first_chunk(monkeypatch):
    """A job forked before the launcher's warm-up reached its kernel (a fresh install) waits for the compiler:
    the progress line says why, between the 0 % line and the first chunk."""
    import time

    from app.maps import compute
    from optimizers import maps as sweep_engine

    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=20)
    asked: list[str] = []
    loaded: list[str] = []
    monkeypatch.setattr(sweep_engine, "kernel_loaded", lambda kind: asked.append(kind) or False)
    monkeypatch.setattr(compute, "warm_lock_step", lambda: loaded.append("lock-step") or time.sleep(1.05))
    monkeypatch.setattr(compute, "warm_one_run_at_a_time", lambda: loaded.append("one at a time"))
    seen: list[tuple[str, str]] = []
    out = run_request(request_data(cfg), report=seen.append)
    assert asked == ["basin"] and loaded == ["lock-step"]
    assert seen[0] == ("0", "0 % · 0 of 400 runs") and seen[1] == ("0", KERNEL_NOTE)
    assert float(seen[2][0]) > 0 and KERNEL_NOTE not in [text for _, text in seen[2:]]
    assert out.status.startswith("400 runs × up to 200 steps in ")
    assert re.search(r" The sweep kernel took [1-9]\d* s to load first \(it is compiled once per install\)\.$", out.status)
    # the same map asked for again comes from the result store: the load was the first request's news
    again = run_request(request_data(cfg), report=seen.append)
    assert again.status.endswith(" (computed earlier for the same settings)") and "to load first" not in again.status
    assert again.status.startswith("400 runs × up to 200 steps in ") and loaded == ["lock-step"]
    # a hyperparameter map loads the other kernel, and a quick load is not worth a mention
    hyper = small(PRESETS_BY_NAME["momentum_quadratic"].config, grid=12)
    assert hyper.kind == "hyper"
    out = run_request(request_data(hyper), report=seen.append)
    assert asked == ["basin", "hyper"] and loaded == ["lock-step", "one at a time"]
    assert "runs × up to" in out.status and "to load first" not in out.status
    monkeypatch.setattr(sweep_engine, "kernel_loaded", lambda kind: True)
    seen.clear()
    out = run_request(request_data(replace(cfg, grid=21)), report=seen.append)
    assert KERNEL_NOTE not in [text for _, text in seen] and seen[0] == ("0", "0 % · 0 of 441 runs")
    assert loaded == ["lock-step", "one at a time"] and "to load first" not in out.status


def test_compute_stops_when_asked_and_at_the_time_limit():
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=20)
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    seen: list = []
    out = run_request(request_data(cfg), report=seen.append, should_stop=stop_after_three)
    assert out.figure is no_update and out.meta is no_update
    chunks = [line for line in seen if line[1] != KERNEL_NOTE]
    assert "stopped" in out.status and len(chunks) == 4  # 0 % and three chunks
    # a clock that jumps past the time limit stops the map too, and says why
    ticks = iter([0.0] + [TIME_LIMIT + 1] * 100)
    out = run_request(request_data(cfg), clock=lambda: next(ticks))
    assert out.figure is no_update and "time limit" in out.status


def test_compute_refuses_work_over_the_budget_without_running():
    cfg = replace(DEFAULT_MAP, grid=400, base=replace(DEFAULT_MAP.base, steps=1001))
    assert cfg.work > WORK_BUDGET
    seen: list = []
    out = run_request(request_data(cfg), report=seen.append)
    assert seen == [] and out.meta is None and "over the limit" in out.status
    assert "160 M" in out.figure["layout"]["annotations"][0]["text"]
    text, cls = work_text(cfg)
    assert "over the limit" in text and "over" in cls
    ok = replace(cfg, base=replace(cfg.base, steps=1000))
    assert ok.work == WORK_BUDGET and ok.problem() is None


def test_compute_treats_the_request_as_untrusted():
    assert run_request(None).figure is no_update
    assert run_request({"cfg": "x"}).figure is no_update
    evil = {"cfg": {"kind": "hyper", "grid": 10**9, "explorer": {"steps": 10**9}}, "nonce": 1}
    cfg = config_from_store(evil)
    assert cfg is not None and cfg.grid == 400 and cfg.base.steps == 5000
    out = run_request(evil)
    assert out.meta is None and "over the limit" in out.status  # repaired, then refused: not run


def test_momentum_map_carries_the_analytic_bound():
    cfg = small(PRESETS_BY_NAME["momentum_quadratic"].config, grid=24, steps=400)
    out = run_request(request_data(cfg))
    assert "2/L" in out.explain
    line = next(t for t in out.figure["data"] if str(t.get("name", "")).startswith("analytic limit"))
    assert line["name"] == "analytic limit η = 2(1 + μ)"
    x, y = untyped(line["x"]), untyped(line["y"])
    assert np.allclose(x, 2 * (1 + y))
    # the map agrees with the line: far right of it everything diverged, well left nothing did
    smap_z = [h for h in heatmaps(out.figure) if h["name"] == "diverged"][0]
    div = ~np.isnan(untyped(smap_z["z"]).reshape(24, 24))
    xs, ys = map_axes(cfg)
    X, Y = np.meshgrid(xs, ys)
    assert div[X > 1.2 * 2 * (1 + Y)].all() and not div[X < 0.8 * 2 * (1 + Y)].any()


def test_bound_only_for_heavy_ball_on_the_quadratic():
    gd = PRESETS_BY_NAME["gd_quadratic"].config
    stable, label = heavy_ball_bound(gd)
    assert label == "analytic limit η(1 + λ) = 2"
    assert stable(np.array([1.9]), np.array([0.0]))[0] and not stable(np.array([1.1]), np.array([1.0]))[0]
    assert heavy_ball_bound(replace(gd, kind="basin")) is None
    assert heavy_ball_bound(PRESETS_BY_NAME["adam_beale"].config) is None
    nesterov = map_from_query(map_query(gd).replace("opt=sgd,lr=0.5", "opt=sgd,lr=0.5,momentum=0.5,nesterov=true"))
    assert nesterov.entry.value("nesterov") is True and heavy_ball_bound(nesterov) is None
    dampened = map_from_query(map_query(gd).replace("opt=sgd,lr=0.5", "opt=sgd,lr=0.5,dampening=0.5"))
    assert heavy_ball_bound(dampened) is None
    other_axis = map_from_query(map_query(gd).replace("ay=weight_decay,0,1,lin", "ay=dampening,0,1,lin"))
    assert other_axis.y_axis.key == "dampening" and heavy_ball_bound(other_axis) is None


def test_no_bound_when_clipping_or_a_schedule_changes_the_iteration():
    q = map_query(PRESETS_BY_NAME["momentum_quadratic"].config)
    assert heavy_ball_bound(map_from_query(q + "&noise=0.1")) is not None
    assert heavy_ball_bound(map_from_query(q + "&clip=norm")) is None
    assert heavy_ball_bound(map_from_query(q + "&sched=cosine")) is None


def test_a_basin_maps_contour_lines_are_the_surfaces_computed_once_for_every_map_on_it(monkeypatch):
    from app.maps import map_figure
    from app.maps.figures import contour_trace
    from app.maps.map_figure import CONTOUR_SAMPLES
    from app.maps.state import build_surface
    from app.shell.contours import levels_for
    from app.shell.surface_grid import sample

    adam = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=12)
    sgd = map_from_query(map_query(adam).replace("opt=adam", "opt=sgd"))
    assert sgd.entry.name == "sgd" and sgd.base.surface_key() == adam.base.surface_key()
    moved = map_from_query("kind=basin&surface=quadratic&s.kappa=30&steps=50&opt=sgd&grid=12")
    other = map_from_query("kind=basin&surface=quadratic&s.kappa=5&steps=50&opt=sgd&grid=12")
    assert dict(moved.base.surface_params)["kappa"] == 30 and dict(other.base.surface_params)["kappa"] == 5

    def lines(cfg):
        (trace,) = [t for t in run_request(request_data(cfg)).figure["data"] if t.get("name") == "contours"]
        return untyped(trace["x"]), untyped(trace["y"])

    g = sample(build_surface(adam), CONTOUR_SAMPLES)
    want = contour_trace(g.xs, g.ys, g.z, levels_for(g.scale))
    sampled: list[int] = []
    monkeypatch.setattr(map_figure, "sample", lambda s, n: sampled.append(n) or sample(s, n))
    for got in (lines(adam), lines(sgd)):
        assert np.array_equal(got[0], untyped(want["x"]), equal_nan=True)
        assert np.array_equal(got[1], untyped(want["y"]), equal_nan=True)
    assert sampled == [CONTOUR_SAMPLES]  # the second map's lines came from the shared cache
    a, b = lines(moved), lines(other)  # another surface parameter: other lines
    assert sampled == [CONTOUR_SAMPLES] * 3
    assert a[0].size != b[0].size or not np.array_equal(a[0], b[0], equal_nan=True)
