"""The start's run drawn over a basin map (the live preview and the computed map draw the same line)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.maps.state import MapConfig


def trajectory_trace(cfg: MapConfig, surface: Any) -> dict[str, Any] | None:
    """The start's run over a basin map (a white line with a dark edge, the start a ring); None for other maps
    or a run that cannot be traced."""
    if cfg.kind != "basin":
        return None
    from optimizers import trace

    try:
        t = trace(surface, cfg.entry.config(), cfg.base.start, cfg.base.steps, cfg.base.modifiers())
    except ValueError:
        return None
    pts = np.asarray(t.positions, dtype=float)
    pts = np.round(pts[np.all(np.isfinite(pts), axis=1)], 5)
    if pts.shape[0] > 400:
        pts = pts[np.unique(np.round(np.linspace(0, pts.shape[0] - 1, 400)).astype(int))]
    return {"type": "scatter", "mode": "lines+markers", "x": pts[:, 0].tolist(), "y": pts[:, 1].tolist(),
            "name": "run from the start", "showlegend": False, "hoverinfo": "skip",
            "line": {"color": "#ffffff", "width": 2.5},
            "marker": {"size": [11] + [0] * (pts.shape[0] - 1), "color": "rgba(0,0,0,0)",
                       "line": {"color": "#1d232b", "width": 2.5}}}  # fmt: skip
