"""The Explorer page: its skeleton, the builders for the parts that follow the configuration,
and :func:`page`, the whole page rendered for one configuration.

``controls_for`` gives every control's value for a configuration (what
``render_controls`` returns), ``views_for`` what ``collect`` returns (stores,
payload, map figure); ``page`` puts both into the skeleton, so a link opens
fully drawn without a callback round trip.

Layout: a header with the lessons, a left column of controls (surface, start
and steps, shared modifiers, optimizer cards) and the explorer view on the
right (map with its player, race board, linked diagnostics).  The view lives
in its own section of ``main.views``, so further views (e.g. basin-of-attraction
sweep maps) can sit beside it, and the map toolbar has room for export actions.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from dash import dcc, html, no_update

from app.explorer import compute
from app.explorer import figures
from app.hosting import result_cache
from app.explorer.export_bar import export_bar
from app.explorer.compute import Result
from app.shell.header import page_links
from app.shell.tree import dom_id, fill
from app.explorer.ids import Group, Ids, Kind, card_id, flag_id, num_id, preset_id, slider_id
from app.explorer.presets import PRESETS, lesson_for
from app.explorer.state import DEFAULT, FORMULA, MAX_OPTIMIZERS, MAX_STEPS, ExplorerConfig, OptimizerEntry, symbol_text, to_query
from app.shell import style
from app.shell import surface_grid
from optimizers.modifiers import CLIP_MODES, SCHEDULE_PARAMS, SCHEDULES
from optimizers.registry import SPECS as OPTIMIZER_SPECS
from surfaces.catalog import SPECS as SURFACE_SPECS

SPEEDS = (("5", "5 steps/s"), ("15", "15 steps/s"), ("30", "30 steps/s"), ("60", "60 steps/s"),
          ("120", "120 steps/s"), ("240", "240 steps/s"))  # fmt: skip
DEFAULT_SPEED = "60"

SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "exponential": "exponential decay",
                   "cosine": "cosine annealing", "cosine_restarts": "cosine with restarts", "warmup": "linear warm-up"}  # fmt: skip
CLIP_LABELS = {"none": "none", "value": "value", "norm": "norm"}


# --------------------------------------------------------------------------- numeric rows


def _nice_step(lo: float, hi: float) -> float:
    raw = (hi - lo) / 200.0
    if raw <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(raw))
    return next(m * p for m in (1, 2, 5, 10) if m * p >= raw)


def number_row(
    group: str,
    slot: int,
    key: str,
    label: str,
    value: float,
    valid: tuple[float, float],
    ui: tuple[float, float],
    *,
    log: bool = False,
    integer: bool = False,
    help: str = "",
    sub: str = "",
) -> html.Div:
    """A labelled slider plus an exact, typeable number (the number is what counts).

    On a log row the slider moves log10 of the value; the two stay in step through
    listeners in ``assets/explorer.js`` (``syncNumber``, ``numberToSlider``).  ``sub`` is a
    small second label line (the parameter's name under its symbol).
    """
    scale = "log" if log else ("int" if integer else "lin")
    lo, hi = ui
    if log:
        lo, hi = max(lo, 1e-300), max(hi, lo * 10)
        smin, smax, step = math.log10(lo), math.log10(hi), 0.01
        sval = min(max(math.log10(value), smin), smax) if value > 0 else smin
    else:
        smin, smax = lo, hi
        step = 1 if integer else _nice_step(lo, hi)
        sval = min(max(value, smin), smax)
    nid = num_id(group, slot, key, scale)
    return html.Div(
        className="num-row",
        title=help or None,
        children=[
            html.Label(label, htmlFor=dom_id(nid), className="num-label", **({"data-key": sub} if sub else {})),
            dcc.Slider(
                id=slider_id(group, slot, key, scale),
                min=smin,
                max=smax,
                step=step,
                value=sval,
                marks=None,
                updatemode="mouseup",
                allow_direct_input=False,
                className="num-slider",
            ),
            dcc.Input(  # no min/max: out-of-range values reach the server, which clamps them and says so
                id=nid,
                type="number",
                value=value,
                step=1 if integer else "any",
                debounce=True,
                className="num-input",
            ),
        ],
    )


def surface_param_rows(cfg: ExplorerConfig) -> list[Any]:
    spec = cfg.surface_spec
    if spec is None or not spec.params:
        return []
    values = dict(cfg.surface_params)
    return [
        number_row(Group.SURFACE, 0, p.name, _surface_label(p.name), values[p.name], (p.low, p.high), (p.low, p.high),
                   log=p.log, help=p.description)
        for p in spec.params
    ]  # fmt: skip


def _surface_label(name: str) -> str:
    return {"kappa": "κ", "angle": "angle θ°", "a": "a", "b": "b", "A": "A"}.get(name, name)


def schedule_param_rows(cfg: ExplorerConfig) -> list[Any]:
    values = dict(cfg.schedule_params)
    rows = []
    for name, default, lo, hi, desc in SCHEDULE_PARAMS[cfg.schedule]:
        integer = isinstance(default, int)
        ui_hi = min(hi, 2 * MAX_STEPS) if integer else min(hi, max(1.0, float(default) * 10))
        v = values.get(name, float(default))
        rows.append(
            number_row(Group.SCHEDULE, 0, name, name, int(v) if integer else v, (lo, hi), (lo, ui_hi),
                       integer=integer, help=desc)
        )  # fmt: skip
    return rows


# --------------------------------------------------------------------------- optimizer cards


def _latex_block(tex: str) -> str:
    return "$$\\begin{array}{l}" + tex + "\\end{array}$$"


def rule_tex(name: str) -> Any:
    """The update rule of optimizer ``name`` (and its textbook form) as MathJax."""
    from optimizers.registry import BY_NAME

    spec = BY_NAME[name]
    text = _latex_block(spec.rule_latex)
    if spec.textbook_rule_latex:
        text += "\n\ntextbook form:\n\n" + _latex_block(spec.textbook_rule_latex)
    return dcc.Markdown(text, mathjax=True, className="rule-tex")


def optimizer_card(entry: OptimizerEntry, index: int, total: int, with_tex: bool = True) -> html.Section:
    """A card: colour, name, copy/remove, outcome, update rule, convention and a row per hyperparameter.

    ``with_tex=False`` leaves the rule empty; the page rendered on the server does
    that so MathJax loads after the first paint (see ``fill_tex`` in callbacks).
    """
    spec = entry.spec
    col = style.color(entry.color)
    values = dict(entry.values)
    rows: list[Any] = []
    for p in spec.params:
        sym = symbol_text(p)
        if p.kind == "bool":
            rows.append(
                dcc.Checklist(id=flag_id(index, p.key), options=[{"label": f" {p.key}", "value": "on"}],
                              value=["on"] if values[p.key] else [], inline=True, className="flag-row",
                              labelClassName="flag-label")
            )  # fmt: skip
        elif p.kind == "choice":
            rows.append(
                html.Div(className="choice-row", title=p.description, children=[
                    html.Span(p.key, className="num-label"),
                    dcc.RadioItems(id=flag_id(index, p.key), options=[{"label": c, "value": c} for c in p.choices],
                                   value=values[p.key], inline=True),
                ])
            )  # fmt: skip
        else:
            rows.append(
                number_row(Group.HYPER, index, p.key, sym, values[p.key], (p.low, p.high), p.slider_range(),
                           log=p.log, integer=p.kind == "int", help=f"{p.description}; valid {p.describe_range()}",
                           sub=p.key if sym != p.key else "")
            )  # fmt: skip
    rule = [html.Div(rule_tex(entry.name) if with_tex else None, id=card_id(Kind.RULE, index), className="rule-body")]
    notes = [spec.notes] if spec.notes else []
    if not spec.first_order:
        notes.append("Schedules, clipping and gradient noise do not apply to this method.")
    full = total >= MAX_OPTIMIZERS
    return html.Section(
        className="card",
        style={"--slot": col},
        **{"aria-label": f"{spec.display_name} settings"},
        children=[
            dcc.Store(id=card_id(Kind.CARD_META, index), data={"name": entry.name, "color": entry.color}),
            html.Header(
                className="card-head",
                children=[
                    html.H3(spec.display_name, className="card-title"),
                    html.Button("copy", id=card_id(Kind.DUPLICATE, index), className="icon-btn text", disabled=full,
                                title="Race a copy with the same settings",
                                **{"aria-label": f"Duplicate {spec.display_name}"}),
                    html.Button("×", id=card_id(Kind.REMOVE, index), className="icon-btn",
                                title="Remove", **{"aria-label": f"Remove {spec.display_name}"}),
                ],
            ),  # fmt: skip
            html.Div(className="card-status", role="status", **{"data-card-status": str(entry.color)}),
            html.Details(
                open=True,
                className="rule",
                children=[html.Summary("Update rule")] + rule + [html.P(spec.convention, className="convention")],
            ),
            html.Div(rows, className="params"),
            *[html.P(n, className="card-note") for n in notes],
        ],
    )


def optimizer_cards(cfg: ExplorerConfig, with_tex: bool = True) -> list[Any]:
    if not cfg.optimizers:
        return [html.P("No optimizer yet: add one above.", className="empty-note")]
    return [optimizer_card(e, i, len(cfg.optimizers), with_tex) for i, e in enumerate(cfg.optimizers)]


def arrow_options(cfg: ExplorerConfig) -> list[dict[str, Any]]:
    opts: list[dict[str, Any]] = [{"label": "no arrows", "value": -1}]
    opts += [{"label": f"arrows: {e.label()}", "value": e.color} for e in cfg.optimizers]
    return opts


# --------------------------------------------------------------------------- race board


def outcome(run: Any) -> dict[str, Any]:
    """What the card and the race board say about a run: text and kind (ok | warn)."""
    if not run.ok:
        return {"text": run.error, "kind": "warn"}
    t = run.trajectory
    if t.status in ("diverged", "stalled"):
        return {"text": t.message, "kind": "warn"}
    return {"text": run.status_text, "kind": "ok"}


def surface_info(surface: dict[str, str] | None, with_tex: bool = True) -> list[Any]:
    """The formula and description under the map (``surface``: its ``latex`` and ``description``)."""
    if not surface:
        return []
    return [
        html.Div(surface_tex(surface["latex"]) if with_tex else None, id=Ids.SURFACE_TEX),
        html.P(surface["description"], className="surface-desc"),
    ]


def surface_tex(latex: str) -> Any:
    return dcc.Markdown("$$" + latex + "$$", mathjax=True, className="surface-tex")


# --------------------------------------------------------------------------- values for a configuration

#: outputs of render_controls, in order (component id, property)
RENDER_OUTPUTS: tuple[tuple[Any, str], ...] = (
    (Ids.NOTICE, "children"), (Ids.NOTICE, "hidden"), (Ids.LESSON, "children"),
    (Ids.SURFACE, "value"), (Ids.SURFACE_PARAMS, "children"), (Ids.FORMULA_BOX, "hidden"),
    (Ids.FORMULA, "value"), (Ids.XMIN, "value"), (Ids.XMAX, "value"), (Ids.YMIN, "value"), (Ids.YMAX, "value"),
    (Ids.START_X, "value"), (Ids.START_Y, "value"), (Ids.STEPS, "value"),
    (Ids.SCHEDULE, "value"), (Ids.SCHEDULE_PARAMS, "children"),
    (Ids.CLIP, "value"), (Ids.CLIP_VALUE, "value"), (Ids.NOISE, "value"), (Ids.SEED, "value"),
    (Ids.CARDS, "children"), (Ids.VIEW, "value"), (Ids.ARROWS, "options"),
    (Ids.ARROWS, "value"), (Ids.ADD, "disabled"), (Ids.RENDERED, "data"), (Ids.BOOT, "data"),
)  # fmt: skip


def controls_for(cfg: ExplorerConfig, with_tex: bool = True) -> dict[tuple[Any, str], Any]:
    """Every control's value for ``cfg`` (keyed like :data:`RENDER_OUTPUTS`)."""
    notes = list(cfg.notes)
    notice = [html_notice(notes)] if notes else []
    x0, x1, y0, y1 = cfg.box
    return {
        (Ids.NOTICE, "children"): notice,
        (Ids.NOTICE, "hidden"): not notes,
        (Ids.LESSON, "children"): lesson_for(cfg),
        (Ids.SURFACE, "value"): cfg.surface,
        (Ids.SURFACE_PARAMS, "children"): surface_param_rows(cfg),
        (Ids.FORMULA_BOX, "hidden"): not cfg.is_formula,
        (Ids.FORMULA, "value"): cfg.formula,
        (Ids.XMIN, "value"): x0,
        (Ids.XMAX, "value"): x1,
        (Ids.YMIN, "value"): y0,
        (Ids.YMAX, "value"): y1,
        (Ids.START_X, "value"): cfg.start[0],
        (Ids.START_Y, "value"): cfg.start[1],
        (Ids.STEPS, "value"): cfg.steps,
        (Ids.SCHEDULE, "value"): cfg.schedule,
        (Ids.SCHEDULE_PARAMS, "children"): schedule_param_rows(cfg),
        (Ids.CLIP, "value"): cfg.clip,
        (Ids.CLIP_VALUE, "value"): cfg.clip_value,
        (Ids.NOISE, "value"): cfg.noise,
        (Ids.SEED, "value"): cfg.seed,
        (Ids.CARDS, "children"): optimizer_cards(cfg, with_tex),
        (Ids.VIEW, "value"): cfg.view,
        (Ids.ARROWS, "options"): arrow_options(cfg),
        (Ids.ARROWS, "value"): cfg.arrows,
        (Ids.ADD, "disabled"): len(cfg.optimizers) >= MAX_OPTIMIZERS,
        (Ids.RENDERED, "data"): time.time_ns(),
        (Ids.BOOT, "data"): True,
    }


def html_notice(notes: list[str]) -> Any:
    return html.Div(
        [_close_button(), html.Strong("Some settings from the link could not be used and were replaced: "),
         html.Ul([html.Li(n) for n in notes])]
    )  # fmt: skip


def _close_button() -> html.Button:
    return html.Button("×", className="notice-close icon-btn", title="Dismiss", **{"aria-label": "Dismiss notice"})


def views_for(cfg: ExplorerConfig, map_meta: Any, rev: str, with_tex: bool = True) -> dict[str, Any]:
    """Everything collect returns (``no_update`` where nothing changed).

    The map figure is rebuilt only when what it shows behind the trajectories
    changes (surface, parameters, box, view); otherwise the animation engine moves
    the trajectories from the payload, which also carries the diagnostics figure
    and the texts of the cards and the race board.

    Both parts come from the shared result cache (:mod:`app.hosting.result_cache`): the
    race keyed by the canonical query, the map's background by what it shows, so
    a class opening the same link computes it once.
    """
    result = computed_once(cfg)  # only on a cache miss, at most once per request
    query = to_query(cfg)
    race = cached_race(cfg, result)
    key = cfg.surface_key()
    ok = bool(race["ok"])
    previous = map_meta if isinstance(map_meta, dict) else {}
    redraw = previous.get("key") != key or previous.get("ok") != ok
    fig_rev = rev if redraw else previous.get("rev")
    payload = race["payload"]
    payload["index"]["rev"] = fig_rev
    out: dict[str, Any] = {
        "store": {"cfg": cfg.to_dict(), "query": query},
        "payload": payload,
        "map": no_update,
        "meta": no_update,
        "surface_info": no_update,
        "formula_error": race["error"],
    }
    if redraw:
        if ok:
            fig = map_entry(cfg, result)["figure"]
        else:
            fig = style.message_figure(race["error"])
        fig["layout"]["meta"] = {"rev": rev}
        out["map"] = fig
        out["meta"] = {"key": key, "ok": ok, "rev": rev, "z": race["z"]}
        out["surface_info"] = surface_info(race["surface"], with_tex)
    return out


def computed_once(cfg: ExplorerConfig) -> Any:
    """A function giving ``compute.compute(cfg)``, computed on its first call only."""
    computed: list[Result] = []

    def result() -> Result:
        if not computed:
            computed.append(compute.compute(cfg))
        return computed[0]

    return result


def cached_race(cfg: ExplorerConfig, result: Any = None) -> dict[str, Any]:
    """:func:`race_entry` of ``cfg`` through the shared result cache (keyed by the canonical query).

    ``result()`` gives the computed configuration (default: computed on a miss)."""
    return json.loads(cached_race_text(cfg, result))


def cached_race_text(cfg: ExplorerConfig, result: Any = None) -> str:
    """:func:`cached_race` as the JSON text the cache holds (served as is by the fast path)."""
    result = result or computed_once(cfg)
    return result_cache.fetch_text("race", to_query(cfg), lambda: race_entry(cfg, result))[0]


def map_entry(cfg: ExplorerConfig, result: Any) -> dict[str, Any]:
    """The map behind the runs, from the shared cache: ``{"figure", "z"}`` (z: the colour scale).

    Keyed by what the background shows; the 3-D view also draws the runs, so it is
    keyed by the whole query.  ``result()`` gives the computed configuration.
    """
    key = cfg.surface_key() if cfg.view != "3d" else to_query(cfg)

    def build() -> dict[str, Any]:
        res = result()
        grid = figures.background_grid(res.surface, cfg.view)
        return {"figure": figures.map_figure(res, grid, with_runs=False), "z": grid.scale.to_dict()}

    entry, _ = result_cache.fetch("map", key, build)
    return entry


def race_entry(cfg: ExplorerConfig, result: Any) -> dict[str, Any]:
    """Everything about the runs of ``cfg`` the page shows, as JSON: the engine's payload (its
    ``index.rev`` left for the caller), the notes, the error, the colour scale and the surface's text."""
    res = result()
    ok = res.surface is not None
    z = figures.background_grid(res.surface, cfg.view).scale.to_dict() if ok else None  # the map's colour scale
    scale = surface_grid.ZScale(**z) if z else None
    payload = compute.payload(res, {**figures.TRACE_INDEX, "rev": None}, scale)
    payload["query"] = to_query(cfg)
    payload["palette"] = list(style.COLORS)
    payload["diagnostics"] = figures.diagnostics_panels(res)
    payload["notes"] = [{"color": r.entry.color, "label": r.entry.label(), **outcome(r)} for r in res.runs]
    payload["error"] = res.error or ""
    surface = {"latex": res.surface.latex, "description": res.surface.description} if ok else None
    return {"ok": ok, "error": res.error or "", "payload": payload, "z": z, "surface": surface}


def html_notice_controls(notes: list[str]) -> Any:
    return html.Div([_close_button(), html.Strong("Adjusted: "), "; ".join(notes)])


# --------------------------------------------------------------------------- skeleton


def _section(title: str, children: list[Any], open_: bool = True, cls: str = "") -> html.Details:
    return html.Details([html.Summary(title)] + children, open=open_, className=f"panel {cls}".strip())


def build_layout() -> html.Div:
    surface_options = [{"label": s.display_name, "value": s.name} for s in SURFACE_SPECS]
    surface_options.append({"label": "✎ Type a formula…", "value": FORMULA})
    add_options = [{"label": f"{s.display_name}", "value": s.name} for s in OPTIMIZER_SPECS]
    controls = [
        _section("Surface", [
            dcc.Dropdown(id=Ids.SURFACE, options=surface_options, clearable=False, searchable=False,
                         className="surface-select"),
            html.Div(id=Ids.FORMULA_BOX, hidden=True, className="formula-box", children=[
                html.Label("f(x, y) =", htmlFor=Ids.FORMULA),
                dcc.Input(id=Ids.FORMULA, type="text", debounce=True, maxLength=500, spellCheck=False,
                          className="formula-input", placeholder="e.g. x^4 - 2*x^2 + y^2"),
                html.Div(id=Ids.FORMULA_ERROR, className="formula-error", role="alert"),
                html.Div(className="box-row", children=[
                    html.Span("box", className="num-label"),
                    *[dcc.Input(id=i, type="number", debounce=True, step="any", className="box-input",
                                placeholder=p) for i, p in ((Ids.XMIN, "xmin"), (Ids.XMAX, "xmax"),
                                                           (Ids.YMIN, "ymin"), (Ids.YMAX, "ymax"))],
                ]),
                html.P("Use x, y, + − * / ^, pi, e and sin cos exp log sqrt tanh …; write 2*x, not 2x.",
                       className="hint"),
            ]),
            html.Div(id=Ids.SURFACE_PARAMS, className="params"),
            html.Div(id=Ids.SURFACE_INFO, className="surface-info"),
        ]),
        _section("Start and steps", [
            html.Div(className="start-row", children=[
                html.Label("x₀", htmlFor=Ids.START_X),
                dcc.Input(id=Ids.START_X, type="number", step="any", debounce=True, className="num-input"),
                html.Label("y₀", htmlFor=Ids.START_Y),
                dcc.Input(id=Ids.START_Y, type="number", step="any", debounce=True, className="num-input"),
                html.Label("steps", htmlFor=Ids.STEPS),
                dcc.Input(id=Ids.STEPS, type="number", step=1, debounce=True,
                          className="num-input"),
            ]),
            html.P("Click the map to move the start.", className="hint"),
        ]),
        _section("Shared modifiers", [
            html.Div(className="mod-row sched-row", children=[
                html.Label("schedule", htmlFor=Ids.SCHEDULE, className="num-label"),
                dcc.Dropdown(id=Ids.SCHEDULE, options=[{"label": SCHEDULE_LABELS.get(s, s), "value": s}
                                                       for s in SCHEDULES], clearable=False, searchable=False),
            ]),
            html.Div(id=Ids.SCHEDULE_PARAMS, className="params"),
            html.Div(className="mod-row clip-row", children=[
                html.Span("clip ∇f", className="num-label"),
                dcc.RadioItems(id=Ids.CLIP, options=[{"label": CLIP_LABELS[c], "value": c} for c in CLIP_MODES],
                               inline=True),
                html.Div(dcc.Input(id=Ids.CLIP_VALUE, type="number", step="any", debounce=True,
                                   className="num-input"), title="clipping threshold"),
            ]),
            html.Div(className="mod-row noise-row", children=[
                html.Label("noise σ", htmlFor=Ids.NOISE, className="num-label"),
                html.Div(dcc.Input(id=Ids.NOISE, type="number", step="any", debounce=True,
                                   className="num-input"),
                         title="standard deviation of Gaussian noise added to every gradient"),
                html.Label("seed", htmlFor=Ids.SEED, className="num-label"),
                dcc.Input(id=Ids.SEED, type="number", step=1, debounce=True, className="num-input"),
            ]),
            html.P("Apply to first-order methods only.", className="hint"),
        ], open_=False),
        _section("Optimizers", [
            html.Div(className="add-row", children=[
                dcc.Dropdown(id=Ids.ADD_CHOICE, options=add_options, value="adam", clearable=False,
                             searchable=False, className="add-select"),
                html.Button("+ Add", id=Ids.ADD, className="btn", title="Add this optimizer to the race"),
            ]),
            html.Div(id=Ids.CARDS, className="cards"),
        ], cls="optimizers"),
    ]  # fmt: skip

    player = html.Div(
        id=Ids.PLAYER,
        className="player",
        role="group",
        **{"aria-label": "Animation"},
        children=[
            html.Button("|◀", id=Ids.TO_START, className="icon-btn", title="Back to step 0 (Home)",
                        **{"aria-label": "Back to step 0"}),
            html.Button("◀", id=Ids.STEP_BACK, className="icon-btn", title="One step back (←)",
                        **{"aria-label": "One step back"}),
            html.Button([html.Span("▶ Play", className="when-paused"), html.Span("❚❚ Pause", className="when-playing")],
                        id=Ids.PLAY, className="btn play", title="Play or pause (Space on the map)",
                        **{"aria-label": "Play or pause"}),
            html.Button("▶", id=Ids.STEP_FORWARD, className="icon-btn", title="One step forward (→)",
                        **{"aria-label": "One step forward"}),
            html.Div(id=Ids.SCRUBBER, className="scrubber-host"),
            html.Span("step –", id=Ids.STEP_LABEL, className="step-label"),
            html.Label("speed", htmlFor=Ids.SPEED, className="speed-label"),
            html.Select(id=Ids.SPEED, className="speed",
                        children=[html.Option(t, value=v, selected=v == DEFAULT_SPEED) for v, t in SPEEDS]),
        ],
    )  # fmt: skip

    view = html.Section(
        id="explorer-view",
        className="view",
        **{"aria-label": "Explorer"},
        children=[
            html.Div(className="map-toolbar", children=[
                dcc.RadioItems(id=Ids.VIEW, options=[{"label": "contour map", "value": "2d"},
                                                     {"label": "3-D surface", "value": "3d"}], inline=True,
                               className="view-toggle"),
                dcc.Dropdown(id=Ids.ARROWS, clearable=False, searchable=False, className="arrows-select"),
                export_bar(),
            ]),
            html.Div(className="map-row", children=[
                html.Div(id=Ids.MAP_WRAP, className="map-wrap", tabIndex="0",
                         **{"aria-label": "Loss surface. Click to set the start; Space plays or pauses; "
                                          "arrow keys step."},
                         children=dcc.Graph(id=Ids.MAP, className="map", figure=style.message_figure("Loading…"),
                                            style={"height": "100%"},
                                            config={"displaylogo": False, "scrollZoom": False, "responsive": True,
                                                    "modeBarButtonsToRemove": ["lasso2d", "select2d", "toImage"]})),
                html.Div(id=Ids.LEGEND, className="legend", **{"aria-live": "polite"}),
            ]),
            player,
            # drawn by the animation engine from the payload (Plotly.react), after the map
            html.Div(id=Ids.DIAGNOSTICS, className="diagnostics",
                     children=[html.Div(html.Div(className="diag-panel", **{"data-panel": key}), className="diag-cell")
                               for key, _ in figures.PANELS]),
        ],
    )  # fmt: skip

    header = html.Header(
        className="top",
        children=[
            html.Div(className="brand", children=[html.H1("Descent Lab"), html.Span("optimizer explorer", className="sub")]),
            page_links("/", "pages", "page-link"),
            html.Nav(
                id=Ids.PRESETS,
                className="presets",
                **{"aria-label": "Lessons"},
                children=[html.Span("Lessons:", className="presets-label")]
                + [html.Button(p.title, id=preset_id(p.name), className="preset", title=p.lesson) for p in PRESETS],
            ),
        ],
    )  # fmt: skip

    return html.Div(
        className="explorer",
        children=[
            dcc.Location(id=Ids.URL, refresh=False),
            dcc.Store(id=Ids.CONFIG),
            dcc.Store(id=Ids.PAYLOAD),
            dcc.Store(id=Ids.PAYLOAD_FIRST),
            dcc.Store(id=Ids.ENGINE_SINK_FIRST),
            dcc.Store(id=Ids.MAP_META),
            dcc.Store(id=Ids.ENGINE_SINK),
            dcc.Store(id=Ids.RENDERED),
            dcc.Store(id=Ids.BOOT),
            dcc.Store(id=Ids.CLICK),
            dcc.Store(id=Ids.SLIDER_COMMIT),
            dcc.Store(id=Ids.TEX_READY),
            header,
            html.Div(id=Ids.NOTICE, className="notice", role="alert", hidden=True),
            html.P(id=Ids.LESSON, className="lesson"),
            html.Div(className="main", children=[html.Aside(controls, className="sidebar"), html.Main(view, className="views")]),
        ],
    )  # fmt: skip


def page(cfg: ExplorerConfig | None = None) -> html.Div:
    """The whole page already showing ``cfg`` (default: :data:`~app.state.DEFAULT`).

    Rendering the requested view on the server means the first paint needs no
    callback round trip: controls, map figure and the animation engine's payload
    are all in the layout.
    """
    cfg = cfg or DEFAULT
    root = build_layout()
    values = dict(controls_for(cfg, with_tex=False))
    values[(Ids.BOOT, "data")] = None
    out = views_for(cfg, None, rev="page", with_tex=False)
    values.update(
        {
            (Ids.CONFIG, "data"): out["store"],
            (Ids.PAYLOAD_FIRST, "data"): out["payload"],
            (Ids.MAP, "figure"): out["map"],
            (Ids.MAP_META, "data"): out["meta"],
            (Ids.SURFACE_INFO, "children"): out["surface_info"],
            (Ids.FORMULA_ERROR, "children"): out["formula_error"],
        }
    )
    return fill(root, values)


