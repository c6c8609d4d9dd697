"""The lab page's layout for a link: header, the form (data, model, denoising, training, optimizers), the run bar
and the result panels (:mod:`app.lab.results`).

``layout(query)`` validates the link (:func:`app.lab.state.sanitize`) and lists what it could not
use in a visible notice; it never raises.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from app.lab.cards import opt_cards, rows_of
from app.lab.checks import model_summary, source_shape
from app.lab.ids import PATH, TITLE, Ids
from app.lab.limits import (
    FOLLOW_MS,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_OPTIMIZERS,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_TIME_LIMIT,
    MAX_UPLOAD_BYTES,
    MIN_SAMPLES,
    MIN_TIME_LIMIT,
    WATCH_MS,
)
from app.lab.results import results_view
from app.lab.state import (
    DEFAULT,
    INIT_LABELS,
    NOISE_LABELS,
    NOISES,
    SKIP_LABELS,
    SOURCES,
    LabSettings,
    sanitize,
    share_href,
)
from app.shell.header import page_links
from app.shell.theme import theme_switch
from app.shell.skip import skip_link
from autoencoder.corrupt import KINDS
from autoencoder.model import ACTIVATIONS, INITS, SKIPS


def header() -> html.Header:
    """The bar every page has: the app's name, this page's title, links to the other pages."""
    return html.Header(className="lab-top", children=[
        html.Div(className="lab-brand", children=[html.H1("Descent Lab"), html.Span(TITLE, className="lab-sub-title")]),
        page_links(PATH, "lab-pages", "lab-page-link"),
        theme_switch(),
    ])  # fmt: skip


def _field(label: str, control: Any, cid: str, hint: str | None = None) -> html.Div:
    return html.Div(className="lab-field", children=[html.Label(label, htmlFor=cid), control]
                    + ([html.Span(hint, className="lab-hint")] if hint else []))  # fmt: skip


def _panel(title: str, children: list[Any], open_: bool = True) -> html.Details:
    return html.Details([html.Summary(title)] + children, open=open_, className="lab-panel")


LEVEL_NAMES = {"gaussian": "σ", "salt_pepper": "fraction", "blur": "σ (pixels)", "knockout": "square side"}


def level_props(noise: str, level: float | None = None) -> dict[str, Any]:
    """Strength field for a noise kind: label, hint, range and value (disabled for none)."""
    if noise not in KINDS or noise == "none":
        return {"label": "strength", "hint": "no corruption: a plain autoencoder", "min": 0, "max": 1,
                "value": None, "disabled": True}  # fmt: skip
    _, default, lo, hi, what = KINDS[noise]
    v = default if level is None else level
    return {"label": f"strength {LEVEL_NAMES.get(noise, '')}".strip(), "hint": f"{what}, {lo:g} to {hi:g}",
            "min": lo, "max": hi, "value": v, "disabled": False}  # fmt: skip


def notice(notes: Sequence[str]) -> list[Any]:
    return [
        html.Button("×", id=Ids.NOTICE_CLOSE, className="lab-icon-btn lab-notice-close", title="Dismiss",
                    **{"aria-label": "Dismiss notice"}),
        html.Strong("Some settings from the link could not be used and were replaced: "),
        html.Ul([html.Li(n) for n in notes]),
    ]  # fmt: skip


def layout(query: Mapping[str, str] | None = None) -> html.Div:
    """The lab page for a link's query; what could not be used is listed in a visible notice."""
    try:
        settings, notes = sanitize(query if isinstance(query, Mapping) else {})
    except Exception as exc:  # noqa: BLE001 - a link must never break the page
        settings, notes = DEFAULT, [f"the link could not be read ({type(exc).__name__}); using the defaults"]
    return build_layout(settings, notes)


def _form(s: LabSettings) -> list[Any]:
    """The form's panels for settings ``s``, then the problems found and the link to the settings."""
    lvl = level_props(s.noise, s.level if s.noise != "none" else None)
    n_features, _ = source_shape(s, None)
    summary, _ = model_summary(s, n_features)
    return [
        _panel("Data", [
            dcc.RadioItems(id=Ids.DATA, options=[{"label": v[0], "value": k} for k, v in SOURCES.items()],
                           value=s.data, className="lab-radios", inputClassName="lab-radio"),
            html.Div(id=Ids.UPLOAD_BOX, hidden=s.data != "file", className="lab-upload-box", children=[
                dcc.Upload(id=Ids.UPLOAD, max_size=MAX_UPLOAD_BYTES, accept=".npy,.npz,.csv,.txt",
                           className="lab-upload", className_active="lab-upload active",
                           className_reject="lab-upload reject",
                           children=html.Div(["Drop a .npy, .npz or .csv file here, or ",
                                              html.Span("choose one", className="lab-link")])),
                html.Div(id=Ids.UPLOAD_MSG, className="lab-upload-msg", role="status", **{"aria-live": "polite"},
                         children=f"Samples × features (or samples × height × width), numeric, at most "
                                  f"{MAX_UPLOAD_BYTES // 2**20} MB and {MAX_SAMPLES:,} samples; no pickles."),
            ]),
            _field("samples", dcc.Input(id=Ids.SAMPLES, type="number", min=MIN_SAMPLES, max=MAX_SAMPLES,
                                                  step=1, value=s.samples, debounce=True, className="lab-num"),
                   Ids.SAMPLES, "at most; a seeded subset, 20 % held out for validation"),
        ]),
        _panel("Model", [
            _field("hidden sizes", dcc.Input(id=Ids.HIDDEN, type="text", value=",".join(map(str, s.hidden)),
                                             debounce=True, className="lab-text", spellCheck=False,
                                             placeholder="e.g. 32,8,32"), Ids.HIDDEN, "comma-separated widths"),
            _field("activation", dcc.Dropdown(id=Ids.ACT, options=[{"label": a, "value": a} for a in ACTIVATIONS],
                                              value=s.act, clearable=False, searchable=False), Ids.ACT),
            _field("output", dcc.Dropdown(id=Ids.OUT, options=[{"label": "sigmoid", "value": "sigmoid"},
                                                                {"label": "linear", "value": "linear"}],
                                          value=s.out, clearable=False, searchable=False), Ids.OUT),
            _field("loss", dcc.Dropdown(id=Ids.LOSS, options=[{"label": "mean squared error", "value": "mse"},
                                                              {"label": "binary cross-entropy", "value": "bce"}],
                                        value=s.loss, clearable=False, searchable=False), Ids.LOSS),
            _field("init", dcc.Dropdown(id=Ids.INIT, options=[{"label": INIT_LABELS[i], "value": i} for i in INITS],
                                        value=s.init, clearable=False, searchable=False), Ids.INIT),
            _field("skip connections", dcc.Dropdown(id=Ids.SKIP, options=[{"label": SKIP_LABELS[k], "value": k}
                                                                           for k in SKIPS],
                                                    value=s.skip, clearable=False, searchable=False), Ids.SKIP,
                   "zero-initialised linear paths: input → output, and around the bottleneck"),
            dcc.Checklist(id=Ids.ARCH, options=[{"label": "batch norm", "value": "bn"}],
                          value=["bn"] if s.bn else [], className="lab-checks", inline=True),
            html.P(summary, id=Ids.MODEL_SUMMARY, className="lab-model-summary"),
        ]),
        _panel("Denoising", [
            dcc.RadioItems(id=Ids.NOISE, options=[{"label": NOISE_LABELS[k], "value": k} for k in NOISES],
                           value=s.noise, className="lab-radios", inline=True),
            html.Div(className="lab-field", children=[
                html.Label(lvl["label"], id=Ids.LEVEL_LABEL, htmlFor=Ids.LEVEL),
                dcc.Input(id=Ids.LEVEL, type="number", min=lvl["min"], max=lvl["max"], step="any", value=lvl["value"],
                          disabled=lvl["disabled"], debounce=True, className="lab-num"),
                html.Span(lvl["hint"], id=Ids.LEVEL_HINT, className="lab-hint"),
            ]),
            html.P("Inputs are corrupted, targets stay clean; the PSNR table measures all noise types.",
                   className="lab-hint"),
        ], open_=s.noise != "none"),
        _panel("Training", [
            html.Div(className="lab-grid2", children=[
                _field("epochs", dcc.Input(id=Ids.EPOCHS, type="number", min=1, max=MAX_EPOCHS, step=1,
                                           value=s.epochs, debounce=True, className="lab-num"), Ids.EPOCHS),
                _field("batch size", dcc.Input(id=Ids.BATCH, type="number", min=1, max=MAX_BATCH, step=1,
                                               value=s.batch, debounce=True, className="lab-num"), Ids.BATCH),
                _field("seed", dcc.Input(id=Ids.SEED, type="number", min=0, max=MAX_SEED, step=1, value=s.seed,
                                         debounce=True, className="lab-num"), Ids.SEED),
                _field("time limit (s)", dcc.Input(id=Ids.LIMIT, type="number", min=MIN_TIME_LIMIT,
                                                   max=MAX_TIME_LIMIT, step=1, value=s.limit, debounce=True,
                                                   className="lab-num"), Ids.LIMIT),
            ]),
        ]),
        _panel("Optimizers in the race", [
            html.Div(opt_cards(rows_of(s)), id=Ids.OPT_ROWS, className="lab-opts"),
            html.Button("+ Add optimizer", id=Ids.OPT_ADD, className="lab-btn lab-btn-secondary",
                        disabled=len(s.opts) >= MAX_OPTIMIZERS,
                        title=f"Add a copy of the last card (up to {MAX_OPTIMIZERS})"),
            html.P("All start from the same weights and see the same minibatches.", className="lab-hint"),
        ]),
        html.Div(id=Ids.ISSUES, className="lab-issues", role="alert"),
        html.A("Link to these settings", id=Ids.SHARE, href=share_href(s), className="lab-share"),
    ]  # fmt: skip


def _runbar() -> html.Div:
    """Start, Cancel, the running badge, the progress bar and the status line."""
    return html.Div(className="lab-runbar", children=[
        html.Button("▶ Start race", id=Ids.START, className="lab-btn lab-start", n_clicks=0),
        html.Button("■ Cancel", id=Ids.CANCEL, className="lab-btn lab-btn-secondary", disabled=True),
        html.Span("running", id=Ids.RUNNING, className="lab-running", hidden=True),
        html.Progress(id=Ids.BAR, value="0", max="100", className="lab-bar", **{"aria-label": "Progress of the race"}),
        html.Div("Set up a race in the settings and press Start: every optimizer trains the same network from the "
                 "same weights.", id=Ids.STATUS, className="lab-status", role="status", **{"aria-live": "polite"}),
    ])  # fmt: skip


def build_layout(s: LabSettings, notes: Sequence[str] = ()) -> html.Div:
    """The page for validated settings ``s``; ``notes`` (what the link could not use) open a visible notice."""
    return html.Div(
        id=Ids.PAGE,
        className="lab-page",
        children=[
            skip_link(Ids.VIEW, "Skip to the race"),
            dcc.Store(id=Ids.NONCE, data=secrets.token_urlsafe(12)),
            # this browser's id (kept in its local storage): one race at a time per browser
            dcc.Store(id=Ids.BROWSER, storage_type="local"),
            dcc.Store(id=Ids.RUN),
            dcc.Store(id=Ids.FOLLOWING),
            dcc.Interval(id=Ids.WATCH, interval=WATCH_MS, disabled=True),
            dcc.Interval(id=Ids.FOLLOW, interval=FOLLOW_MS, disabled=True),
            dcc.Store(id=Ids.UPLOAD_STORE),
            dcc.Store(id=Ids.LAND_STORE),
            dcc.Store(id=Ids.LAST_RACE),
            dcc.Store(id=Ids.KEPT, storage_type="session"),  # the kept races live in this tab (app.lab.compare)
            header(),
            html.Div(notice(notes) if notes else [], id=Ids.NOTICE, className="lab-notice", role="alert",
                     hidden=not notes),
            html.Div(className="lab-head", children=[
                html.H2(TITLE),
                html.P("Train one autoencoder with several optimizers from the same start, watch the losses, then "
                       "compare reconstructions, denoising PSNR and the loss landscape around the final weights."),
            ]),
            html.Div(className="lab-main", children=[html.Aside(_form(s), className="lab-form"),
                                                     html.Main([_runbar(), *results_view()], id=Ids.VIEW, className="lab-view", tabIndex="-1")]),
        ],
    )  # fmt: skip
