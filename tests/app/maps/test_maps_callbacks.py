"""The Sweep maps layout and its callbacks' registration beside the other pages."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from dash import no_update
from layout_tree import find, walk
from maps_helpers import as_json, form_of, rows_of, small

from app.maps import page as maps_page
from app.maps.callbacks import (
    answer_outputs,
    cancel_output,
    collect_outputs,
    new_map_outputs,
    outcome_outputs,
    pixel_outputs,
    render_outputs,
    run_output,
)
from app.maps.compute import STORED_NOTE, Outcome, run_request, stored_outcome
from app.maps.form import FORM_FIELDS, FormRows
from app.maps.ids import Ids, hp_id
from app.maps.layout import RENDER_OUTPUTS, controls_for, layout, work_text
from app.maps.presets import PRESETS, PRESETS_BY_NAME, lesson_for
from app.maps.state import DEFAULT_MAP, config_from_store, request_data, state_data
from optimizers.maps import MAX_GRID


def test_layout_ids_are_prefixed_and_controls_filled():
    page = layout({"kind": "hyper"})
    ids = [n.id for n in walk(page) if getattr(n, "id", None) is not None]
    for cid in ids:
        text = cid if isinstance(cid, str) else cid["type"]
        assert text.startswith("maps-"), cid
    assert len(ids) == len({json.dumps(i, sort_keys=True) if isinstance(i, dict) else i for i in ids})
    assert find(page, Ids.KIND).value == "hyper"
    assert find(page, Ids.AXES_BOX).hidden is False
    req = find(page, Ids.REQUEST).data
    assert config_from_store(req).kind == "hyper"  # the first request computes the linked map
    # the swept settings are marked, not editable
    lr = find(page, hp_id("lr"))
    assert lr.disabled is True and lr.placeholder == "x axis"
    # presets row: one button per lesson
    presets = [n for n in walk(page) if isinstance(getattr(n, "id", None), dict) and n.id["type"] == "maps-preset"]
    assert [p.children for p in presets] == [p.title for p in PRESETS]


def test_registers_beside_the_explorer_without_collisions(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from dash import Dash

    from app import create_app
    from app.explorer.callbacks import register_callbacks as explorer_callbacks
    from app.hosting.jobs import make_manager

    dash_app = Dash(__name__, background_callback_manager=make_manager(), suppress_callback_exceptions=True)
    explorer_callbacks(dash_app)
    explorer_outputs = set(dash_app.callback_map)
    maps_page.register_callbacks(dash_app)
    mine = set(dash_app.callback_map) - explorer_outputs
    assert len(mine) >= 7
    for key in mine:
        assert "maps-" in key and "url" not in key.replace("maps-url-sink", "")
    assert maps_page.PATH == "/maps" and maps_page.TITLE == "Sweep maps"
    background = [v for k, v in dash_app.callback_map.items() if k in mine and v.get("background")]
    assert len(background) == 1
    spec = background[0]["background"]
    assert spec["progress"] and spec["cancel"]
    # and in the whole app, beside every other page
    full = create_app(warm=False)
    assert mine <= set(full.callback_map)


def test_registers_a_manager_when_the_app_has_none(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from dash import Dash

    dash_app = Dash(__name__)
    maps_page.register_callbacks(dash_app)
    background = [v for v in dash_app.callback_map.values() if v.get("background")]
    assert background and background[0]["background"].get("manager") is not None


# --------------------------------------------------------------------------- what each callback returns


def test_render_outputs_fill_every_control_and_request_a_lesson_at_once():
    store = state_data(DEFAULT_MAP)
    lesson = PRESETS_BY_NAME["adam_beale"].config
    out = render_outputs({"type": "maps-preset", "name": "adam_beale"}, 1, {}, FormRows(), store)
    assert set(out) == {"controls", "request"} and len(out["controls"]) == len(RENDER_OUTPUTS)
    values = controls_for(lesson)
    assert as_json(out["controls"]) == as_json([values[k] for k in RENDER_OUTPUTS])
    assert config_from_store(out["request"]) == lesson
    # a structural change re-renders without computing; anything else changes nothing
    form = form_of(DEFAULT_MAP)
    form["kind"] = "hyper"
    out = render_outputs(Ids.KIND, "hyper", form, rows_of(DEFAULT_MAP), store)
    assert out["request"] is no_update
    assert out["controls"][RENDER_OUTPUTS.index((Ids.AXES_BOX, "hidden"))] is False
    assert render_outputs(Ids.GRID, 64, form, rows_of(DEFAULT_MAP), store) is no_update


def test_collect_outputs_validate_the_form():
    cfg = PRESETS_BY_NAME["gd_quadratic"].config
    out = collect_outputs(form_of(cfg), rows_of(cfg), state_data(cfg))
    assert out["state"] == state_data(cfg) and out["notice"] == [] and out["notice_hidden"] is True
    assert (out["work"], out["work_class"]) == work_text(cfg) and out["lesson"] == lesson_for(cfg)
    form = form_of(cfg)
    form["grid"] = "lots"
    out = collect_outputs(form, rows_of(cfg), state_data(cfg))
    assert out["notice_hidden"] is False and config_from_store(out["state"]).grid == cfg.grid


def test_outcome_pixel_and_button_outputs():
    out = outcome_outputs(Outcome({"data": []}, {"cfg": {}}, "done", "why"))
    assert out == {"figure": {"data": []}, "meta": {"cfg": {}}, "status": "done", "explain": "why"}
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=21)
    meta = {"cfg": cfg.to_dict(), "minima": [[3.0, 2.0]]}
    out = pixel_outputs(True, {"points": [{"x": 3.02, "y": 1.97}]}, None, None, meta, "/")
    assert (out["x"], out["y"]) == (3.0, 2.0) and "Open this run" in str(out["panel"])
    assert pixel_outputs(True, {"points": []}, 1, 2, meta, "/") is no_update  # a click that hit nothing
    typed = pixel_outputs(False, None, "3", "2", meta, "/course/")
    assert (typed["x"], typed["y"]) == (3.0, 2.0) and "/course/?" in str(typed["panel"])
    garbage = pixel_outputs(False, None, "x", 2, meta, "/")
    assert garbage["x"] is no_update and garbage["y"] is no_update and "Click a pixel" in str(garbage["panel"])
    hyper = PRESETS_BY_NAME["momentum_quadratic"].config
    labels = new_map_outputs({"cfg": hyper.to_dict()})
    assert (labels["label_x"], labels["label_y"]) == ("η", "μ") and "Click a pixel" in str(labels["panel"])
    assert new_map_outputs(None)["label_x"] == "x₀"
    assert config_from_store(run_output(1, state_data(hyper))) == hyper
    assert run_output(None, state_data(hyper)) is no_update and run_output(1, None) is no_update
    assert "previous map" in cancel_output(1) and cancel_output(None) is no_update


# --------------------------------------------------------------------------- through Dash, as the browser calls them


def _app(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCENT_LAB_JOBS_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    from dash import Dash

    from app.hosting.jobs import make_manager

    dash_app = Dash(__name__, background_callback_manager=make_manager(), suppress_callback_exceptions=True)
    dash_app.layout = maps_page.layout({})
    maps_page.register_callbacks(dash_app)
    return dash_app


def _callback(dash_app, output: str) -> tuple[str, dict]:
    return next((k, v) for k, v in dash_app.callback_map.items() if output in k)


def _deps(specs: list[dict], values: dict[str, Any]) -> list[Any]:
    """The request's entries for ``specs``: a plain dependency gets ``values["id.prop"]``; an ALL
    pattern gets one entry per (key, value) of ``values["type.prop"]``."""
    out: list[Any] = []
    for spec in specs:
        cid, prop = spec["id"], spec["property"]
        if cid.startswith("{"):
            kind = json.loads(cid)["type"]
            out.append([{"id": {"type": kind, "key": k}, "property": prop, "value": {"type": kind, "key": k}
                         if prop == "id" else v} for k, v in values.get(f"{kind}.{prop}", {}).items()])  # fmt: skip
        else:
            out.append({"id": cid, "property": prop, "value": values.get(f"{cid}.{prop}")})
    return out


def _outputs(key: str) -> list[dict]:
    return [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
            for part in key.strip(".").split("...")]  # fmt: skip


def test_collect_receives_its_grouped_arguments_from_dash(tmp_path, monkeypatch):
    dash_app = _app(tmp_path, monkeypatch)
    key, spec = _callback(dash_app, "maps-state.data")
    cfg = PRESETS_BY_NAME["momentum_quadratic"].config
    form, rows = form_of(cfg), rows_of(cfg)
    rows.hyper_numbers.update(lr=None, momentum=None)  # the swept settings are blank in the form
    values = {f"{cid}.value": form[name] for name, cid in FORM_FIELDS}
    values[f"{Ids.STATE}.data"] = state_data(cfg)
    for family, pattern in (("surface_params", "maps-sp"), ("hyper_numbers", "maps-hp"), ("hyper_flags", "maps-hf")):
        values[f"{pattern}.value"] = values[f"{pattern}.id"] = getattr(rows, family)
    body = {"output": key, "outputs": _outputs(key), "inputs": _deps(spec["inputs"], values),
            "state": _deps(spec["state"], values), "changedPropIds": [f"{Ids.GRID}.value"]}  # fmt: skip
    response = dash_app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data
    out = response.get_json()["response"]
    assert config_from_store(out[Ids.STATE]["data"]) == cfg and out[Ids.NOTICE]["hidden"] is True
    assert out[Ids.WORK]["children"] == work_text(cfg)[0] and out[Ids.LESSON]["children"] == lesson_for(cfg)


def _post(dash_app, key, spec, values, changed):
    body = {"output": key, "outputs": _outputs(key), "changedPropIds": [changed],
            "inputs": _deps(spec["inputs"], values), "state": _deps(spec.get("state", []), values)}  # fmt: skip
    return dash_app.server.test_client().post("/_dash-update-component", json=body)


def test_a_map_not_stored_goes_to_the_job_and_a_stored_one_is_answered_in_the_request(tmp_path, monkeypatch):
    dash_app = _app(tmp_path, monkeypatch)
    key, spec = next((k, v) for k, v in dash_app.callback_map.items()
                     if f"{Ids.JOB_REQUEST}.data" in k and not v.get("background"))  # fmt: skip
    assert "maps-graph.figure" in key
    request = request_data(small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=8, steps=50))
    values = {f"{Ids.REQUEST}.data": request, f"{Ids.CANCEL}.disabled": True}
    first = _post(dash_app, key, spec, values, f"{Ids.REQUEST}.data").get_json()["response"]
    assert first == {Ids.JOB_REQUEST: {"data": request}}  # nothing stored yet: the job computes it
    computed = run_request(request)
    again = _post(dash_app, key, spec, values, f"{Ids.REQUEST}.data").get_json()["response"]
    assert Ids.JOB_REQUEST not in again  # no job
    assert again[Ids.GRAPH]["figure"] == computed.figure and again[Ids.META]["data"] == computed.meta
    assert again[Ids.STATUS]["children"] == computed.status + STORED_NOTE
    # while a job runs, the request goes to it (it replaces the running one), stored or not
    running = _post(dash_app, key, spec, {**values, f"{Ids.CANCEL}.disabled": False}, f"{Ids.REQUEST}.data")
    assert running.get_json()["response"] == {Ids.JOB_REQUEST: {"data": request}}


def test_the_answer_refuses_hostile_requests_to_the_job_which_explains_them():
    for hostile in (None, {"cfg": "x"}, {"cfg": {"kind": "basin", "grid": 10**9}}, "text", 7):
        out = answer_outputs(hostile, job_running=False)
        assert out["map"]["figure"] is no_update
        assert out["job"] == (hostile if hostile is not None else no_update)


def test_a_refused_map_is_not_looked_up():
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=8, steps=50)
    huge = replace(cfg, grid=MAX_GRID, base=replace(cfg.base, steps=5000))  # over the work budget
    assert huge.problem()
    assert stored_outcome(request_data(huge)) is None
    assert stored_outcome(request_data(cfg)) is None  # valid, not computed yet
    run_request(request_data(cfg))
    out = stored_outcome(request_data(cfg))
    assert out is not None and out.status.endswith(STORED_NOTE) and out.figure["data"][0]["type"] == "heatmap"


def test_the_map_is_computed_in_a_background_job_with_grouped_arguments(tmp_path, monkeypatch):
    dash_app = _app(tmp_path, monkeypatch)
    key, spec = next((k, v) for k, v in dash_app.callback_map.items() if v.get("background"))
    assert "maps-graph.figure" in key
    assert spec["background"]["progress"] and spec["background"]["cancel"]
    cfg = small(PRESETS_BY_NAME["himmelblau_adam"].config, grid=8, steps=50)
    body = {"output": key, "outputs": _outputs(key), "changedPropIds": [f"{Ids.JOB_REQUEST}.data"], "state": [],
            "inputs": _deps(spec["inputs"], {f"{Ids.JOB_REQUEST}.data": request_data(cfg)})}  # fmt: skip
    client = dash_app.server.test_client()
    handles = client.post("/_dash-update-component", json=body).get_json()
    assert set(handles) >= {"cacheKey", "job"}  # the job was started in its own process
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        polled = client.post("/_dash-update-component", json=body,
                             query_string={"cacheKey": handles["cacheKey"], "job": handles["job"]})  # fmt: skip
        reply = polled.get_json() if polled.status_code == 200 else {}
        if reply.get("response"):
            break
        time.sleep(0.2)
    out = reply["response"]
    assert config_from_store(out[Ids.META]["data"]) == cfg
    assert "64 runs" in out[Ids.STATUS]["children"] and out[Ids.EXPLAIN]["children"] == ""
    assert out[Ids.GRAPH]["figure"]["data"][0]["type"] == "heatmap"


def test_the_rule_note_names_its_convention_and_source_for_every_optimizer():
    from app.maps.state import map_from_query
    from optimizers.registry import get_spec, optimizer_names

    for name in optimizer_names():
        spec = get_spec(name)
        if spec.family != "first-order":
            continue
        cfg = map_from_query(f"?opt={name}")
        note = controls_for(cfg)[(Ids.CONVENTION, "children")]
        text = "".join(c if isinstance(c, str) else str(c.children) for c in note)
        assert spec.convention in text and spec.source in text and "Source: " in text, name
