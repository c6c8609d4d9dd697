"""The Sweep maps page's callbacks.

Data flow (no server-side state; everything lives in the browser)::

    structural controls (map kind, surface, optimizer, axis keys) / lessons
        └─ render ──> every control's value, parameter rows          (server)
    any control ──> collect ──> state store, notice, work estimate      (server)
    state store ──> the URL (history.replaceState, assets/maps.js)     (browser)
    Compute ──> request store ──> answer: a map the result cache holds, at once      (server)
                       └─ not stored ──> job request ──> compute_map: the map, in a background job
                                    with progress, a Cancel button and a time limit       (worker)
    click on a pixel / typed values ──> that run, and its Explorer link  (server)
    state store ──> live panel (the setting a slider drags)             (server)
    dragging it ──> /_descent/live-map previews (assets/maps_live.js) ──> released: render, computed at once
    Download ──> the map on screen (meta store) as PNG/SVG/PDF/CSV/NPZ  (server)

Every callback uses Dash's flexible signatures: named groups of inputs and state (``inputs=``,
``state=``; an ALL pattern arrives as a list), named outputs (``output=``).  A callback only
gathers its arguments, calls a pure function of this module or of :mod:`app.maps.form`, and
returns; the tests call those functions directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update

from app.hosting.jobs import make_manager
from app.maps.compute import Outcome, be_nice, run_request, stored_outcome
from app.maps.export_control import export_download
from app.maps.form import (
    ALL_FIELDS,
    OTHER_FIELDS,
    STRUCTURAL,
    FormRows,
    field_deps,
    form_config,
    form_fields,
    form_rows,
    render_action,
    row_deps,
)
from app.maps.ids import Ids, Pattern
from app.maps.layout import RENDER_OUTPUTS, controls_for, notice_children, work_text
from app.maps.live import committed, live_info
from app.maps.live import register as register_live_route
from app.maps.pixels import click_point, locate_pixel, pick_labels, pixel_panel
from app.maps.presets import lesson_for
from app.maps.state import config_from_store, request_data, state_data

#: the lesson buttons (an ALL pattern: their clicks arrive as a list)
LESSON_CLICKS = Input({"type": Pattern.PRESET.value, "name": ALL}, "n_clicks")


# --------------------------------------------------------------------------- what each callback returns


def render_outputs(trigger: Any, clicks: Any, form: Mapping[str, Any], rows: FormRows, store: Any) -> Any:
    """The render callback's outputs after ``trigger`` fired (``clicks``: its value), or no_update.  A released
    live slider (``clicks`` is then its commit) sets its setting and computes the full map at once."""
    if trigger == Ids.LIVE_COMMIT:
        cfg = committed(store, clicks)
        out = (cfg, True) if cfg is not None else None
    else:
        out = render_action(trigger, form, rows, store, clicks)
    if out is None:
        return no_update
    cfg, compute_now = out
    values = controls_for(cfg)
    return {"controls": [values[k] for k in RENDER_OUTPUTS], "request": request_data(cfg) if compute_now else no_update}


def collect_outputs(form: Mapping[str, Any], rows: FormRows, store: Any) -> dict[str, Any]:
    """The collect callback's outputs: the validated state, its notice, the work estimate and the lesson text."""
    cfg = form_config(form, rows, config_from_store(store))
    work, work_class = work_text(cfg)
    return {"state": state_data(cfg), "notice": notice_children(cfg.notes), "notice_hidden": not cfg.notes,
            "work": work, "work_class": work_class, "lesson": lesson_for(cfg)}  # fmt: skip


def outcome_outputs(out: Outcome) -> dict[str, Any]:
    """The compute callback's outputs for a map's outcome."""
    return {"figure": out.figure, "meta": out.meta, "status": out.status, "explain": out.explain}


def answer_outputs(request: Any, job_running: bool) -> dict[str, Any]:
    """The answer callback's outputs for a new request: the stored map itself when the result cache holds it,
    else the request handed on to the background job.  While a job runs (``job_running``: its Cancel button
    is enabled) every request goes to the job, which replaces the running one (an answer given here would be
    overwritten when the running job ends)."""
    out = None if job_running else stored_outcome(request)
    if out is None:
        return {"map": {"figure": no_update, "meta": no_update, "status": no_update, "explain": no_update},
                "job": request if request is not None else no_update}
    return {"map": outcome_outputs(out), "job": no_update}


def pixel_outputs(from_graph: bool, click: Any, typed_x: Any, typed_y: Any, meta: Any, root: str) -> Any:
    """The pixel callback's outputs: a click on the map (``from_graph``) or the typed values; no_update for a
    click that hit no point.  The typed values follow the pixel found."""
    if from_graph:
        point = click_point(click)
        if point is None:
            return no_update
        typed_x, typed_y = point
    px = locate_pixel(meta, typed_x, typed_y, root=root)
    if px is None:
        return {"panel": pixel_panel(None), "x": no_update, "y": no_update}
    return {"panel": pixel_panel(px), "x": px.x, "y": px.y}


def new_map_outputs(meta: Any) -> dict[str, Any]:
    """When a new map arrives: the labels of the typed pixel values, and an empty pixel panel."""
    label_x, label_y = pick_labels(meta)
    return {"label_x": label_x, "label_y": label_y, "panel": pixel_panel(None)}


def run_output(n_clicks: Any, store: Any) -> Any:
    """Compute: the current state becomes the request."""
    cfg = config_from_store(store)
    return request_data(cfg) if n_clicks and cfg is not None else no_update


def export_outputs(n_clicks: Any, meta: Any, fmt: Any, size: Any) -> dict[str, Any]:
    """Download: the map on screen (``meta``) as a file of ``fmt`` at ``size``, and the status line."""
    if not n_clicks:
        return {"download": no_update, "status": no_update}
    payload, status = export_download(meta, fmt, size)
    return {"download": payload, "status": status}


def cancel_output(n_clicks: Any) -> Any:
    """Cancel: the status says the previous map stays (the job itself is stopped by Dash)."""
    return "Cancelled; the previous map stays on screen." if n_clicks else no_update


# --------------------------------------------------------------------------- registration


def register_callbacks(app: Any) -> None:
    """Register the page's callbacks on ``app`` (a Dash app, best with a background callback manager), and the
    live-map route (:mod:`app.maps.live`) on its server."""
    register_live_route(app.server)

    # -- structural changes and lessons: re-render the controls ---------------------------
    @app.callback(
        output={"controls": [Output(cid, prop, allow_duplicate=cid == Ids.LESSON) for cid, prop in RENDER_OUTPUTS],
                "request": Output(Ids.REQUEST, "data", allow_duplicate=True)},
        inputs={"structural": field_deps(Input, STRUCTURAL), "lesson_clicks": LESSON_CLICKS,
                "live": Input(Ids.LIVE_COMMIT, "data")},
        state={"others": field_deps(State, OTHER_FIELDS), "row_values": row_deps(State, "value"),
               "row_ids": row_deps(State, "id"), "store": State(Ids.STATE, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def render(structural: dict, lesson_clicks: list, live: Any, others: dict, row_values: dict, row_ids: dict,
               store: Any) -> Any:  # fmt: skip
        clicks = ctx.triggered[0]["value"] if ctx.triggered else None
        rows = form_rows(row_values, row_ids)
        return render_outputs(ctx.triggered_id, clicks, form_fields(structural, others), rows, store)

    # -- any control: the validated state, the notice, the work estimate ---------------------
    @app.callback(
        output={"state": Output(Ids.STATE, "data"), "notice": Output(Ids.NOTICE, "children"),
                "notice_hidden": Output(Ids.NOTICE, "hidden"), "work": Output(Ids.WORK, "children"),
                "work_class": Output(Ids.WORK, "className"),
                "lesson": Output(Ids.LESSON, "children", allow_duplicate=True)},
        inputs={"fields": field_deps(Input, ALL_FIELDS), "row_values": row_deps(Input, "value")},
        state={"row_ids": row_deps(State, "id"), "store": State(Ids.STATE, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def collect(fields: dict, row_values: dict, row_ids: dict, store: Any) -> dict[str, Any]:
        return collect_outputs(form_fields(fields), form_rows(row_values, row_ids), store)

    # the URL follows the state (replaceState: no navigation, no router callback)
    app.clientside_callback(ClientsideFunction("maps", "replaceUrl"), Output(Ids.URL_SINK, "data"),
                            Input(Ids.STATE, "data"))  # fmt: skip
    # the map's title and subtitle as a caption that wraps (shown on a phone instead of the figure's own line)
    app.clientside_callback(ClientsideFunction("maps", "followCaption"), Output(Ids.CAPTION_SINK, "data"),
                            Input(Ids.GRAPH, "figure"), State(Ids.GRAPH, "id"),
                            State(Ids.GRAPH_CAPTION, "id"))  # fmt: skip

    # -- the live slider: which setting it drags (server), the dragging itself (assets/maps_live.js) ----------
    @app.callback(
        output={"options": Output(Ids.LIVE_SETTING, "options"), "value": Output(Ids.LIVE_SETTING, "value"),
                "info": Output(Ids.LIVE_INFO, "data"), "position": Output(Ids.LIVE_SLIDER, "value")},
        inputs={"store": Input(Ids.STATE, "data"), "chosen": Input(Ids.LIVE_SETTING, "value")},
    )  # fmt: skip
    def live_panel(store: Any, chosen: Any) -> dict[str, Any]:
        return live_info(store, chosen)

    app.clientside_callback(ClientsideFunction("maps_live", "setup"), Output(Ids.LIVE_SINK, "data"),
                            Input(Ids.LIVE_INFO, "data"), State(Ids.LIVE, "id"), State(Ids.LIVE_SLIDER, "id"),
                            State(Ids.LIVE_VALUE, "id"), State(Ids.LIVE_STATUS, "id"), State(Ids.GRAPH, "id"),
                            State(Ids.LIVE_COMMIT, "id"))  # fmt: skip

    # -- Compute: the current state becomes the request ---------------------------------------
    @app.callback(
        output=Output(Ids.REQUEST, "data", allow_duplicate=True),
        inputs={"n_clicks": Input(Ids.RUN, "n_clicks")},
        state={"store": State(Ids.STATE, "data")},
        prevent_initial_call=True,
    )
    def run(n_clicks: Any, store: Any) -> Any:
        return run_output(n_clicks, store)

    # -- the map itself: the result cache's at once, else a background job ------------------------
    @app.callback(
        output={"map": {"figure": Output(Ids.GRAPH, "figure"), "meta": Output(Ids.META, "data"),
                        "status": Output(Ids.STATUS, "children"), "explain": Output(Ids.EXPLAIN, "children")},
                "job": Output(Ids.JOB_REQUEST, "data")},
        inputs={"request": Input(Ids.REQUEST, "data")},
        state={"cancel_disabled": State(Ids.CANCEL, "disabled")},
    )  # fmt: skip
    def answer(request: Any, cancel_disabled: Any) -> dict[str, Any]:
        return answer_outputs(request, job_running=cancel_disabled is False)

    extra: dict[str, Any] = {}
    if getattr(app, "_background_manager", None) is None:  # an app built without one (a test's)
        extra["manager"] = make_manager()

    @app.callback(
        output={"figure": Output(Ids.GRAPH, "figure", allow_duplicate=True),
                "meta": Output(Ids.META, "data", allow_duplicate=True),
                "status": Output(Ids.STATUS, "children", allow_duplicate=True),
                "explain": Output(Ids.EXPLAIN, "children", allow_duplicate=True)},
        inputs={"request": Input(Ids.JOB_REQUEST, "data")},
        prevent_initial_call=True,
        background=True,
        progress=[Output(Ids.PROGRESS, "value"), Output(Ids.PROGRESS_TEXT, "children")],
        progress_default=["0", ""],
        running=[
            (Output(Ids.RUN, "disabled"), True, False),
            (Output(Ids.CANCEL, "disabled"), False, True),
            (Output(Ids.PROGRESS_BOX, "hidden"), False, True),
        ],
        cancel=[Input(Ids.CANCEL, "n_clicks")],
        interval=300,
        **extra,
    )  # fmt: skip
    def compute_map(set_progress: Any, request: Any) -> dict[str, Any]:
        be_nice()
        return outcome_outputs(run_request(request, report=set_progress))

    @app.callback(
        output=Output(Ids.STATUS, "children", allow_duplicate=True),
        inputs={"n_clicks": Input(Ids.CANCEL, "n_clicks")},
        prevent_initial_call=True,
    )
    def cancelled(n_clicks: Any) -> Any:
        return cancel_output(n_clicks)

    # -- a pixel: clicked, or typed by value -------------------------------------------------------
    @app.callback(
        output={"panel": Output(Ids.PIXEL, "children"), "x": Output(Ids.PICK_X, "value"),
                "y": Output(Ids.PICK_Y, "value")},
        inputs={"click": Input(Ids.GRAPH, "clickData"),
                "find": [Input(Ids.PICK, "n_clicks"), Input(Ids.PICK_X, "n_submit"), Input(Ids.PICK_Y, "n_submit")]},
        state={"typed_x": State(Ids.PICK_X, "value"), "typed_y": State(Ids.PICK_Y, "value"),
               "meta": State(Ids.META, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def pixel(click: Any, find: list, typed_x: Any, typed_y: Any, meta: Any) -> Any:
        # ``find``: the Find button and Enter in either field (which one does not matter)
        root = app.get_relative_path("/")
        return pixel_outputs(ctx.triggered_id == Ids.GRAPH, click, typed_x, typed_y, meta, root)

    # -- Download: the map on screen as a file ----------------------------------------------------
    @app.callback(
        output={"download": Output(Ids.EXPORT_DOWNLOAD, "data"), "status": Output(Ids.EXPORT_STATUS, "children")},
        inputs={"n_clicks": Input(Ids.EXPORT, "n_clicks")},
        state={"fmt": State(Ids.EXPORT_FORMAT, "value"), "size": State(Ids.EXPORT_SIZE, "value"),
               "meta": State(Ids.META, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def export(n_clicks: Any, fmt: Any, size: Any, meta: Any) -> dict[str, Any]:
        return export_outputs(n_clicks, meta, fmt, size)

    @app.callback(
        output={"label_x": Output(Ids.PICK_LABEL_X, "children"), "label_y": Output(Ids.PICK_LABEL_Y, "children"),
                "panel": Output(Ids.PIXEL, "children", allow_duplicate=True)},
        inputs={"meta": Input(Ids.META, "data")},
        prevent_initial_call=True,
    )  # fmt: skip
    def new_map(meta: Any) -> dict[str, Any]:
        return new_map_outputs(meta)
