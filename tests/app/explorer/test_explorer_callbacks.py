"""Callback logic, called directly (no browser): actions, control gathering, answers, views, the served page."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import pytest
from dash import no_update
from dash.development.base_component import Component

from app.explorer import actions
from app.explorer import inputs
from app.explorer.controls import RENDER_OUTPUTS, controls_for
from app.explorer.ids import Group, Ids, Kind, card_id
from app.explorer.inputs import Cards, Form, Numbers
from app.explorer.layout import page
from app.explorer.presets import PRESETS
from app.explorer.state import DEFAULT, FORMULA, OptimizerEntry, from_query, to_query
from app.explorer.views import views_for
from app.shell.tree import dom_id

E = OptimizerEntry.default


def store_of(cfg):
    return {"cfg": cfg.to_dict(), "query": to_query(cfg)}


# --------------------------------------------------------------------------- apply_action


def test_first_call_reads_the_url():
    q = "?surface=quadratic&steps=100&opt=sgd,lr=0.5"
    cfg = actions.apply_action(None, None, q, None, "adam")
    assert cfg == from_query(q)
    assert actions.apply_action(Ids.URL, q, q, store_of(DEFAULT), "adam") == from_query(q)


def test_presets_add_remove_duplicate():
    store = store_of(DEFAULT)
    assert actions.apply_action({"type": Kind.PRESET.value, "name": "saddle"}, 1, "", store, None) == PRESETS[2].config
    assert actions.apply_action({"type": Kind.PRESET.value, "name": "nope"}, 1, "", store, None) is None
    added = actions.apply_action(Ids.ADD, 1, "", store, "lion")
    assert added.optimizers[-1].name == "lion"
    assert actions.apply_action(Ids.ADD, 1, "", store, "__import__") == DEFAULT  # unknown name: nothing added
    removed = actions.apply_action(card_id(Kind.REMOVE, 0), 1, "", store, None)
    assert [e.name for e in removed.optimizers] == ["momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    dup = actions.apply_action(card_id(Kind.DUPLICATE, 5), 1, "", store, None)
    assert [e.name for e in dup.optimizers][-2:] == ["adam", "adam"]


def test_buttons_that_were_not_clicked_do_nothing():
    store = store_of(DEFAULT)
    for trigger in (card_id(Kind.REMOVE, 0), card_id(Kind.DUPLICATE, 0), {"type": Kind.PRESET.value, "name": "saddle"}):
        assert actions.apply_action(trigger, None, "", store, None) is None
        assert actions.apply_action(trigger, 0, "", store, None) is None
    assert actions.apply_action(Ids.ADD, None, "", store, "adam") is None


def test_surface_and_schedule_changes():
    store = store_of(DEFAULT)
    q = actions.apply_action(Ids.SURFACE, "quadratic", "", store, None)
    assert q.surface == "quadratic" and q.start == (-9.0, 4.0) and q.optimizers == DEFAULT.optimizers
    assert actions.apply_action(Ids.SURFACE, "beale", "", store, None) is None
    assert actions.apply_action(Ids.SURFACE, "<b>", "", store, None) is None
    sched = actions.apply_action(Ids.SCHEDULE, "cosine", "", store, None)
    assert sched.schedule == "cosine" and dict(sched.schedule_params) == {"T_max": 500.0, "eta_min": 0.0}


def test_a_tampered_store_is_sanitized():
    bad = {"cfg": {"steps": 10**9, "optimizers": [{"name": "rm -rf", "values": {}}]}, "query": "?"}
    cfg = actions.config_from_store(bad)
    assert cfg.steps == 5000 and cfg.optimizers == ()
    assert actions.config_from_store("junk") is None


def test_page_shows():
    assert actions.page_shows(DEFAULT, store_of(DEFAULT), True)
    assert not actions.page_shows(DEFAULT.with_surface("saddle"), store_of(DEFAULT), True)
    noisy = from_query("?steps=abc")
    assert noisy == DEFAULT and noisy.notes
    assert not actions.page_shows(noisy, store_of(DEFAULT), True)  # the notice must still be shown
    assert actions.page_shows(noisy, store_of(DEFAULT), False)


# --------------------------------------------------------------------------- gathering the controls


def _controls(cfg):
    """What the browser would send for ``cfg``: ids and values of every rendered control."""
    values = controls_for(cfg)
    nums, num_ids, sliders, slider_ids, limits, flags, flag_ids, metas = [], [], [], [], [], [], [], []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
            return
        if not isinstance(node, Component):
            return
        cid = getattr(node, "id", None)
        if isinstance(cid, dict):
            if cid["type"] == Kind.NUM.value:
                nums.append(node.value)
                num_ids.append(cid)
            elif cid["type"] == Kind.SLIDER.value:
                sliders.append(node.value)
                slider_ids.append(cid)
                limits.append((node.min, node.max, node.step))
            elif cid["type"] == Kind.FLAG.value:
                flags.append(node.value)
                flag_ids.append(cid)
            elif cid["type"] == Kind.CARD_META.value:
                metas.append(node.data)
        walk(getattr(node, "children", None))

    for key in ("surface_params", "schedule_params", "cards"):
        walk(values[key])
    return values, nums, num_ids, sliders, slider_ids, limits, flags, flag_ids, metas


def _form(values):
    """The Form the browser sends for the controls' ``values`` (every plain control shows its value)."""
    return Form(**{name: values[name] for name in inputs.FORM})


def _gather(cfg, nums=None, sliders=None, triggered=frozenset()):
    values, n, nid, s, sid, lim, f, fid, metas = _controls(cfg)
    nums = n if nums is None else nums
    sliders = s if sliders is None else sliders
    numbers = Numbers(tuple(nums), tuple(nid), tuple(sliders), tuple(sid), tuple(lim))
    return inputs.config_from_controls(_form(values), numbers, Cards(tuple(metas), tuple(f), tuple(fid)), set(triggered))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_controls_reproduce_the_configuration(preset):
    assert _gather(preset.config) == preset.config


def test_controls_reproduce_formula_and_modifiers():
    cfg = replace(DEFAULT.with_surface(FORMULA), formula="x^2 + 3*y^2", schedule="step",
                  schedule_params=(("step_size", 50.0), ("gamma", 0.3)), clip="value", clip_value=0.5, noise=0.2,
                  seed=7, view="3d", arrows=3)  # fmt: skip
    assert _gather(cfg) == cfg


def test_slider_move_wins_until_the_number_catches_up():
    cfg = replace(DEFAULT, optimizers=(E("adam", 0, lr=0.01),), arrows=0)
    _, nums, nid, sliders, sid, lim, *_ = _controls(cfg)
    i = next(k for k, c in enumerate(sid) if c["key"] == "lr" and c["group"] == Group.HYPER)
    moved = list(sliders)
    moved[i] = -1.5  # the slider now says 10^-1.5
    trig = {("slider", Group.HYPER.value, 0, "lr")}
    assert dict(_gather(cfg, sliders=moved, triggered=trig).optimizers[0].values)["lr"] == 0.0316
    # a typed number moves the slider to it (assets/explorer.js): the exact number wins
    typed = list(nums)
    typed[nid.index(next(c for c in nid if c["key"] == "lr"))] = 0.031234
    moved[i] = math.log10(0.031234)
    assert dict(_gather(cfg, nums=typed, sliders=moved).optimizers[0].values)["lr"] == 0.031234
    assert dict(_gather(cfg, nums=typed, sliders=moved, triggered=trig).optimizers[0].values)["lr"] == 0.031234
    moved[i] = round(math.log10(0.031234), 2)  # even if the slider snaps to its step
    assert dict(_gather(cfg, nums=typed, sliders=moved, triggered=trig).optimizers[0].values)["lr"] == 0.031234


def test_typed_value_beyond_the_slider_range_is_kept():
    cfg = replace(DEFAULT, optimizers=(E("sgd", 0, lr=50.0),), arrows=0)  # the slider stops at 10
    assert dict(_gather(cfg, triggered={("slider", "hp", 0, "lr")}).optimizers[0].values)["lr"] == 50.0


def test_hostile_control_values_are_clamped():
    values, nums, nid, sliders, sid, lim, flags, fid, metas = _controls(DEFAULT)
    nums = ["1e999", -5, None, float("nan")] + nums[4:]
    metas = metas + [{"name": "<script>", "color": 99}, "junk"]
    form = Form(surface="beale", formula=None, start_x="x", start_y=3, steps=10**9, schedule="nope", clip="always",
                clip_value=-1, noise=float("inf"), seed=-3, view="4d", arrows=99)  # box: all None
    cfg = inputs.config_from_controls(form, Numbers(tuple(nums), tuple(nid)), Cards(tuple(metas), tuple(flags), tuple(fid)))  # fmt: skip
    assert cfg.steps == 5000 and cfg.clip == "none" and cfg.view == "2d" and cfg.schedule == "constant"
    assert len(cfg.optimizers) == 6 and cfg.notes
    assert cfg.start == (DEFAULT.start[0], 3.0)


def test_triggered_params():
    ids = [json.dumps({"group": "hp", "key": "lr", "scale": "log", "slot": 2, "type": "slider"}) + ".value",
           "start-x.value", "{not json.value", json.dumps({"type": "num", "group": "sp", "slot": 0, "key": "kappa"}) + ".value"]  # fmt: skip
    assert inputs.triggered_params(ids) == {("slider", "hp", 2, "lr"), ("num", "sp", 0, "kappa")}


# --------------------------------------------------------------------------- views and page


def test_views_redraw_the_map_only_when_the_surface_changes():
    first = views_for(DEFAULT, None, rev="a")
    assert first["map"] is not no_update and first["meta"]["key"] == DEFAULT.surface_key()
    assert first["payload"]["index"]["rev"] == "a" == first["map"]["layout"]["meta"]["rev"]
    changed = replace(DEFAULT, optimizers=DEFAULT.optimizers[:2], arrows=0)
    second = views_for(changed, first["meta"], rev="b")
    assert second["map"] is no_update and second["surface_info"] is no_update
    assert second["payload"]["index"]["rev"] == "a"  # the figure on the page is still "a"
    assert len(second["payload"]["slots"]) == 2 and second["payload"]["query"] == to_query(changed)
    assert second["payload"]["z"] == first["meta"]["z"]
    third = views_for(replace(changed, view="3d"), first["meta"], rev="c")
    assert third["map"] is not no_update and third["payload"]["index"]["rev"] == "c"
    json.dumps(second["payload"], allow_nan=False)


def test_views_of_a_bad_formula():
    cfg = replace(DEFAULT.with_surface(FORMULA), formula="2x")
    out = views_for(cfg, None, rev="r")
    assert "2*x" in out["formula_error"] and out["payload"]["error"] == out["formula_error"]
    assert out["payload"]["slots"] == [] and out["map"]["data"] == []


def test_card_notes_in_the_payload():
    cfg = replace(DEFAULT, optimizers=(E("sgd", 0, lr=5.0), E("sgd", 1, nesterov=True, momentum=0.0), E("adam", 2)),
                  arrows=2)  # fmt: skip
    notes = views_for(cfg, None, rev="r")["payload"]["notes"]
    assert [n["kind"] for n in notes] == ["warn", "warn", "ok"]
    assert notes[0]["text"].startswith("diverged at step") and "nesterov" in notes[1]["text"]


def test_controls_cover_every_render_output():
    values = controls_for(DEFAULT)
    assert set(values) == set(RENDER_OUTPUTS)


def _ids(node, out):
    if isinstance(node, (list, tuple)):
        for n in node:
            _ids(n, out)
    elif isinstance(node, Component):
        cid = getattr(node, "id", None)
        if cid is not None:
            out.append(json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else str(cid))
        _ids(getattr(node, "children", None), out)


@pytest.mark.parametrize("cfg", [DEFAULT, PRESETS[3].config, DEFAULT.with_surface(FORMULA), from_query("?view=3d")])
def test_the_served_page_is_complete_and_ids_are_unique(cfg):
    root = page(cfg)
    ids = []
    _ids(root, ids)
    dup = [k for k, v in Counter(ids).items() if v > 1]
    assert not dup, dup
    assert {str(i) for i in Ids} - set(ids) == set()
    found = {}

    def collect(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                collect(n)
        elif isinstance(node, Component):
            if getattr(node, "id", None) in (Ids.CONFIG, Ids.PAYLOAD_FIRST, Ids.MAP):
                found[node.id] = node
            collect(getattr(node, "children", None))

    collect(root)
    assert actions.config_from_store(found[Ids.CONFIG].data) == cfg
    assert found[Ids.PAYLOAD_FIRST].data["index"]["rev"] == found[Ids.MAP].figure["layout"]["meta"]["rev"]
    root.to_plotly_json()  # serialisable


def test_page_leaves_mathjax_for_later_and_tex_for_fills_it():
    root = page(DEFAULT)
    rules = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
        elif isinstance(node, Component):
            if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == Kind.RULE.value:
                rules.append(node)
            walk(getattr(node, "children", None))

    walk(root)
    assert len(rules) == 6 and all(r.children is None for r in rules)
    metas = [{"name": e.name, "color": e.color} for e in DEFAULT.optimizers]
    filled = actions.tex_for(metas, [None] * 6, None, store_of(DEFAULT))
    assert set(filled) == {"rules", "surface_tex"}
    assert all(getattr(r, "mathjax", False) for r in filled["rules"]) and filled["surface_tex"].mathjax
    again = actions.tex_for(metas, ["x"] * 6, "y", store_of(DEFAULT))
    assert all(r is no_update for r in again["rules"]) and again["surface_tex"] is no_update


def test_number_rows_use_log_sliders_for_log_parameters():
    values = controls_for(DEFAULT)
    card = values["cards"][5]  # Adam
    sliders = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
        elif isinstance(node, Component):
            cid = getattr(node, "id", None)
            if isinstance(cid, dict) and cid["type"] == Kind.SLIDER.value:
                sliders.append(node)
            walk(getattr(node, "children", None))

    walk(card)
    by_key = {s.id["key"]: s for s in sliders}
    assert by_key["lr"].id["scale"] == "log" and by_key["lr"].value == pytest.approx(-1.0)
    assert by_key["eps"].id["scale"] == "log" and by_key["beta1"].id["scale"] == "lin"
    assert dom_id(by_key["lr"].id) == (
        '{"group":"hp","key":"lr","scale":"log","slot":5,"type":"slider"}')  # fmt: skip


# --------------------------------------------------------------------------- the app factory


@pytest.fixture(scope="module")
def client():
    from app import create_app

    return create_app(warm=False).server.test_client()


def test_the_layout_is_rendered_for_the_link_in_the_referer(client):
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
    ref = {"Referer": "http://localhost/?surface=saddle&steps=77"}
    compact = client.get("/_dash-layout", headers=ref).get_data(as_text=True).replace(" ", "")
    assert '"surface":"saddle"' in compact and '"steps":77' in compact
    other_site = client.get("/_dash-layout", headers={"Referer": "http://evil.example/?surface=saddle"})
    assert '"surface":"beale"' in other_site.get_data(as_text=True).replace(" ", "")
    hostile = client.get("/_dash-layout", headers={"Referer": "http://localhost/?steps=1e999&opt=%3Cscript%3E"})
    assert hostile.status_code == 200 and "is not a number" in hostile.get_data(as_text=True)


def test_health_and_callbacks_never_500(client):
    assert client.get("/health").status_code == 200
    deps = client.get("/_dash-dependencies").get_json()
    assert any("payload-store.data" in d["output"] for d in deps)


def test_a_committed_slider_counts_as_the_trigger():
    sid = {"type": "slider", "group": "hp", "slot": 1, "key": "lr", "scale": "log"}
    fired = ["slider-commit-store.data"]
    assert inputs.committed_slider({"id": sid, "n": 3}, fired) == {("slider", "hp", 1, "lr")}
    assert inputs.committed_slider({"id": sid, "n": 3}, ["surface.value"]) == set()  # the commit did not fire
    for hostile in (None, [], {"id": "x"}, {"id": {**sid, "type": "num"}}, {"id": {**sid, "slot": "1"}},
                    {"id": {**sid, "key": ["lr"]}}):  # fmt: skip
        assert inputs.committed_slider(hostile, fired) == set()


def test_background_warm_up_lets_the_first_page_go_first(monkeypatch):
    import threading

    import app as app_pkg
    from app.explorer import compute
    from app.lab import page as lab_page
    from app.maps import page as maps_page

    calls = []
    monkeypatch.setattr(compute, "warm", lambda: calls.append("explorer"))
    monkeypatch.setattr(maps_page, "warm", lambda: calls.append("maps"))
    monkeypatch.setattr(lab_page, "warm", lambda: calls.append("lab"))
    first_page = threading.Event()
    t = threading.Thread(target=app_pkg._warm_all, args=(first_page,))
    t.start()
    t.join(0.5)
    assert calls == [] and t.is_alive()  # only the default view is computed before the first page
    dash_app = app_pkg.create_app(warm=False)
    dash_app.server.extensions[app_pkg.FIRST_PAGE] = first_page
    with dash_app.server.test_request_context("/_dash-layout"):
        app_pkg._serve_layout()
    t.join(5)
    assert calls == ["explorer", "maps", "lab"]
