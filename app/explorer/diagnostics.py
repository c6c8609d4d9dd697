"""The diagnostic panels under the map: loss, gradient norm, distance to the nearest minimum,
the effective learning rate, the stability η·λ_max and (on the quadratic) the error split, step by step.

Small figures sharing the step axis (see :data:`PANELS`); the race's
payload carries them and ``assets/explorer.js`` draws them after the map, one
at a time, with the step cursor over them.  A new panel adds its key and title
to :data:`PANELS` and its lines in :func:`diagnostics_panels` (the layout makes
a cell for every panel).  Nothing here touches Dash.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.explorer import curvature_panel
from app.explorer.compute import Result, Run
from app.shell.raster import typed
from app.shell.style import FONT, color, escape
from app.shell.surface_grid import f_star

MAX_DIAG_POINTS = 400  # per line: about one point per pixel of a panel


def loss_series(result: Result) -> tuple[dict[int, np.ndarray], bool, float | None]:
    """Per run colour: the loss to plot, whether it is on a log axis (as f − f*), and f*."""
    surface = result.surface
    fs = f_star(surface) if surface is not None else None
    runs = [r for r in result.runs if r.ok]
    use_log = fs is not None and all(float(np.min(r.trajectory.losses)) - fs > -1e-9 * max(1.0, abs(fs)) for r in runs)  # type: ignore[union-attr]
    out = {}
    for r in runs:
        f = r.trajectory.losses  # type: ignore[union-attr]
        if use_log:
            y = f - fs
            y = np.where(y > 0, y, np.nan)
        else:
            y = f
        out[r.entry.color] = y
    return out, use_log, fs


def _decimate(n: int) -> np.ndarray:
    if n <= MAX_DIAG_POINTS:
        return np.arange(n)
    stride = math.ceil(n / MAX_DIAG_POINTS)
    return np.unique(np.r_[np.arange(0, n, stride), n - 1])


def _positive(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


#: the diagnostic panels, in reading order: (key, title)
PANELS = (
    ("loss", "loss"),
    ("grad", "gradient norm ‖∇f‖ (log)"),
    ("dist", "distance to the nearest minimum (log)"),
    ("eff", "effective learning rate: x solid, y dotted (log)"),
    ("stab", "stability  η·λ_max(H)"),
    ("split", "error |⟨θ−θ*, v_i⟩| (log): run solid, prediction dashed"),
)


def diagnostics_panels(result: Result) -> list[dict[str, Any]]:
    """Four small figures sharing the step axis: loss, gradient norm, distance to the nearest minimum,
    and the per-coordinate effective learning rate.

    Separate figures (not subplots) let the browser redraw them one at a time, so a
    redraw never blocks the page for long; the step cursor is drawn over them.
    """
    losses, loss_log, _ = loss_series(result)
    has_minima = result.surface is not None and bool(result.surface.minima)
    data: dict[str, list[dict[str, Any]]] = {k: [] for k, _ in PANELS}
    for run in result.runs:
        if run.ok:
            for key, trace in _run_lines(run, losses[run.entry.color]):
                data[key].append(trace)
    titles = dict(PANELS)
    titles["loss"] = "loss  f − f* (log)" if loss_log else "loss  f"
    notes = {"dist": "" if has_minima else "this surface has no known minimum"}
    data["stab"], notes["stab"] = curvature_panel.stability_panel(result, _decimate, _line)
    data["split"], notes["split"] = curvature_panel.error_split_panel(result, _decimate, _line)
    if not any(r.ok for r in result.runs):
        notes = {k: "no runs to show" for k, _ in PANELS}
    linear = {"stab"} | ({"loss"} if not loss_log else set())
    out = [
        {"data": data[key], "layout": _panel_layout(result, titles[key], key not in linear, notes.get(key),
                                                    top=key == "stab")}
        for key, _ in PANELS
    ]
    bounds = [tr["y"][0] for tr in data["stab"] if tr.get("mode") == "lines+text"]
    if bounds:  # room above the highest bound for its label, whatever the lines do
        out[[k for k, _ in PANELS].index("stab")]["layout"]["yaxis"]["autorangeoptions"] = {"include": [0, 1.18 * max(bounds)]}
    return out


def _run_lines(run: Run, loss: np.ndarray) -> list[tuple[str, dict[str, Any]]]:
    """(panel key, trace) of every line one run draws, and the marker where it diverged or stalled."""
    t = run.trajectory
    assert t is not None
    col = color(run.entry.color)
    name = run.entry.label()
    idx = _decimate(t.positions.shape[0])
    steps = idx.astype(np.float64)
    series = [("loss", loss, "loss"), ("grad", _positive(run.grad_norm), "‖∇f‖")]
    if run.distance is not None:
        series.append(("dist", _positive(run.distance), "distance"))
    out = [(key, _line(steps, y[idx], col, name, what, "solid")) for key, y, what in series]
    eff = t.effective_lr
    if eff.shape[0] > 1:
        e_idx = idx[idx > 0]
        st = e_idx.astype(np.float64)
        out.append(("eff", _line(st, _positive(eff[e_idx, 0]), col, name, "η_eff x", "solid")))
        out.append(("eff", _line(st, _positive(eff[e_idx, 1]), col, name, "η_eff y", "dot")))
    if t.status in ("diverged", "stalled"):
        k = t.positions.shape[0] - 1
        yk = float(loss[k])
        out.append(("loss", {"type": "scatter", "mode": "markers", "x": [k], "y": [yk if math.isfinite(yk) else None],
                             "marker": {"symbol": "x-thin-open", "size": 12, "color": col,
                                        "line": {"width": 2.5, "color": col}},
                             "hovertemplate": f"{escape(name)}: {t.message}<extra></extra>", "showlegend": False}))  # fmt: skip
    return out


def _panel_layout(result: Result, title: str, log: bool, note: str | None, top: bool = False) -> dict[str, Any]:
    """A panel's layout: the step axis of the whole run, a linear or log y axis, and a note over an empty
    panel (``top``: under the title, for a panel whose lines stay)."""
    cfg = result.config
    layout: dict[str, Any] = {
        "margin": {"l": 58, "r": 12, "t": 26, "b": 34},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 12.5, "color": "#1d232b"},
        "showlegend": False,
        "hovermode": "closest",
        "uirevision": cfg.surface_key(),
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top", "font": {"size": 13}},
        "xaxis": {"range": [0, max(cfg.steps, 1)], "showgrid": True, "gridcolor": "#eceff3", "zeroline": False,
                  "title": {"text": "step", "standoff": 2}},
        "yaxis": {"type": "log" if log else "linear", "showgrid": True, "gridcolor": "#eceff3",
                  "zeroline": False, "exponentformat": "power"},
        "annotations": [],
    }  # fmt: skip
    if note:
        layout["annotations"].append(
            {"text": note, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.66 if top else 0.5,
             "font": {"size": 11 if top else 13, "color": "#6b7280"}}
        )  # fmt: skip
    return layout


def _line(x: np.ndarray, y: np.ndarray, col: str, name: str, what: str, dash: str) -> dict[str, Any]:
    """A diagnostic line; consecutive steps are sent as x0 + dx instead of an x array."""
    uniform = x.size > 1 and np.all(np.diff(x) == 1.0)
    xs: dict[str, Any] = {"x0": float(x[0]), "dx": 1} if uniform else {"x": typed(x, "f4")}
    return {
        "type": "scatter",
        "mode": "lines",
        **xs,
        "y": typed(y, "f4"),
        "line": {"color": col, "width": 2, "dash": dash},
        "name": name,
        "hovertemplate": f"{escape(name)}<br>step %{{x}}: {what} %{{y:.4g}}<extra></extra>",
        "showlegend": False,
    }
