"""Data surfaces in the Explorer: the batch size, edited points, their link, the payload's batches, CSV in and out."""

from __future__ import annotations

import base64
from dataclasses import replace

import numpy as np
import pytest
from dash import no_update

from app.explorer import callbacks, compute, data_view
from app.explorer.controls import controls_for, surface_param_rows
from app.explorer.ids import Group
from app.explorer.inputs import Cards, Numbers, Shown, config_from_controls
from app.explorer.points import MAX_LINK_POINTS, canonical
from app.explorer.query import state_key
from app.explorer.state import DEFAULT, from_query, sanitize, to_query
from app.explorer.views import race_entry, views_for
from optimizers.batches import schedule
from surfaces.data import MAX_CSV_BYTES, parse_csv

from tests.app.explorer.test_explorer_callbacks import _controls, _form

LINREG = from_query("?surface=linreg&s.n=40&batch=4&steps=60&opt=sgd,lr=0.05&opt=adam,lr=0.1")


def _store(cfg):
    return {"cfg": cfg.to_dict(), "query": to_query(cfg), "key": state_key(cfg)}


# --------------------------------------------------------------------------- batch size and its link


def test_batch_size_travels_in_the_link_and_comes_back():
    assert LINREG.batch_size == 4 and LINREG.modifiers().batch_size == 4 and not LINREG.notes
    assert "batch=4" in to_query(LINREG)
    assert from_query(to_query(LINREG)) == LINREG
    assert "batch" not in to_query(replace(LINREG, batch_size=0))  # the full batch is the default


@pytest.mark.parametrize(
    ("raw", "used", "said"),
    [("-3", 0, "outside"), ("1e9", 4096, "outside"), ("2.5", 2, "whole"), ("eight", 0, "not a number"),
     ("nan", 0, "not a number")],
)  # fmt: skip
def test_hostile_batch_sizes_are_clamped_with_a_note(raw, used, said):
    cfg = from_query(f"?surface=linreg&batch={raw}")
    assert cfg.batch_size == used and any(said in n for n in cfg.notes), cfg.notes


def test_the_batch_size_belongs_to_data_surfaces_only():
    cfg = from_query("?surface=beale&batch=8")
    assert cfg.batch_size == 0 and any("data surfaces only" in n for n in cfg.notes)
    assert LINREG.with_surface("beale").batch_size == 0
    assert LINREG.with_surface("tiny_net").batch_size == 4  # another data surface keeps it
    with pytest.raises(ValueError):
        replace(DEFAULT, batch_size=4)


def test_integer_surface_parameters_are_whole_numbers():
    cfg = from_query("?surface=linreg&s.n=33.6&s.data_seed=2.2&s.center=0.7")
    params = dict(cfg.surface_params)
    assert (params["n"], params["data_seed"], params["center"]) == (34.0, 2.0, 1.0) and len(cfg.notes) == 3
    assert compute.compute(cfg).error is None


def test_integer_surface_parameters_get_whole_number_sliders():
    rows = {r.children[2].id["key"]: r for r in surface_param_rows(LINREG)}
    n_slider, n_input = rows["n"].children[1], rows["n"].children[2]
    assert n_slider.id["scale"] == "log" and n_input.step == 1 and n_input.value == 40
    assert 10**n_slider.max <= 4096  # every slider position rounds to a valid n
    seed = rows["data_seed"].children[1]
    assert seed.id["scale"] == "int" and seed.step == 1
    assert rows["center"].children[1].step == 1 and rows["noise"].children[1].id["scale"] == "lin"


def test_the_batch_row_and_the_data_panel_show_on_data_surfaces_only():
    on, off = controls_for(LINREG), controls_for(DEFAULT)
    assert on["batch"] == 4 and on["batch_hidden"] is False and on["data_hidden"] is False
    assert off["batch_hidden"] is True and off["data_hidden"] is True and off["points"] is None


def test_the_regime_is_named_with_n():
    assert data_view.batch_info(LINREG) == "mini-batch · B = 4 of n = 40 · 10 steps per epoch"
    assert data_view.batch_info(replace(LINREG, batch_size=1)).startswith("online · B = 1 of n = 40")
    assert data_view.batch_info(replace(LINREG, batch_size=0)) == "full batch · n = 40"
    assert data_view.batch_info(replace(LINREG, batch_size=40)) == "full batch · n = 40"
    assert data_view.batch_info(DEFAULT) == ""
    assert views_for(LINREG, None, rev="a")["batch_info"] == data_view.batch_info(LINREG)


def test_controls_reproduce_a_data_surface_configuration():
    values, nums, nid, sliders, sid, lim, flags, fid, metas = _controls(LINREG)
    form = _form(values)
    assert form.batch == 4
    numbers = Numbers(tuple(nums), tuple(nid), tuple(sliders), tuple(sid), tuple(lim))
    assert config_from_controls(form, numbers, Cards(tuple(metas), tuple(flags), tuple(fid))) == LINREG


# --------------------------------------------------------------------------- edited points


PTS = canonical("linreg", [[0.1, 1.0], [0.5, 1.9], [1.0, 3.1], [2.0, 4.9], [3.0, 7.2]])


def test_edited_points_travel_in_the_link_compactly_and_rebuild_the_surface():
    cfg = replace(LINREG, points=PTS)
    q = to_query(cfg)
    assert "pts=0.1,1_0.5,1.9_1,3.1_2,4.9_3,7.2" in q
    assert from_query(q) == cfg and state_key(cfg) == q
    s = compute.build_surface(cfg)
    assert s.n_points == 5 and np.allclose(s.points, PTS) and s.bounds == cfg.bounds
    assert compute.compute(cfg).runs[0].trajectory.losses[0] == pytest.approx(s.value(*cfg.start))


def test_points_are_rounded_to_the_links_precision():
    pts = canonical("linreg", [[1.23456789, -0.000123456789], [2, 3]])
    assert pts == ((1.2346, -0.00012346), (2.0, 3.0))
    with pytest.raises(ValueError):
        replace(LINREG, points=((1.23456789, 1.0), (2.0, 3.0)))  # not canonical


def test_too_many_points_for_the_link_are_kept_out_of_it_and_said():
    rng = np.random.default_rng(1)
    many = canonical("linreg", rng.normal(size=(MAX_LINK_POINTS + 1, 2)))
    cfg = replace(LINREG, points=many)
    assert "pts=" not in to_query(cfg) and from_query(to_query(cfg)).points is None
    assert state_key(cfg) != to_query(cfg) and state_key(cfg) != state_key(replace(cfg, points=many[:-1] + ((0.0, 0.0),)))
    data = race_entry(cfg, lambda: compute.compute(cfg))["payload"]["data"]
    assert data["edited"] and not data["inLink"] and data["n"] == MAX_LINK_POINTS + 1


@pytest.mark.parametrize(
    "bad",
    ["1,2", "1,2_x,3", "1,2_3,4,5_6,7", "1e999,1_2,3", "_".join(["1,2"] * 300), "1,2_nan,3"],
)
def test_hostile_points_in_a_link_are_refused_with_a_note(bad):
    cfg = from_query("?surface=linreg&pts=" + bad)
    assert cfg.points is None and cfg.notes and compute.compute(cfg).error is None


def test_an_edit_applies_to_its_data_set_only():
    values, nums, nid, sliders, sid, lim, flags, fid, metas = _controls(LINREG)
    numbers = Numbers(tuple(nums), tuple(nid), tuple(sliders), tuple(sid), tuple(lim))
    cards = Cards(tuple(metas), tuple(flags), tuple(fid))
    edit = {"points": [list(r) for r in PTS], "key": LINREG.data_key()}
    assert config_from_controls(_form(values), numbers, cards, points=edit).points == PTS
    # the data set changed (another n): the edit is dropped, and collect clears the store
    i = next(k for k, c in enumerate(nid) if c["group"] == Group.SURFACE and c["key"] == "n")
    other = list(nums)
    other[i] = 50
    cfg = config_from_controls(_form(values), replace(numbers, values=tuple(other)), cards, points=edit)
    assert cfg.points is None and dict(cfg.surface_params)["n"] == 50
    out = callbacks.collect_answer(cfg, _form(values), Shown(store=_store(LINREG)), rerendered=False, edit=edit)
    assert out["points"] is None
    # a model parameter (centring) keeps the edit
    j = next(k for k, c in enumerate(nid) if c["group"] == Group.SURFACE and c["key"] == "center")
    centred = list(nums)
    centred[j] = 1
    kept = config_from_controls(_form(values), replace(numbers, values=tuple(centred)), cards, points=edit)
    assert kept.points == PTS and dict(kept.surface_params)["center"] == 1.0
    out = callbacks.collect_answer(kept, _form(values), Shown(store=_store(LINREG)), rerendered=False, edit=edit)
    assert out["points"] is no_update


def test_a_hostile_points_store_is_refused():
    values, nums, nid, sliders, sid, lim, flags, fid, metas = _controls(LINREG)
    numbers = Numbers(tuple(nums), tuple(nid), tuple(sliders), tuple(sid), tuple(lim))
    cards = Cards(tuple(metas), tuple(flags), tuple(fid))
    key = LINREG.data_key()
    for junk in ([[1, 2]] * 5000, [["<b>", 1], [2, 3]], [[1, 2, 3, 4, 5, 6]], "1,2", [[True, 1], [2, 3]], [[1e300, 1], [2, 3]]):
        cfg = config_from_controls(_form(values), numbers, cards, points={"points": junk, "key": key})
        assert cfg.points is None and cfg.notes
    assert config_from_controls(_form(values), numbers, cards, points="junk").points is None


def test_a_store_from_the_browser_keeps_its_points():
    cfg = replace(LINREG, points=PTS)
    assert sanitize(cfg.to_dict()) == cfg
    assert sanitize({**cfg.to_dict(), "surface": "tiny_net"}).points == PTS  # the same columns: kept
    assert sanitize({**cfg.to_dict(), "surface": "logreg"}).points is None  # two columns are not a logreg point


# --------------------------------------------------------------------------- the payload


def _orders(batch):
    return np.frombuffer(base64.b64decode(batch["orders"]), dtype="<u2").reshape(batch["epochs"], -1)


@pytest.mark.parametrize(("n", "b", "steps"), [(40, 4, 60), (37, 5, 100), (256, 8, 500), (9, 1, 30)])
def test_the_payloads_batch_of_step_t_is_the_schedules(n, b, steps):
    cfg = from_query(f"?surface=linreg&s.n={n}&batch={b}&steps={steps}&seed=7&opt=sgd,lr=0.01")
    batch = race_entry(cfg, lambda: compute.compute(cfg))["payload"]["data"]["batch"]
    sched = schedule(n, cfg.modifiers(), steps)
    orders = _orders(batch)
    assert batch["size"] == b and batch["perEpoch"] == sched.per_epoch
    for t in range(1, steps + 1):
        e, j = (t - 1) // batch["perEpoch"], (t - 1) % batch["perEpoch"]
        got = orders[e, j * b : min((j + 1) * b, n)]
        assert np.array_equal(got, sched.indices(t)), t


def test_the_payloads_orders_are_bounded():
    cfg = from_query("?surface=linreg&s.n=4096&batch=2048&steps=5000&opt=sgd,lr=0.001")
    batch = data_view.batch_payload(cfg, 4096)
    assert batch["epochs"] * 4096 <= data_view.MAX_ORDER_ENTRIES and batch["allEpochs"] == 2500
    assert len(base64.b64decode(batch["orders"])) == 2 * batch["epochs"] * 4096


def test_the_payload_has_the_points_as_given_and_the_model():
    cfg = from_query("?surface=logreg&s.n=30&s.bias=0.5&s.l2=0.2")
    data = race_entry(cfg, lambda: compute.compute(cfg))["payload"]["data"]
    s = compute.build_surface(cfg)
    cols = [np.frombuffer(base64.b64decode(c), dtype="<f8") for c in data["cols"]]
    assert np.array_equal(np.column_stack(cols), s.points)
    assert (data["bias"], data["l2"], data["batch"], data["kind"]) == (0.5, 0.2, None, "classification")
    assert race_entry(DEFAULT, lambda: compute.compute(DEFAULT))["payload"]["data"] is None


# --------------------------------------------------------------------------- CSV in and out


def _data_url(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def test_an_uploaded_csv_becomes_the_points_of_the_data_set():
    out = data_view.upload_answer(_data_url("u,v\n0,1\n1,3\n2,5\n"), "line.csv", LINREG)
    assert out["error"] == "" and out["points"] == {"points": [[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]], "key": LINREG.data_key()}


@pytest.mark.parametrize(
    ("text", "said"),
    [("u,v\n1,2\n3,x\n", "line 3"), ("1,2,3\n4,5,6\n", "expected 2 numbers"), ("", "no points"),
     ("1,2\n", "between 2 and 4096")],
)  # fmt: skip
def test_a_bad_csv_gets_a_one_line_error(text, said):
    out = data_view.upload_answer(_data_url(text), "bad.csv", LINREG)
    assert out["points"] is None and said in out["error"] and "\n" not in out["error"]


def test_an_oversized_upload_is_refused_before_it_is_decoded(monkeypatch):
    calls = []
    monkeypatch.setattr(data_view.base64, "b64decode", lambda *a, **k: calls.append(1))
    big = "data:text/csv;base64," + "A" * (data_view.MAX_UPLOAD_CHARS + 1)
    out = data_view.upload_answer(big, "big.csv", LINREG)
    assert out["points"] is None and f"{MAX_CSV_BYTES // 1024} kB" in out["error"] and calls == []


def test_uploads_are_for_data_surfaces_and_need_a_data_url():
    assert data_view.upload_answer(_data_url("1,2\n3,4\n"), "a.csv", DEFAULT)["points"] is None
    assert "could not be read" in data_view.upload_answer("garbage", "a.csv", LINREG)["error"]
    assert data_view.upload_answer("data:text/csv;base64,@@@", "a.csv", LINREG)["points"] is None


def test_the_points_download_as_csv_that_reads_back():
    s = compute.build_surface(LINREG)
    out = data_view.download_answer(s)
    assert out["filename"] == "linreg-points.csv" and out["content"].startswith("u,v\n")
    assert np.array_equal(parse_csv(out["content"], "linreg"), s.points)
    assert data_view.download_answer(compute.build_surface(DEFAULT)) is None


def test_a_race_on_many_points_is_bounded():
    from app.explorer import figures
    from app.explorer.config import RACE_POINT_BUDGET

    cfg = from_query("?surface=linreg&s.n=4096&steps=5000" + "".join(f"&opt=sgd,lr=0.0{k + 1}" for k in range(8)))
    assert len(cfg.optimizers) == 8 and cfg.steps * 8 * 4096 <= RACE_POINT_BUDGET and cfg.steps == 1220
    assert any("limited to 1220 steps" in n for n in cfg.notes)
    assert from_query("?surface=linreg&s.n=64&steps=5000").steps == 5000  # a small data set: no limit
    grid = figures.background_grid(compute.build_surface(cfg), "2d")
    assert grid.f.shape[0] ** 2 * 4096 <= figures.GRID_POINT_BUDGET and grid.f.shape[0] >= figures.GRID_MIN_DATA
    assert figures.background_grid(compute.build_surface(LINREG), "2d").f.shape == (200, 200)


def test_methods_that_take_the_full_batch_say_so_and_ignore_the_batch_size():
    from app.explorer.controls import optimizer_card
    from app.explorer.state import OptimizerEntry

    card = optimizer_card(OptimizerEntry.default("newton", 0), 0, 1, with_tex=False)
    assert "minibatches do not apply" in str(card)
    cfg = replace(LINREG, optimizers=(OptimizerEntry.default("newton", 0), OptimizerEntry.default("lbfgs", 1)), arrows=0)
    full = compute.compute(replace(cfg, batch_size=0))
    for a, b in zip(compute.compute(cfg).runs, full.runs, strict=True):
        assert np.array_equal(a.trajectory.positions, b.trajectory.positions)


def test_every_link_the_page_writes_reads_back():
    """256 points of long numbers do not fit the link's characters: they stay out of it, and it still opens."""
    from app.explorer.points import MAX_LINK_CHARS, encode

    rng = np.random.default_rng(3)
    rows = np.column_stack([rng.normal(size=256) * 1e-5, rng.normal(size=256) * 1e-5, np.sign(rng.normal(size=256))])
    pts = canonical("logreg", rows)
    assert len(encode(pts)) > MAX_LINK_CHARS
    cfg = from_query("?surface=logreg" + "".join(f"&opt=adam,lr=0.0{k + 1},beta1=0.8,beta2=0.99,eps=1e-07" for k in range(8)))
    cfg = replace(cfg, points=pts)
    q = to_query(cfg)
    assert "pts=" not in q and from_query(q).notes == () and state_key(cfg) != q
    short = np.column_stack([np.round(rows[:, :2] * 1e5, 1), rows[:, 2]])
    fits = replace(cfg, points=canonical("logreg", short))
    q = to_query(fits)
    assert "pts=" in q and len(q) < 8000 and from_query(q) == fits and not from_query(q).notes


def test_the_log_slider_of_n_moves_to_whole_numbers_without_a_note():
    values, nums, nid, sliders, sid, lim, flags, fid, metas = _controls(LINREG)
    i = next(k for k, c in enumerate(sid) if c["group"] == Group.SURFACE and c["key"] == "n")
    moved = list(sliders)
    moved[i] = 1.81  # 10^1.81 = 64.6
    numbers = Numbers(tuple(nums), tuple(nid), tuple(moved), tuple(sid), tuple(lim))
    cfg = config_from_controls(_form(values), numbers, Cards(tuple(metas), tuple(flags), tuple(fid)),
                               {("slider", Group.SURFACE.value, 0, "n")})  # fmt: skip
    assert dict(cfg.surface_params)["n"] == 65.0 and cfg.notes == ()
