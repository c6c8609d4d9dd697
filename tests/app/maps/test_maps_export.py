"""The page's export control: the map on screen, from the data its computation stored, in a checked format and size."""

from __future__ import annotations

import base64
import csv
import io
import os

import numpy as np
import pytest
from dash import no_update
from layout_tree import find, walk
from maps_helpers import small

from app.export.sizes import SIZE_PRESETS
from app.export.sweep_export import FORMATS
from app.export.sweep_metadata import read_settings
from app.hosting import result_cache
from app.hosting.kv import MemoryKV
from app.maps import compute
from app.maps.callbacks import export_outputs
from app.maps.export_control import NO_MAP, export_download
from app.maps.ids import Ids
from app.maps.layout import build_layout
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import DEFAULT_MAP, build_surface, map_from_query, request_data
from app.maps.sweep import run_sweep, sweep_document, sweep_from_document

#: a map that is not the default one: gradient descent's η × λ on the quadratic
CFG = small(PRESETS_BY_NAME["gd_quadratic"].config, grid=10, steps=150)


def downloaded(payload) -> bytes:
    assert payload["base64"] is True
    return base64.b64decode(payload["content"])


def shown_map():
    """The meta store after the map was computed (the compute callback's outcome)."""
    return compute.run_request(request_data(CFG)).meta


def test_csv_of_the_map_on_screen_comes_from_the_stored_data(monkeypatch):
    meta = shown_map()
    expected = run_sweep(CFG, build_surface(CFG))

    def no_second_sweep(*args, **kwargs):
        raise AssertionError("the export computed the map again")

    monkeypatch.setattr(compute, "run_sweep", no_second_sweep)
    payload, status = export_download(meta, "csv", "slide")
    assert payload["filename"] == "descent-lab-map-quadratic-sgd-lr-weight_decay.csv" and payload["type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(downloaded(payload).decode())))
    assert rows[0][:2] == ["lr", "weight_decay"] and len(rows) == 1 + 10 * 10
    assert [float(r[0]) for r in rows[1:11]] == list(expected.xs)
    assert [int(r[5]) for r in rows[1:]] == list(expected.steps.ravel())
    assert "descent-lab-map-quadratic-sgd" in status and "kB" in status


def test_npz_is_computed_again_when_the_store_lost_the_data_and_carries_the_settings(monkeypatch):
    meta = shown_map()
    # the store forgot everything (eviction, a restart without disk)
    monkeypatch.setattr(result_cache, "_by_pid", {os.getpid(): result_cache.ResultCache(MemoryKV())})
    payload, _ = export_download(meta, "npz", None)
    raw = downloaded(payload)
    expected = run_sweep(CFG, build_surface(CFG))
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        assert np.array_equal(z["final_loss"], expected.final_loss) and np.array_equal(z["basin"], expected.basin)
    assert map_from_query(read_settings(raw)["maps_query"]) == CFG


@pytest.mark.parametrize(
    "meta, fmt, size, status",
    [
        ("ok", "exe", "slide", "Choose a format."),
        ("ok", None, "slide", "Choose a format."),
        ("ok", "png", "poster", "Choose a size."),
        ("ok", "pdf", ["slide"], "Choose a size."),
        (None, "png", "slide", NO_MAP),
        ({"cfg": 5}, "csv", "slide", NO_MAP),
        ("junk", "csv", "slide", NO_MAP),
    ],
)
def test_untrusted_choices_and_a_missing_map_export_nothing(meta, fmt, size, status):
    if meta == "ok":
        meta = {"cfg": CFG.to_dict()}
    payload, text = export_download(meta, fmt, size)
    assert payload is no_update and text == status


def test_a_map_that_cannot_be_computed_says_why():
    bad = {"cfg": {**CFG.to_dict(), "explorer": {**CFG.base.to_dict(), "surface": "formula", "formula": "x +* y",
                                                "box": [-1, 1, -1, 1], "start": [0, 0]}}}  # fmt: skip
    payload, text = export_download(bad, "csv", "slide")
    assert payload is no_update and text.startswith("Could not export:")


def test_download_does_nothing_before_a_click():
    assert export_outputs(0, {"cfg": CFG.to_dict()}, "csv", "slide") == {"download": no_update, "status": no_update}


def test_the_control_offers_every_format_and_size_with_visible_labels():
    root = build_layout()
    fmt, size = find(root, Ids.EXPORT_FORMAT), find(root, Ids.EXPORT_SIZE)
    assert [o["value"] for o in fmt.options] == list(FORMATS) == ["png", "svg", "pdf", "csv", "npz"]
    assert [o["value"] for o in size.options] == list(SIZE_PRESETS)
    labels = {c.htmlFor: c.children for c in walk(root) if type(c).__name__ == "Label" and getattr(c, "htmlFor", None)}
    assert labels[str(Ids.EXPORT_FORMAT)] == "format" and labels[str(Ids.EXPORT_SIZE)] == "size"
    assert find(root, Ids.EXPORT).children == "Download" and find(root, Ids.EXPORT_DOWNLOAD) is not None


def test_a_stored_map_is_read_back_exactly_and_a_damaged_one_is_refused():
    smap = run_sweep(CFG, build_surface(CFG))
    back = sweep_from_document(sweep_document(smap))
    for name in ("xs", "ys", "final_x", "final_y", "final_loss", "steps", "status", "basin"):
        assert np.array_equal(getattr(back, name), getattr(smap, name)), name
    assert (back.x_label, back.minima, back.log_x) == (smap.x_label, smap.minima, smap.log_x)
    assert back.precision == "float64"
    assert run_sweep(CFG, build_surface(CFG), precision="float32").precision == "float64"  # a hyperparameter map
    basins = small(DEFAULT_MAP, grid=10, steps=150)
    single = run_sweep(basins, build_surface(basins), precision="float32")
    assert single.precision == "float32" and sweep_from_document(sweep_document(single)).precision == "float32"
    assert sweep_from_document({**sweep_document(single), "precision": "float8"}).precision == "float64"
    doc = sweep_document(smap)
    for damage in ({"steps": doc["steps"][:8]}, {"xs": "!!"}, {"minima": "x"}, {"x_label": 3}):
        with pytest.raises(ValueError):
            sweep_from_document({**doc, **damage})
    with pytest.raises(ValueError):
        sweep_from_document([1, 2])
