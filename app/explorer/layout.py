"""The Explorer page: its skeleton, and :func:`page`, the whole page rendered for one configuration.

Layout: a "skip to the map" link, a header with the lessons, a left column of
controls (surface, start and steps, shared modifiers, optimizer cards) and the
explorer view on the right: the stage (map toolbar, map, race board, player;
what the full-screen button shows), the export bar, the linked diagnostics.
``assets/explorer.css`` puts the view first on narrow screens and fits the
stage to the first screen on wide ones; ``assets/explorer_layout.js`` collapses
the controls, puts the stage full screen and runs the narrow screens' jump
switch.  The view lives
in its own section of ``main.views``, so further views (e.g. basin-of-attraction
sweep maps) can sit beside it, and the map toolbar has room for export actions.

:func:`page` fills the skeleton with the controls' values
(:func:`app.explorer.controls.controls_for`) and the view
(:func:`app.explorer.views.views_for`), so a link opens fully drawn without a
callback round trip.  The root carries the names ``assets/explorer.js`` looks
up (:data:`app.explorer.ids.BROWSER_NAMES`).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.explorer.config import DEFAULT, FORMULA, ExplorerConfig
from app.explorer.controls import RENDER_OUTPUTS, controls_for
from app.explorer.data_panel import batch_row, data_panel
from app.explorer.diagnostics import PANELS
from app.explorer.keys_help import keys_button, keys_dialog
from app.explorer.export_bar import export_bar
from app.explorer.ids import NAMES_ATTRIBUTE, PAGE_REV, Hooks, Ids, names_json, preset_id
from app.explorer.presets import PRESETS
from app.explorer.views import views_for
from app.shell import style
from app.shell.header import page_links
from app.shell.theme import theme_switch
from app.shell.skip import skip_link
from app.shell.tree import fill
from optimizers.modifiers import CLIP_MODES, SCHEDULES
from optimizers.registry import SPECS as OPTIMIZER_SPECS
from surfaces.catalog import SPECS as SURFACE_SPECS

SPEEDS = (("5", "5 steps/s"), ("15", "15 steps/s"), ("30", "30 steps/s"), ("60", "60 steps/s"),
          ("120", "120 steps/s"), ("240", "240 steps/s"))  # fmt: skip
DEFAULT_SPEED = "60"

SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "exponential": "exponential decay",
                   "cosine": "cosine annealing", "cosine_restarts": "cosine with restarts", "warmup": "linear warm-up"}  # fmt: skip
CLIP_LABELS = {"none": "none", "value": "value", "norm": "norm"}


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
            html.P("Tap or click the map to move the start, or drag its ring.", className="hint"),
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
                html.Div([html.Label("clipping threshold", htmlFor=Ids.CLIP_VALUE, className="sr-only"),
                          dcc.Input(id=Ids.CLIP_VALUE, type="number", step="any", debounce=True,
                                    className="num-input")], title="clipping threshold"),
            ]),
            html.Div(className="mod-row noise-row", children=[
                html.Label("noise σ", htmlFor=Ids.NOISE, className="num-label"),
                html.Div(dcc.Input(id=Ids.NOISE, type="number", step="any", debounce=True,
                                   className="num-input"),
                         title="standard deviation of Gaussian noise added to every gradient"),
                html.Label("seed", htmlFor=Ids.SEED, className="num-label"),
                dcc.Input(id=Ids.SEED, type="number", step=1, debounce=True, className="num-input"),
            ]),
            batch_row(),
            html.P("Apply to first-order methods only; the batch size to data surfaces.", className="hint"),
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
                        id=Ids.PLAY, className="btn play", title="Play or pause (Space or K)",
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

    layout_tools = html.Div(className="layout-tools", children=[
        html.Button([html.Span("◧", className="tool-icon", **{"aria-hidden": "true"}), " Controls"],
                    id=Ids.SIDEBAR_TOGGLE, className="tool-btn sidebar-toggle", n_clicks=0,
                    title="Hide or show the controls (the map takes the whole width)",
                    **{"aria-expanded": "true", "aria-controls": Ids.SIDEBAR}),
        html.Button([html.Span("Full screen", className="when-off"), html.Span("✕ Exit full screen", className="when-on")],
                    id=Ids.FULL_SCREEN, className="tool-btn full-toggle", n_clicks=0,
                    title="The map, the race board and the player full screen (F; Escape leaves)"),
        keys_button(),
    ])  # fmt: skip

    stage = html.Div(id=Ids.STAGE, className="stage", children=[
        html.Div(className="map-toolbar", children=[
            dcc.RadioItems(id=Ids.VIEW, options=[{"label": "contour map", "value": "2d"},
                                                 {"label": "3-D surface", "value": "3d"}], inline=True,
                           className="view-toggle"),
            dcc.Dropdown(id=Ids.ARROWS, clearable=False, searchable=False, className="arrows-select"),
            dcc.Checklist(id=Ids.CROSS, options=[{"label": "curvature cross", "value": "on"}], value=["on"],
                          className="cross-toggle", inline=True),
            dcc.Checklist(id=Ids.BASINS, value=[], className="cross-toggle basins-toggle", inline=True, options=[{
                "value": "on",
                "label": html.Span(["basins", html.Span(": colour the map by where each start ends with the first "
                                                        "optimizer", className="sr-only")],
                                   title="Colour the map by where each start ends with the first optimizer",
                                   style={"color": "inherit"})}]),  # (Dash colours a component label as a link)
            dcc.Checklist(id=Ids.BATCH_CONTOURS, options=[{"label": "minibatch contours", "value": "on"}],
                          value=[], className="cross-toggle batch-toggle", inline=True),
            layout_tools,
        ]),
        html.Div(className="map-row", children=[
            html.Div(id=Ids.MAP_WRAP, className="map-wrap", tabIndex="0",
                     **{"aria-label": "Loss surface. Tap or click to set the start, or drag the start's ring; "
                                      "Space plays or pauses; arrow keys step; question mark lists the keys."},
                     children=dcc.Graph(id=Ids.MAP, className="map", figure=style.message_figure("Loading…"),
                                        style={"height": "100%"},
                                        config={"displaylogo": False, "scrollZoom": False, "responsive": True,
                                                "modeBarButtonsToRemove": ["lasso2d", "select2d", "toImage"]})),
            html.Div(id=Ids.LEGEND, className="legend"),
        ]),
        html.Div(id=Ids.BASINS_NOTE, className="basins-note", hidden=True),
        player,
        # spoken when playback stops or the step is set, never frame by frame (assets/explorer_input.js)
        html.P(id=Ids.RACE_SUMMARY, className="sr-only", **{"aria-live": "polite", "aria-atomic": "true"}),
    ])  # fmt: skip

    view = html.Section(
        id=Ids.VIEW_SECTION,
        className="view",
        **{"aria-label": "Explorer"},
        children=[
            stage,
            # out of the map's toolbar: the map keeps its width on a laptop
            html.Div(export_bar(), className="export-row"),
            data_panel(),
            # drawn by the animation engine from the payload (Plotly.react), after the map
            html.Div(id=Ids.DIAGNOSTICS, className="diagnostics",
                     children=[html.Div(html.Div(className=Hooks.DIAG_PANEL.value, **{"data-panel": key}), className="diag-cell")
                               for key, _ in PANELS]),
        ],
    )  # fmt: skip

    # narrow screens (one column, the view first): one tap to the controls and back (assets/explorer_layout.js)
    jump = html.Button([html.Span("Controls ↓", className="when-off"), html.Span("Map ↑", className="when-on")],
                       id=Ids.JUMP, className="view-jump", n_clicks=0, title="Go to the controls, or back to the map")

    header = html.Header(
        className="top",
        children=[
            html.Div(className="brand", children=[html.H1("Descent Lab"), html.Span("optimizer explorer", className="sub")]),
            page_links("/", "pages", "page-link"),
            theme_switch(),
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
        **{NAMES_ATTRIBUTE: names_json()},
        children=[
            skip_link(Ids.MAP_WRAP, "Skip to the map"),
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
            dcc.Store(id=Ids.POINTS),
            header,
            html.Div(id=Ids.NOTICE, className="notice", role="alert", hidden=True),
            html.P(id=Ids.LESSON, className="lesson"),
            jump,
            keys_dialog(),
            html.Div(className="main", children=[
                html.Aside(controls, id=Ids.SIDEBAR, className="sidebar", tabIndex="-1", **{"aria-label": "Controls"}),
                html.Main(view, className="views"),
            ]),
        ],
    )  # fmt: skip


def page(cfg: ExplorerConfig | None = None) -> html.Div:
    """The whole page already showing ``cfg`` (default: :data:`~app.explorer.config.DEFAULT`).

    Rendering the requested view on the server means the first paint needs no
    callback round trip: controls, map figure and the animation engine's payload
    are all in the layout.
    """
    cfg = cfg or DEFAULT
    root = build_layout()
    values = {RENDER_OUTPUTS[name]: value for name, value in controls_for(cfg, with_tex=False).items()}
    values[RENDER_OUTPUTS["boot"]] = None
    out = views_for(cfg, None, rev=PAGE_REV, with_tex=False)
    values.update(
        {
            (Ids.CONFIG, "data"): out["store"],
            (Ids.PAYLOAD_FIRST, "data"): out["payload"],
            (Ids.MAP, "figure"): out["map"],
            (Ids.MAP_META, "data"): out["meta"],
            (Ids.SURFACE_INFO, "children"): out["surface_info"],
            (Ids.FORMULA_ERROR, "children"): out["formula_error"],
            (Ids.BATCH_INFO, "children"): out["batch_info"],
        }
    )
    return fill(root, values)
