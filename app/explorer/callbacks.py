"""Callbacks: gather inputs, call the pure functions, return.

Data flow (no server-side state; every user's state lives in the browser)::

    page load      the server renders the link's configuration (layout.page):
                   controls, map figure and the engine's first payload; the
                   first render_controls call only confirms it (BOOT), then
                   fill_tex adds the MathJax (update rules, surface formula)
    lesson / add / remove / copy / surface / schedule / back-forward
        └─ render_controls ──> every control's value and the cards    (server)
    any control (sliders trigger; the exact numbers are read as State)
        └─ collect ──> config store, payload store (trajectories, diagnostic
                       panels, texts, query); map figure only when the surface,
                       its parameters or the view changed; repaired inputs (server)
    payload store ──> animation engine (assets/explorer.js): map canvas,
                      diagnostics, race board, card notes, address bar  (browser)
    slider -> exact number (clientside callback); number -> slider and
    map click -> start (assets/explorer.js, via set_props)             (browser)

Every server callback names its outputs, inputs and state (Dash's flexible
callback signatures: ``output=dict(...)``, ``inputs=dict(...)``,
``state=dict(...)``): it receives one keyword argument per group, turns the
groups into the typed values of :mod:`app.explorer.inputs`, calls one of the
pure functions above :func:`register_callbacks` and returns its dict.  Those
functions take and give plain values, so the tests call them directly.  The
clientside callbacks keep Dash's positional form (their functions are in
``assets/explorer.js``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from app.explorer.actions import apply_action, config_from_store, page_shows, tex_for
from app.explorer.compute import build_surface
from app.explorer.config import DEFAULT, ExplorerConfig
from app.explorer.data_view import download_answer, upload_answer
from app.explorer.controls import RENDER_OUTPUTS, controls_for, html_notice_controls
from app.explorer.ids import CLIENTSIDE_NAMESPACE, Ids, Kind, card_id
from app.explorer.inputs import (
    FORM,
    Form,
    Shown,
    cards_from,
    committed_slider,
    config_from_controls,
    form_from,
    numbers_from,
    shown_from,
    triggered_params,
)
from app.explorer.query import state_key, to_query
from app.explorer.views import views_for
from app.shell.style import message_figure

logger = logging.getLogger(__name__)

#: plain inputs (fields of :class:`~app.explorer.inputs.Form`) whose shown value is replaced by the
#: value actually used when it had to be repaired
CORRECTABLE = ("steps", "start_x", "start_y", "noise", "seed", "batch", "clip_value")

#: the outputs of collect besides the corrected inputs: name → (component id, property)
COLLECT_OUTPUTS: dict[str, tuple[Ids, str]] = {
    "store": (Ids.CONFIG, "data"), "payload": (Ids.PAYLOAD, "data"), "map": (Ids.MAP, "figure"),
    "meta": (Ids.MAP_META, "data"), "surface_info": (Ids.SURFACE_INFO, "children"),
    "formula_error": (Ids.FORMULA_ERROR, "children"), "notice": (Ids.NOTICE, "children"),
    "notice_hidden": (Ids.NOTICE, "hidden"), "batch_info": (Ids.BATCH_INFO, "children"),
    "points": (Ids.POINTS, "data"),
}  # fmt: skip

# --------------------------------------------------------------------------- what the callbacks answer


def controls_answer(trigger: Any, value: Any, search: Any, add_choice: Any, shown: Shown) -> dict[str, Any] | None:
    """render_controls' outputs (keyed like :data:`RENDER_OUTPUTS`) after ``trigger`` fired with ``value``;
    None when nothing should change.  ``trigger`` is None on Dash's initial call."""
    if trigger is None and shown.booted:
        return None  # new components appeared; nothing was asked for
    # the first call of a page load: Dash's own initial call, or the URL bar reporting the page's address
    first = not shown.booted and trigger in (None, Ids.URL)
    try:
        cfg = apply_action(trigger, value, search, shown.store, add_choice)
    except Exception:  # a bug must not leave the page without controls: fall back to the default view
        logger.exception("could not apply %r", trigger)
        cfg = DEFAULT
    if cfg is None:
        return None
    if first and page_shows(cfg, shown.store, shown.notice_hidden):
        return {**{name: no_update for name in RENDER_OUTPUTS}, "boot": True}
    values = controls_for(cfg)
    values["boot"] = True if first else no_update
    return values


def corrections(cfg: ExplorerConfig, form: Form) -> dict[str, Any]:
    """The used value of every :data:`CORRECTABLE` input that shows something else (else no_update)."""
    used = {"steps": cfg.steps, "start_x": cfg.start[0], "start_y": cfg.start[1], "noise": cfg.noise,
            "seed": cfg.seed, "batch": cfg.batch_size, "clip_value": cfg.clip_value}  # fmt: skip
    out = {}
    for name in CORRECTABLE:
        v = getattr(form, name)
        same = isinstance(v, (int, float)) and not isinstance(v, bool) and v == used[name]
        out[name] = no_update if same else used[name]
    return out


def collect_answer(cfg: ExplorerConfig, form: Form, shown: Shown, rerendered: bool,
                   edit: Any = None) -> dict[str, Any] | None:  # fmt: skip
    """collect's outputs (:data:`COLLECT_OUTPUTS` and ``corrected``) for ``cfg``; None when the page shows it already.

    ``rerendered``: the controls were just rendered from a configuration (the view must follow).  ``edit``
    is the points store: an edit of another data set than ``cfg``'s (its surface or a parameter that
    draws the points changed) is cleared."""
    if not rerendered and not cfg.notes and shown.key == state_key(cfg):
        return None  # e.g. the number input catching up with its slider
    nothing = {name: no_update for name in COLLECT_OUTPUTS}
    try:
        out = views_for(cfg, shown.map_meta, rev=str(time.time_ns()))
    except Exception:  # never a server error page: say so on the map and keep the page alive
        logger.exception("could not compute the view for %s", to_query(cfg))
        failed = message_figure("Something went wrong computing this view; change a setting or pick a lesson.")
        return {**nothing, "map": failed, "meta": {"key": None}, "corrected": {name: no_update for name in CORRECTABLE}}
    error = out["formula_error"]
    notice = {"notice": html_notice_controls(list(cfg.notes)), "notice_hidden": False} if cfg.notes else {}
    stale = isinstance(edit, dict) and edit.get("points") is not None and edit.get("key") != cfg.data_key()
    return {**nothing, **out, "formula_error": error if error != (shown.formula_error or "") else no_update,
            **notice, "points": None if stale else no_update, "corrected": corrections(cfg, form)}  # fmt: skip


# --------------------------------------------------------------------------- wiring


def _outputs(spec: dict[str, tuple[Ids, str]], duplicates: tuple[Ids, ...]) -> dict[str, Output]:
    return {name: Output(cid, prop, allow_duplicate=cid in duplicates) for name, (cid, prop) in spec.items()}


def register_callbacks(app: Dash) -> None:
    """Attach every callback of the Explorer to ``app``."""

    num_all = {"type": Kind.NUM.value, "group": ALL, "slot": ALL, "key": ALL, "scale": ALL}
    slider_all = {"type": Kind.SLIDER.value, "group": ALL, "slot": ALL, "key": ALL, "scale": ALL}
    flag_all = {"type": Kind.FLAG.value, "slot": ALL, "key": ALL}
    metas_all = card_id(Kind.CARD_META, ALL)  # type: ignore[arg-type]

    @app.callback(
        output=_outputs(RENDER_OUTPUTS, duplicates=(Ids.NOTICE, Ids.START_X, Ids.START_Y)),
        inputs=dict(
            search=Input(Ids.URL, "search"),
            actions=dict(  # read through ctx.triggered: which one fired, and its value
                presets=Input({"type": Kind.PRESET.value, "name": ALL}, "n_clicks"),
                add=Input(Ids.ADD, "n_clicks"),
                remove=Input(card_id(Kind.REMOVE, ALL), "n_clicks"),  # type: ignore[arg-type]
                duplicate=Input(card_id(Kind.DUPLICATE, ALL), "n_clicks"),  # type: ignore[arg-type]
                surface=Input(Ids.SURFACE, "value"),
                schedule=Input(Ids.SCHEDULE, "value"),
            ),
        ),
        state=dict(
            add_choice=State(Ids.ADD_CHOICE, "value"),
            shown=dict(store=State(Ids.CONFIG, "data"), booted=State(Ids.BOOT, "data"),
                       notice_hidden=State(Ids.NOTICE, "hidden")),
        ),  # fmt: skip
        prevent_initial_call="initial_duplicate",
    )
    def render_controls(search: Any, actions: Any, add_choice: Any, shown: Any) -> dict[str, Any]:
        trigger = ctx.triggered_id
        value = ctx.triggered[0]["value"] if ctx.triggered and trigger is not None else None
        out = controls_answer(trigger, value, search, add_choice, shown_from(shown))
        if out is None:
            raise PreventUpdate
        return out

    @app.callback(
        output=dict(rules=Output(card_id(Kind.RULE, ALL), "children"),  # type: ignore[arg-type]
                    surface_tex=Output(Ids.SURFACE_TEX, "children")),
        inputs=dict(booted=Input(Ids.BOOT, "data"), tex_ready=Input(Ids.TEX_READY, "data")),
        state=dict(metas=State(metas_all, "data"), rules=State(card_id(Kind.RULE, ALL), "children"),  # type: ignore[arg-type]
                   surface_tex=State(Ids.SURFACE_TEX, "children"), store=State(Ids.CONFIG, "data")),
        prevent_initial_call=True,
    )  # fmt: skip
    def fill_tex(booted: Any, tex_ready: Any, metas: Any, rules: Any, surface_tex: Any, store: Any) -> dict[str, Any]:
        """Once the page is booted and its first map painted: the MathJax parts the server-rendered
        page left out (typesetting them first would hold the map back by about a second)."""
        if not booted or not tex_ready:
            raise PreventUpdate
        return tex_for(metas, rules, surface_tex, store)

    @app.callback(
        output={**_outputs(COLLECT_OUTPUTS, duplicates=(Ids.NOTICE, Ids.POINTS)),
                "corrected": {name: Output(FORM[name], "value", allow_duplicate=True) for name in CORRECTABLE}},
        inputs=dict(
            rendered=Input(Ids.RENDERED, "data"),
            commit=Input(Ids.SLIDER_COMMIT, "data"),  # sliders are read as State: the page commits a settled move
            form={name: Input(cid, "value") for name, cid in FORM.items()},
            cards=dict(metas=Input(metas_all, "data"), flags=Input(flag_all, "value"), flag_ids=State(flag_all, "id")),
            points=Input(Ids.POINTS, "data"),
        ),
        state=dict(
            numbers=dict(values=State(num_all, "value"), ids=State(num_all, "id")),
            sliders=dict(values=State(slider_all, "value"), ids=State(slider_all, "id"), min=State(slider_all, "min"),
                         max=State(slider_all, "max"), step=State(slider_all, "step")),
            shown=dict(store=State(Ids.CONFIG, "data"), map_meta=State(Ids.MAP_META, "data"),
                       formula_error=State(Ids.FORMULA_ERROR, "children")),
        ),
        prevent_initial_call=True,
    )  # fmt: skip
    def collect(rendered: Any, commit: Any, form: Any, cards: Any, points: Any, numbers: Any, sliders: Any,
                shown: Any) -> Any:  # fmt: skip
        if rendered is None:
            raise PreventUpdate  # the controls have not been filled yet
        prop_ids = list(ctx.triggered_prop_ids)
        fired = triggered_params(prop_ids) | committed_slider(commit, prop_ids)
        controls = form_from(form)
        cfg = config_from_controls(controls, numbers_from(numbers, sliders), cards_from(cards), fired, points)
        rerendered = any(p.startswith(Ids.RENDERED.value + ".") for p in prop_ids)
        out = collect_answer(cfg, controls, shown_from(shown), rerendered, points)
        if out is None:
            raise PreventUpdate
        return out

    @app.callback(
        output=dict(points=Output(Ids.POINTS, "data", allow_duplicate=True), error=Output(Ids.UPLOAD_ERROR, "children")),
        inputs=dict(contents=Input(Ids.UPLOAD, "contents")),
        state=dict(filename=State(Ids.UPLOAD, "filename"), store=State(Ids.CONFIG, "data")),
        prevent_initial_call=True,
    )  # fmt: skip
    def upload_points(contents: Any, filename: Any, store: Any) -> dict[str, Any]:
        if contents is None:
            raise PreventUpdate
        out = upload_answer(contents, filename, config_from_store(store))
        return {"points": out["points"] if out["points"] is not None else no_update, "error": out["error"]}

    @app.callback(
        output=dict(download=Output(Ids.DOWNLOAD, "data")),
        inputs=dict(clicks=Input(Ids.DOWNLOAD_BUTTON, "n_clicks")),
        state=dict(store=State(Ids.CONFIG, "data")),
        prevent_initial_call=True,
    )  # fmt: skip
    def download_points(clicks: Any, store: Any) -> dict[str, Any]:
        cfg = config_from_store(store)
        if not clicks or cfg is None or not cfg.is_data:
            raise PreventUpdate
        try:
            data = download_answer(build_surface(cfg))
        except ValueError:
            data = None
        if data is None:
            raise PreventUpdate
        return {"download": data}

    # browser-side: map click -> start, payload -> engine
    # a slider and its exact number are kept in step by assets/explorer.js (a settled slider sets its
    # number and commits; a typed number moves its slider and commits)
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE_NAMESPACE, "clickStart"),
        Output(Ids.START_X, "value", allow_duplicate=True),
        Output(Ids.START_Y, "value", allow_duplicate=True),
        Input(Ids.CLICK, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE_NAMESPACE, "loadPayload"),
        Output(Ids.ENGINE_SINK, "data"),
        Input(Ids.PAYLOAD, "data"),
        prevent_initial_call=True,
    )
    # the server-rendered page's payload: no callback writes this store, so its initial call
    # runs at once instead of waiting for the callback chain of the first render
    app.clientside_callback(
        ClientsideFunction(CLIENTSIDE_NAMESPACE, "loadPayload"),
        Output(Ids.ENGINE_SINK_FIRST, "data"),
        Input(Ids.PAYLOAD_FIRST, "data"),
    )


__all__ = ["collect_answer", "config_from_store", "controls_answer", "corrections", "register_callbacks"]
