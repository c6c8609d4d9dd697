"""The Sweep maps figure builders without a browser: colourings, legends, contours, log axes and the stability boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest
from maps_helpers import fake_map, heatmaps, legend, luminance, no_nan_json

from app.export.imaging import OKABE_ITO
from app.maps.figures import (
    BASIN_COLORS,
    BOUND_COLOR,
    DIVERGED_COLOR,
    NONE_COLOR,
    SEQUENTIAL_SCALE,
    basin_figure,
    contour_trace,
    hyper_figure,
    loss_values,
    stability_boundary,
    value_traces,
)
from app.shell.raster import untyped
from optimizers import _slots as run_status
from optimizers.maps import DIVERGED, NO_MINIMUM, heavy_ball_stable


@pytest.fixture
def small_map():
    """3 × 4 pixels: two basins, one start with no known minimum, one diverged, one still running."""
    basin = np.array([[0, 0, 1, 1], [0, NO_MINIMUM, 1, 1], [0, 0, 1, DIVERGED]])
    status = np.full(basin.shape, run_status.CONVERGED)
    status[2, 3] = run_status.DIVERGED
    status[1, 1] = run_status.COMPLETED
    steps = np.where(status == run_status.CONVERGED, np.arange(12).reshape(3, 4) + 5, -1)
    loss = np.full(basin.shape, 1e-6)
    loss[0, 0] = 1e-2
    loss[2, 3] = np.inf
    return fake_map(basin, status, steps, loss)


def test_basin_colouring_okabe_ito_grey_and_black(small_map):
    fig = basin_figure(small_map, "minimum", title="t", steps=50)
    no_nan_json(fig)
    (hm,) = heatmaps(fig)
    z = untyped(hm["z"]).reshape(3, 4)
    # classes: minimum k → k, no minimum → 2, diverged → 3
    assert z[0, 0] == 0 and z[0, 3] == 1 and z[1, 1] == 2 and z[2, 3] == 3
    # the discrete scale gives class k exactly colour k
    scale = hm["colorscale"]
    colors = [c for _, c in scale[::2]]
    assert colors == [OKABE_ITO[0], OKABE_ITO[1], NONE_COLOR, DIVERGED_COLOR]
    n = len(colors)
    for k in range(n):
        pos = (k - hm["zmin"]) / (hm["zmax"] - hm["zmin"])
        assert scale[2 * k][0] <= pos <= scale[2 * k + 1][0]
    assert BASIN_COLORS == OKABE_ITO and DIVERGED_COLOR == "#000000"
    # a legend entry for every colour on the map, with its share
    entries = legend(fig)
    assert entries == [
        ("minimum 1 (1, 1) · 42 %", OKABE_ITO[0]),
        ("minimum 2 (-1, -1) · 42 %", OKABE_ITO[1]),
        ("no known minimum · 8 %", NONE_COLOR),
        ("diverged · 8 %", DIVERGED_COLOR),
    ]
    assert fig["layout"]["legend"]["xanchor"] == "center"
    # minima are numbered like the legend, inside the box
    minima = next(t for t in fig["data"] if t.get("name") == "minima")
    assert minima["text"] == ["1", "2"] and minima["x"] == [1.0, -1.0]
    # equal scales on both axes for a map of the plane
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"


def test_steps_colouring_has_overlays_and_a_sequential_scale(small_map):
    fig = basin_figure(small_map, "steps", title="t", steps=50)
    no_nan_json(fig)
    main, first, second = heatmaps(fig)
    z = untyped(main["z"]).reshape(3, 4)
    assert np.isnan(z[2, 3]) and np.isnan(z[1, 1])  # diverged and unfinished runs are not on the scale
    assert z[0, 0] == 5 and main["zmin"] == 5 and main["zmax"] == 15  # 16 belongs to the diverged start
    assert main["colorscale"] == SEQUENTIAL_SCALE and main["showscale"] is True
    # the sequential scale never comes close to the black of "diverged"
    assert min(luminance(c) for _, c in SEQUENTIAL_SCALE) > 0.25
    grey = untyped(first["z"]).reshape(3, 4)
    black = untyped(second["z"]).reshape(3, 4)
    assert np.nansum(grey) == 1 and grey[1, 1] == 1
    assert np.nansum(black) == 1 and black[2, 3] == 1
    assert first["colorscale"][0][1] == NONE_COLOR and second["colorscale"][0][1] == DIVERGED_COLOR
    assert [n for n, _ in legend(fig)] == ["not converged in 50 steps · 8 %", "diverged · 8 %"]


def test_loss_colouring_is_log_distance_to_the_minimum(small_map):
    z, fs = loss_values(small_map, 0.0)
    assert fs == 0.0
    assert z[0, 0] == pytest.approx(-2.0) and z[0, 1] == pytest.approx(-6.0)
    assert np.isnan(z[2, 3])
    # without a known minimum, f* is the lowest final loss on the map
    _, fs2 = loss_values(small_map, None)
    assert fs2 == pytest.approx(1e-6)
    fig = basin_figure(small_map, "loss", title="t", f_star=0.0)
    no_nan_json(fig)
    assert [h["name"] for h in heatmaps(fig)] == ["log₁₀(f − f*)", "diverged"]
    assert [n for n, _ in legend(fig)] == ["diverged · 8 %"]


def test_basin_figure_draws_the_contours_it_is_given(small_map):
    xs = ys = np.linspace(-2, 2, 30)
    zz = xs[None, :] ** 2 + ys[:, None] ** 2
    fig = basin_figure(small_map, "minimum", title="t", contours=contour_trace(xs, ys, zz, [1.0, 2.0]))
    names = [t.get("name") for t in fig["data"]]
    assert names.index("contours") == names.index("minima") - 1  # over the colours, under the minima's stars
    lines = fig["data"][names.index("contours")]
    x = untyped(lines["x"])
    y = untyped(lines["y"])
    r = np.hypot(x[~np.isnan(x)], y[~np.isnan(y)])
    assert r.size > 20 and np.all((np.abs(r - 1) < 0.05) | (np.abs(r - math.sqrt(2)) < 0.05))


def test_unknown_colouring_is_refused(small_map):
    with pytest.raises(ValueError):
        value_traces(small_map, "colour", None, "")


def test_hyper_figure_log_axes_cells_and_bound():
    lrs = np.geomspace(0.01, 10, 7)
    mus = np.linspace(0, 0.9, 4)
    basin = np.zeros((4, 7), dtype=int)
    status = np.full((4, 7), run_status.CONVERGED)
    smap = fake_map(basin, status, xs=lrs, ys=mus, log_x=True, minima=((0.0, 0.0),))
    bx, by = np.array([2.0, 2.5, np.nan]), np.array([0.0, 0.25, 0.5])
    fig = hyper_figure(smap, "steps", title="t", x_title="η (lr)", y_title="μ (momentum)", x_symbol="η",
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
    assert len(line) == 1 and line[0]["showlegend"] and line[0]["line"]["color"] == BOUND_COLOR
    assert np.array_equal(untyped(line[0]["x"]), bx, equal_nan=True)


def test_stability_boundary_follows_heavy_ball_stable():
    def stable(lr, mu):
        return heavy_ball_stable(lr, mu, [0.1, 1.0])

    xs, ys = stability_boundary(stable, (0.01, 10.0), (0.0, 0.99), log_x=True, n=50)
    ok = ~np.isnan(xs)
    assert ok.all()  # η = 2(1 + μ) ∈ [2, 3.98] crosses every row
    assert np.allclose(xs, 2 * (1 + ys), rtol=1e-9)
    assert stable(xs * (1 - 1e-6), ys).all() and not stable(xs * (1 + 1e-6), ys).any()
    # along μ, for fixed η: the crossing is μ = η/2 − 1, only for η in (2, 4)
    mx, ly = stability_boundary(lambda m, lr: stable(lr, m), (0.0, 0.99), (0.5, 5.0), n=46)
    assert np.isnan(mx[ly < 2 - 1e-9]).all() and np.isnan(mx[ly > 3.98]).all()
    inside = ~np.isnan(mx)
    assert np.allclose(mx[inside], ly[inside] / 2 - 1, atol=1e-9)
