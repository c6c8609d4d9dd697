"""One pixel of a map: the nearest pixel to a click or typed values, its run in words and its Explorer link."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest
from maps_helpers import small

from app.explorer.state import from_query
from app.maps.pixels import click_point, locate_pixel
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import build_surface, map_axes


def test_clicked_pixel_of_a_basin_map_links_to_that_start():
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=21)
    meta = {"cfg": cfg.to_dict(), "minima": [[m.x, m.y] for m in build_surface(cfg).minima]}
    click = {"points": [{"x": 3.02, "y": 1.97, "curveNumber": 0}]}
    px = locate_pixel(meta, *click_point(click), root="/")
    xs, ys = map_axes(cfg)
    assert (px.col, px.row) == (int(np.argmin(abs(xs - 3.02))), int(np.argmin(abs(ys - 1.97))))
    assert (px.x, px.y) == (3.0, 2.0)
    assert px.href.startswith("/?")
    ex = from_query(urlsplit(px.href).query)
    assert ex.start == (3.0, 2.0) and ex.notes == ()
    assert ex.surface == "himmelblau" and ex.steps == cfg.base.steps
    assert len(ex.optimizers) == 1 and ex.optimizers[0].name == "adam" and ex.optimizers[0].value("lr") == 0.5
    assert "converged" in px.lines[1] and "minimum 1 (3, 2)" in px.lines[1]
    # behind a path prefix the link keeps it
    assert locate_pixel(meta, 3, 2, root="/course/").href.startswith("/course/?")


def test_clicked_pixel_of_a_hyper_map_links_to_those_settings():
    cfg = small(PRESETS_BY_NAME["momentum_quadratic"].config, grid=16)
    meta = {"cfg": cfg.to_dict(), "minima": [[0.0, 0.0]]}
    xs, ys = map_axes(cfg)
    # a click anywhere in a cell of the log axis picks that cell (nearest in log space)
    px = locate_pixel(meta, xs[5] * 1.15, ys[9] + 0.01)
    assert (px.col, px.row) == (5, 9)
    ex = from_query(urlsplit(px.href).query)
    entry = ex.optimizers[0]
    assert entry.name == "momentum"
    assert entry.value("lr") == pytest.approx(xs[5], rel=1e-12) and entry.value("momentum") == pytest.approx(ys[9])
    assert ex.start == cfg.base.start and dict(ex.surface_params)["kappa"] == 10
    assert px.lines[0].startswith("η = ")
    # a diverged pixel says so
    far = locate_pixel(meta, 9.0, 0.0)
    assert "diverged" in far.lines[1]
    # garbage in, nothing out
    assert locate_pixel(meta, "nan", 1) is None and locate_pixel(None, 1, 1) is None
    assert click_point({"points": []}) is None and click_point("x") is None
