"""The Sweep maps page without a browser: figure builders, the URL state, and the callbacks' bodies."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from urllib.parse import parse_qs, parse_qsl, urlsplit

import numpy as np
import pytest
from dash import no_update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.maps import figures as F
from app.maps import page as M
from app.shell.raster import untyped
from app.export.imaging import OKABE_ITO
from app.explorer.state import from_query
from optimizers import _slots as S
from optimizers.maps import DIVERGED, NO_MINIMUM, SweepMap, heavy_ball_stable

# --------------------------------------------------------------------------- helpers


def fake_map(basin: np.ndarray, status: np.ndarray, steps: np.ndarray | None = None, loss: np.ndarray | None = None,
             xs=None, ys=None, log_x=False, log_y=False, minima=((1.0, 1.0), (-1.0, -1.0))) -> SweepMap:  # fmt: skip
    ny, nx = basin.shape
    xs = np.linspace(-2, 2, nx) if xs is None else np.asarray(xs, dtype=float)
    ys = np.linspace(-2, 2, ny) if ys is None else np.asarray(ys, dtype=float)
    zeros = np.zeros((ny, nx))
    return SweepMap(
        xs=xs, ys=ys, x_label="x", y_label="y", final_x=zeros, final_y=zeros,
        final_loss=np.ones((ny, nx)) if loss is None else loss,
        steps=np.full((ny, nx), 10) if steps is None else steps, status=status, basin=basin,
        minima=tuple(minima), log_x=log_x, log_y=log_y,
    )  # fmt: skip


@pytest.fixture
def small_map():
    """3 × 4 pixels: two basins, one start with no known minimum, one diverged, one still running."""
    basin = np.array([[0, 0, 1, 1], [0, NO_MINIMUM, 1, 1], [0, 0, 1, DIVERGED]])
    status = np.full(basin.shape, S.CONVERGED)
    status[2, 3] = S.DIVERGED
    status[1, 1] = S.COMPLETED
    steps = np.where(status == S.CONVERGED, np.arange(12).reshape(3, 4) + 5, -1)
    loss = np.full(basin.shape, 1e-6)
    loss[0, 0] = 1e-2
    loss[2, 3] = np.inf
    return fake_map(basin, status, steps, loss)


def no_nan_json(fig) -> str:
    return json.dumps(fig, allow_nan=False)


def heatmaps(fig):
    return [t for t in fig["data"] if t["type"] == "heatmap"]


def legend(fig):
    return [(t["name"], t["marker"]["color"]) for t in fig["data"] if t.get("showlegend") and "marker" in t]


def luminance(hex_color: str) -> float:
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# --------------------------------------------------------------------------- figure builders


def test_basin_colouring_okabe_ito_grey_and_black(small_map):
    fig = F.basin_figure(small_map, "minimum", title="t", steps=50)
    no_nan_json(fig)
    (hm,) = heatmaps(fig)
    z = untyped(hm["z"]).reshape(3, 4)
    # classes: minimum k → k, no minimum → 2, diverged → 3
    assert z[0, 0] == 0 and z[0, 3] == 1 and z[1, 1] == 2 and z[2, 3] == 3
    # the discrete scale gives class k exactly colour k
    scale = hm["colorscale"]
    colors = [c for _, c in scale[::2]]
    assert colors == [OKABE_ITO[0], OKABE_ITO[1], F.NONE_COLOR, F.DIVERGED_COLOR]
    n = len(colors)
    for k in range(n):
        pos = (k - hm["zmin"]) / (hm["zmax"] - hm["zmin"])
        assert scale[2 * k][0] <= pos <= scale[2 * k + 1][0]
    assert F.BASIN_COLORS == OKABE_ITO and F.DIVERGED_COLOR == "#000000"
    # a legend entry for every colour on the map, with its share
    entries = legend(fig)
    assert entries == [
        ("minimum 1 (1, 1) · 42 %", OKABE_ITO[0]),
        ("minimum 2 (-1, -1) · 42 %", OKABE_ITO[1]),
        ("no known minimum · 8 %", F.NONE_COLOR),
        ("diverged · 8 %", F.DIVERGED_COLOR),
    ]
    assert fig["layout"]["legend"]["xanchor"] == "center"
    # minima are numbered like the legend, inside the box
    minima = next(t for t in fig["data"] if t.get("name") == "minima")
    assert minima["text"] == ["1", "2"] and minima["x"] == [1.0, -1.0]
    # equal scales on both axes for a map of the plane
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"


def test_steps_colouring_has_overlays_and_a_sequential_scale(small_map):
    fig = F.basin_figure(small_map, "steps", title="t", steps=50)
    no_nan_json(fig)
    main, first, second = heatmaps(fig)
    z = untyped(main["z"]).reshape(3, 4)
    assert np.isnan(z[2, 3]) and np.isnan(z[1, 1])  # diverged and unfinished runs are not on the scale
    assert z[0, 0] == 5 and main["zmin"] == 5 and main["zmax"] == 15  # 16 belongs to the diverged start
    assert main["colorscale"] == F.SEQUENTIAL_SCALE and main["showscale"] is True
    # the sequential scale never comes close to the black of "diverged"
    assert min(luminance(c) for _, c in F.SEQUENTIAL_SCALE) > 0.25
    grey = untyped(first["z"]).reshape(3, 4)
    black = untyped(second["z"]).reshape(3, 4)
    assert np.nansum(grey) == 1 and grey[1, 1] == 1
    assert np.nansum(black) == 1 and black[2, 3] == 1
    assert first["colorscale"][0][1] == F.NONE_COLOR and second["colorscale"][0][1] == F.DIVERGED_COLOR
    assert [n for n, _ in legend(fig)] == ["not converged in 50 steps · 8 %", "diverged · 8 %"]


def test_loss_colouring_is_log_distance_to_the_minimum(small_map):
    z, fs = F.loss_values(small_map, 0.0)
    assert fs == 0.0
    assert z[0, 0] == pytest.approx(-2.0) and z[0, 1] == pytest.approx(-6.0)
    assert np.isnan(z[2, 3])
    # without a known minimum, f* is the lowest final loss on the map
    _, fs2 = F.loss_values(small_map, None)
    assert fs2 == pytest.approx(1e-6)
    fig = F.basin_figure(small_map, "loss", title="t", f_star=0.0)
    no_nan_json(fig)
    assert [h["name"] for h in heatmaps(fig)] == ["log₁₀(f − f*)", "diverged"]
    assert [n for n, _ in legend(fig)] == ["diverged · 8 %"]


def test_basin_figure_draws_the_contours_it_is_given(small_map):
    xs = ys = np.linspace(-2, 2, 30)
    zz = xs[None, :] ** 2 + ys[:, None] ** 2
    fig = F.basin_figure(small_map, "minimum", title="t", background=(xs, ys, zz, [1.0, 2.0]))
    lines = next(t for t in fig["data"] if t.get("name") == "contours")
    x = untyped(lines["x"])
    y = untyped(lines["y"])
    r = np.hypot(x[~np.isnan(x)], y[~np.isnan(y)])
    assert r.size > 20 and np.all((np.abs(r - 1) < 0.05) | (np.abs(r - math.sqrt(2)) < 0.05))


def test_unknown_colouring_is_refused(small_map):
    with pytest.raises(ValueError):
        F.value_traces(small_map, "colour", None, "")


def test_hyper_figure_log_axes_cells_and_bound():
    lrs = np.geomspace(0.01, 10, 7)
    mus = np.linspace(0, 0.9, 4)
    basin = np.zeros((4, 7), dtype=int)
    status = np.full((4, 7), S.CONVERGED)
    smap = fake_map(basin, status, xs=lrs, ys=mus, log_x=True, minima=((0.0, 0.0),))
    bx, by = np.array([2.0, 2.5, np.nan]), np.array([0.0, 0.25, 0.5])
    fig = F.hyper_figure(smap, "steps", title="t", x_title="η (lr)", y_title="μ (momentum)", x_symbol="η",
                         y_symbol="μ", bound=(bx, by, "analytic limit η = 2(1 + μ)"))  # fmt: skip
    no_nan_json(fig)
    lay = fig["layout"]
    assert lay["xaxis"]["type"] == "log" and lay["yaxis"]["type"] == "linear"
    assert lay["xaxis"]["range"][0] < -2 < 1 < lay["xaxis"]["range"][1]
    (hm,) = heatmaps(fig)
    # on a log axis the heatmap gets cell edges: geometric midpoints, one more than the columns
    edges = untyped(hm["x"])
    assert edges.size == 8
    assert np.allclose(np.sqrt(edges[:-1] * edges[1:]), lrs)
    assert untyped(hm["y"]).size == 4  # linear axis: centres
    assert "η = %{x" in hm["hovertemplate"] and "μ = %{y" in hm["hovertemplate"]
    line = [t for t in fig["data"] if t.get("name") == "analytic limit η = 2(1 + μ)"]
    assert len(line) == 1 and line[0]["showlegend"] and line[0]["line"]["color"] == F.BOUND_COLOR
    assert np.array_equal(untyped(line[0]["x"]), bx, equal_nan=True)


def test_stability_boundary_follows_heavy_ball_stable():
    def stable(lr, mu):
        return heavy_ball_stable(lr, mu, [0.1, 1.0])

    xs, ys = F.stability_boundary(stable, (0.01, 10.0), (0.0, 0.99), log_x=True, n=50)
    ok = ~np.isnan(xs)
    assert ok.all()  # η = 2(1 + μ) ∈ [2, 3.98] crosses every row
    assert np.allclose(xs, 2 * (1 + ys), rtol=1e-9)
    assert stable(xs * (1 - 1e-6), ys).all() and not stable(xs * (1 + 1e-6), ys).any()
    # along μ, for fixed η: the crossing is μ = η/2 − 1, only for η in (2, 4)
    mx, ly = F.stability_boundary(lambda m, lr: stable(lr, m), (0.0, 0.99), (0.5, 5.0), n=46)
    assert np.isnan(mx[ly < 2 - 1e-9]).all() and np.isnan(mx[ly > 3.98]).all()
    inside = ~np.isnan(mx)
    assert np.allclose(mx[inside], ly[inside] / 2 - 1, atol=1e-9)


# --------------------------------------------------------------------------- URL state


def test_every_lesson_round_trips_through_the_url():
    for p in M.PRESETS:
        q = M.map_query(p.config)
        assert M.map_from_query(q) == p.config
        back = M.map_from_query(dict(parse_qsl(q.lstrip("?"))))
        assert back == p.config and back.notes == ()
        assert M.lesson_for(back) == p.lesson
    assert M.map_from_query({}) == M.DEFAULT_MAP and M.layout({}) is not None


def test_query_carries_everything_a_map_shows():
    cfg = M.map_from_query({"kind": "hyper", "surface": "rosenbrock", "s.b": "50", "start": "-1.5,2", "steps": "300",
                            "opt": "nesterov,lr=0.002,momentum=0.8", "grid": "64", "show": "loss",
                            "ax": "momentum,0.1,0.95,lin", "ay": "lr,0.0001,0.01,log", "clip": "norm", "clipv": "2",
                            "noise": "0.1", "seed": "3"})  # fmt: skip
    assert cfg.notes == ()
    assert (cfg.kind, cfg.grid, cfg.show) == ("hyper", 64, "loss")
    assert cfg.base.surface == "rosenbrock" and dict(cfg.base.surface_params)["b"] == 50
    assert cfg.base.start == (-1.5, 2.0) and cfg.base.steps == 300
    assert cfg.entry.name == "nesterov" and cfg.entry.value("lr") == 0.002
    assert cfg.x_axis == M.Axis("momentum", 0.1, 0.95, False) and cfg.y_axis == M.Axis("lr", 1e-4, 1e-2, True)
    assert (cfg.base.clip, cfg.base.clip_value, cfg.base.noise, cfg.base.seed) == ("norm", 2.0, 0.1, 3)
    assert M.map_from_query(M.map_query(cfg)) == cfg


def test_missing_settings_come_from_the_default_map_not_the_explorer():
    cfg = M.map_from_query({"grid": "32"})
    assert cfg.base.surface == M.DEFAULT_MAP.base.surface and cfg.entry == M.DEFAULT_MAP.entry
    assert cfg.grid == 32 and cfg.notes == ()


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ({"kind": "<script>alert(1)</script>"}, "map kind"),
        ({"grid": "1e9"}, "grid"),
        ({"grid": "nan"}, "grid"),
        ({"steps": "99999"}, "steps"),
        ({"show": "rainbow"}, "colouring"),
        ({"surface": "../../etc/passwd"}, "unknown surface"),
        ({"opt": "adam,lr=-1"}, "lr"),
        ({"opt": "evil"}, "optimizer"),
        ({"kind": "hyper", "ax": "lr,inf,nan,log"}, "x axis"),
        ({"kind": "hyper", "ax": "amsgrad,0,1,lin"}, "x axis"),
        ({"kind": "hyper", "ax": "lr,1,0.1,log"}, "from < to"),
        ({"kind": "hyper", "opt": "sgd", "ax": "momentum,-5,2,log"}, "momentum"),
        ({"kind": "hyper", "ax": "lr,0.1,1,log", "ay": "lr,0.1,1,log"}, "axes must differ"),
        ({"x" * 200: "1"}, "unknown setting"),
        ({"grid": "9" * 5000}, "too long"),
    ],
)
def test_hostile_queries_fall_back_with_a_notice(query, expect):
    cfg = M.map_from_query(query)
    assert any(expect in n for n in cfg.notes), cfg.notes
    assert cfg.work <= 400 * 400 * 5000
    M.map_from_query(M.map_query(cfg))  # the repaired state is a valid link again
    page = M.layout(query)
    notice = _find(page, M.Ids.NOTICE)
    assert notice.hidden is False and notice.children


def test_non_text_query_values_never_raise():
    for q in ({"grid": None}, {"grid": 3.5}, {"grid": ["1", "2"]}, {1: "x"}, {"opt": object()}, "grid=%zz&&=",
              {f"k{i}": "1" for i in range(500)}, None, 42):  # fmt: skip
        cfg = M.map_from_query(q)  # type: ignore[arg-type]
        assert isinstance(cfg, M.MapConfig)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["kind", "grid", "show", "ax", "ay", "surface", "opt", "steps", "start",
                                        "s.kappa", "f", "box", "clip", "noise", "junk"]),
                       st.one_of(st.text(max_size=40), st.from_regex(r"[a-z_]+,-?[0-9.e]+,-?[0-9.e]+,(log|lin)"))))
def test_any_query_gives_a_valid_map_that_round_trips(query):
    cfg = M.map_from_query(query)
    assert isinstance(cfg, M.MapConfig)
    again = M.map_from_query(M.map_query(cfg))
    assert again == cfg and again.notes == ()


# --------------------------------------------------------------------------- the callbacks' bodies


def small(cfg: M.MapConfig, grid: int = 12, steps: int = 200) -> M.MapConfig:
    return replace(cfg, grid=grid, base=replace(cfg.base, steps=steps))


def test_compute_reports_progress_and_draws_the_map():
    cfg = small(M.PRESETS_BY_NAME["himmelblau_adam"].config, grid=20)
    seen: list[tuple[str, str]] = []
    out = M.run_request(M.request_data(cfg), report=seen.append)
    percents = [float(p) for p, _ in seen]
    assert percents[0] == 0 and percents[-1] == 100 and percents == sorted(percents) and len(seen) >= 10
    assert seen[-1][1] == "100 % · 400 of 400 runs"
    no_nan_json(out.figure)
    (hm,) = heatmaps(out.figure)
    assert untyped(hm["z"]).size == 400
    assert M.config_from_store(out.meta) == cfg and len(out.meta["minima"]) == 4
    assert "400 runs" in out.status and out.explain == ""


def test_compute_stops_when_asked_and_at_the_time_limit():
    cfg = small(M.PRESETS_BY_NAME["himmelblau_adam"].config, grid=20)
    calls = []

    def stop_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    seen: list = []
    out = M.run_request(M.request_data(cfg), report=seen.append, should_stop=stop_after_three)
    assert out.figure is no_update and out.meta is no_update
    assert "stopped" in out.status and len(seen) == 4  # 0 % and three chunks
    # a clock that jumps past the time limit stops the map too, and says why
    ticks = iter([0.0] + [M.TIME_LIMIT + 1] * 100)
    out = M.run_request(M.request_data(cfg), clock=lambda: next(ticks))
    assert out.figure is no_update and "time limit" in out.status


def test_compute_refuses_work_over_the_budget_without_running():
    cfg = replace(M.DEFAULT_MAP, grid=400, base=replace(M.DEFAULT_MAP.base, steps=1001))
    assert cfg.work > M.WORK_BUDGET
    seen: list = []
    out = M.run_request(M.request_data(cfg), report=seen.append)
    assert seen == [] and out.meta is None and "over the limit" in out.status
    assert "160 M" in out.figure["layout"]["annotations"][0]["text"]
    text, cls = M.work_text(cfg)
    assert "over the limit" in text and "over" in cls
    ok = replace(cfg, base=replace(cfg.base, steps=1000))
    assert ok.work == M.WORK_BUDGET and ok.problem() is None


def test_compute_treats_the_request_as_untrusted():
    assert M.run_request(None).figure is no_update
    assert M.run_request({"cfg": "x"}).figure is no_update
    evil = {"cfg": {"kind": "hyper", "grid": 10**9, "explorer": {"steps": 10**9}}, "nonce": 1}
    cfg = M.config_from_store(evil)
    assert cfg is not None and cfg.grid == 400 and cfg.base.steps == 5000
    out = M.run_request(evil)
    assert out.meta is None and "over the limit" in out.status  # repaired, then refused: not run


def test_momentum_map_carries_the_analytic_bound():
    cfg = small(M.PRESETS_BY_NAME["momentum_quadratic"].config, grid=24, steps=400)
    out = M.run_request(M.request_data(cfg))
    assert "2/L" in out.explain
    line = next(t for t in out.figure["data"] if str(t.get("name", "")).startswith("analytic limit"))
    assert line["name"] == "analytic limit η = 2(1 + μ)"
    x, y = untyped(line["x"]), untyped(line["y"])
    assert np.allclose(x, 2 * (1 + y))
    # the map agrees with the line: far right of it everything diverged, well left nothing did
    smap_z = [h for h in heatmaps(out.figure) if h["name"] == "diverged"][0]
    div = ~np.isnan(untyped(smap_z["z"]).reshape(24, 24))
    xs, ys = M.map_axes(cfg)
    X, Y = np.meshgrid(xs, ys)
    assert div[X > 1.2 * 2 * (1 + Y)].all() and not div[X < 0.8 * 2 * (1 + Y)].any()


def test_bound_only_for_heavy_ball_on_the_quadratic():
    gd = M.PRESETS_BY_NAME["gd_quadratic"].config
    stable, label = M.heavy_ball_bound(gd)
    assert label == "analytic limit η(1 + λ) = 2"
    assert stable(np.array([1.9]), np.array([0.0]))[0] and not stable(np.array([1.1]), np.array([1.0]))[0]
    assert M.heavy_ball_bound(replace(gd, kind="basin")) is None
    assert M.heavy_ball_bound(M.PRESETS_BY_NAME["adam_beale"].config) is None
    nesterov = M.map_from_query(M.map_query(gd).replace("opt=sgd,lr=0.5", "opt=sgd,lr=0.5,momentum=0.5,nesterov=true"))
    assert nesterov.entry.value("nesterov") is True and M.heavy_ball_bound(nesterov) is None
    dampened = M.map_from_query(M.map_query(gd).replace("opt=sgd,lr=0.5", "opt=sgd,lr=0.5,dampening=0.5"))
    assert M.heavy_ball_bound(dampened) is None
    other_axis = M.map_from_query(M.map_query(gd).replace("ay=weight_decay,0,1,lin", "ay=dampening,0,1,lin"))
    assert other_axis.y_axis.key == "dampening" and M.heavy_ball_bound(other_axis) is None


def test_clicked_pixel_of_a_basin_map_links_to_that_start():
    cfg = small(M.PRESETS_BY_NAME["himmelblau_adam"].config, grid=21)
    meta = {"cfg": cfg.to_dict(), "minima": [[m.x, m.y] for m in M.build_surface(cfg).minima]}
    click = {"points": [{"x": 3.02, "y": 1.97, "curveNumber": 0}]}
    px = M.locate_pixel(meta, *M.click_point(click), root="/")
    xs, ys = M.map_axes(cfg)
    assert (px.col, px.row) == (int(np.argmin(abs(xs - 3.02))), int(np.argmin(abs(ys - 1.97))))
    assert (px.x, px.y) == (3.0, 2.0)
    assert px.href.startswith("/?")
    ex = from_query(urlsplit(px.href).query)
    assert ex.start == (3.0, 2.0) and ex.notes == ()
    assert ex.surface == "himmelblau" and ex.steps == cfg.base.steps
    assert len(ex.optimizers) == 1 and ex.optimizers[0].name == "adam" and ex.optimizers[0].value("lr") == 0.5
    assert "converged" in px.lines[1] and "minimum 1 (3, 2)" in px.lines[1]
    # behind a path prefix the link keeps it
    assert M.locate_pixel(meta, 3, 2, root="/course/").href.startswith("/course/?")


def test_clicked_pixel_of_a_hyper_map_links_to_those_settings():
    cfg = small(M.PRESETS_BY_NAME["momentum_quadratic"].config, grid=16)
    meta = {"cfg": cfg.to_dict(), "minima": [[0.0, 0.0]]}
    xs, ys = M.map_axes(cfg)
    # a click anywhere in a cell of the log axis picks that cell (nearest in log space)
    px = M.locate_pixel(meta, xs[5] * 1.15, ys[9] + 0.01)
    assert (px.col, px.row) == (5, 9)
    ex = from_query(urlsplit(px.href).query)
    entry = ex.optimizers[0]
    assert entry.name == "momentum"
    assert entry.value("lr") == pytest.approx(xs[5], rel=1e-12) and entry.value("momentum") == pytest.approx(ys[9])
    assert ex.start == cfg.base.start and dict(ex.surface_params)["kappa"] == 10
    assert px.lines[0].startswith("η = ")
    # a diverged pixel says so
    far = M.locate_pixel(meta, 9.0, 0.0)
    assert "diverged" in far.lines[1]
    # garbage in, nothing out
    assert M.locate_pixel(meta, "nan", 1) is None and M.locate_pixel(None, 1, 1) is None
    assert M.click_point({"points": []}) is None and M.click_point("x") is None


def test_lessons_and_structural_changes_of_the_form():
    store = M.state_data(M.DEFAULT_MAP)
    cfg, now = M.render_action({"type": "maps-preset", "name": "adam_beale"}, {}, {}, store, 1)
    assert cfg == M.PRESETS_BY_NAME["adam_beale"].config and now is True
    assert M.render_action({"type": "maps-preset", "name": "nope"}, {}, {}, store, 1) is None
    assert M.render_action({"type": "maps-preset", "name": "adam_beale"}, {}, {}, store, None) is None

    form = form_of(M.DEFAULT_MAP)
    rows = rows_of(M.DEFAULT_MAP)
    form["optimizer"] = "momentum"
    cfg, now = M.render_action(M.Ids.OPTIMIZER, form, rows, store)
    assert not now and cfg.entry == M.OptimizerEntry.default("momentum", 0)
    assert (cfg.x_axis.key, cfg.y_axis.key) == ("lr", "momentum")
    form = form_of(cfg)
    form["surface"] = "quadratic"
    cfg2, _ = M.render_action(M.Ids.SURFACE, form, rows_of(cfg), M.state_data(cfg))
    assert cfg2.base.surface == "quadratic" and cfg2.base.start == (-9.0, 4.0) and cfg2.entry == cfg.entry
    # choosing the other axis's setting swaps the axes
    form = form_of(cfg2)
    form["ax_key"] = "momentum"
    cfg3, _ = M.render_action(M.Ids.AX_KEY, form, rows_of(cfg2), M.state_data(cfg2))
    assert (cfg3.x_axis.key, cfg3.y_axis.key) == ("momentum", "lr")
    assert M.render_action(M.Ids.GRID, form, rows_of(cfg2), M.state_data(cfg2)) is None


def test_form_values_become_a_validated_state():
    base = M.PRESETS_BY_NAME["momentum_quadratic"].config
    form, rows = form_of(base), rows_of(base)
    rows["hp"]["lr"] = None  # the swept settings are blank in the form
    rows["hp"]["momentum"] = None
    assert M.form_config(form, rows, base) == base
    form.update(grid=500, steps="x", ax_low=-1)
    cfg = M.form_config(form, rows, base)
    assert cfg.grid == 400 and cfg.base.steps == base.base.steps and cfg.x_axis.low > 0
    assert len(cfg.notes) == 3
    data = M.state_data(cfg)
    assert M.config_from_store(data) == cfg and data["query"] == M.map_query(cfg)


def form_of(cfg: M.MapConfig) -> dict:
    values = M.controls_for(cfg)
    form = {name: values[(cid, "value")] for name, cid in M.FORM_FIELDS}
    form["surface"] = cfg.base.surface
    return form


def rows_of(cfg: M.MapConfig) -> dict:
    hp = {p.key: cfg.entry.value(p.key) for p in cfg.spec.params if p.kind in ("float", "int")}
    hf = {p.key: (["on"] if cfg.entry.value(p.key) else []) if p.kind == "bool" else cfg.entry.value(p.key)
          for p in cfg.spec.params if p.kind in ("bool", "choice")}  # fmt: skip
    return {"sp": dict(cfg.base.surface_params), "hp": hp, "hf": hf}


# --------------------------------------------------------------------------- layout and registration


def _walk(node):
    from dash.development.base_component import Component

    if isinstance(node, (list, tuple)):
        for c in node:
            yield from _walk(c)
    elif isinstance(node, Component):
        yield node
        yield from _walk(getattr(node, "children", None))


def _find(root, cid):
    return next(n for n in _walk(root) if getattr(n, "id", None) == cid)


def test_layout_ids_are_prefixed_and_controls_filled():
    page = M.layout({"kind": "hyper"})
    ids = [n.id for n in _walk(page) if getattr(n, "id", None) is not None]
    for cid in ids:
        text = cid if isinstance(cid, str) else cid["type"]
        assert text.startswith("maps-"), cid
    assert len(ids) == len({json.dumps(i, sort_keys=True) if isinstance(i, dict) else i for i in ids})
    assert _find(page, M.Ids.KIND).value == "hyper"
    assert _find(page, M.Ids.AXES_BOX).hidden is False
    req = _find(page, M.Ids.REQUEST).data
    assert M.config_from_store(req).kind == "hyper"  # the first request computes the linked map
    # the swept settings are marked, not editable
    lr = _find(page, M.hp_id("lr"))
    assert lr.disabled is True and lr.placeholder == "x axis"
    # presets row: one button per lesson
    presets = [n for n in _walk(page) if isinstance(getattr(n, "id", None), dict) and n.id["type"] == "maps-preset"]
    assert [p.children for p in presets] == [p.title for p in M.PRESETS]


def test_registers_beside_the_explorer_without_collisions(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from dash import Dash

    from app import create_app
    from app.explorer.callbacks import register_callbacks as explorer_callbacks
    from app.hosting.jobs import make_manager

    dash_app = Dash(__name__, background_callback_manager=make_manager(), suppress_callback_exceptions=True)
    explorer_callbacks(dash_app)
    explorer_outputs = set(dash_app.callback_map)
    M.register_callbacks(dash_app)
    mine = set(dash_app.callback_map) - explorer_outputs
    assert len(mine) >= 7
    for key in mine:
        assert "maps-" in key and "url" not in key.replace("maps-url-sink", "")
    assert M.PATH == "/maps" and M.TITLE == "Sweep maps"
    background = [v for k, v in dash_app.callback_map.items() if k in mine and v.get("background")]
    assert len(background) == 1
    spec = background[0]["background"]
    assert spec["progress"] and spec["cancel"]
    # and in the whole app, beside every other page
    full = create_app(warm=False)
    assert mine <= set(full.callback_map)


def test_registers_a_manager_when_the_app_has_none(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from dash import Dash

    dash_app = Dash(__name__)
    M.register_callbacks(dash_app)
    background = [v for v in dash_app.callback_map.values() if v.get("background")]
    assert background and background[0]["background"].get("manager") is not None


def test_query_links_are_parseable_explorer_links():
    cfg = M.PRESETS_BY_NAME["gd_quadratic"].config
    q = parse_qs(M.map_query(cfg).lstrip("?"))
    assert q["kind"] == ["hyper"] and q["ax"] == ["lr,0.05,3,lin"] and q["opt"] == ["sgd,lr=0.5,color=0"]


def test_no_bound_when_clipping_or_a_schedule_changes_the_iteration():
    q = M.map_query(M.PRESETS_BY_NAME["momentum_quadratic"].config)
    assert M.heavy_ball_bound(M.map_from_query(q + "&noise=0.1")) is not None
    assert M.heavy_ball_bound(M.map_from_query(q + "&clip=norm")) is None
    assert M.heavy_ball_bound(M.map_from_query(q + "&sched=cosine")) is None
