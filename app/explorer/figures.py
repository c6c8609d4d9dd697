"""The map: configuration results in, plotly figure dicts out.

The map has a fixed trace layout (:data:`TRACE_INDEX`) so the browser's
animation engine can move balls, trails, end markers and arrows by index
without reading the figure back.  Every optimizer's traces sit at the position
of its colour (0–7); colours no optimizer has are empty traces.  Arrays travel
as plotly typed-array specs (``{"dtype", "bdata", "shape"}``), which plotly.js
decodes natively.  The panels under the map are :mod:`app.explorer.diagnostics`.

Nothing here touches Dash; the functions are unit-tested without a browser.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from app.explorer.compute import (
    AVERAGED_POINT,
    GRADIENT_POINT,
    Result,
    Run,
    end_marker,
    momentum_series,
    next_updates,
)
from app.explorer.config import N_COLORS, ExplorerConfig
from app.shell.contours import contour_lines, levels_for
from app.shell.raster import colorize, png_rgb, typed
from app.shell.style import FONT, LINE_COLOR, SURFACE_SCALE, color, escape, message_figure
from app.shell.surface_grid import Grid, ZScale, sample

ARROW_COLOR = "#2b2b2b"

GRID_2D = 200  # background image and contour lines
GRID_POINT_BUDGET = 20_000_000  # a data surface's background: grid² × n at most this
GRID_MIN_DATA = 60
GRID_3D = 60

#: trace positions in the 3-D map figure (the animation engine receives this map in its payload)
TRACE_INDEX: dict[str, Any] = {
    "background": 0,
    "minima": 1,
    "start": 2,
    "path": 3,
    "ball": 3 + N_COLORS,
    "end": 3 + 2 * N_COLORS,
    "arrow": 3 + 3 * N_COLORS,  # gradient, momentum, update
    "averaged": 6 + 3 * N_COLORS,  # schedule-free's averaged point x: one dashed path per colour
    "colors": N_COLORS,  # path, ball, end and averaged each have one trace per colour
}
ARROW_KINDS = (("grad", "−∇f", "dot"), ("momentum", "momentum", "dash"), ("update", "Δθ", "solid"))


# --------------------------------------------------------------------------- helpers


def _empty(kind: str) -> dict[str, Any]:
    return {"type": kind, "x": [], "y": [], **({"z": []} if kind == "scatter3d" else {}), "hoverinfo": "skip",
            "showlegend": False}  # fmt: skip


# --------------------------------------------------------------------------- raster and contour lines


def background_image(grid: Grid) -> dict[str, Any]:
    """The surface as a layout image (a PNG in data coordinates) under the traces."""
    sc = grid.scale
    high = sc.cap if sc.cap > sc.low else sc.low + 1.0
    png = png_rgb(colorize(grid.z, sc.low, high))
    xs, ys = grid.xs, grid.ys
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return {
        "source": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "xref": "x",
        "yref": "y",
        "x": float(xs[0] - dx / 2),
        "y": float(ys[-1] + dy / 2),
        "sizex": float(xs[-1] - xs[0] + dx),
        "sizey": float(ys[-1] - ys[0] + dy),
        "sizing": "stretch",
        "layer": "below",
        "xanchor": "left",
        "yanchor": "top",
    }


# --------------------------------------------------------------------------- map


def map_figure(result: Result, grid: Grid | None = None, with_runs: bool = True) -> dict[str, Any]:
    """The contour map (or 3-D surface); with ``with_runs`` every run drawn complete, balls at their last step.

    The 3-D figure always carries its runs at the fixed positions of :data:`TRACE_INDEX`
    (the engine restyles them); the 2-D map leaves them out when ``with_runs`` is
    false, because the engine draws them on a canvas over the plot.
    """
    cfg = result.config
    if result.surface is None:
        return message_figure(result.error or "No surface to show.")
    grid = grid or background_grid(result.surface, cfg.view)
    if cfg.view == "3d":
        return _map_3d(result, grid)
    return _map_2d(result, grid, with_runs)


def background_grid(surface: Any, view: str) -> Grid:
    """The sampled surface behind the map: fine and sharply log-scaled in 2-D, coarser and gentler in 3-D.

    A data surface's sample costs its n points each: the grid keeps to :data:`GRID_POINT_BUDGET` point
    evaluations (200 × 200 up to n ≈ 500, 70 × 70 at n = 4096)."""
    n = int(getattr(surface, "n_points", 0) or 0)
    size = GRID_3D if view == "3d" else GRID_2D
    if n > 0:
        size = max(GRID_MIN_DATA, min(size, int((GRID_POINT_BUDGET / n) ** 0.5)))
    return sample(surface, size, eps_rel=1e-2) if view == "3d" else sample(surface, size)


def _runs_by_color(result: Result) -> dict[int, Run]:
    return {r.entry.color: r for r in result.runs if r.ok}


def _map_2d(result: Result, grid: Grid, with_runs: bool = True) -> dict[str, Any]:
    """Background (image + contour lines) and minima; with ``with_runs``, every run drawn complete.

    In the app the trajectories are drawn by the animation engine on a canvas over
    the plot (``with_runs=False``), so that a frame never goes through Plotly.
    """
    cfg, surface = result.config, result.surface
    assert surface is not None
    lx, ly = contour_lines(grid.xs, grid.ys, grid.z, levels_for(grid.scale))
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": typed(lx, "f4"),
            "y": typed(ly, "f4"),
            "line": {"color": LINE_COLOR, "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "contours",
        },
        _minima_trace(result),
    ]
    if with_runs:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [cfg.start[0]],
                "y": [cfg.start[1]],
                "marker": {"symbol": "circle-open", "size": 16, "color": "#111", "line": {"width": 2.5}},
                "hovertemplate": "start (%{x:.3g}, %{y:.3g})<extra></extra>",
                "showlegend": False,
                "name": "start",
            }
        )
        for run in result.runs:
            if run.ok:
                traces += _run_traces_2d(run, cfg)
        traces += _arrow_traces_2d(result)
    (x0, x1), (y0, y1) = cfg.bounds
    layout = _base_layout(f"{surface.display_name}", cfg)
    layout.update(
        {
            "xaxis": {"range": [x0, x1], "title": {"text": "x"}, "zeroline": False, "showgrid": False,
                      "constrain": "domain", "automargin": True},
            "yaxis": {"range": [y0, y1], "title": {"text": "y"}, "zeroline": False, "showgrid": False,
                      "scaleanchor": "x", "scaleratio": 1, "constrain": "domain", "automargin": True},
            "dragmode": "zoom",
            "hovermode": "closest",
            "images": [background_image(grid)],
        }
    )  # fmt: skip
    return {"data": traces, "layout": layout}


def _run_traces_2d(run: Run, cfg: ExplorerConfig) -> list[dict[str, Any]]:
    """Path, ball at the last step and (if it diverged or stalled) the end marker of one run."""
    t = run.trajectory
    assert t is not None
    c = run.entry.color
    label = run.entry.label()
    point = f" {GRADIENT_POINT}" if t.averaged is not None else ""
    out: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": typed(t.positions[:, 0]),
            "y": typed(t.positions[:, 1]),
            "line": {"color": color(c), "width": 2.5},
            "name": label,  # the legend of a published figure finds a run's path by its label
            "hovertemplate": f"{escape(label)}{escape(point)}<br>step %{{pointNumber}}: (%{{x:.4g}}, %{{y:.4g}})"
            "<extra></extra>",
            "showlegend": False,
        },
        *_averaged_2d(run),
        {
            "type": "scatter",
            "mode": "markers",
            "x": [float(t.positions[-1, 0])],
            "y": [float(t.positions[-1, 1])],
            "marker": {"color": color(c), "size": 14, "line": {"color": "#ffffff", "width": 2}},
            "name": label,
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]
    pt = end_marker(run, cfg)
    if pt:
        out.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": [pt[0]],
                "y": [pt[1]],
                "text": [pt[2]],
                "textposition": pt[3],
                "textfont": {"color": "#1a1a1a", "size": 13},
                "marker": {"symbol": "x-thin-open", "size": 16, "color": color(c), "line": {"width": 3, "color": color(c)}},
                "hoverinfo": "skip",
                "showlegend": False,
                "cliponaxis": False,
                "name": pt[2],
            }
        )
    return out


def _averaged_2d(run: Run) -> list[dict[str, Any]]:
    """A schedule-free run's averaged point x: a thin dashed path in the run's colour and a hollow ball at its
    last step (nothing for other runs)."""
    t = run.trajectory
    if t is None or t.averaged is None:
        return []
    c, label = run.entry.color, run.entry.label()
    name = f"{label} {AVERAGED_POINT}"
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": typed(t.averaged[:, 0]),
            "y": typed(t.averaged[:, 1]),
            "line": {"color": color(c), "width": 1.5, "dash": "dash"},
            "name": name,
            "hovertemplate": f"{escape(name)}<br>step %{{pointNumber}}: (%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": [float(t.averaged[-1, 0])],
            "y": [float(t.averaged[-1, 1])],
            "marker": {"color": "#ffffff", "size": 10, "line": {"color": color(c), "width": 2.5}},
            "name": name,
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]


def _minima_trace(result: Result, scale: ZScale | None = None, cap: float = 0.0) -> dict[str, Any]:
    three_d = scale is not None
    surface = result.surface
    assert surface is not None
    mins = list(surface.minima)
    kinds = [m.kind for m in mins]
    text = [f"{k} minimum ({m.x:.4g}, {m.y:.4g}), f = {m.value:.4g}" for k, m in zip(kinds, mins, strict=True)]
    trace: dict[str, Any] = {
        "type": "scatter3d" if three_d else "scatter",
        "mode": "markers",
        "x": [m.x for m in mins],
        "y": [m.y for m in mins],
        "text": text,
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"symbol": "diamond" if three_d else "star", "size": 7 if three_d else 15, "color": "#ffffff",
                   "line": {"color": "#111111", "width": 1.5}},
        "showlegend": False,
        "name": "minima",
    }  # fmt: skip
    if scale is not None:
        trace["z"] = [float(min(scale(np.array([m.value]))[0], cap)) for m in mins]
    return trace


def _arrow_traces_2d(result: Result) -> list[dict[str, Any]]:
    """Gradient, momentum and update arrows at the last step of the arrows' optimizer (the engine moves them)."""
    cfg = result.config
    run = _runs_by_color(result).get(cfg.arrows)
    (x0, x1), (y0, y1) = cfg.bounds
    length = 0.09 * max(x1 - x0, y1 - y0)
    out = []
    vectors = arrow_vectors(run, -1) if run is not None else {}
    for kind, label, dash in ARROW_KINDS:
        vec = vectors.get(kind)
        trace = {
            "type": "scatter",
            "mode": "lines+markers+text",
            "x": [],
            "y": [],
            "text": [],
            "textposition": "top right",
            "textfont": {"size": 13, "color": ARROW_COLOR},
            "line": {"color": ARROW_COLOR, "width": 2.2, "dash": dash},
            "marker": {"symbol": ["circle", "arrow"], "size": [1, 12], "angleref": "previous", "color": ARROW_COLOR},
            "hoverinfo": "skip",
            "showlegend": False,
            "cliponaxis": False,
            "name": kind,
        }
        if vec is not None:
            (px, py), (vx, vy), lab = vec
            n = math.hypot(vx, vy)
            if n > 0:
                trace["x"] = [px, px + length * vx / n]
                trace["y"] = [py, py + length * vy / n]
                trace["text"] = ["", lab or label]
        out.append(trace)
    return out


def arrow_vectors(run: Run, k: int) -> dict[str, tuple[tuple[float, float], tuple[float, float], str]]:
    """Point k of ``run`` and the directions drawn there: −∇f, momentum (if any), and the next update."""
    t = run.trajectory
    if t is None:
        return {}
    k = k % t.positions.shape[0]
    p = (float(t.positions[k, 0]), float(t.positions[k, 1]))
    out = {"grad": (p, (float(-t.gradients[k, 0]), float(-t.gradients[k, 1])), "−∇f")}
    mom = momentum_series(run)
    if mom is not None:
        out["momentum"] = (p, (float(mom[0][k, 0]), float(mom[0][k, 1])), mom[1])
    u = next_updates(t)
    out["update"] = (p, (float(u[k, 0]), float(u[k, 1])), "Δθ")
    return out


def _map_3d(result: Result, grid: Grid) -> dict[str, Any]:
    cfg, surface = result.config, result.surface
    assert surface is not None
    sc = grid.scale
    cap = sc.cap if sc.cap > sc.low else sc.low + 1.0
    z = np.minimum(grid.z, cap)
    lift = 0.015 * (cap - sc.low)
    traces: list[dict[str, Any]] = [
        {
            "type": "surface",
            "x": typed(grid.xs),
            "y": typed(grid.ys),
            "z": typed(z),
            "colorscale": SURFACE_SCALE,
            "cmin": sc.low,
            "cmax": cap,
            "showscale": False,
            "opacity": 0.97,
            "contours": {"z": {"show": True, "color": "rgba(60,72,92,0.35)", "width": 1,
                               "start": sc.low, "end": cap, "size": (cap - sc.low) / 16}},
            "hovertemplate": "x %{x:.3f}<br>y %{y:.3f}<extra></extra>",
            "name": surface.display_name,
        },  # fmt: skip
        _minima_trace(result, sc, cap),
        _start_3d(result, sc, cap, lift),
    ]
    runs = _runs_by_color(result)
    per_color = [_run_traces_3d(runs.get(c), cfg, sc, cap, lift) for c in range(N_COLORS)]
    paths, balls, ends = (list(kind) for kind in zip(*per_color, strict=True))
    arrows = [
        {"type": "scatter3d", "mode": "lines", "x": [], "y": [], "z": [], "name": kind, "hoverinfo": "skip",
         "line": {"color": ARROW_COLOR, "width": 4, "dash": dash}, "showlegend": False}
        for kind, _, dash in ARROW_KINDS
    ]  # fmt: skip
    traces += paths + balls + ends + arrows + [_averaged_3d(runs.get(c), sc, cap, lift) for c in range(N_COLORS)]
    (x0, x1), (y0, y1) = cfg.bounds
    ratio = (y1 - y0) / (x1 - x0)
    layout = _base_layout(surface.display_name, cfg)
    layout["scene"] = {
        "xaxis": {"range": [x0, x1], "title": {"text": "x"}},
        "yaxis": {"range": [y0, y1], "title": {"text": "y"}},
        "zaxis": {"title": {"text": "log₁₀(f − f₀)" if sc.log else "f"}},
        "aspectmode": "manual",
        "aspectratio": {"x": 1.0, "y": max(0.3, min(ratio, 1.5)), "z": 0.55},
        "camera": {"eye": {"x": -1.35, "y": -1.55, "z": 1.05}},
    }
    return {"data": traces, "layout": layout}


def _run_traces_3d(run: Run | None, cfg: ExplorerConfig, sc: ZScale, cap: float, lift: float) -> list[dict[str, Any]]:
    """Path, ball at the last step and end marker of one colour's run (empty traces if it has none)."""
    if run is None:
        return [_empty("scatter3d"), _empty("scatter3d"), _empty("scatter3d")]
    t = run.trajectory
    assert t is not None
    c = run.entry.color
    zz = np.minimum(sc(t.losses), cap) + lift
    label = run.entry.label()
    path = {
        "type": "scatter3d",
        "mode": "lines",
        "x": typed(t.positions[:, 0]),
        "y": typed(t.positions[:, 1]),
        "z": typed(zz),
        "line": {"color": color(c), "width": 5},
        "name": label,
        "hoverinfo": "skip",
        "showlegend": False,
    }
    ball = {
        "type": "scatter3d",
        "mode": "markers",
        "x": [float(t.positions[-1, 0])],
        "y": [float(t.positions[-1, 1])],
        "z": [float(zz[-1])],
        "marker": {"color": color(c), "size": 7, "line": {"color": "#ffffff", "width": 1}},
        "name": label,
        "hoverinfo": "skip",
        "showlegend": False,
    }
    pt = end_marker(run, cfg)
    end = {
        "type": "scatter3d",
        "mode": "markers+text",
        "x": [pt[0]] if pt else [],
        "y": [pt[1]] if pt else [],
        "z": [float(cap)] if pt else [],
        "text": [pt[2]] if pt else [],
        "marker": {"symbol": "x", "size": 6, "color": color(c)},
        "textfont": {"color": "#1a1a1a", "size": 12},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    return [path, ball, end]


def _averaged_3d(run: Run | None, sc: ZScale, cap: float, lift: float) -> dict[str, Any]:
    """A schedule-free run's averaged point x as a dashed 3-D path at f(x) (an empty trace for other runs)."""
    t = run.trajectory if run is not None else None
    if run is None or t is None or t.averaged is None or t.averaged_losses is None:
        return _empty("scatter3d")
    return {
        "type": "scatter3d",
        "mode": "lines",
        "x": typed(t.averaged[:, 0]),
        "y": typed(t.averaged[:, 1]),
        "z": typed(np.minimum(sc(t.averaged_losses), cap) + lift),
        "line": {"color": color(run.entry.color), "width": 3, "dash": "dash"},
        "name": f"{run.entry.label()} {AVERAGED_POINT}",
        "hoverinfo": "skip",
        "showlegend": False,
    }


def _start_3d(result: Result, sc: ZScale, cap: float, lift: float) -> dict[str, Any]:
    cfg, surface = result.config, result.surface
    assert surface is not None
    f0 = surface.value(cfg.start[0], cfg.start[1])
    z0 = float(min(sc(np.array([f0]))[0], cap)) + lift if math.isfinite(f0) else cap
    return {
        "type": "scatter3d",
        "mode": "markers",
        "x": [cfg.start[0]],
        "y": [cfg.start[1]],
        "z": [z0],
        "marker": {"symbol": "circle-open", "size": 8, "color": "#111"},
        "hovertemplate": "start<extra></extra>",
        "showlegend": False,
        "name": "start",
    }


def _base_layout(title: str, cfg: ExplorerConfig) -> dict[str, Any]:
    return {
        "margin": {"l": 56, "r": 16, "t": 36, "b": 48},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 14, "color": "#1d232b"},
        "title": {"text": escape(title), "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "showlegend": False,
        "uirevision": cfg.surface_key(),
    }
