"""The Explorer's controls for a configuration: numeric rows, optimizer cards, notices.

:func:`controls_for` gives every control's value for a configuration, keyed by
the names of :data:`RENDER_OUTPUTS` (the outputs of the ``render_controls``
callback); :func:`app.explorer.layout.page` fills the same values into the
skeleton, so a link opens fully drawn.

A new control goes into the skeleton (:func:`app.explorer.layout.build_layout`),
gets its value here (a :data:`RENDER_OUTPUTS` entry and its line in
:func:`controls_for`) and, if it changes the race, a field of
:data:`app.explorer.inputs.FORM`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from dash import dcc, html

from app.explorer.compute import TWO_POINTS
from app.explorer.config import MAX_OPTIMIZERS, MAX_STEPS, ExplorerConfig, OptimizerEntry
from app.explorer.ids import Group, Hooks, Ids, Kind, card_id, flag_id, num_id, slider_id
from app.explorer.presets import lesson_for
from app.shell import style
from app.shell.tree import dom_id
from app.shell.validation import symbol_text
from optimizers.modifiers import SCHEDULE_PARAMS


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
                className=Hooks.NUM_SLIDER.value,
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
        number_row(Group.SURFACE, 0, p.name, _surface_label(p.name), int(values[p.name]) if p.integer else values[p.name],
                   (p.low, p.high), _surface_ui(p), log=p.log, integer=p.integer, help=p.description)
        for p in spec.params
    ]  # fmt: skip


def _surface_ui(p: Any) -> tuple[float, float]:
    """The slider's range of a surface parameter: a whole-number log slider stops at a 3-digit value, so its
    every position rounds (like the browser's display) to a number in range; a seed's slider shows the first 100."""
    if p.integer and p.log:
        hi = float(f"{p.high:.3g}")
        return p.low, hi if hi <= p.high else float(f"{p.high - 10 ** (math.floor(math.log10(p.high)) - 2):.3g}")
    if p.integer and p.high - p.low > 1000:
        return p.low, min(p.high, p.low + 100)
    return p.low, p.high


def _surface_label(name: str) -> str:
    labels = {"kappa": "κ", "angle": "angle θ°", "a": "a", "b": "b", "A": "A", "sharp": "sharp a", "wide": "wide b",
              "n": "n points", "data_seed": "data seed", "offset": "input mean", "spread": "input spread",
              "center": "centre inputs", "bias": "bias c", "l2": "L2 λ"}  # fmt: skip
    return labels.get(name, name)


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
    if spec.averaged_state:
        notes.append(f"On the map, {TWO_POINTS}. The loss and the arrows are taken at y; the race board adds f(x).")
    if not spec.first_order:
        notes.append("Schedules, clipping, gradient noise and minibatches do not apply to this method "
                     "(on data it always takes the full batch).")
    full = total >= MAX_OPTIMIZERS
    return html.Section(
        className="card",
        style={"--run-color": col},
        **{"aria-label": f"{spec.display_name} settings"},
        children=[
            dcc.Store(id=card_id(Kind.CARD_META, index), data={"name": entry.name, "color": entry.color}),
            html.Header(
                className="card-head",
                children=[
                    html.H3(spec.display_name, className="card-title"),
                    html.Button("copy", id=card_id(Kind.DUPLICATE, index), className="icon-btn text", disabled=full,
                                title="Race a copy with the same settings",
                                **{"aria-label": f"copy {spec.display_name}"}),
                    html.Button("×", id=card_id(Kind.REMOVE, index), className="icon-btn",
                                title="Remove", **{"aria-label": f"Remove {spec.display_name}"}),
                ],
            ),  # fmt: skip
            html.Div(className="card-status", role="status", **{Hooks.CARD_STATUS.value: str(entry.color)}),
            html.Details(
                open=True,
                className="rule",
                children=[
                    html.Summary("Update rule"),
                    *rule,
                    html.P(spec.convention, className="convention"),
                    source_line(spec),
                ],
            ),
            html.Div(rows, className="params"),
            *[html.P(n, className="card-note") for n in notes],
        ],
    )


def source_line(spec: Any) -> html.P:
    """Where the card's rule comes from (the library and version it is checked against, or the paper)."""
    return html.P([html.Strong("Source: "), spec.source], className="convention rule-source")


def optimizer_cards(cfg: ExplorerConfig, with_tex: bool = True) -> list[Any]:
    if not cfg.optimizers:
        return [html.P("No optimizer yet: add one above.", className="empty-note")]
    return [optimizer_card(e, i, len(cfg.optimizers), with_tex) for i, e in enumerate(cfg.optimizers)]


def arrow_options(cfg: ExplorerConfig) -> list[dict[str, Any]]:
    opts: list[dict[str, Any]] = [{"label": "no arrows", "value": -1}]
    opts += [{"label": f"arrows: {e.label()}", "value": e.color} for e in cfg.optimizers]
    return opts


# --------------------------------------------------------------------------- values for a configuration

#: outputs of render_controls, in order: name → (component id, property)
RENDER_OUTPUTS: dict[str, tuple[Ids, str]] = {
    "notice": (Ids.NOTICE, "children"), "notice_hidden": (Ids.NOTICE, "hidden"), "lesson": (Ids.LESSON, "children"),
    "surface": (Ids.SURFACE, "value"), "surface_params": (Ids.SURFACE_PARAMS, "children"),
    "formula_hidden": (Ids.FORMULA_BOX, "hidden"), "formula": (Ids.FORMULA, "value"),
    "xmin": (Ids.XMIN, "value"), "xmax": (Ids.XMAX, "value"), "ymin": (Ids.YMIN, "value"), "ymax": (Ids.YMAX, "value"),
    "start_x": (Ids.START_X, "value"), "start_y": (Ids.START_Y, "value"), "steps": (Ids.STEPS, "value"),
    "schedule": (Ids.SCHEDULE, "value"), "schedule_params": (Ids.SCHEDULE_PARAMS, "children"),
    "clip": (Ids.CLIP, "value"), "clip_value": (Ids.CLIP_VALUE, "value"), "noise": (Ids.NOISE, "value"),
    "seed": (Ids.SEED, "value"), "batch": (Ids.BATCH, "value"), "batch_hidden": (Ids.BATCH_ROW, "hidden"),
    "data_hidden": (Ids.DATA_PANEL, "hidden"), "points": (Ids.POINTS, "data"), "cards": (Ids.CARDS, "children"), "view": (Ids.VIEW, "value"),
    "basins": (Ids.BASINS, "value"),
    "arrow_options": (Ids.ARROWS, "options"), "arrows": (Ids.ARROWS, "value"), "add_disabled": (Ids.ADD, "disabled"),
    "rendered": (Ids.RENDERED, "data"), "boot": (Ids.BOOT, "data"),
}  # fmt: skip


def controls_for(cfg: ExplorerConfig, with_tex: bool = True) -> dict[str, Any]:
    """Every control's value for ``cfg``, keyed by the names of :data:`RENDER_OUTPUTS`."""
    notes = list(cfg.notes)
    x0, x1, y0, y1 = cfg.box
    return {
        "notice": [html_notice(notes)] if notes else [],
        "notice_hidden": not notes,
        "lesson": lesson_for(cfg),
        "surface": cfg.surface,
        "surface_params": surface_param_rows(cfg),
        "formula_hidden": not cfg.is_formula,
        "formula": cfg.formula,
        "xmin": x0,
        "xmax": x1,
        "ymin": y0,
        "ymax": y1,
        "start_x": cfg.start[0],
        "start_y": cfg.start[1],
        "steps": cfg.steps,
        "schedule": cfg.schedule,
        "schedule_params": schedule_param_rows(cfg),
        "clip": cfg.clip,
        "clip_value": cfg.clip_value,
        "noise": cfg.noise,
        "seed": cfg.seed,
        "batch": cfg.batch_size,
        "batch_hidden": not cfg.is_data,
        "data_hidden": not cfg.is_data,
        "points": points_store(cfg),
        "cards": optimizer_cards(cfg, with_tex),
        "view": cfg.view,
        "basins": ["on"] if cfg.basins else [],
        "arrow_options": arrow_options(cfg),
        "arrows": cfg.arrows,
        "add_disabled": len(cfg.optimizers) >= MAX_OPTIMIZERS,
        "rendered": time.time_ns(),
        "boot": True,
    }


def points_store(cfg: ExplorerConfig) -> dict[str, Any] | None:
    """The points store of ``cfg``: its edited points and the data set they belong to (None: the generated points)."""
    if cfg.points is None:
        return None
    return {"points": [list(r) for r in cfg.points], "key": cfg.data_key()}


def html_notice(notes: list[str]) -> Any:
    """The notice of a link whose settings had to be repaired."""
    return html.Div(
        [_close_button(), html.Strong("Some settings from the link could not be used and were replaced: "),
         html.Ul([html.Li(n) for n in notes])]
    )  # fmt: skip


def _close_button() -> html.Button:
    return html.Button("×", className=f"{Hooks.NOTICE_CLOSE} icon-btn", title="Dismiss", **{"aria-label": "Dismiss notice"})


def html_notice_controls(notes: list[str]) -> Any:
    """The notice of controls whose values had to be repaired."""
    return html.Div([_close_button(), html.Strong("Adjusted: "), "; ".join(notes)])

