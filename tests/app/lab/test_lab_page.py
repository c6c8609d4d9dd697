"""The Autoencoder lab without a browser: figure builders, link validation, form handling, the job store, a race."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest
from dash import Dash, html
from hypothesis import given, settings
from hypothesis import strategies as st
from layout_tree import find, find_all, texts

from app.hosting.kv import DiskKV, MemoryKV, kv_for
from app.lab import cards, checks, gate, heartbeat, ids, jobs, limits, results, state, uploads
from app.lab import figures as lab_figures
from app.lab import page as lab_page
from app.lab import queue as lab_queue
from app.lab.form import read_form
from app.lab.ids import Ids
from app.lab.state import DEFAULT, LabSettings, OptChoice
from app.shell.style import COLORS

# --------------------------------------------------------------------------- helpers


def data_url(raw: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(raw).decode()


def npy(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def tiny_form(**over) -> dict:
    """The form's raw values for a tiny race (digits, small net, two optimizers)."""
    values = {
        "data": "digits", "samples": 300, "hidden": "12", "act": "relu", "out": "sigmoid", "loss": "mse",
        "init": "xavier", "arch": [], "skip": "none", "noise": "none", "level": None, "epochs": 2, "batch": 32, "seed": 0,
        "limit": 60, "opt_names": ["adam", "sgd"], "opt_ids": [{"type": ids.OPT_NAME, "index": 0},
                                                               {"type": ids.OPT_NAME, "index": 1}],
        "opt_lr": [0.01, 0.1], "opt_lr_ids": [{"type": ids.OPT_LR, "index": 0}, {"type": ids.OPT_LR, "index": 1}],
        "opt_p1": [0.9, 0.9], "opt_p1_ids": [{"type": ids.OPT_P1, "index": 0}, {"type": ids.OPT_P1, "index": 1}],
        "opt_p2": [0.999, 0.0], "opt_p2_ids": [{"type": ids.OPT_P2, "index": 0}, {"type": ids.OPT_P2, "index": 1}],
    }  # fmt: skip
    values.update(over)
    return values


def raw_form(values: dict) -> dict:
    """The form's values as ``sanitize`` reads them (what the race callback passes to ``run_job``)."""
    return read_form(values).raw()


class Pushes:
    """Collects progress updates (what set_progress would send)."""

    def __init__(self) -> None:
        self.items: list[tuple[dict, str, float]] = []

    def __call__(self, fig: dict, text: str, pct: float) -> None:
        json.dumps(fig)  # every update must be plain JSON (Celery, the browser)
        self.items.append((fig, text, pct))


# --------------------------------------------------------------------------- figure builders


def test_downsample_keeps_ends_and_bounds_the_count():
    assert lab_figures.downsample(0) == []
    assert lab_figures.downsample(5, 10) == [0, 1, 2, 3, 4]
    idx = lab_figures.downsample(1001, 150)
    assert idx[0] == 0 and idx[-1] == 1000 and len(idx) <= 150
    assert all(a < b for a, b in zip(idx, idx[1:]))
    with pytest.raises(ValueError):
        lab_figures.downsample(10, 1)


def _run(label, train, val, status="completed", diverged=None):
    return {"key": label.lower(), "label": label, "status": status, "diverged_at_epoch": diverged,
            "history": [{"epoch": e, "train_loss": t, "val_loss": v} for e, (t, v) in enumerate(zip(train, val))]}  # fmt: skip


def test_loss_figure_draws_train_solid_validation_dashed_in_race_colours():
    runs = [_run("Adam", [0.2, 0.1, 0.05], [0.21, 0.11, 0.06]),
            _run("SGD", [0.2, float("nan"), 0.0], [0.2, 0.19, -1.0], status="diverged", diverged=2)]  # fmt: skip
    fig = lab_figures.loss_figure(runs, epochs=10)
    json.dumps(fig)
    lines = [t for t in fig["data"] if t.get("legendgroup", "").startswith("run")]
    adam_train, adam_val, sgd_train, sgd_val, sgd_x = lines
    assert adam_train["x"] == [0, 1, 2] and adam_train["y"] == [0.2, 0.1, 0.05]
    assert adam_val["y"] == [0.21, 0.11, 0.06]
    assert adam_train["line"]["color"] == COLORS[0] and sgd_train["line"]["color"] == COLORS[1]
    assert adam_train["line"]["dash"] == "solid" and adam_val["line"]["dash"] == "dash"
    assert adam_train["showlegend"] and not adam_val["showlegend"]
    # non-finite and non-positive losses are gaps on a log axis
    assert sgd_train["y"] == [0.2, None, None] and sgd_val["y"] == [0.2, 0.19, None]
    assert sgd_x["text"] == ["diverged"] and sgd_x["x"] == [2]
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["xaxis"]["range"] == [0, 10]
    keys = [t["name"] for t in fig["data"] if t.get("legendgroup", "").startswith("key")]
    assert keys == ["training", "validation"]


def test_loss_figure_sends_a_downsampled_history():
    n = 400
    runs = [_run("Adam", list(np.geomspace(1, 0.01, n)), list(np.geomspace(1, 0.02, n)))]
    fig = lab_figures.loss_figure(runs, epochs=n - 1, max_points=50)
    train = fig["data"][0]
    assert len(train["x"]) <= 50 and train["x"][0] == 0 and train["x"][-1] == n - 1


def test_log_ticks_are_readable_and_inside_the_range():
    ticks = lab_figures.log_ticks(0.034, 0.18)
    assert 0.05 in ticks and 0.1 in ticks and len(ticks) >= 3
    assert all(0.034 <= t <= 0.18 for t in ticks)
    assert lab_figures.log_ticks(1e-4, 1.0) == [1e-4, 1e-3, 1e-2, 0.1, 1.0]
    assert lab_figures.log_ticks(0.0538, 0.18) == [0.07, 0.1, 0.15]  # the top of the range gets a tick too
    fig = lab_figures.loss_figure([_run("Adam", [0.18, 0.1, 0.0538], [0.18, 0.1, 0.06])], epochs=2)
    assert fig["layout"]["yaxis"]["tickvals"] == [0.07, 0.1, 0.15]
    assert fig["layout"]["yaxis"]["ticktext"] == ["0.07", "0.1", "0.15"]
    assert lab_figures.log_ticks(0.0, 1.0) == []


def test_status_line_names_epoch_time_and_losses():
    snap = {"epoch": 3, "epochs": 10, "elapsed": 2.25, "runs": [_run("Adam", [0.3, 0.2], [0.3, 0.2]),
                                                                 _run("SGD", [0.3], [0.3], status="diverged")]}  # fmt: skip
    text = lab_figures.status_line(snap, time_limit=60)
    assert text.startswith("Epoch 3 of 10 · 2.2 s elapsed (limit 60 s)")
    assert "Adam: 0.2" in text and "SGD: 0.3 (diverged)" in text


def test_mosaic_places_tiles_under_label_bands():
    a = np.arange(2 * 4, dtype=float).reshape(2, 4) / 10  # two 2×2 images
    b = np.ones((2, 4))
    z = lab_figures.mosaic([a, b], (2, 2), gap=1, band=3)
    assert z.shape == (2 * (3 + 2), 2 * 3 - 1)
    assert np.all(np.isnan(z[0:3]))  # the label band
    np.testing.assert_array_equal(z[3:5, 0:2], a[0].reshape(2, 2))
    np.testing.assert_array_equal(z[3:5, 3:5], a[1].reshape(2, 2))
    assert np.all(np.isnan(z[3:5, 2]))  # the gap
    np.testing.assert_array_equal(z[8:10, 0:2], np.ones((2, 2)))


def test_non_image_samples_are_padded_to_a_square():
    assert lab_figures.tile_shape(10, None) == (4, 4)
    assert lab_figures.tile_shape(64, (8, 8)) == (8, 8)
    assert lab_figures.tile_shape(12, (8, 8)) == (4, 4)  # a shape that does not fit is ignored
    z = lab_figures.mosaic([np.ones((1, 10))], None, band=0)
    assert z.shape == (4, 4) and np.sum(z == 1) == 10 and np.sum(np.isnan(z)) == 6


def test_recon_figure_rows_labels_and_psnr():
    rng = np.random.default_rng(0)
    orig = rng.random((8, 64))
    noisy = np.clip(orig + 0.2 * rng.standard_normal(orig.shape), 0, 1)
    good = np.clip(orig + 0.01, 0, 1)
    bad = np.full_like(orig, 0.5)
    fig = lab_figures.recon_figure(orig, noisy, [good, bad], ["Adam", "SGD"], (8, 8), input_label="Gaussian (0.2)")
    json.dumps(fig)
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert labels[0] == "<b>Original</b>" and labels[1] == "<b>Input: Gaussian (0.2)</b>"
    from autoencoder.metrics import mean_std, psnr

    assert labels[2] == f"<b>Adam · {mean_std(psnr(orig, good))[0]:.1f} dB</b>"
    assert fig["layout"]["annotations"][3]["font"]["color"] == COLORS[1]
    z = fig["data"][0]["z"]
    band = lab_figures.label_band(8)
    assert len(z) == 4 * (band + 8) and len(z[0]) == 8 * 9 - 1
    assert z[band][0] == pytest.approx(orig[0, 0]) and z[0][0] is None
    assert fig["data"][0]["zmin"] == 0 and fig["data"][0]["zmax"] == 1
    assert lab_figures.recon_figure(np.zeros((0, 64)), None, [], [], (8, 8))["data"] == []


def test_psnr_rows_format_cells_and_mark_the_best_optimizer():
    table = {"columns": ["Clean", "Gaussian (0.2)"], "samples": 300, "rows": [
        {"label": "Input", "cells": [None, {"mean": 16.05, "std": 1.0}]},
        {"label": "Adam", "cells": [{"mean": 20.0, "std": 2.04}, {"mean": 14.0, "std": 1.0}]},
        {"label": "SGD", "cells": [{"mean": 12.0, "std": 0.5}, {"mean": 15.0, "std": 1.0}]},
    ]}  # fmt: skip
    rows = lab_figures.psnr_rows(table)
    assert rows["columns"] == ["Clean", "Gaussian (0.2)"]
    assert rows["rows"][0]["cells"] == ["—", "16.1 ± 1.0"]
    assert rows["rows"][1]["cells"] == ["20.0 ± 2.0", "14.0 ± 1.0"]
    # the input row never wins, even where it is higher than every optimizer
    assert rows["rows"][0]["best"] == [False, False]
    assert rows["rows"][1]["best"] == [True, False] and rows["rows"][2]["best"] == [False, True]
    assert lab_figures.psnr_rows(None)["rows"] == []


def _landscape_dict(method="pca"):
    xs = [-1.0, 0.0, 1.0]
    return {"xs": xs, "ys": xs, "z": [[1.0, 0.1, 1.0], [0.1, 0.01, None], [1.0, 0.1, 1.0]],
            "paths": {"adam": [[0.9, 0.8], [0.2, 0.1], [0.0, 0.0]], "sgd": [[0.9, 0.8], [0.7, 0.6]]},
            "path_epochs": {"adam": [0, 1, 2], "sgd": [0, 2]}, "center": "adam", "center_loss": 0.01,
            "method": method, "explained": [0.8, 0.15] if method == "pca" else None}  # fmt: skip


def test_landscape_figure_contours_log_loss_and_projects_every_path():
    fig = lab_figures.landscape_figure(_landscape_dict(), ["Adam (lr=0.01)", "SGD"], ["adam", "sgd"])
    json.dumps(fig)
    contour = fig["data"][0]
    assert contour["type"] == "contour"
    assert contour["z"][1][1] == pytest.approx(-2.0) and contour["z"][0][0] == pytest.approx(0.0)
    assert contour["z"][1][2] is None and contour["customdata"][1][1] == pytest.approx(0.01)
    paths = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    assert [p["name"] for p in paths] == ["Adam (lr=0.01)", "SGD"]
    assert paths[0]["x"] == [0.9, 0.2, 0.0] and paths[0]["customdata"] == [0, 1, 2]
    assert paths[0]["line"]["color"] == COLORS[0] and paths[1]["line"]["color"] == COLORS[1]
    assert "PC 1 (80%" in fig["layout"]["xaxis"]["title"]["text"]
    assert "Adam (lr=0.01)'s final weights" in fig["layout"]["title"]["text"]
    star = fig["data"][-1]
    assert star["marker"]["symbol"] == "star" and star["x"] == [0.0]
    rnd = lab_figures.landscape_figure(_landscape_dict("random"), ["Adam", "SGD"], ["adam", "sgd"])
    assert "random direction 1" in rnd["layout"]["xaxis"]["title"]["text"]


# --------------------------------------------------------------------------- links and validation


def test_defaults_and_a_round_trip_through_the_link():
    s, notes = state.sanitize({})
    assert s == DEFAULT and notes == []
    custom = LabSettings(data="sample_images", samples=900, hidden=(64, 16), act="tanh", out="linear", init="he",
                         bn=True, skip="both", noise="salt_pepper", level=0.25, epochs=7, batch=16, seed=3, limit=90.0,
                         opts=(OptChoice("adam", (("lr", 0.01), ("beta1", 0.8), ("beta2", 0.99))),
                               OptChoice("adam", (("lr", 0.001), ("beta1", 0.9), ("beta2", 0.999))),
                               OptChoice("lbfgs", (("lr", 1.0), ("history", 5), ("max_evals", 25)))))  # fmt: skip
    q = state.to_query(custom)
    assert all(isinstance(v, str) for v in q.values())
    back, notes = state.sanitize(q)
    assert notes == [] and back == custom
    assert state.to_query(DEFAULT) == {}
    assert state.share_href(custom).startswith("?data=sample_images")


def test_skip_links_name_a_variant_and_older_flags_still_read():
    for raw, want in (("deep", "deep"), ("both", "both"), ("Shallow", "shallow"), ("none", "none"), ("1", "shallow"),
                      ("true", "shallow"), ("0", "none"), (True, "shallow"), (False, "none")):
        s, notes = state.sanitize({"skip": raw})
        assert (s.skip, notes) == (want, []), raw
    s, notes = state.sanitize({"skip": "<evil>"})
    assert s.skip == "none" and notes == ["skip connection: '<evil>' is not one of none, shallow, deep, both; using none"]
    assert state.to_query(LabSettings(skip="deep")) == {"skip": "deep"}


def test_hostile_links_fall_back_to_defaults_with_notes():
    s, notes = state.sanitize({
        "epochs": "1e9", "samples": "nan", "hidden": "99999999,1", "act": "<script>", "noise": "gaussian",
        "level": "-4", "batch": "0", "seed": "-1", "limit": "inf", "opt": "adam(lr=1e99),evil(x=1)," + "x" * 5000,
        "bn": "maybe", "zzz": "1",
    })  # fmt: skip
    assert s.epochs == limits.MAX_EPOCHS and s.samples == DEFAULT.samples and s.hidden == DEFAULT.hidden
    assert s.act == DEFAULT.act and s.level == 0.0 and s.batch == 1 and s.seed == 0
    assert s.limit == DEFAULT.limit and s.opts == DEFAULT.opts and s.bn is False
    joined = " | ".join(notes)
    for part in ("epochs: 1e+09 is outside [1, 200]; using 200", "samples: 'nan' is not a number", "hidden sizes",
                 "unknown setting 'zzz'"):  # fmt: skip
        assert part in joined, part
    assert len(notes) == limits.MAX_NOTICES + 1 and notes[-1].startswith("… and ")
    _, notes = state.sanitize({"opt": "adam(lr=1e99),evil(x=1)," + "x" * 5000, "level": "2", "noise": "blur"})
    assert any("opt: the value is too long" in n for n in notes)


def test_optimizer_texts_are_parsed_validated_and_capped():
    s, notes = state.sanitize({"opt": "adam(lr=0.02,beta1=1.5),momentum(lr=0.1),adam(eps=1)"})
    assert [o.name for o in s.opts] == ["adam", "momentum", "adam"]
    assert dict(s.opts[0].values)["lr"] == 0.02 and dict(s.opts[0].values)["beta1"] < 1.0
    assert any("beta1" in n for n in notes) and any("'eps' ignored" in n for n in notes)
    many = ",".join(["sgd"] * 12)
    s, notes = state.sanitize({"opt": many})
    assert len(s.opts) == limits.MAX_OPTIMIZERS and any("at most 8" in n for n in notes)
    s, notes = state.sanitize({"opt": "adam(lr=0.1"})
    assert s.opts == DEFAULT.opts and notes


def test_bce_needs_a_sigmoid_output():
    s, notes = state.sanitize({"loss": "bce", "out": "linear"})
    assert s.out == "sigmoid" and any("sigmoid" in n for n in notes)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(list(state.QUERY_KEYS) + ["x", ""]),
                       st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(),
                                 st.lists(st.integers(), max_size=3)), max_size=10))  # fmt: skip
def test_sanitize_never_raises_and_stays_in_bounds(raw):
    s, notes = state.sanitize(raw)
    assert 1 <= s.epochs <= limits.MAX_EPOCHS and 1 <= s.batch <= limits.MAX_BATCH
    assert limits.MIN_SAMPLES <= s.samples <= limits.MAX_SAMPLES and 0 <= s.seed <= limits.MAX_SEED
    assert limits.MIN_TIME_LIMIT <= s.limit <= limits.MAX_TIME_LIMIT
    assert 1 <= len(s.hidden) <= limits.MAX_HIDDEN_LAYERS and all(1 <= h <= limits.MAX_WIDTH for h in s.hidden)
    assert 1 <= len(s.opts) <= limits.MAX_OPTIMIZERS
    for o in s.opts:
        o.config()  # valid for the registry
    if s.noise != "none":
        s.corruption()
    assert isinstance(notes, list)


# --------------------------------------------------------------------------- the layout


def test_layout_shows_the_links_settings_and_no_notice_for_a_clean_link():
    page = lab_page.layout({"epochs": "7", "hidden": "16,4,16", "noise": "blur", "level": "2"})
    assert isinstance(page, html.Div) and page.id == Ids.PAGE
    assert find(page, Ids.EPOCHS).value == 7
    assert find(page, Ids.HIDDEN).value == "16,4,16"
    assert find(page, Ids.NOISE).value == "blur" and find(page, Ids.LEVEL).value == 2.0
    assert find(page, Ids.LEVEL).disabled is False
    assert find(page, Ids.NOTICE).hidden is True
    assert "64 → 16 → 4 → 16 → 64" in texts(find(page, Ids.MODEL_SUMMARY))
    assert getattr(find(page, Ids.START), "disabled", None) is not True and find(page, Ids.CANCEL).disabled is True
    names = [c.value for c in find_all(page, lambda c: isinstance(getattr(c, "id", None), dict)
                                   and c.id.get("type") == ids.OPT_NAME)]  # fmt: skip
    assert names == ["adam", "momentum", "sgd"]
    # each page load gets its own nonce (cancel requests are keyed by it)
    assert find(page, Ids.NONCE).data != find(lab_page.layout({}), Ids.NONCE).data


@pytest.mark.parametrize("query", [{"epochs": "abc"}, {"opt": "<img src=x onerror=alert(1)>"},
                                   {"hidden": "1" * 3000}, {"samples": ["1", "2"]}, None, "not a mapping"])  # fmt: skip
def test_layout_of_a_hostile_link_has_a_visible_notice(query):
    page = lab_page.layout(query)
    notice = find(page, Ids.NOTICE)
    if isinstance(query, dict):
        assert notice.hidden is False
        assert "could not be used" in texts(notice.children)
    else:
        assert notice.hidden is True
    json.dumps(page.to_plotly_json(), cls=__import__("plotly").utils.PlotlyJSONEncoder)


def test_layout_accessibility_basics():
    page = lab_page.layout({})
    labels = {c.htmlFor for c in find_all(page, lambda c: isinstance(c, html.Label) and getattr(c, "htmlFor", None))}
    for cid in (Ids.HIDDEN, Ids.EPOCHS, Ids.BATCH, Ids.SEED, Ids.LIMIT, Ids.SAMPLES, Ids.LEVEL):
        assert cid in labels, cid
    removes = find_all(page, lambda c: isinstance(getattr(c, "id", None), dict) and c.id.get("type") == ids.OPT_REMOVE)
    assert all(getattr(b, "aria-label", None) or b.to_plotly_json()["props"].get("aria-label") for b in removes)
    assert find(page, Ids.STATUS).role == "status"


# --------------------------------------------------------------------------- the form


def test_form_rows_pair_values_by_card_index_not_by_order():
    values = tiny_form(opt_lr=[0.1, 0.01],
                       opt_lr_ids=[{"type": ids.OPT_LR, "index": 1}, {"type": ids.OPT_LR, "index": 0}])
    rows = read_form(values).rows()
    assert rows[0] == {"name": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999}
    assert rows[1] == {"name": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0}
    raw = raw_form(tiny_form(arch=["bn"], noise="gaussian", level=0.3))
    assert raw["bn"] is True and raw["skip"] == "none" and raw["level"] == 0.3
    s, notes = state.sanitize(raw)
    assert notes == [] and s.hidden == (12,) and s.noise == "gaussian" and len(s.opts) == 2


def test_edit_rows_adds_copies_and_never_removes_the_last_card():
    rows = [{"name": "adam", "lr": 0.01}]
    two = cards.edit_rows(rows, "add")
    assert two == [{"name": "adam", "lr": 0.01}] * 2 and two[1] is not two[0]
    full = rows
    for _ in range(20):
        full = cards.edit_rows(full, "add")
    assert len(full) == limits.MAX_OPTIMIZERS
    assert cards.edit_rows(rows, "remove", 0) == rows
    assert cards.edit_rows(two + [{"name": "sgd"}], "remove", 2) == two
    assert cards.edit_rows(two, "remove", 7) == two


def test_add_and_remove_clicks_edit_the_cards_in_page_order():
    values = read_form(tiny_form(opt_names=["sgd", "adam"], opt_ids=[{"type": ids.OPT_NAME, "index": 5},
                                                                      {"type": ids.OPT_NAME, "index": 2}]))  # fmt: skip
    assert values.card_indices() == [5, 2] and [c.name for c in values.cards] == ["sgd", "adam"]
    added = cards.rows_after_click(Ids.OPT_ADD, True, 1, values)
    assert [r["name"] for r in added] == ["sgd", "adam", "adam"]
    removed = cards.rows_after_click({"type": ids.OPT_REMOVE, "index": 2}, True, None, values)
    assert [r["name"] for r in removed] == ["sgd"]  # the card with index 2 is second on the page
    # a button just created (no clicks), an unknown card, or no trigger: nothing changes
    assert cards.rows_after_click({"type": ids.OPT_REMOVE, "index": 2}, False, None, values) is None
    assert cards.rows_after_click({"type": ids.OPT_REMOVE, "index": 9}, True, None, values) is None
    assert cards.rows_after_click(None, False, None, values) is None
    assert read_form("junk").cards == () and read_form({}).raw()["opt"] == []


def test_opt_cards_show_the_key_hyperparameters_of_each_optimizer():
    built = cards.opt_cards([{"name": "adam", "lr": 0.02}, {"name": "newton"}])
    adam_params = built[0].children[1].children
    assert [f.children[1].id["type"] for f in adam_params] == [ids.OPT_LR, ids.OPT_P1, ids.OPT_P2]
    assert adam_params[0].children[1].value == 0.02 and adam_params[1].children[1].value == 0.9
    newton_params = built[1].children[1].children
    assert newton_params[2].hidden is True  # Newton has one key hyperparameter besides lr
    assert built[0].style["--card-color"] == COLORS[0] and built[1].style["--card-color"] == COLORS[1]


def test_check_run_refuses_oversized_and_impossible_races():
    big = LabSettings(data="synthetic", hidden=(2048, 2048))
    assert any("7,410,448 parameters; the lab allows 1,000,000" in e for e in checks.check_run(big, None))
    assert checks.param_count(DEFAULT, 64) == DEFAULT.model_spec().build(64).n_params
    shallow = LabSettings(hidden=(5, 3), bn=True, skip="shallow")
    assert checks.param_count(shallow, 10) == shallow.model_spec().build(10).n_params
    for skip in ("deep", "both"):
        mirrored = LabSettings(hidden=(6, 3, 6), bn=True, skip=skip)
        assert checks.param_count(mirrored, 10) == mirrored.model_spec().build(10).n_params
        assert checks.check_run(mirrored, None) == []
    no_mirror = LabSettings(hidden=(5, 3), skip="deep")
    assert checks.param_count(no_mirror, 64) == LabSettings(hidden=(5, 3)).model_spec().build(64).n_params
    (why,) = checks.check_run(no_mirror, None)
    assert why.startswith("Model: a deep skip joins two hidden layers") and "(5, 3)" in why
    newton = LabSettings(opts=(OptChoice("newton"),))
    assert any("Newton" in e for e in checks.check_run(newton, None))
    tiny_newton = LabSettings(hidden=(1,), opts=(OptChoice("newton"),))
    assert checks.check_run(tiny_newton, None) == []
    upload = LabSettings(data="file")
    assert any("Upload" in e for e in checks.check_run(upload, None))
    blur = LabSettings(data="file", noise="blur", level=1.0)
    assert any("needs images" in e for e in checks.check_run(blur, {"n_features": 10, "image_shape": None}))
    assert checks.check_run(blur, {"n_features": 64, "image_shape": [8, 8]}) == []


def test_psnr_columns_use_the_trained_noise_strength_and_landscape_work_is_bounded():
    cols = checks.psnr_columns(LabSettings(noise="gaussian", level=0.5))
    assert [c.kind for c in cols] == ["clean", "salt_pepper", "gaussian", "blur", "knockout"]
    assert cols[2].level == 0.5
    for n_params in (100, 5_000, 200_000, 1_000_000):
        res, samples = checks.landscape_plan(n_params, 1000)
        assert res % 2 == 1 and res >= 7
        assert 2 * res * res * samples * 2 * n_params <= limits.LANDSCAPE_BUDGET
    assert checks.landscape_plan(5_000, 1000) == (25, 500)


# --------------------------------------------------------------------------- job store: cancel, slots, uploads


def test_tokens_from_the_browser_are_validated_and_cancel_is_cooperative():
    kv = MemoryKV()
    assert heartbeat.valid_token("short") is None and heartbeat.valid_token("a" * 65) is None
    assert heartbeat.valid_token("../../etc/passwd_xx") is None and heartbeat.valid_token(12345678901234567) is None
    token = heartbeat.valid_token("abcdefgh12345678")
    assert token == "abcdefgh12345678"
    now = [0.0]
    check = heartbeat.cancel_check(kv, token, clock=lambda: now[0], every=1.0)
    assert check() is False
    heartbeat.request_cancel(kv, token)
    assert check() is False  # read at most once a second
    now[0] = 1.5
    assert check() is True and check() is True


def test_uploads_are_size_limited_checked_and_kept_by_hash():
    kv = MemoryKV()
    a = (np.random.default_rng(0).random((30, 16)) * 255).astype(np.uint8)
    ref = uploads.accept_upload(kv, data_url(npy(a)), "../../etc/my data.npy")
    assert ref["name"] == "my data.npy" and ref["n_features"] == 16 and ref["image_shape"] == [4, 4]
    assert kv.get(uploads.upload_key(ref["key"])) == npy(a)
    with pytest.raises(ValueError, match="object dtype"):
        uploads.accept_upload(kv, data_url(npy(np.array([{"a": 1}, 2], dtype=object), allow_pickle=True)), "x.npy")
    with pytest.raises(ValueError, match="upload limit"):
        uploads.read_upload(data_url(b"0" * 2000), "big.csv", max_bytes=1000)
    with pytest.raises(ValueError, match="base64"):
        uploads.read_upload("data:;base64,@@@@", "x.npy")
    with pytest.raises(ValueError, match="unsupported file type"):
        uploads.accept_upload(kv, data_url(b"1,2,3"), "x.exe")
    # the job reloads the bytes from the store and checks them against their hash
    with pytest.raises(ValueError, match="expired"):
        uploads._upload_bytes(MemoryKV(), ref)
    with pytest.raises(ValueError, match="no uploaded file"):
        uploads._upload_bytes(kv, {"key": "../../x"})


def test_kv_for_uses_the_managers_store(tmp_path):
    import diskcache
    from dash import DiskcacheManager

    manager = DiskcacheManager(diskcache.Cache(str(tmp_path)))
    kv = kv_for(manager)
    assert isinstance(kv, DiskKV) and lab_queue.training_slots(manager, env={}) == limits.DISK_SLOTS
    assert not lab_queue.is_celery(manager)
    assert kv.add("k", b"1", 10) and not kv.add("k", b"2", 10) and kv.get("k") == b"1"
    kv.delete("k")
    assert kv.get("k") is None
    with pytest.raises(RuntimeError):
        kv_for(object())


# --------------------------------------------------------------------------- the job, end to end (no Dash)


def test_reporter_throttles_but_always_sends_the_end():
    now = [0.0]
    pushes = Pushes()
    rep = jobs.Reporter(pushes, epochs=3, time_limit=None, interval=1.0, clock=lambda: now[0])
    snap = {"epoch": 1, "epochs": 3, "fraction": 0.3, "elapsed": 0.1, "runs": [_run("Adam", [0.3, 0.2], [0.3, 0.2])]}
    rep.snapshot(snap)
    now[0] = 0.5
    rep.snapshot({**snap, "epoch": 2, "fraction": 0.6})
    assert len(pushes.items) == 1  # throttled
    rep.snapshot({**snap, "epoch": 3, "fraction": 1.0})
    assert len(pushes.items) == 2 and pushes.items[-1][2] == 100.0
    assert pushes.items[-1][1].startswith("Epoch 3 of 3")


def test_run_job_trains_measures_and_reports():
    kv = MemoryKV()
    pushes = Pushes()
    out = jobs.run_job(raw_form(tiny_form()), None, kv=kv, token="abcdefgh12.1", push=pushes)
    assert out["ok"], out["status"]
    json.dumps(out)  # everything the job returns is plain JSON (Celery)
    assert out["status"].startswith("Finished 2 epochs")
    texts_ = [t for _, t, _ in pushes.items]
    assert texts_[0] == "Loading data…" and "Training…" in texts_
    assert any(t.startswith("Epoch") for t in texts_) and texts_[-1] == out["status"]
    loss = out["loss"]["data"]
    assert loss[0]["name"] == "Adam (lr=0.01)" and loss[0]["x"] == [0, 1, 2]
    assert loss[2]["name"] == "SGD (lr=0.1, momentum=0.9)"
    assert len(out["recon"]["layout"]["annotations"]) == 3
    assert [r["label"] for r in out["psnr"]["rows"]] == ["Input", "Adam (lr=0.01)", "SGD (lr=0.1, momentum=0.9)"]
    assert out["psnr"]["columns"][0] == "Clean" and len(out["psnr"]["columns"]) == 5
    assert out["landscapes"]["pca"]["data"][0]["type"] == "contour"
    assert out["landscapes"]["random"]["data"][0]["type"] == "contour"
    assert "300 images" not in out["summary"] and "240 training and 60 validation samples" in out["summary"]
    assert kv.get(heartbeat.cancel_key("abcdefgh12.1")) is None


def test_run_job_cancelled_before_training_keeps_the_start():
    kv = MemoryKV()
    heartbeat.request_cancel(kv, "abcdefgh12.2")
    out = jobs.run_job(raw_form(tiny_form()), None, kv=kv, token="abcdefgh12.2", push=Pushes())
    assert out["ok"] and out["status"].startswith("Cancelled after epoch 0")
    assert "skipped" in json.dumps(out["landscapes"]["pca"])
    assert kv.get(heartbeat.cancel_key("abcdefgh12.2")) is None  # the request is cleared with the job


def test_run_job_refuses_bad_forms_with_a_message():
    pushes = Pushes()
    out = jobs.run_job(raw_form(tiny_form(epochs=0, hidden="x")), None, kv=MemoryKV(), token=None, push=pushes)
    assert not out["ok"] and out["status"].startswith("Fix these settings first")
    assert "epochs: 0 is outside [1, 200]" in out["status"] and pushes.items[-1][1] == out["status"]
    out = jobs.run_job(raw_form(tiny_form(data="file")), None, kv=MemoryKV(), token=None, push=Pushes())
    assert not out["ok"] and "Upload" in out["status"]
    res = results.result_outputs(out)
    assert res["recon"]["data"] == [] and "No results" in json.dumps(res["recon"])


def test_run_job_trains_on_an_uploaded_file():
    kv = MemoryKV()
    a = np.random.default_rng(1).random((120, 10))
    ref = uploads.accept_upload(kv, data_url(npy(a)), "features.npy")
    out = jobs.run_job(raw_form(tiny_form(data="file", hidden="4")), ref, kv=kv, token=None, push=Pushes())
    assert out["ok"], out["status"]
    cols = out["psnr"]["columns"]
    assert "Blur (1)" not in cols and "Knockout (0.3)" not in cols  # no pixel grid: no grid corruptions
    z = out["recon"]["data"][0]["z"]
    assert len(z[0]) == 8 * 5 - 1  # ten features drawn as padded 4×4 tiles


B1, B2 = "browser-one-0000", "browser-two-0000"


def _queue():
    return lab_queue.RaceQueue(MemoryKV(), 1), None, None
def test_run_job_through_the_queue_publishes_status_and_always_frees_its_entry():
    q, _, _ = _queue()
    kv = q.kv
    # not queued by a page (a forged or expired request): refused without training
    pushes = Pushes()
    out = jobs.run_job(raw_form(tiny_form()), None, kv=kv, token="race-token-000001", browser=B1, push=pushes,
                      queue=q)  # fmt: skip
    assert not out["ok"] and "expired" in out["status"] and pushes.items[-1][1] == out["status"]
    # a queued race: claimed, trained, its status published for the browser's other tabs
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    seen = []
    pushes = Pushes()

    def push(fig, text, pct):
        pushes(fig, text, pct)
        seen.append((q.status(B1, run["token"]) or {}).get("text"))

    out = jobs.run_job(raw_form(tiny_form()), None, kv=kv, token=run["token"], browser=B1, push=push, queue=q)
    assert out["ok"], out["status"]
    assert q.verdict(run["token"]).kind == "done" and q.live() == []
    assert q.kv.get(q.beat_key(run["token"])) is None
    final = q.status(B1, run["token"])
    assert final["final"] is True and final["text"] == out["status"]
    assert any(t and t.startswith("Epoch") for t in seen)
    # the same race cannot be run twice
    out = jobs.run_job(raw_form(tiny_form()), None, kv=kv, token=run["token"], browser=B1, push=Pushes(), queue=q)
    assert not out["ok"] and q.live() == []
    # a bad form still frees the queued race
    run = gate.gate(q, B2, "nonce-bbbbbbbb", None)["run"]
    out = jobs.run_job(raw_form(tiny_form(epochs=0)), None, kv=kv, token=run["token"], browser=B2, push=Pushes(),
                      queue=q)  # fmt: skip
    assert not out["ok"] and out["status"].startswith("Fix these settings") and q.live() == []
    assert q.verdict(run["token"]).kind == "done"


def test_run_job_cancelled_while_queued_says_so():
    q, _, _ = _queue()
    run = gate.gate(q, B1, "nonce-aaaaaaaa", None)["run"]
    assert gate.cancel_race(q, q.kv, run["token"]) == lab_queue.CANCELLED_QUEUED
    out = jobs.run_job(raw_form(tiny_form()), None, kv=q.kv, token=run["token"], browser=B1, push=Pushes(), queue=q)
    assert not out["ok"] and out["status"] == "Cancelled before training started."


# --------------------------------------------------------------------------- registration


def test_register_callbacks_needs_a_background_manager():
    with pytest.raises(RuntimeError, match="background_callback_manager"):
        lab_page.register_callbacks(Dash("no-manager"))


def test_the_race_is_a_background_callback_with_progress_and_running(tmp_path):
    import diskcache
    from dash import DiskcacheManager

    app = Dash("lab-test", background_callback_manager=DiskcacheManager(diskcache.Cache(str(tmp_path))),
               suppress_callback_exceptions=True)  # fmt: skip
    lab_page.register_callbacks(app)
    race = [cb for key, cb in app.callback_map.items() if "lab-recon-graph.figure" in key]
    assert len(race) == 1
    bg = race[0]["background"]
    assert bg and [str(o) for o in bg["progress"]] == ["lab-loss-graph.figure", "lab-status.children",
                                                       "lab-bar.value"]  # fmt: skip
    spec = [c for c in app._callback_list if "lab-recon-graph.figure" in c["output"]][0]
    assert spec["running"]["running"]["lab-start.disabled"] is True
    assert spec["running"]["running"]["lab-cancel.disabled"] is False
    assert spec["running"]["runningOff"]["lab-start.disabled"] is False
    # the page watches its job while it runs (and checks how it ended when Dash stops polling)
    assert spec["running"]["running"]["lab-watch.disabled"] is False
    assert spec["running"]["runningOff"]["lab-watch.disabled"] is True
    # Start goes through the gate (a plain callback); only a queued race reaches the background job
    assert [(i["id"], i["property"]) for i in spec["inputs"]] == [("lab-run", "data")]
    start = [c for c in app._callback_list if c["inputs"] == [{"id": "lab-start", "property": "n_clicks"}]]
    assert len(start) == 1 and "lab-run.data" in start[0]["output"] and not start[0].get("background")
    assert lab_page.PATH == "/lab" and lab_page.TITLE == "Autoencoder lab"
    assert math.isclose(limits.MAX_TIME_LIMIT, 600.0)


def test_a_theme_in_the_link_is_accepted_silently_and_changes_nothing():
    """``?theme=`` belongs to the browser (assets/theme.js): no notice, the same settings as without it."""
    with_theme, notes = state.sanitize({"epochs": "3", "theme": "dark"})
    assert notes == [] and with_theme == state.sanitize({"epochs": "3"})[0]
    _, notes = state.sanitize({"theme": "projector", "zzz": "1"})
    assert notes == ["unknown setting 'zzz' ignored"]
