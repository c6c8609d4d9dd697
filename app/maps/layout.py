"""The Sweep maps page's layout: the skeleton of controls, toolbar, map and pixel panel, and
every control's value for a configuration.

:func:`build_layout` builds the empty page; :func:`controls_for` gives each control's value for
a :class:`~app.maps.state.MapConfig` (keyed like :data:`RENDER_OUTPUTS`, which the render callback
writes); :func:`page` fills the skeleton for one configuration and :func:`layout` for a URL's query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import dcc, html

from app.explorer.state import FORMULA
from app.maps.export_control import export_control
from app.maps.figures import SHOW_LABELS
from app.maps.ids import Ids, hf_id, hp_id, preset_id, sp_id
from app.maps.live import ROUTE as LIVE_ROUTE
from app.maps.live import SLIDER_POSITIONS
from app.maps.pixels import pixel_panel
from app.maps.presets import PRESETS, lesson_for
from app.maps.state import (
    KIND_LABELS,
    WORK_BUDGET,
    MapConfig,
    map_from_query,
    numeric_params,
    request_data,
    state_data,
)
from app.maps.wording import axis_title, millions, short_value, thousands
from app.shell import style
from app.shell.header import page_links
from app.shell.theme import theme_switch
from app.shell.skip import skip_link
from app.shell.tree import dom_id, fill
from app.shell.validation import symbol_text
from optimizers.maps import MAX_GRID, MAX_MAP_STEPS
from optimizers.modifiers import CLIP_MODES
from optimizers.registry import SPECS as OPTIMIZER_LIST
from surfaces.catalog import SPECS as SURFACE_LIST

#: the page's path and its title in the header
PATH = "/maps"
TITLE = "Sweep maps"


# --------------------------------------------------------------------------- controls


def _number(cid: Any, value: Any, *, lo: float | None = None, hi: float | None = None, step: Any = "any",
            label: str = "", cls: str = "maps-num") -> dcc.Input:  # fmt: skip
    """A number input (``label`` becomes its placeholder; every input also has a <label> or a row title)."""
    kw: dict[str, Any] = {}
    if lo is not None:
        kw["min"] = lo
    if hi is not None:
        kw["max"] = hi
    if label:
        kw["placeholder"] = label
    return dcc.Input(id=cid, type="number", value=value, step=step, debounce=True, className=cls, **kw)


def _row(label: str, control: Any, cid: Any, hint: str = "", sub: str = "") -> html.Div:
    return html.Div(
        className="maps-row",
        title=hint or None,
        children=[
            html.Label([label, html.Span(sub, className="maps-sub") if sub else None], htmlFor=dom_id(cid),
                       className="maps-label"),
            control,
        ],
    )  # fmt: skip


def surface_param_rows(cfg: MapConfig) -> list[Any]:
    """A number input per parameter of the map's built-in surface (none for a formula)."""
    spec = cfg.base.surface_spec
    if spec is None:
        return []
    values = dict(cfg.base.surface_params)
    return [
        _row({"kappa": "κ", "angle": "angle θ°"}.get(p.name, p.name),
             _number(sp_id(p.name), values[p.name], lo=p.low, hi=p.high, label=p.description),
             sp_id(p.name), hint=f"{p.description}; {p.low:g} … {p.high:g}")
        for p in spec.params
    ]  # fmt: skip


def hyper_rows(cfg: MapConfig) -> list[Any]:
    """A row per hyperparameter of the map's optimizer; the swept ones say which axis varies them."""
    entry = cfg.entry
    spec = entry.spec
    values = dict(entry.values)
    swept = cfg.swept()
    rows: list[Any] = []
    for p in spec.params:
        sym = symbol_text(p)
        sub = p.key if sym != p.key else ""
        if p.kind == "bool":
            rows.append(
                dcc.Checklist(id=hf_id(p.key), options=[{"label": f" {p.key}", "value": "on"}],
                              value=["on"] if values[p.key] else [], inline=True, className="maps-flag")
            )  # fmt: skip
        elif p.kind == "choice":
            rows.append(
                html.Div(className="maps-row", title=p.description, children=[
                    html.Span(p.key, className="maps-label"),
                    dcc.RadioItems(id=hf_id(p.key), options=[{"label": c, "value": c} for c in p.choices],
                                   value=values[p.key], inline=True, className="maps-radio"),
                ])
            )  # fmt: skip
        else:
            axis = "x" if swept and p.key == swept[0] else "y" if swept and p.key == swept[1] else ""
            control = _number(hp_id(p.key), values[p.key], lo=p.low, hi=p.high,
                              step=1 if p.kind == "int" else "any", label=p.description)  # fmt: skip
            if axis:
                control.disabled = True
                control.placeholder = f"{axis} axis"
                control.value = None
            hint = f"{p.description}; valid {p.describe_range()}" + (f"; swept by the {axis} axis" if axis else "")
            rows.append(_row(sym, control, hp_id(p.key), hint=hint, sub=sub))
    return rows


def axis_options(cfg: MapConfig) -> list[dict[str, str]]:
    """The settings an axis may vary: the optimizer's numeric hyperparameters."""
    return [{"label": axis_title(p), "value": p.key} for p in numeric_params(cfg.spec)]


def notice_children(notes: tuple[str, ...] | list[str]) -> list[Any]:
    """The notice listing what was repaired (empty when nothing was)."""
    if not notes:
        return []
    return [html.Strong("Some settings could not be used and were replaced: "), html.Ul([html.Li(n) for n in notes])]


def work_text(cfg: MapConfig) -> tuple[str, str]:
    """The work estimate under the grid and steps, and its class (ok | over)."""
    text = f"{thousands(cfg.runs)} runs × up to {cfg.base.steps} steps = {millions(cfg.work)} steps"
    if cfg.work > WORK_BUDGET:
        return text + f": over the limit of {millions(WORK_BUDGET)}.", "maps-work over"
    return text + f" (limit {millions(WORK_BUDGET)}).", "maps-work"


def schedule_note(cfg: MapConfig) -> str:
    """The learning-rate schedule a link carried (the form does not edit it), or ""."""
    b = cfg.base
    if b.schedule == "constant":
        return ""
    params = ", ".join(f"{k} = {short_value(v)}" for k, v in b.schedule_params)
    return f"Learning-rate schedule from the link: {b.schedule} ({params})."


#: outputs of render, in order (component id, property)
RENDER_OUTPUTS: tuple[tuple[Any, str], ...] = (
    (Ids.KIND, "value"), (Ids.SHOW, "value"), (Ids.GRID, "value"), (Ids.STEPS, "value"),
    (Ids.SURFACE, "value"), (Ids.SURFACE_PARAMS, "children"), (Ids.FORMULA_BOX, "hidden"), (Ids.FORMULA, "value"),
    (Ids.XMIN, "value"), (Ids.XMAX, "value"), (Ids.YMIN, "value"), (Ids.YMAX, "value"),
    (Ids.OPTIMIZER, "value"), (Ids.HYPER, "children"), (Ids.CONVENTION, "children"),
    (Ids.AXES_BOX, "hidden"), (Ids.AX_KEY, "options"), (Ids.AX_KEY, "value"), (Ids.AX_LOW, "value"),
    (Ids.AX_HIGH, "value"), (Ids.AX_LOG, "value"), (Ids.AY_KEY, "options"), (Ids.AY_KEY, "value"),
    (Ids.AY_LOW, "value"), (Ids.AY_HIGH, "value"), (Ids.AY_LOG, "value"),
    (Ids.START_X, "value"), (Ids.START_Y, "value"),
    (Ids.NOISE, "value"), (Ids.SEED, "value"), (Ids.CLIP, "value"), (Ids.CLIP_VALUE, "value"), (Ids.BATCH, "value"),
    (Ids.SCHEDULE_NOTE, "children"), (Ids.LESSON, "children"),
)  # fmt: skip


def convention_text(spec: Any) -> list[Any]:
    """The rule's convention and the source it follows (the Explorer's card says both too)."""
    return [spec.convention, " ", html.Strong("Source: "), spec.source, "."]


def controls_for(cfg: MapConfig) -> dict[tuple[Any, str], Any]:
    """Every control's value for ``cfg`` (keyed like :data:`RENDER_OUTPUTS`)."""
    b = cfg.base
    x0, x1, y0, y1 = b.box
    return {
        (Ids.KIND, "value"): cfg.kind,
        (Ids.SHOW, "value"): cfg.show,
        (Ids.GRID, "value"): cfg.grid,
        (Ids.STEPS, "value"): b.steps,
        (Ids.SURFACE, "value"): b.surface,
        (Ids.SURFACE_PARAMS, "children"): surface_param_rows(cfg),
        (Ids.FORMULA_BOX, "hidden"): not b.is_formula,
        (Ids.FORMULA, "value"): b.formula,
        (Ids.XMIN, "value"): x0,
        (Ids.XMAX, "value"): x1,
        (Ids.YMIN, "value"): y0,
        (Ids.YMAX, "value"): y1,
        (Ids.OPTIMIZER, "value"): cfg.entry.name,
        (Ids.HYPER, "children"): hyper_rows(cfg),
        (Ids.CONVENTION, "children"): convention_text(cfg.spec),
        (Ids.AXES_BOX, "hidden"): cfg.kind != "hyper",
        (Ids.AX_KEY, "options"): axis_options(cfg),
        (Ids.AX_KEY, "value"): cfg.x_axis.key,
        (Ids.AX_LOW, "value"): cfg.x_axis.low,
        (Ids.AX_HIGH, "value"): cfg.x_axis.high,
        (Ids.AX_LOG, "value"): ["log"] if cfg.x_axis.log else [],
        (Ids.AY_KEY, "options"): axis_options(cfg),
        (Ids.AY_KEY, "value"): cfg.y_axis.key,
        (Ids.AY_LOW, "value"): cfg.y_axis.low,
        (Ids.AY_HIGH, "value"): cfg.y_axis.high,
        (Ids.AY_LOG, "value"): ["log"] if cfg.y_axis.log else [],
        (Ids.START_X, "value"): b.start[0],
        (Ids.START_Y, "value"): b.start[1],
        (Ids.NOISE, "value"): b.noise,
        (Ids.SEED, "value"): b.seed,
        (Ids.CLIP, "value"): b.clip,
        (Ids.CLIP_VALUE, "value"): b.clip_value,
        (Ids.BATCH, "value"): b.batch_size,
        (Ids.SCHEDULE_NOTE, "children"): schedule_note(cfg),
        (Ids.LESSON, "children"): lesson_for(cfg),
    }


# --------------------------------------------------------------------------- the page


def _section(title: str, children: list[Any], open_: bool = True, **kw: Any) -> html.Details:
    return html.Details([html.Summary(title)] + children, open=open_, className="maps-panel", **kw)


def _radio(cid: Ids, options: Mapping[str, str]) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=cid, options=[{"label": v, "value": k} for k, v in options.items()], className="maps-radio"
    )


def _axis_row(label: str, key: Ids, low: Ids, high: Ids, log: Ids) -> html.Div:
    return html.Div(className="maps-axis", children=[
        html.Label(label, htmlFor=str(key), className="maps-label"),
        dcc.Dropdown(id=key, clearable=False, searchable=False, className="maps-axis-key"),
        html.Div(className="maps-axis-range", children=[
            html.Label("from", htmlFor=str(low)), _number(low, None, label=f"{label}: from"),
            html.Label("to", htmlFor=str(high)), _number(high, None, label=f"{label}: to"),
            dcc.Checklist(id=log, options=[{"label": " log", "value": "log"}], inline=True, className="maps-flag"),
        ]),
    ])  # fmt: skip


def build_layout() -> html.Div:
    """The page's skeleton; :func:`layout` fills it for a configuration."""
    surfaces = [{"label": s.display_name, "value": s.name} for s in SURFACE_LIST]
    surfaces.append({"label": "✎ Type a formula…", "value": FORMULA})
    optimizers = [{"label": s.display_name, "value": s.name} for s in OPTIMIZER_LIST]
    controls = [
        _section("Map", [
            _radio(Ids.KIND, KIND_LABELS),
            html.Div(className="maps-grid-row", children=[
                html.Label("grid", htmlFor=str(Ids.GRID), className="maps-label"),
                _number(Ids.GRID, None, lo=2, hi=MAX_GRID, step=1, label="pixels per side"),
                html.Label("steps", htmlFor=str(Ids.STEPS), className="maps-label"),
                _number(Ids.STEPS, None, lo=1, hi=MAX_MAP_STEPS, step=1, label="steps per run"),
            ]),
            html.P(id=Ids.WORK, className="maps-work"),
            html.Div(className="maps-row", children=[
                html.Span("colour by", className="maps-label"), _radio(Ids.SHOW, SHOW_LABELS),
            ]),
        ]),
        _section("Surface", [
            dcc.Dropdown(id=Ids.SURFACE, options=surfaces, clearable=False, searchable=False),
            html.Div(id=Ids.FORMULA_BOX, hidden=True, className="maps-formula-box", children=[
                html.Label("f(x, y) =", htmlFor=str(Ids.FORMULA)),
                dcc.Input(id=Ids.FORMULA, type="text", debounce=True, maxLength=500, spellCheck=False,
                          className="maps-formula"),
                html.Div(className="maps-box-row", children=[
                    html.Span("box", className="maps-label"),
                    *[_number(i, None, label=p, cls="maps-num maps-box") for i, p in
                      ((Ids.XMIN, "xmin"), (Ids.XMAX, "xmax"), (Ids.YMIN, "ymin"), (Ids.YMAX, "ymax"))],
                ]),
            ]),
            html.Div(id=Ids.SURFACE_PARAMS, className="maps-params"),
        ]),
        _section("Axes and start", [
            _axis_row("x axis", Ids.AX_KEY, Ids.AX_LOW, Ids.AX_HIGH, Ids.AX_LOG),
            _axis_row("y axis", Ids.AY_KEY, Ids.AY_LOW, Ids.AY_HIGH, Ids.AY_LOG),
            html.Div(className="maps-start-row", children=[
                html.Span("start", className="maps-label"),
                html.Label("x₀", htmlFor=str(Ids.START_X)), _number(Ids.START_X, None, label="start x"),
                html.Label("y₀", htmlFor=str(Ids.START_Y)), _number(Ids.START_Y, None, label="start y"),
            ]),
        ], id=Ids.AXES_BOX),
        _section("Optimizer", [
            dcc.Dropdown(id=Ids.OPTIMIZER, options=optimizers, clearable=False, searchable=False),
            html.Div(id=Ids.HYPER, className="maps-params"),
            html.P(id=Ids.CONVENTION, className="maps-hint"),
        ]),
        _section("Modifiers", [
            html.Div(className="maps-row", children=[
                html.Span("clip ∇f", className="maps-label"),
                dcc.RadioItems(id=Ids.CLIP, options=[{"label": c, "value": c} for c in CLIP_MODES], inline=True,
                               className="maps-radio"),
            ]),
            html.Div(className="maps-row", children=[
                html.Label("clip at", htmlFor=str(Ids.CLIP_VALUE), className="maps-label"),
                _number(Ids.CLIP_VALUE, None, lo=1e-6, label="clipping threshold"),
            ]),
            html.Div(className="maps-row", children=[
                html.Label("noise σ", htmlFor=str(Ids.NOISE), className="maps-label"),
                _number(Ids.NOISE, None, lo=0, label="gradient noise σ"),
                html.Label("seed", htmlFor=str(Ids.SEED), className="maps-label"),
                _number(Ids.SEED, None, lo=0, step=1, label="noise seed"),
            ]),
            html.Div(className="maps-row", children=[
                html.Label("batch size", htmlFor=str(Ids.BATCH), className="maps-label"),
                _number(Ids.BATCH, None, lo=0, step=1, label="minibatch size (data surfaces; 0: the full batch)"),
            ]),
            html.P(id=Ids.SCHEDULE_NOTE, className="maps-hint"),
            html.P("First-order methods only; every run of a map draws the same noise and, on a data surface, "
                   "the same minibatches (0: the full batch).", className="maps-hint"),
        ], open_=False),
        export_control(),
    ]  # fmt: skip

    toolbar = html.Div(className="maps-toolbar", children=[
        html.Button("▶ Compute map", id=Ids.RUN, className="maps-btn", title="Compute the map for these settings"),
        html.Button("Cancel", id=Ids.CANCEL, className="maps-btn secondary", disabled=True,
                    title="Stop the computation"),
        html.Div(id=Ids.PROGRESS_BOX, hidden=True, className="maps-progress-box", children=[
            html.Progress(id=Ids.PROGRESS, value="0", max="100", className="maps-progress",
                          **{"aria-label": "map progress"}),
            html.Span(id=Ids.PROGRESS_TEXT, className="maps-progress-text", role="status"),
        ]),
        html.Span(id=Ids.STATUS, className="maps-status", role="status", **{"aria-live": "polite"}),
    ])  # fmt: skip

    side = html.Aside(className="maps-side", children=[
        html.H3("This pixel", className="maps-side-title"),
        html.Div(id=Ids.PIXEL, className="maps-pixel", **{"aria-live": "polite"}, children=pixel_panel(None)),
        html.Div(className="maps-pick", children=[
            html.Label("x₀", id=Ids.PICK_LABEL_X, htmlFor=str(Ids.PICK_X)), _number(Ids.PICK_X, None, label="pixel x"),
            html.Label("y₀", id=Ids.PICK_LABEL_Y, htmlFor=str(Ids.PICK_Y)), _number(Ids.PICK_Y, None, label="pixel y"),
            html.Button("Find", id=Ids.PICK, className="maps-btn secondary", title="Find the pixel nearest these values"),
        ]),
        html.P(id=Ids.EXPLAIN, className="maps-explain"),
    ])  # fmt: skip

    view = html.Main(id=Ids.VIEW, className="maps-view", tabIndex="-1", children=[
        toolbar,
        html.Div(className="maps-map-row", children=[
            live_panel(),  # above the map, or under it on a phone (assets/maps.css places it)
            html.Div(className="maps-graph-wrap", children=[
                html.P(id=Ids.GRAPH_CAPTION, className="maps-graph-caption"),  # filled by assets/maps.js
                dcc.Graph(id=Ids.GRAPH, className="maps-graph", figure=style.message_figure("Computing the map…"),
                          config={"displaylogo": False, "responsive": True, "scrollZoom": False,
                                  "modeBarButtonsToRemove": ["lasso2d", "select2d"]}),
            ]),
            side,
        ]),
    ])  # fmt: skip

    header = html.Header(className="maps-top", children=[
        html.Div(className="maps-brand", children=[html.H1("Descent Lab"), html.Span(TITLE, className="maps-sub-title")]),
        page_links(PATH, "maps-pages", "maps-page-link"),
        theme_switch(),
        html.Nav(id=Ids.PRESETS, className="maps-presets", **{"aria-label": "Map lessons"},
                 children=[html.Span("Lessons:", className="maps-presets-label")]
                 + [html.Button(p.title, id=preset_id(p.name), className="maps-preset", title=p.lesson)
                    for p in PRESETS]),
    ])  # fmt: skip

    return html.Div(id=Ids.ROOT, className="maps-app", children=[
        skip_link(Ids.VIEW, "Skip to the map"),
        dcc.Store(id=Ids.STATE),
        dcc.Store(id=Ids.REQUEST),
        dcc.Store(id=Ids.JOB_REQUEST),
        dcc.Store(id=Ids.META),
        dcc.Store(id=Ids.URL_SINK),
        dcc.Store(id=Ids.LIVE_INFO),
        dcc.Store(id=Ids.LIVE_COMMIT),
        dcc.Store(id=Ids.LIVE_SINK),
        dcc.Store(id=Ids.CAPTION_SINK),
        header,
        html.Div(id=Ids.NOTICE, className="maps-notice", role="alert", hidden=True),
        html.P(id=Ids.LESSON, className="maps-lesson"),
        html.Div(className="maps-main", children=[html.Div(controls, className="maps-sidebar"), view]),
    ])  # fmt: skip


def live_panel() -> html.Div:
    """Drag one setting and watch the map follow (a coarse preview while dragging, the full map on release).
    The slider's label is its readout ("η = 0.5", written by assets/maps_live.js)."""
    return html.Div(id=Ids.LIVE, className="maps-live", role="group", **{"aria-label": "Drag a setting",
                                                                         "data-route": LIVE_ROUTE}, children=[
        html.Label("Drag", htmlFor=str(Ids.LIVE_SETTING), className="maps-live-title"),
        html.Div(dcc.Dropdown(id=Ids.LIVE_SETTING, options=[], value=None, clearable=False, searchable=False,
                              className="maps-live-setting"), className="maps-live-setting-box",
                 title="The setting the slider drags"),
        dcc.Input(id=Ids.LIVE_SLIDER, type="range", min=0, max=SLIDER_POSITIONS, step=1,
                  value=SLIDER_POSITIONS // 2, className="maps-live-slider"),
        html.Label("value", id=Ids.LIVE_VALUE, htmlFor=str(Ids.LIVE_SLIDER), className="maps-live-value"),
        html.Span(id=Ids.LIVE_STATUS, className="maps-hint maps-live-status",
                  children="The map follows while you drag; the full map is computed when you let go."),
    ])  # fmt: skip


def page(cfg: MapConfig) -> html.Div:
    """The page already showing ``cfg``'s controls; the map itself is computed by the first request."""
    root = build_layout()
    values = dict(controls_for(cfg))
    work, work_cls = work_text(cfg)
    values.update({
        (Ids.STATE, "data"): state_data(cfg),
        (Ids.REQUEST, "data"): request_data(cfg, nonce=0),
        (Ids.NOTICE, "children"): notice_children(cfg.notes),
        (Ids.NOTICE, "hidden"): not cfg.notes,
        (Ids.WORK, "children"): work,
        (Ids.WORK, "className"): work_cls,
    })  # fmt: skip
    return fill(root, values)


def layout(query: dict[str, str] | None = None) -> html.Div:
    """The page for a URL's query parameters (a plain dict); a hostile query gives the default map and a notice."""
    return page(map_from_query(query or {}))
