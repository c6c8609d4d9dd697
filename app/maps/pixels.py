"""One pixel of a computed map: the run behind it, told in words, and its link to the Explorer.

A click (or typed values) picks the nearest pixel of the map on screen (:func:`locate_pixel`);
its run is computed again with the same engine and tolerances as the map (:func:`describe_run`)
and the side panel shows it with a link to that run in the Explorer (:func:`pixel_panel`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from dash import html

from app.explorer.state import ExplorerConfig, OptimizerEntry, to_query
from app.maps.state import MapConfig, build_surface, config_from_store, map_axes
from app.maps.wording import first_line, short_value
from app.shell.validation import parse_number, symbol_text
from optimizers import _slots as run_status
from optimizers.runner import sweep


@dataclass(frozen=True)
class Pixel:
    """One pixel of a map: its column and row, the run's Explorer configuration and link, and its story."""

    col: int
    row: int
    x: float
    y: float
    explorer: ExplorerConfig
    href: str
    lines: tuple[str, ...]


def _nearest(values: np.ndarray, v: float, log: bool) -> int:
    """The index of the value nearest ``v`` (nearest in log space on a log axis)."""
    if log and v > 0 and np.all(values > 0):
        return int(np.argmin(np.abs(np.log(values) - math.log(v))))
    return int(np.argmin(np.abs(values - v)))


def locate_pixel(meta: Any, x: Any, y: Any, root: str = "/") -> Pixel | None:
    """The pixel of the map described by ``meta`` nearest to (x, y) (click or typed values), or None.

    The Explorer link (``root`` + query) carries that pixel's start (basin map)
    or hyperparameter values (hyperparameter map) with the map's surface,
    optimizer and modifiers.
    """
    cfg = config_from_store(meta)
    fx, fy = parse_number(x), parse_number(y)
    if cfg is None or fx is None or fy is None:
        return None
    xs, ys = map_axes(cfg)
    j = _nearest(xs, fx, cfg.kind == "hyper" and cfg.x_axis.log)
    i = _nearest(ys, fy, cfg.kind == "hyper" and cfg.y_axis.log)
    px, py = float(xs[j]), float(ys[i])
    entry = cfg.entry
    if cfg.kind == "basin":
        start = (px, py)
    else:
        start = cfg.base.start
        spec = cfg.spec
        values = dict(entry.values)
        for key, v in ((cfg.x_axis.key, px), (cfg.y_axis.key, py)):
            values[key] = int(round(v)) if spec.param(key).kind == "int" else v
        entry = OptimizerEntry(entry.name, tuple(values.items()), 0)
    ex = replace(cfg.base, start=start, optimizers=(entry,), arrows=0, view="2d", notes=())
    href = root.rstrip("/") + "/" + to_query(ex)
    return Pixel(j, i, px, py, ex, href, tuple(describe_run(cfg, ex, meta)))


def describe_run(cfg: MapConfig, ex: ExplorerConfig, meta: Any) -> list[str]:
    """What this pixel's run does, in words (the same engine and tolerances as the map)."""
    entry = ex.optimizers[0]
    if cfg.kind == "basin":
        head = f"Start ({short_value(ex.start[0])}, {short_value(ex.start[1])})"
    else:
        spec = cfg.spec
        vals = dict(entry.values)
        head = ", ".join(f"{symbol_text(spec.param(k))} = {short_value(vals[k])}" for k in cfg.swept())
    try:
        surface = build_surface(cfg)
        res = sweep(surface, entry.config(), np.asarray(ex.start, dtype=float), ex.steps, ex.modifiers())
    except ValueError as exc:
        return [head, f"This run cannot be computed: {first_line(exc)}"]
    status = int(res.status[0])
    fx, fy = (float(v) for v in res.final_positions[0])
    loss = float(res.final_losses[0])
    if status == run_status.DIVERGED:
        story = "diverged"
    elif status == run_status.CONVERGED:
        story = f"converged in {int(res.steps_to_converge[0])} steps"
        minima = meta.get("minima") if isinstance(meta, Mapping) else None
        if isinstance(minima, list) and minima:
            try:
                mins = np.asarray(minima, dtype=float).reshape(-1, 2)
                d = np.hypot(mins[:, 0] - fx, mins[:, 1] - fy)
                k = int(np.argmin(d))
                if d[k] <= 0.02 * surface.span:
                    story += f" to minimum {k + 1} ({short_value(float(mins[k, 0]))}, {short_value(float(mins[k, 1]))})"
            except (TypeError, ValueError):
                pass
    elif status == run_status.STALLED_STATUS:
        story = "stopped: no step possible"
    else:
        story = f"did not converge in {ex.steps} steps"
    lines = [head, f"{entry.spec.display_name} {story}."]
    if status != run_status.DIVERGED and math.isfinite(loss):
        lines.append(f"Ends at ({short_value(fx)}, {short_value(fy)}), f = {loss:.4g}.")
    return lines


def pixel_panel(px: Pixel | None) -> list[Any]:
    """The side panel's text and the Explorer link for a pixel."""
    if px is None:
        return [html.P("Click a pixel of the map (or type its values below) to see that run and open it in the "
                       "Explorer.", className="maps-hint")]  # fmt: skip
    return [
        *[html.P(line, className="maps-pixel-line") for line in px.lines],
        html.Div(className="maps-open", children=[
            html.A("Open this run in the Explorer ▸", href=px.href, id="maps-open-link", className="maps-btn"),
            html.A("new tab ↗", href=px.href, target="_blank", rel="noopener", className="maps-newtab",
                   **{"aria-label": "Open this run in the Explorer in a new tab"}),
        ]),
    ]  # fmt: skip


def pick_labels(meta: Any) -> tuple[str, str]:
    """The labels of the typed pixel values: the start (basin map), or the two swept settings' symbols."""
    cfg = config_from_store(meta)
    if cfg is None or cfg.kind == "basin":
        return "x₀", "y₀"
    return symbol_text(cfg.spec.param(cfg.x_axis.key)), symbol_text(cfg.spec.param(cfg.y_axis.key))


def click_point(click: Any) -> tuple[Any, Any] | None:
    """(x, y) of the first point of a graph's clickData, or None."""
    if not isinstance(click, Mapping):
        return None
    pts = click.get("points")
    if not isinstance(pts, list) or not pts or not isinstance(pts[0], Mapping):
        return None
    return pts[0].get("x"), pts[0].get("y")
