"""Pure figure builders: map (2-D and 3-D), diagnostics; and the shell's primitives they draw with
(contour lines, raster, typed arrays, message figures: app.shell)."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest

from app.explorer import compute
from app.explorer import diagnostics
from app.explorer import figures
from app.explorer.state import DEFAULT, FORMULA, OptimizerEntry
from app.shell import contours
from app.shell import raster
from app.shell import style

E = OptimizerEntry.default


@pytest.fixture(scope="module")
def result():
    return compute.compute(DEFAULT)


def _json(fig):
    return json.dumps(fig, allow_nan=False)


def test_palette_is_okabe_ito():
    assert set(style.COLORS) == {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert style.COLORS[-1] == "#F0E442"  # yellow, hardest to see on the light map, comes last


def test_map_2d_with_runs(result):
    fig = figures.map_figure(result)
    _json(fig)
    names = [t.get("name") for t in fig["data"]]
    assert names[:2] == ["contours", "minima"] and "start" in names
    paths = [t for t in fig["data"] if t.get("mode") == "lines" and t.get("name") != "contours"]
    assert len(paths) == 6
    x = raster.untyped(paths[0]["x"])
    assert np.array_equal(x, result.runs[0].trajectory.positions[:, 0])
    lay = fig["layout"]
    assert lay["xaxis"]["range"] == [-4.5, 4.5] and lay["yaxis"]["scaleanchor"] == "x"
    assert lay["images"][0]["source"].startswith("data:image/png;base64,")
    assert lay["images"][0]["layer"] == "below"


def test_map_2d_without_runs_is_only_the_background(result):
    fig = figures.map_figure(result, with_runs=False)
    assert [t["name"] for t in fig["data"]] == ["contours", "minima"]


def test_map_3d_has_fixed_slots(result):
    cfg = replace(DEFAULT, view="3d")
    r = compute.compute(cfg)
    fig = figures.map_figure(r)
    _json(fig)
    ix = figures.TRACE_INDEX
    assert ix["colors"] == 8 and ix["ball"] - ix["path"] == ix["end"] - ix["ball"] == ix["colors"]
    assert ix["averaged"] == ix["arrow"] + 3  # after the three arrows: one averaged-point path per colour
    assert len(fig["data"]) == ix["averaged"] + ix["colors"]
    assert all(fig["data"][ix["averaged"] + c]["x"] == [] for c in range(8))  # no schedule-free run here
    assert fig["data"][ix["background"]]["type"] == "surface"
    for c in range(8):
        path = fig["data"][ix["path"] + c]
        assert path["type"] == "scatter3d"
        if c < 6:
            assert raster.untyped(path["x"]).size == 501
        else:
            assert path["x"] == []


def test_diverged_run_gets_an_end_marker():
    cfg = replace(DEFAULT, optimizers=(E("sgd", 0, lr=5.0),), arrows=0)
    fig = figures.map_figure(compute.compute(cfg))
    ends = [t for t in fig["data"] if t.get("mode") == "markers+text"]
    assert len(ends) == 1 and ends[0]["text"][0].startswith("diverged at step")


def test_message_figure_escapes_html():
    fig = style.message_figure("<script>alert(1)</script> unexpected '^' at position 2")
    text = fig["layout"]["annotations"][0]["text"]
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_formula_error_map(result):
    r = compute.compute(replace(DEFAULT.with_surface(FORMULA), formula="x +* y"))
    fig = figures.map_figure(r)
    assert fig["data"] == [] and "position" in fig["layout"]["annotations"][0]["text"]


def test_contour_lines_of_a_paraboloid_are_circles():
    xs = np.linspace(-2, 2, 81)
    ys = np.linspace(-2, 2, 81)
    z = xs[None, :] ** 2 + ys[:, None] ** 2
    lx, ly = contours.contour_lines(xs, ys, z, [1.0])
    pts = np.isfinite(lx)
    r = np.hypot(lx[pts], ly[pts])
    assert r.size > 50 and np.allclose(r, 1.0, atol=2e-3)
    # one closed loop: a single polyline whose ends meet
    assert np.isnan(lx).sum() == 1
    assert np.hypot(lx[0] - lx[pts][-1], ly[0] - ly[pts][-1]) < 1e-9


def test_contour_lines_skip_undefined_cells():
    xs = np.linspace(-1, 1, 21)
    z = np.tile(xs, (21, 1))
    z[:, :5] = np.nan
    lx, _ = contours.contour_lines(xs, xs, z, [0.0, 0.5])
    assert np.all(np.isnan(lx) | (lx > -0.6))
    assert contours.contour_lines(xs, xs, np.full((21, 21), np.nan), [0.0])[0].size == 0


def test_png_is_valid():
    rgb = raster.colorize(np.array([[0.0, 1.0], [np.nan, 0.5], [2.0, -1.0]]), 0.0, 1.0)
    assert rgb.shape == (3, 2, 3) and tuple(rgb[1, 0]) == style.UNDEFINED_RGB
    data = raster.png_rgb(rgb)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (2, 3)
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(3, 7)
    # undo the Sub filter and check the top row is our last row
    row = raw[0, 1:].astype(int)
    row[3:] = (row[3:] + row[:3]) % 256
    assert raw[0, 0] == 1 and tuple(row[:3]) == tuple(rgb[2, 0]) and tuple(row[3:]) == tuple(rgb[2, 1])


def test_diagnostics_panels(result):
    panels = diagnostics.diagnostics_panels(result)
    assert len(panels) == 6
    for p in panels:
        _json(p)
    loss, grad, dist, eff, stab, split = panels
    assert len(stab["data"]) >= 6 and split["data"] == []  # Beale: no error split, the panel says why
    assert loss["layout"]["yaxis"]["type"] == "log" and "f − f*" in loss["layout"]["title"]["text"]
    assert len(loss["data"]) == 6 and len(grad["data"]) == 6 and len(dist["data"]) == 6
    assert len(eff["data"]) == 12  # x and y per optimizer
    assert loss["layout"]["xaxis"]["range"] == [0, 500]
    line = loss["data"][0]
    y = raster.untyped(line["y"])
    x = raster.untyped(line["x"]) if "x" in line else line["x0"] + np.arange(y.size) * line["dx"]
    f = result.runs[0].trajectory.losses
    assert x[0] == 0 and x[-1] == 500
    assert np.allclose(y, f[x.astype(int)], rtol=1e-6)


def test_diagnostics_without_minimum_or_runs():
    r = compute.compute(replace(DEFAULT.with_surface("saddle"), optimizers=(E("sgd", 0, lr=0.05),), arrows=0))
    loss, _, dist, *_ = diagnostics.diagnostics_panels(r)
    assert loss["layout"]["yaxis"]["type"] == "linear"  # f goes negative on a saddle
    assert "no known minimum" in dist["layout"]["annotations"][0]["text"]
    empty = diagnostics.diagnostics_panels(compute.compute(replace(DEFAULT, optimizers=(), arrows=-1)))
    assert all(p["data"] == [] for p in empty)


def test_long_runs_are_decimated():
    r = compute.compute(replace(DEFAULT, steps=5000, optimizers=(E("adam", 0, lr=0.01),), arrows=0))
    loss = diagnostics.diagnostics_panels(r)[0]
    x = raster.untyped(loss["data"][0]["x"])
    assert x.size <= diagnostics.MAX_DIAG_POINTS + 1 and x[0] == 0 and x[-1] == 5000


def test_arrow_vectors(result):
    adam = result.runs[5]
    v = figures.arrow_vectors(adam, 10)
    assert set(v) == {"grad", "momentum", "update"}
    (px, py), (gx, gy), label = v["grad"]
    t = adam.trajectory
    assert (px, py) == tuple(t.positions[10]) and (gx, gy) == tuple(-t.gradients[10]) and label == "−∇f"


def test_contour_lines_join_open_branches_into_whole_polylines():
    xs = np.linspace(-2, 2, 61)
    z = xs[None, :] * xs[:, None]  # x·y = 0.5: two hyperbola branches, each leaving the box twice
    lx, ly = contours.contour_lines(xs, xs, z, [0.5])
    assert np.isnan(lx).sum() == 2  # exactly two polylines, not a scatter of pieces
    pts = np.isfinite(lx)
    assert np.allclose(lx[pts] * ly[pts], 0.5, atol=5e-3)
    cell = xs[1] - xs[0]
    parts = [(px, py) for px, py in zip(np.split(lx, np.where(~pts)[0]), np.split(ly, np.where(~pts)[0]), strict=True)
             if np.isfinite(px).any()]  # fmt: skip
    assert len(parts) == 2
    for part_x, part_y in parts:
        keep = np.isfinite(part_x)
        steps = np.hypot(np.diff(part_x[keep]), np.diff(part_y[keep]))
        assert steps.size > 20 and steps.max() <= cell * np.sqrt(2) + 1e-12  # neighbours share a cell
        ends = np.abs(np.array([part_x[keep][0], part_x[keep][-1], part_y[keep][0], part_y[keep][-1]]))
        assert np.isclose(ends, 2.0).sum() == 2  # both ends on the box's border
