"""The Explorer's basins layer: the map coloured by where each start ends with the first optimizer."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from urllib.parse import urlencode

import numpy as np
import pytest
from PIL import Image

from app import create_app
from app.explorer import basins
from app.explorer.basins import ROUTE, BadRequest, NoLayer, basin_layer, cached_layer_text, layer_config, layer_grid
from app.explorer.compute import build_surface
from app.explorer.state import from_query
from optimizers.maps import basin_map

HIMMELBLAU = "surface=himmelblau&steps=200&opt=adam,lr=0.1,color=0&opt=sgd,lr=0.001,color=1"


@pytest.fixture(scope="module")
def client():
    return create_app(warm=False).server.test_client()


def _pixels(layer: dict) -> np.ndarray:
    src = layer["image"]["source"]
    assert src.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    return np.asarray(img)


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def test_the_layer_colours_every_start_by_the_minimum_its_run_reaches():
    cfg = from_query(HIMMELBLAU)
    layer = basin_layer(cfg)
    n = layer["grid"]
    assert n == basins.MAX_GRID and layer["steps"] == 200
    px = _pixels(layer)
    assert px.shape == (n, n, 3)
    # the same starts run directly: each legend share is the share of its basin, and its colour is on the image
    surface = dataclasses.replace(build_surface(cfg), bounds=cfg.bounds)
    smap = basin_map(surface, cfg.optimizers[0].config(), grid=n, steps=200)
    minima = [e for e in layer["legend"] if e["label"].startswith("minimum")]
    assert len(minima) == 4  # Himmelblau's four minima, each reached from its own basin
    colours, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    drawn = {_hex(c): 100.0 * k / n / n for c, k in zip(colours, counts, strict=True)}
    for entry in layer["legend"]:
        assert drawn[entry["color"]] == pytest.approx(entry["share"], abs=0.06), entry
    assert sum(e["share"] for e in layer["legend"]) == pytest.approx(100.0, abs=0.3)
    k = [i for i, (x, y) in enumerate(smap.minima) if abs(x - 3.0) < 1e-3 and abs(y - 2.0) < 1e-3][0]
    entry = next(e for e in minima if e["label"] == "minimum (3, 2)")
    assert entry["share"] == pytest.approx(100.0 * float((smap.basin == k).mean()), abs=0.05)
    # the image's top row is the box's top (y up), and its corner pixel is the start at the top left
    top_left = smap.basin[-1, 0]
    assert _hex(px[0, 0]) == [e["color"] for e in minima if e["label"] == "minimum ({:.3g}, {:.3g})".format(
        *smap.minima[top_left])][0]  # fmt: skip
    img = layer["image"]
    (x0, x1), (y0, y1) = cfg.bounds
    half = (x1 - x0) / (n - 1) / 2
    assert img["x"] == pytest.approx(x0 - half) and img["sizex"] == pytest.approx(x1 - x0 + 2 * half)
    assert img["y"] == pytest.approx(y1 + (y1 - y0) / (n - 1) / 2) and img["layer"] == "below"
    assert layer["caption"] == "Colour: where each start ends with Adam · η=0.1 after 200 steps, 128 × 128 starts."


def test_the_layer_follows_the_first_optimizer_and_ignores_the_start_and_the_others():
    base = from_query(HIMMELBLAU)
    moved_start = dataclasses.replace(base, start=(0.5, -0.5))
    other = from_query(HIMMELBLAU.replace("sgd,lr=0.001", "sgd,lr=0.002"))
    assert layer_config(base) == layer_config(moved_start) == layer_config(other)
    wild = basin_layer(from_query(HIMMELBLAU.replace("adam,lr=0.1", "sgd,lr=0.05")))
    calm = basin_layer(from_query(HIMMELBLAU.replace("adam,lr=0.1", "sgd,lr=0.002")))
    share = {name: {e["label"]: e["share"] for e in layer["legend"]} for name, layer in (("wild", wild), ("calm", calm))}
    assert share["wild"].get("diverged", 0.0) > 20.0  # plain SGD at η = 0.05 overshoots Himmelblau's steep walls
    assert share["calm"].get("diverged", 0.0) == 0.0
    assert wild["key"] != calm["key"] and "SGD" in wild["caption"]


def test_the_grid_shrinks_to_keep_the_work_bounded():
    assert layer_grid(100, basins.NS_LOCKSTEP) == basins.MAX_GRID
    long = layer_grid(5000, basins.NS_LOCKSTEP)
    assert long * long * 5000 * basins.NS_LOCKSTEP <= basins.LAYER_BUDGET_NS < (long + 1) ** 2 * 5000 * basins.NS_LOCKSTEP
    assert layer_grid(5000, basins.NS_ONE_BY_ONE) == basins.MIN_GRID
    with pytest.raises(NoLayer, match="too slow"):
        layer_grid(5000, basins.NS_PYTHON)
    formula = basin_layer(from_query("surface=formula&formula=x%5E4-2*x%5E2%2By%5E2&steps=2000&opt=adam,lr=0.01"))
    assert formula["grid"] ** 2 * 2000 * basins.NS_LOCKSTEP * basins.FORMULA_FACTOR <= basins.LAYER_BUDGET_NS
    assert formula["grid"] < basins.MAX_GRID and len(formula["legend"]) >= 2  # x⁴ − 2x² + y²: minima at x = ±1
    newton = basin_layer(from_query("surface=rosenbrock&steps=500&opt=newton"))
    assert basins.MIN_GRID <= newton["grid"] < basins.MAX_GRID
    assert newton["grid"] ** 2 * 500 * basins.NS_ONE_BY_ONE <= basins.LAYER_BUDGET_NS


@pytest.mark.parametrize("query, reason", [
    ("surface=himmelblau&view=3d&opt=adam", "contour map"),
    ("surface=linreg&opt=sgd", "data surface"),
    ("surface=beale&steps=2000&opt=hessian_free", "too slow"),
])  # fmt: skip
def test_a_layer_that_cannot_be_drawn_says_why(query, reason):
    out = json.loads(cached_layer_text(from_query(query)))
    assert set(out) == {"error"} and reason in out["error"]


def test_without_optimizers_there_is_nothing_to_colour():
    cfg = dataclasses.replace(from_query(HIMMELBLAU), optimizers=(), arrows=-1)
    with pytest.raises(NoLayer, match="add an optimizer"):
        layer_config(cfg)


def test_the_route_answers_the_layer_and_refuses_what_it_cannot_read(client):
    r = client.get(ROUTE + "?" + urlencode({"q": HIMMELBLAU}))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, max-age=600"
    out = r.get_json()
    assert out["grid"] == basins.MAX_GRID and len(out["legend"]) >= 4
    assert _pixels(out).shape == (out["grid"], out["grid"], 3)
    r = client.get(ROUTE + "?" + urlencode({"q": "x" * 9000}))
    assert r.status_code == 400 and "at most" in r.get_json()["reason"]
    with pytest.raises(BadRequest):
        basins.requested({"q": ["not", "a", "string"]})
    # a broken query is repaired as the page repairs it (the default view), never an error page
    r = client.get(ROUTE + "?" + urlencode({"q": "surface=%00&opt=adam,lr=nan"}))
    assert r.status_code == 200 and ("image" in r.get_json() or "error" in r.get_json())


def test_the_layer_is_part_of_the_link_and_of_the_controls():
    from app.explorer.controls import controls_for
    from app.explorer.presets import PRESETS, lesson_for
    from app.explorer.state import to_query

    on = from_query(HIMMELBLAU + "&basins=1")
    assert on.basins is True and not on.notes
    assert "&basins=1" in to_query(on) and "basins" not in to_query(from_query(HIMMELBLAU))
    assert from_query(to_query(on)) == on
    assert controls_for(on)["basins"] == ["on"] and controls_for(from_query(HIMMELBLAU))["basins"] == []
    odd = from_query(HIMMELBLAU + "&basins=%3Cb%3E")
    assert odd.basins is False and any("basins" in n for n in odd.notes)
    # a display layer: the layer's own key and a lesson's text do not depend on it
    assert layer_config(on) == layer_config(from_query(HIMMELBLAU))
    preset = PRESETS[0]
    assert lesson_for(dataclasses.replace(preset.config, basins=True)) == preset.lesson


def test_the_controls_tick_it():
    from app.explorer.inputs import Cards, Form, Numbers, config_from_controls

    assert config_from_controls(Form(surface="himmelblau", steps=40, basins=["on"]), Numbers(), Cards()).basins is True
    assert config_from_controls(Form(surface="himmelblau", steps=40, basins=[]), Numbers(), Cards()).basins is False
    assert config_from_controls(Form(surface="himmelblau", steps=40, basins="on"), Numbers(), Cards()).basins is False
