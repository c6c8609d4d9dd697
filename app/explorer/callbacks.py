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

The functions above ``register_callbacks`` are plain functions of plain values,
so the tests call them directly.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from app.shell.style import message_figure
from app.explorer.ids import Group, Ids, Kind, card_id, num_id, slider_id
from app.explorer.layout import RENDER_OUTPUTS, controls_for, html_notice_controls, views_for
from app.explorer.presets import get_preset
from app.explorer.state import DEFAULT, FORMULA, MAX_OPTIMIZERS, ExplorerConfig, from_query, sanitize, slider_value, to_query

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- pure logic


def config_from_store(data: Any) -> ExplorerConfig | None:
    """The configuration kept in the browser's store (untrusted: sanitized again)."""
    if not isinstance(data, dict) or not isinstance(data.get("cfg"), dict):
        return None
    return sanitize(data["cfg"])


def apply_action(trigger: Any, value: Any, search: str | None, store: Any, add_choice: Any) -> ExplorerConfig | None:
    """The configuration after a structural action; None when nothing should change.

    ``trigger`` is the id that fired (None on the first call), ``value`` its new
    property value (n_clicks for buttons, the value for dropdowns).
    """
    current = config_from_store(store)
    if trigger is None or trigger == Ids.URL:
        return from_query(search)
    base = current or from_query(search)
    if isinstance(trigger, dict):
        kind = trigger.get("type")
        if not value:  # a button that has not been clicked (it was just created)
            return None
        if kind == Kind.PRESET:
            preset = get_preset(trigger.get("name"))
            return preset.config if preset else None
        slot = trigger.get("slot")
        if not isinstance(slot, int):
            return None
        if kind == Kind.REMOVE:
            return base.without(slot)
        if kind == Kind.DUPLICATE:
            return base.duplicated(slot)
        return None
    if trigger == Ids.ADD:
        if not value or not isinstance(add_choice, str):
            return None
        return base.with_optimizer(add_choice) if len(base.optimizers) < MAX_OPTIMIZERS else None
    if trigger == Ids.SURFACE:
        if value == base.surface or not isinstance(value, str):
            return None
        return base.with_surface(value) if _known_surface(value) else None
    if trigger == Ids.SCHEDULE:
        if value == base.schedule or not isinstance(value, str):
            return None
        return sanitize({"schedule": value, "schedule_params": {}}, base=base)
    return None


def tex_for(metas: list[Any], rules: list[Any], surface_tex: Any, store: Any) -> tuple[Any, Any]:
    """Rules for the cards (by their optimizer names) and the surface formula, where still missing."""
    from app.explorer.compute import build_surface
    from app.explorer.layout import rule_tex, surface_tex as tex

    names = [m.get("name") if isinstance(m, dict) else None for m in metas or []]
    from optimizers.registry import BY_NAME

    new_rules = [rule_tex(n) if n in BY_NAME and not r else no_update for n, r in zip(names, rules or [], strict=False)]
    formula = no_update
    cfg = config_from_store(store)
    if not surface_tex and cfg is not None:
        try:
            formula = tex(build_surface(cfg).latex)
        except ValueError:
            formula = no_update
    return new_rules, formula


#: plain inputs whose shown value is replaced by the value actually used when it had to be repaired
CORRECTABLE = (Ids.STEPS, Ids.START_X, Ids.START_Y, Ids.NOISE, Ids.SEED, Ids.CLIP_VALUE)


def corrections(cfg: ExplorerConfig, shown: dict[Any, Any]) -> list[Any]:
    """The used value for every input of :data:`CORRECTABLE` that shows something else (else no_update)."""
    used = {Ids.STEPS: cfg.steps, Ids.START_X: cfg.start[0], Ids.START_Y: cfg.start[1], Ids.NOISE: cfg.noise,
            Ids.SEED: cfg.seed, Ids.CLIP_VALUE: cfg.clip_value}  # fmt: skip
    out = []
    for key in CORRECTABLE:
        v = shown.get(key)
        same = isinstance(v, (int, float)) and not isinstance(v, bool) and v == used[key]
        out.append(no_update if same else used[key])
    return out


def page_shows(cfg: ExplorerConfig, store: Any, notice_hidden: Any) -> bool:
    """Whether the server-rendered page already shows ``cfg`` (and its notice, if it has one)."""
    return cfg == config_from_store(store) and (not cfg.notes or notice_hidden is False)


def _known_surface(name: str) -> bool:
    from surfaces.catalog import BY_NAME

    return name == FORMULA or name in BY_NAME


def _param_key(cid: Any) -> tuple[Any, Any, Any] | None:
    if not isinstance(cid, dict):
        return None
    return cid.get("group"), cid.get("slot"), cid.get("key")


def _agrees(num: Any, s: float, smin: float, smax: float, step: float, scale: str) -> bool:
    """Whether the exact number and the slider show the same setting (within half a slider step)."""
    if not isinstance(num, (int, float)) or isinstance(num, bool) or not math.isfinite(num):
        return False
    if scale == "log":
        if num <= 0:
            return s <= smin + step / 2
        pos = math.log10(num)
    else:
        pos = float(num)
    pos = min(max(pos, smin), smax)
    return abs(pos - s) <= step / 2 + 1e-9


def resolve_numbers(
    nums: list[Any],
    num_ids: list[Any],
    sliders: list[Any],
    slider_ids: list[Any],
    limits: list[tuple[Any, Any, Any]],
    triggered: set[tuple[str, Any, Any, Any]],
) -> list[Any]:
    """The value of every numeric parameter, aligned with ``num_ids``.

    Each parameter has a slider and an exact number input, kept in step in the
    browser (typing a number moves the slider).  Only the sliders trigger the
    computation, so a slider move is computed at once, without waiting for the
    number to follow: when the slider has just moved and the number does not (yet)
    agree with it, the slider wins; otherwise the exact number does.
    ``triggered`` holds (type, group, slot, key) of what fired.
    """
    by_key = {}
    for value, cid, lim in zip(sliders or [], slider_ids or [], limits or [], strict=False):
        k = _param_key(cid)
        if k is not None:
            by_key[k] = (value, cid.get("scale"), lim)
    out = []
    for num, cid in zip(nums or [], num_ids or [], strict=False):
        k = _param_key(cid)
        hit = by_key.get(k) if k is not None else None
        if hit is None or ("num",) + k in triggered or ("slider",) + k not in triggered:  # type: ignore[operator]
            out.append(num)
            continue
        s, scale, (smin, smax, step) = hit
        ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (s, smin, smax, step))
        if not ok or _agrees(num, s, smin, smax, step, scale):
            out.append(num)
        else:
            out.append(slider_value(s, scale))
    return out


def triggered_params(prop_ids: Any) -> set[tuple[str, Any, Any, Any]]:
    """(type, group, slot, key) of every numeric control among Dash's triggered prop ids."""
    out = set()
    for pid in prop_ids or ():
        text = pid.rsplit(".", 1)[0] if isinstance(pid, str) else ""
        if not text.startswith("{"):
            continue
        try:
            cid = json.loads(text)
        except ValueError:
            continue
        if isinstance(cid, dict) and cid.get("type") in (Kind.NUM.value, Kind.SLIDER.value):
            out.add((cid["type"], cid.get("group"), cid.get("slot"), cid.get("key")))
    return out


def committed_slider(commit: Any, prop_ids: Any) -> set[tuple[str, Any, Any, Any]]:
    """(type, group, slot, key) of the slider the page committed, when the commit triggered this call."""
    if not any(isinstance(p, str) and p.startswith(Ids.SLIDER_COMMIT.value + ".") for p in prop_ids or ()):
        return set()
    cid = commit.get("id") if isinstance(commit, dict) else None
    if not isinstance(cid, dict) or cid.get("type") != Kind.SLIDER.value:
        return set()
    group, slot, key = cid.get("group"), cid.get("slot"), cid.get("key")
    if not (isinstance(group, str) and isinstance(slot, int) and isinstance(key, str)):
        return set()
    return {(Kind.SLIDER.value, group, slot, key)}


def config_from_controls(
    surface: Any,
    nums: list[Any],
    num_ids: list[Any],
    flags: list[Any],
    flag_ids: list[Any],
    metas: list[Any],
    formula: Any,
    box: list[Any],
    start: list[Any],
    steps: Any,
    schedule: Any,
    clip: Any,
    clip_value: Any,
    noise: Any,
    seed: Any,
    view: Any,
    arrows: Any,
) -> ExplorerConfig:
    """Assemble the controls' values into a raw mapping and sanitize it."""
    surface_params: dict[str, Any] = {}
    schedule_params: dict[str, Any] = {}
    per_slot: dict[int, dict[str, Any]] = {}
    for value, cid in zip(nums or [], num_ids or [], strict=False):
        if not isinstance(cid, dict):
            continue
        group, slot, key = cid.get("group"), cid.get("slot"), cid.get("key")
        if group == Group.SURFACE:
            surface_params[key] = value
        elif group == Group.SCHEDULE:
            schedule_params[key] = value
        elif group == Group.HYPER and isinstance(slot, int):
            per_slot.setdefault(slot, {})[key] = value
    for value, cid in zip(flags or [], flag_ids or [], strict=False):
        if isinstance(cid, dict) and isinstance(cid.get("slot"), int):
            per_slot.setdefault(cid["slot"], {})[cid.get("key")] = value
    optimizers = []
    for slot, meta in enumerate(metas or []):
        if not isinstance(meta, dict):
            continue
        values = {k: v for k, v in per_slot.get(slot, {}).items() if v is not None}
        optimizers.append({"name": meta.get("name"), "color": meta.get("color"), "values": values})
    raw: dict[str, Any] = {
        "surface": surface,
        "surface_params": {k: v for k, v in surface_params.items() if v is not None},
        "formula": formula if formula is not None else "",
        "box": list(box),
        "start": list(start),
        "steps": steps,
        "optimizers": optimizers,
        "schedule": schedule,
        "schedule_params": {k: v for k, v in schedule_params.items() if v is not None},
        "clip": clip,
        "clip_value": clip_value,
        "noise": noise if noise is not None else 0.0,
        "seed": seed if seed is not None else 0,
        "view": view,
        "arrows": arrows,
    }
    for key in ("steps", "clip_value"):
        if raw[key] is None:
            del raw[key]
    if any(v is None for v in raw["box"]):
        del raw["box"]
    if any(v is None for v in raw["start"]):
        del raw["start"]
    return sanitize(raw)


# --------------------------------------------------------------------------- wiring


def register_callbacks(app: Dash) -> None:
    """Attach every callback of the Explorer to ``app``."""

    num_all = {"type": Kind.NUM.value, "group": ALL, "slot": ALL, "key": ALL, "scale": ALL}
    slider_all = {"type": Kind.SLIDER.value, "group": ALL, "slot": ALL, "key": ALL, "scale": ALL}
    flag_all = {"type": Kind.FLAG.value, "slot": ALL, "key": ALL}

    @app.callback(
        [Output(cid, prop, allow_duplicate=cid in (Ids.NOTICE, Ids.START_X, Ids.START_Y)) for cid, prop in RENDER_OUTPUTS],
        Input(Ids.URL, "search"),
        Input({"type": Kind.PRESET.value, "name": ALL}, "n_clicks"),
        Input(Ids.ADD, "n_clicks"),
        Input(card_id(Kind.REMOVE, ALL), "n_clicks"),  # type: ignore[arg-type]
        Input(card_id(Kind.DUPLICATE, ALL), "n_clicks"),  # type: ignore[arg-type]
        Input(Ids.SURFACE, "value"),
        Input(Ids.SCHEDULE, "value"),
        State(Ids.CONFIG, "data"),
        State(Ids.ADD_CHOICE, "value"),
        State(Ids.BOOT, "data"),
        State(Ids.NOTICE, "hidden"),
        prevent_initial_call="initial_duplicate",
    )
    def render_controls(search, _presets, _add, _remove, _dup, _surface, _schedule, store, add_choice, booted,
                        notice_hidden):  # fmt: skip
        trigger = ctx.triggered_id
        if trigger is None and booted:
            raise PreventUpdate  # new components appeared; nothing was asked for
        # the first call of a page load: Dash's own initial call, or the URL bar reporting the page's address
        first = not booted and trigger in (None, Ids.URL)
        value = ctx.triggered[0]["value"] if ctx.triggered and trigger is not None else None
        try:
            cfg = apply_action(trigger, value, search, store, add_choice)
        except Exception:  # a bug must not leave the page without controls: fall back to the default view
            logger.exception("could not apply %r", trigger)
            cfg = DEFAULT
        if cfg is None:
            raise PreventUpdate
        if first and page_shows(cfg, store, notice_hidden):
            return [no_update] * (len(RENDER_OUTPUTS) - 1) + [True]
        values = controls_for(cfg)
        values[(Ids.BOOT, "data")] = True if first else no_update
        return [values[o] for o in RENDER_OUTPUTS]

    @app.callback(
        Output(card_id(Kind.RULE, ALL), "children"),  # type: ignore[arg-type]
        Output(Ids.SURFACE_TEX, "children"),
        Input(Ids.BOOT, "data"),
        Input(Ids.TEX_READY, "data"),
        State(card_id(Kind.CARD_META, ALL), "data"),  # type: ignore[arg-type]
        State(card_id(Kind.RULE, ALL), "children"),  # type: ignore[arg-type]
        State(Ids.SURFACE_TEX, "children"),
        State(Ids.CONFIG, "data"),
        prevent_initial_call=True,
    )
    def fill_tex(booted, tex_ready, metas, rules, surface_tex, store):
        """Once the page is booted and its first map painted: the MathJax parts the server-rendered
        page left out (typesetting them first would hold the map back by about a second)."""
        if not booted or not tex_ready:
            raise PreventUpdate
        return tex_for(metas, rules, surface_tex, store)

    @app.callback(
        Output(Ids.CONFIG, "data"),
        Output(Ids.PAYLOAD, "data"),
        Output(Ids.MAP, "figure"),
        Output(Ids.MAP_META, "data"),
        Output(Ids.SURFACE_INFO, "children"),
        Output(Ids.FORMULA_ERROR, "children"),
        Output(Ids.NOTICE, "children", allow_duplicate=True),
        Output(Ids.NOTICE, "hidden", allow_duplicate=True),
        *[Output(i, "value", allow_duplicate=True) for i in CORRECTABLE],
        Input(Ids.RENDERED, "data"),
        Input(Ids.SURFACE, "value"),
        Input(Ids.SLIDER_COMMIT, "data"),  # sliders are read as State: the page commits a settled move
        Input(flag_all, "value"),
        Input(card_id(Kind.CARD_META, ALL), "data"),  # type: ignore[arg-type]
        Input(Ids.FORMULA, "value"),
        Input(Ids.XMIN, "value"),
        Input(Ids.XMAX, "value"),
        Input(Ids.YMIN, "value"),
        Input(Ids.YMAX, "value"),
        Input(Ids.START_X, "value"),
        Input(Ids.START_Y, "value"),
        Input(Ids.STEPS, "value"),
        Input(Ids.SCHEDULE, "value"),
        Input(Ids.CLIP, "value"),
        Input(Ids.CLIP_VALUE, "value"),
        Input(Ids.NOISE, "value"),
        Input(Ids.SEED, "value"),
        Input(Ids.VIEW, "value"),
        Input(Ids.ARROWS, "value"),
        State(num_all, "value"),
        State(num_all, "id"),
        State(flag_all, "id"),
        State(slider_all, "id"),
        State(slider_all, "min"),
        State(slider_all, "max"),
        State(slider_all, "step"),
        State(Ids.MAP_META, "data"),
        State(Ids.FORMULA_ERROR, "children"),
        State(Ids.CONFIG, "data"),
        State(slider_all, "value"),
        prevent_initial_call=True,
    )
    def collect(rendered, surface, commit, flags, metas, formula, xmin, xmax, ymin, ymax, sx, sy, steps,
                schedule, clip, clip_value, noise, seed, view, arrows, nums, num_ids, flag_ids, slider_ids,
                smins, smaxs, ssteps, map_meta, shown_error, store, sliders):  # fmt: skip
        if rendered is None:
            raise PreventUpdate  # the controls have not been filled yet
        prop_ids = list(ctx.triggered_prop_ids)
        triggered = triggered_params(prop_ids) | committed_slider(commit, prop_ids)
        values = resolve_numbers(nums, num_ids, sliders, slider_ids, list(zip(smins, smaxs, ssteps, strict=False)),
                                 triggered)  # fmt: skip
        cfg = config_from_controls(
            surface, values, num_ids, flags, flag_ids, metas, formula, [xmin, xmax, ymin, ymax], [sx, sy], steps,
            schedule, clip, clip_value, noise, seed, view, arrows,
        )  # fmt: skip
        rerendered = any(p.startswith(Ids.RENDERED.value + ".") for p in prop_ids)
        previous = store.get("query") if isinstance(store, dict) else None
        if not rerendered and not cfg.notes and previous == to_query(cfg):
            raise PreventUpdate  # e.g. the number input catching up with its slider
        try:
            out = views_for(cfg, map_meta, rev=str(time.time_ns()))
        except Exception:  # never a server error page: say so on the map and keep the page alive
            logger.exception("could not compute the view for %s", to_query(cfg))
            return (no_update, no_update, message_figure("Something went wrong computing this view; "
                    "change a setting or pick a lesson."), {"key": None}, no_update, no_update, no_update, no_update,
                    *[no_update] * len(CORRECTABLE))  # fmt: skip
        error = out["formula_error"]
        notice, hidden = (html_notice_controls(list(cfg.notes)), False) if cfg.notes else (no_update, no_update)
        shown_values = dict(zip(CORRECTABLE, (steps, sx, sy, noise, seed, clip_value), strict=True))
        return (out["store"], out["payload"], out["map"], out["meta"], out["surface_info"],
                error if error != (shown_error or "") else no_update, notice, hidden,
                *corrections(cfg, shown_values))  # fmt: skip

    # browser-side: map click -> start, payload -> engine
    # a slider and its exact number are kept in step by assets/explorer.js (a settled slider sets its
    # number and commits; a typed number moves its slider and commits)
    app.clientside_callback(
        ClientsideFunction("descent", "clickStart"),
        Output(Ids.START_X, "value", allow_duplicate=True),
        Output(Ids.START_Y, "value", allow_duplicate=True),
        Input(Ids.CLICK, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("descent", "loadPayload"),
        Output(Ids.ENGINE_SINK, "data"),
        Input(Ids.PAYLOAD, "data"),
        prevent_initial_call=True,
    )
    # the server-rendered page's payload: no callback writes this store, so its initial call
    # runs at once instead of waiting for the callback chain of the first render
    app.clientside_callback(
        ClientsideFunction("descent", "loadPayload"),
        Output(Ids.ENGINE_SINK_FIRST, "data"),
        Input(Ids.PAYLOAD_FIRST, "data"),
    )


__all__ = [
    "apply_action",
    "config_from_controls",
    "config_from_store",
    "page_shows",
    "register_callbacks",
    "resolve_numbers",
    "triggered_params",
]
