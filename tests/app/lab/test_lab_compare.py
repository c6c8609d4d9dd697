"""Finished races kept side by side: the record a real race leaves, the kept list's changes and limits, hostile
lists from the browser, the names by what differs, the comparison figure and table."""

from __future__ import annotations

import json
import math

from layout_tree import find_all, texts

from app.hosting.kv import MemoryKV
from app.lab import jobs, results
from app.lab.compare import (
    DASHES,
    KEPT_CURVE_POINTS,
    MAX_KEPT,
    compare_figure,
    compare_table,
    kept_after,
    race_names,
    race_record,
    sanitize_kept,
)
from app.lab.ids import KEPT_REMOVE, card_id
from app.lab.state import DEFAULT, LabSettings
from app.shell.style import COLORS
from tests.app.lab.test_lab_page import Pushes, raw_form, tiny_form


def _history(n: int, scale: float = 1.0) -> list[dict]:
    return [{"epoch": e, "train_loss": scale / (e + 1), "val_loss": 1.5 * scale / (e + 1)} for e in range(n)]


def _record(rid: str, settings: LabSettings = DEFAULT, n: int = 5, scale: float = 1.0) -> dict:
    runs = [{"label": "Adam (lr=0.003)", "status": "completed", "history": _history(n, scale)},
            {"label": "SGD (lr=0.1)", "status": "diverged", "history": _history(n, 2 * scale)[:2]}]
    psnr = {"columns": ["Clean", "Gaussian (0.2)"],
            "rows": [{"label": "Input", "cells": [None, {"mean": 14.0, "std": 1.0}]},
                     {"label": "Adam (lr=0.003)", "cells": [{"mean": 22.5, "std": 2.0}, {"mean": 20.0, "std": 2.0}]},
                     {"label": "SGD (lr=0.1)", "cells": [{"mean": 11.0, "std": 1.0}, None]}]}
    return race_record(settings, runs, psnr, race_id=rid)


def test_a_real_race_leaves_a_record_of_its_runs_losses_and_psnr():
    out = jobs.run_job(raw_form(tiny_form(init="naive")), None, kv=MemoryKV(), token=None, push=Pushes())
    assert out["ok"], out["status"]
    rec = out["record"]
    json.dumps(rec, allow_nan=False)  # it travels to the browser as strict JSON
    assert [r["label"] for r in rec["runs"]] == [r["label"] for r in out["psnr"]["rows"][1:]]
    assert dict(rec["facets"])["init"] == "naive (σ = 0.01) init"
    assert "init=naive" in rec["link"] and rec["link"].startswith("?")
    assert rec["columns"] == out["psnr"]["columns"]
    loss_traces = out["loss"]["data"]
    for i, run in enumerate(rec["runs"]):
        val = loss_traces[2 * i + 1]["y"]  # the race's own validation curve (dashed), epochs 0..2
        assert [p[0] for p in run["val"]] == [0, 1, 2]
        assert [p[1] for p in run["val"]] == val and run["final_val"] == val[-1]
        assert run["final_train"] == loss_traces[2 * i]["y"][-1]
        cells = out["psnr"]["rows"][i + 1]["cells"]
        assert [f"{m:.1f}" for m in run["psnr"]] == [c.split(" ± ")[0] for c in cells]
    # it is what the race callback hands the page
    assert results.result_outputs(out)["record"] == rec


def test_a_record_strides_long_curves_and_skips_the_psnr_input_row():
    rec = _record("a1", n=500)
    adam, sgd = rec["runs"]
    assert len(adam["val"]) == KEPT_CURVE_POINTS and adam["val"][0] == [0, 1.5] and adam["val"][-1][0] == 499
    assert adam["final_val"] == 1.5 / 500 and adam["final_train"] == 1 / 500
    assert adam["psnr"] == [22.5, 20.0] and sgd["psnr"] == [11.0, None]
    assert sgd["status"] == "diverged" and len(sgd["val"]) == 2


def test_the_kept_list_adds_newest_last_drops_the_oldest_and_removes_and_clears():
    kept: list = []
    for i in range(MAX_KEPT + 2):
        kept = kept_after(kept, add=_record(f"r{i}"))
    assert [r["id"] for r in kept] == [f"r{i}" for i in range(2, MAX_KEPT + 2)]
    again = kept_after(kept, add=_record("r3"))  # already kept: stays where it is
    assert [r["id"] for r in again] == [r["id"] for r in kept]
    fewer = kept_after(kept, remove="r4")
    assert "r4" not in [r["id"] for r in fewer] and len(fewer) == MAX_KEPT - 1
    assert kept_after(kept, clear=True) == []
    assert kept_after(kept, add={"not": "a record"}) == kept


def test_hostile_lists_from_the_browser_are_checked_before_anything_is_drawn():
    good = _record("ok1")
    bad_curve = dict(good, id="ok2", runs=[dict(good["runs"][0], val=[[1, "x"], ["nan", 2], [3e30, 1.0], "junk"],
                                                 final_val=float("inf"), psnr=[1e400, "1", None, 5, 6])])  # fmt: skip
    hostile = [None, 5, "text", {"id": "<script>", "runs": [{}]}, {"id": "x" * 200, "runs": "no"},
               {"id": "empty", "runs": []}, good, good, bad_curve, {"id": "long", "runs": [{"label": "L" * 10_000}]}]
    kept = sanitize_kept(hostile)
    assert [r["id"] for r in kept] == ["ok1", "ok2", "long"]
    run = kept[1]["runs"][0]
    assert run["val"] == [[1, None], [10_000_000, 1.0]] and run["final_val"] is None
    assert run["psnr"] == [None, None]  # bounded by the record's columns; non-finite and text dropped
    assert len(kept[2]["runs"][0]["label"]) == 120 and kept[2]["facets"] == [] and kept[2]["link"] == "?"
    assert sanitize_kept({"id": "a"}) == [] and sanitize_kept([good] * 50) == [good]
    json.dumps(compare_figure(kept), allow_nan=False)
    compare_table(kept, lambda rid: card_id(KEPT_REMOVE, rid))


def test_kept_races_are_named_by_what_sets_them_apart():
    a = _record("a", LabSettings(init="naive"))
    b = _record("b", LabSettings(init="xavier"))
    c = _record("c", LabSettings(init="xavier", bn=True))
    assert race_names([a, b]) == ["naive (σ = 0.01) init", "Xavier (normal) init"]
    assert race_names([a, b, c]) == ["naive (σ = 0.01) init, no batch norm", "Xavier (normal) init, no batch norm",
                                     "Xavier (normal) init, batch norm"]
    assert race_names([a]) == ["race 1"]
    assert race_names([a, _record("a2", LabSettings(init="naive"))]) == ["race 1", "race 2"]
    noisy = _record("n", LabSettings(noise="gaussian", level=0.2))
    assert race_names([b, noisy]) == ["no input noise", "Gaussian 0.2"]


def test_the_comparison_figure_colours_by_race_and_dashes_by_optimizer():
    races = sanitize_kept([_record("a", LabSettings(init="naive")), _record("b", scale=0.5)])
    fig = compare_figure(races)
    names = [t["name"] for t in fig["data"]]
    assert names == ["naive (σ = 0.01) init · Adam (lr=0.003)", "naive (σ = 0.01) init · SGD (lr=0.1)",
                     "Xavier (normal) init · Adam (lr=0.003)", "Xavier (normal) init · SGD (lr=0.1)"]
    assert [t["line"]["color"] for t in fig["data"]] == [COLORS[0], COLORS[0], COLORS[1], COLORS[1]]
    assert [t["line"]["dash"] for t in fig["data"]] == [DASHES[0], DASHES[1]] * 2
    assert fig["data"][2]["y"][0] == 0.75 and fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["title"]["text"] == "Validation loss of the kept races"


def test_the_comparison_table_has_a_row_per_run_the_best_in_bold_and_a_remove_button_per_race():
    races = sanitize_kept([_record("a", LabSettings(init="naive")), _record("b", scale=0.5)])
    table = compare_table(races, lambda rid: card_id(KEPT_REMOVE, rid))
    rows = find_all(table, lambda c: type(c).__name__ == "Tr")
    assert len(rows) == 2 + 4
    head = [texts(th) for th in rows[0].children]
    assert head == ["race", "optimizer", "status", "training loss", "validation loss", "PSNR (dB)", "remove"]
    assert rows[0].children[5].colSpan == 2 and rows[0].children[0].rowSpan == 2
    assert [texts(th) for th in rows[1].children] == ["Clean", "Gaussian (0.2)"]
    rows = rows[1:]
    buttons = find_all(table, lambda c: type(c).__name__ == "Button")
    assert [b.id for b in buttons] == [card_id(KEPT_REMOVE, "a"), card_id(KEPT_REMOVE, "b")]
    assert getattr(buttons[0], "aria-label") == "Remove the kept race naive (σ = 0.01) init"
    strong = [texts(s) for s in find_all(table, lambda c: type(c).__name__ == "Strong")]
    assert strong == [f"{0.75 / 5:.4g}"]  # race b's Adam has the lowest final validation loss
    links = find_all(table, lambda c: type(c).__name__ == "A")
    assert links[0].href == "/lab?init=naive" and links[1].href == "/lab?"
    assert [texts(td) for td in rows[1].children][1:] == ["Adam (lr=0.003)", "completed", "0.2", "0.3", "22.5", "20.0",
                                                          "Remove"]
    assert [texts(td) for td in rows[2].children][4:] == ["11.0", "—"]  # SGD's Gaussian cell is undefined


def test_the_kept_view_waits_politely_and_draws_what_is_kept():
    empty = results.kept_view(None)
    assert empty["clear_disabled"] and empty["figure"]["data"] == []
    assert "kept here" in texts(empty["table"])
    shown = results.kept_view([_record("a"), _record("b", LabSettings(bn=True))])
    assert not shown["clear_disabled"] and len(shown["figure"]["data"]) == 4
    assert not any(isinstance(v, float) and math.isnan(v) for t in shown["figure"]["data"] for v in t["y"] if v)
