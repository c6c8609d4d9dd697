"""Schedule-free runs on the Explorer's map: the iterate y (solid) and the averaged, evaluated point x (dashed),
each named; and every optimizer card names its rule's source."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from layout_tree import texts

from app.explorer import compute, controls, figures, views
from app.explorer.state import DEFAULT, OptimizerEntry
from app.shell import raster
from optimizers import get_spec, optimizer_names

E = OptimizerEntry.default
#: a schedule-free AdamW run (colour 2) raced against Adam (colour 0) on Beale
CFG = replace(DEFAULT, optimizers=(E("adam", 0, lr=0.01), E("schedulefree_adamw", 2, lr=0.01)), arrows=0, steps=300)


@pytest.fixture(scope="module")
def result():
    return compute.compute(CFG)


def _runs(result):
    return {r.entry.name: r for r in result.runs}


def test_the_two_points_are_named_once_for_the_whole_page():
    assert compute.GRADIENT_POINT == "y (gradient point)"
    assert compute.AVERAGED_POINT == "x (averaged, evaluated)"
    assert compute.TWO_POINTS == "solid: y (gradient point) · dashed: x (averaged, evaluated)"


def test_payload_carries_x_for_schedule_free_runs_only(result):
    p = compute.payload(result, {**figures.TRACE_INDEX, "rev": None}, None)
    json.dumps(p, allow_nan=False)
    adam, sf = p["slots"]
    assert adam["ax"] is None and adam["ay"] is None and adam["af"] is None
    t = _runs(result)["schedulefree_adamw"].trajectory
    np.testing.assert_array_equal(compute.unb64(sf["ax"]), t.averaged[:, 0])
    np.testing.assert_array_equal(compute.unb64(sf["ay"]), t.averaged[:, 1])
    np.testing.assert_allclose(compute.unb64(sf["af"], "<f4"), t.averaged_losses, rtol=1e-6)
    # y, the main path, is still the iterate, and x is a different point
    np.testing.assert_array_equal(compute.unb64(sf["x"]), t.positions[:, 0])
    assert np.max(np.abs(t.averaged - t.positions)) > 1e-3


def test_race_board_says_which_path_is_which(result):
    entry = views.race_entry(CFG, lambda: result)
    notes = {n["color"]: n for n in entry["payload"]["notes"]}
    assert notes[0]["paths"] is None
    assert notes[2]["paths"] == compute.TWO_POINTS
    assert entry["payload"]["index"]["averaged"] == figures.TRACE_INDEX["averaged"]


def test_2d_figure_draws_x_dashed_beside_y(result):
    fig = figures.map_figure(result, with_runs=True)
    json.dumps(fig, allow_nan=False)
    t = _runs(result)["schedulefree_adamw"].trajectory
    by_name = {}
    for trace in fig["data"]:
        by_name.setdefault(trace.get("name"), []).append(trace)
    label = _runs(result)["schedulefree_adamw"].entry.label()
    (main,) = [tr for tr in by_name[label] if tr["mode"] == "lines"]
    path, ball = by_name[f"{label} x (averaged, evaluated)"]
    np.testing.assert_array_equal(raster.untyped(main["x"]), t.positions[:, 0])
    assert main["line"].get("dash") is None and main["line"]["width"] == 2.5
    np.testing.assert_array_equal(raster.untyped(path["x"]), t.averaged[:, 0])
    np.testing.assert_array_equal(raster.untyped(path["y"]), t.averaged[:, 1])
    assert path["line"]["dash"] == "dash" and path["line"]["width"] < main["line"]["width"]
    assert path["line"]["color"] == main["line"]["color"]
    assert "x (averaged, evaluated)" in path["hovertemplate"] and "y (gradient point)" in main["hovertemplate"]
    assert ball["x"] == [float(t.averaged[-1, 0])] and ball["y"] == [float(t.averaged[-1, 1])]
    # Adam has one path and one ball, its hover names neither point
    adam = _runs(result)["adam"].entry.label()
    assert [tr["mode"] for tr in by_name[adam]] == ["lines", "markers"]
    assert "gradient point" not in by_name[adam][0]["hovertemplate"]


def test_3d_figure_has_an_averaged_path_in_the_run_colour_slot():
    r = compute.compute(replace(CFG, view="3d"))
    fig = figures.map_figure(r)
    json.dumps(fig, allow_nan=False)
    ix = figures.TRACE_INDEX
    assert len(fig["data"]) == ix["averaged"] + ix["colors"]
    t = _runs(r)["schedulefree_adamw"].trajectory
    sf = fig["data"][ix["averaged"] + 2]
    assert sf["type"] == "scatter3d" and sf["line"]["dash"] == "dash"
    np.testing.assert_array_equal(raster.untyped(sf["x"]), t.averaged[:, 0])
    assert raster.untyped(sf["z"]).size == t.averaged.shape[0]
    assert all(fig["data"][ix["averaged"] + c]["x"] == [] for c in range(8) if c != 2)


@pytest.mark.parametrize("name", optimizer_names())
def test_every_card_names_its_source(name):
    card = controls.optimizer_card(E(name, 0), 0, 1, with_tex=False)
    text = texts(card)
    assert "Source:" in text and get_spec(name).source in text
    assert (compute.TWO_POINTS in text) == name.startswith("schedulefree")
