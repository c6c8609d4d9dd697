"""The player's own figure: the map a student clicks a prediction on (pure; no browser needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

GRID = 90
POINT_NAME = "your prediction"


def prediction_map(view_cfg: Any, surface: Any, point: tuple[float, float] | None = None) -> dict[str, Any]:
    """A contour map of ``surface`` over its box with the view's start marked (and ``point`` when given).

    Clicking anywhere on the filled contours reports the cell's (x, y); log-scaled like the Explorer's
    map when the surface asks for it."""
    xs, ys, z = surface.grid(GRID)
    z = np.where(np.isfinite(z), z, np.nan)
    if surface.log_contour:
        floor = np.nanmin(z) if np.isfinite(np.nanmin(z)) else 0.0
        z = np.log10(np.maximum(z - floor, 0.0) + 1e-6)
    z = np.nan_to_num(z, nan=float(np.nanmax(z)) if np.isfinite(np.nanmax(z)) else 0.0)
    data: list[dict[str, Any]] = [
        {"type": "contour", "x": xs.tolist(), "y": ys.tolist(), "z": np.round(z, 5).tolist(),
         "colorscale": "Viridis", "showscale": False, "ncontours": 24, "line": {"width": 0.5},
         "hovertemplate": "x = %{x:.3g}<br>y = %{y:.3g}<extra>click to predict</extra>", "name": "surface"},
        {"type": "scatter", "x": [view_cfg.start[0]], "y": [view_cfg.start[1]], "mode": "markers",
         "marker": {"symbol": "circle-open", "size": 13, "color": "#ffffff", "line": {"width": 3}},
         "name": "start", "hoverinfo": "name"},
    ]  # fmt: skip
    if point is not None:
        data.append(point_trace(point))
    (x0, x1), (y0, y1) = surface.bounds
    return {
        "data": data,
        "layout": {
            "margin": {"l": 40, "r": 10, "t": 10, "b": 36},
            "xaxis": {"range": [x0, x1], "title": {"text": "x"}, "constrain": "domain"},
            "yaxis": {"range": [y0, y1], "title": {"text": "y"}, "scaleanchor": "x", "constrain": "domain"},
            "showlegend": False,
            "clickmode": "event",
            "dragmode": False,
            "height": 320,
        },
    }


def point_trace(point: tuple[float, float]) -> dict[str, Any]:
    return {"type": "scatter", "x": [point[0]], "y": [point[1]], "mode": "markers", "name": POINT_NAME,
            "marker": {"symbol": "x", "size": 16, "color": "#d55e00", "line": {"width": 2, "color": "#ffffff"}},
            "hoverinfo": "name"}  # fmt: skip
