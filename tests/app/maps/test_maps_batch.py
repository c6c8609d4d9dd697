"""Sweep maps on data surfaces: the batch size travels through the form, the link and the runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.explorer.state import ExplorerConfig
from app.maps.form import form_config
from app.maps.ids import Ids
from app.maps.layout import controls_for
from app.maps.state import MapConfig, build_surface, map_from_query, map_query, map_entry
from app.maps.sweep import run_sweep
from optimizers import Modifiers, make_config, trace
from tests.app.maps.maps_helpers import form_of, rows_of


def _linreg_map(batch: int) -> MapConfig:
    from surfaces.catalog import BY_NAME

    params = tuple((p.name, float(p.default)) for p in BY_NAME["linreg"].params)
    base = ExplorerConfig(surface="linreg", surface_params=params, start=(-1.0, 4.0), steps=60,
                          optimizers=(map_entry("sgd", lr=0.05),), seed=3, batch_size=batch, arrows=0)  # fmt: skip
    from app.maps.state import default_axes

    return MapConfig("basin", base, 6, "loss", *default_axes(base.optimizers[0].spec))


def test_the_batch_size_round_trips_through_the_link_and_the_form():
    cfg = _linreg_map(8)
    assert "batch=8" in map_query(cfg)
    assert map_from_query(map_query(cfg)) == cfg
    form, rows = form_of(cfg), rows_of(cfg)
    assert controls_for(cfg)[(Ids.BATCH, "value")] == 8
    assert form_config(form, rows, cfg).base.batch_size == 8
    form["batch_size"] = 99999  # clamped like every other field, with a note
    clamped = form_config(form, rows, cfg)
    assert clamped.base.batch_size == 4096 and clamped.notes
    form["batch_size"] = None
    assert form_config(form, rows, cfg).base.batch_size == 0


def test_each_run_of_a_minibatch_map_equals_its_single_trace():
    cfg = _linreg_map(8)
    surface = build_surface(cfg)
    smap = run_sweep(cfg, surface)
    xs = np.linspace(surface.bounds[0][0], surface.bounds[0][1], cfg.grid)
    ys = np.linspace(surface.bounds[1][0], surface.bounds[1][1], cfg.grid)
    mods = Modifiers(batch_size=8, seed=3)
    for i, j in ((0, 0), (2, 3), (5, 5)):
        t = trace(surface, make_config("sgd", lr=0.05), (xs[j], ys[i]), 60, modifiers=mods)
        assert smap.final_loss[i, j] == t.losses[-1]
    full = run_sweep(replace(cfg, base=replace(cfg.base, batch_size=0)), surface)
    assert not np.array_equal(full.final_loss, smap.final_loss)


def test_a_map_on_edited_points_runs_on_those_points():
    from app.explorer.points import canonical

    pts = canonical("linreg", [[0.0, 1.0], [1.0, 2.5], [2.0, 5.5], [3.0, 6.0]])
    cfg = _linreg_map(0)
    edited = replace(cfg, base=replace(cfg.base, points=pts))
    surface = build_surface(edited)
    assert surface.n_points == 4 and surface.points.tolist() == [list(r) for r in pts]
    assert surface.bounds == cfg.base.bounds  # the Explorer's box, so pixels and runs agree
    assert not np.array_equal(run_sweep(edited, surface).final_loss, run_sweep(cfg, build_surface(cfg)).final_loss)
