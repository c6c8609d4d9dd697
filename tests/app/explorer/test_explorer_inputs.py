"""The callbacks' grouped inputs become typed values; the callbacks' answers; the wiring they are bound to."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dash import Dash, no_update
from dash._utils import AttributeDict

from app.explorer import callbacks
from app.explorer.controls import RENDER_OUTPUTS
from app.explorer.ids import Ids
from app.explorer.inputs import (
    FORM,
    Cards,
    Form,
    Numbers,
    Shown,
    cards_from,
    config_from_controls,
    form_from,
    numbers_from,
    shown_from,
)
from app.explorer.state import DEFAULT, from_query, to_query

SID = {"type": "slider", "group": "hp", "slot": 0, "key": "lr", "scale": "log"}
NID = {**SID, "type": "num"}


def store_of(cfg):
    return {"cfg": cfg.to_dict(), "query": to_query(cfg)}


# --------------------------------------------------------------------------- builders


def test_form_takes_every_named_control_and_nothing_else():
    group = AttributeDict({name: i for i, name in enumerate(FORM)}, extra="ignored")
    form = form_from(group)
    assert [getattr(form, name) for name in FORM] == list(range(len(FORM)))
    assert form_from(None) == Form() and form_from({"steps": 7}) == Form(steps=7)
    assert set(FORM) == set(Form.__dataclass_fields__)


def test_numbers_pair_each_slider_with_its_limits():
    numbers = numbers_from({"values": [0.01], "ids": [NID]},
                           {"values": [-2.0], "ids": [SID], "min": [-5.0], "max": [1.0], "step": [0.01]})  # fmt: skip
    assert numbers == Numbers((0.01,), (NID,), (-2.0,), (SID,), ((-5.0, 1.0, 0.01),))


@pytest.mark.parametrize("junk", [None, "x", 3, {"values": None, "ids": "abc"}])
def test_numbers_from_anything_else_are_empty(junk):
    assert numbers_from(junk, junk) == Numbers()


def test_cards_and_shown():
    cards = cards_from({"metas": [{"name": "adam", "color": 5}], "flags": [[]], "flag_ids": [{"slot": 0}]})
    assert cards == Cards(({"name": "adam", "color": 5},), ([],), ({"slot": 0},))
    assert cards_from({"metas": None}) == Cards()
    shown = shown_from({"store": store_of(DEFAULT), "booted": True})
    assert shown.query == to_query(DEFAULT) and shown.booted is True and shown.map_meta is None
    assert shown_from([1, 2]) == Shown() and Shown(store="junk").query is None


def test_a_form_with_no_numbers_or_cards_races_nothing():
    cfg = config_from_controls(Form(surface="quadratic", steps=40), Numbers(), Cards())
    assert cfg.surface == "quadratic" and cfg.steps == 40 and cfg.optimizers == () and cfg.arrows == -1


# --------------------------------------------------------------------------- answers


def test_the_first_call_of_a_served_page_only_confirms_it():
    shown = Shown(store=store_of(DEFAULT), booted=None, notice_hidden=True)
    out = callbacks.controls_answer(None, None, "", "adam", shown)
    assert set(out) == set(RENDER_OUTPUTS) and out["boot"] is True
    assert all(v is no_update for k, v in out.items() if k != "boot")


def test_a_booted_page_ignores_new_components_and_renders_actions():
    shown = Shown(store=store_of(DEFAULT), booted=True)
    assert callbacks.controls_answer(None, None, "", "adam", shown) is None
    out = callbacks.controls_answer(Ids.ADD, 1, "", "lion", shown)
    assert out["boot"] is no_update and out["add_disabled"] is False
    assert len(out["cards"]) == 7 and out["cards"][-1].children[0].data == {"name": "lion", "color": 6}


def test_a_link_other_than_the_page_renders_its_controls():
    q = "?surface=saddle&steps=77"
    out = callbacks.controls_answer(Ids.URL, q, q, None, Shown(store=store_of(DEFAULT)))
    assert out["surface"] == "saddle" and out["steps"] == 77 and out["boot"] is True


def test_corrections_show_the_used_values_only_where_they_differ():
    cfg = replace(DEFAULT, steps=5000)
    form = Form(steps=10**9, start_x=DEFAULT.start[0], start_y="1.5", noise=0.0, seed=0, clip_value=True)
    out = callbacks.corrections(cfg, form)
    assert out == {"steps": 5000, "start_x": no_update, "start_y": 1.5, "noise": no_update, "seed": no_update,
                   "batch": 0, "clip_value": 1.0}  # fmt: skip


def test_collect_answers_nothing_when_the_page_shows_the_configuration():
    shown = Shown(store=store_of(DEFAULT))
    assert callbacks.collect_answer(DEFAULT, Form(), shown, rerendered=False) is None
    out = callbacks.collect_answer(DEFAULT, Form(), shown, rerendered=True)
    assert set(out) == set(callbacks.COLLECT_OUTPUTS) | {"corrected"}
    assert out["store"]["query"] == to_query(DEFAULT) and out["notice"] is no_update


def test_collect_answers_a_repaired_configuration_with_its_notice():
    cfg = from_query("?steps=abc")
    out = callbacks.collect_answer(cfg, Form(steps="abc"), Shown(store=store_of(DEFAULT)), rerendered=False)
    assert out["notice_hidden"] is False and "Adjusted" in str(out["notice"].children[1].children)
    assert out["corrected"]["steps"] == DEFAULT.steps


def test_collect_keeps_the_page_alive_when_the_view_fails(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(callbacks, "views_for", broken)
    out = callbacks.collect_answer(DEFAULT, Form(), Shown(), rerendered=True)
    assert out["meta"] == {"key": None} and "went wrong" in out["map"]["layout"]["annotations"][0]["text"]
    assert all(v is no_update for k, v in out.items() if k not in ("map", "meta", "corrected"))
    assert all(v is no_update for v in out["corrected"].values())


# --------------------------------------------------------------------------- wiring


#: (component id, property) of every output of the Explorer's server callbacks, as the browser knows them
EXPECTED_OUTPUTS = {
    "render_controls": [
        "notice.children", "notice.hidden", "lesson.children", "surface.value", "surface-params.children",
        "formula-box.hidden", "formula.value", "formula-xmin.value", "formula-xmax.value", "formula-ymin.value",
        "formula-ymax.value", "start-x.value", "start-y.value", "steps.value", "schedule.value",
        "schedule-params.children", "clip.value", "clip-value.value", "noise.value", "seed.value",
        "batch-size.value", "batch-row.hidden", "data-panel.hidden", "points-store.data", "optimizer-cards.children", "view.value", "basins-toggle.value", "arrows.options", "arrows.value", "add-optimizer.disabled",
        "rendered-store.data", "boot-store.data"],
    "fill_tex": ['{"slot":["ALL"],"type":"rule"}.children', "surface-tex.children"],
    "collect": [
        "config-store.data", "payload-store.data", "map.figure", "map-meta-store.data", "surface-info.children",
        "formula-error.children", "notice.children", "notice.hidden", "batch-info.children", "points-store.data",
        "steps.value", "start-x.value", "start-y.value", "noise.value", "seed.value", "batch-size.value",
        "clip-value.value"],
    "upload_points": ["points-store.data", "points-upload-error.children"],
    "download_points": ["points-download.data"],
    "download": ["export-download.data", "export-status.children"],
}  # fmt: skip


def test_the_callbacks_write_the_same_outputs_as_ever():
    from app.explorer.export_bar import register_export_callbacks

    app = Dash(__name__, suppress_callback_exceptions=True)
    callbacks.register_callbacks(app)
    register_export_callbacks(app)
    by_name = {}
    for key, spec in app.callback_map.items():
        if "callback" not in spec:
            continue  # a clientside callback
        by_name[spec["callback"].__name__] = [part.split("@")[0] for part in key.strip(".").split("...")]
    for name, outputs in EXPECTED_OUTPUTS.items():
        assert by_name[name] == outputs, name
