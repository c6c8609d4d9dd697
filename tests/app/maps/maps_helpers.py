"""Helpers the Sweep maps tests share: a hand-made SweepMap, figure probes, small maps, the form of a configuration."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from plotly.utils import PlotlyJSONEncoder

from app.maps.form import FORM_FIELDS, FormRows
from app.maps.layout import controls_for
from app.maps.state import MapConfig
from optimizers.maps import SweepMap


def fake_map(basin: np.ndarray, status: np.ndarray, steps: np.ndarray | None = None, loss: np.ndarray | None = None,
             xs=None, ys=None, log_x=False, log_y=False, minima=((1.0, 1.0), (-1.0, -1.0))) -> SweepMap:  # fmt: skip
    ny, nx = basin.shape
    xs = np.linspace(-2, 2, nx) if xs is None else np.asarray(xs, dtype=float)
    ys = np.linspace(-2, 2, ny) if ys is None else np.asarray(ys, dtype=float)
    zeros = np.zeros((ny, nx))
    return SweepMap(
        xs=xs, ys=ys, x_label="x", y_label="y", final_x=zeros, final_y=zeros,
        final_loss=np.ones((ny, nx)) if loss is None else loss,
        steps=np.full((ny, nx), 10) if steps is None else steps, status=status, basin=basin,
        minima=tuple(minima), log_x=log_x, log_y=log_y,
    )  # fmt: skip


def no_nan_json(fig) -> str:
    return json.dumps(fig, allow_nan=False)


def as_json(value) -> str:
    """``value`` as JSON, components included (they compare by identity, their JSON by content)."""
    return json.dumps(value, cls=PlotlyJSONEncoder, sort_keys=True)


def heatmaps(fig):
    return [t for t in fig["data"] if t["type"] == "heatmap"]


def legend(fig):
    return [(t["name"], t["marker"]["color"]) for t in fig["data"] if t.get("showlegend") and "marker" in t]


def luminance(hex_color: str) -> float:
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def small(cfg: MapConfig, grid: int = 12, steps: int = 200) -> MapConfig:
    """``cfg`` with a smaller grid and fewer steps (a quick map)."""
    return replace(cfg, grid=grid, base=replace(cfg.base, steps=steps))


def form_of(cfg: MapConfig) -> dict:
    """The plain fields of the form showing ``cfg``, by name."""
    values = controls_for(cfg)
    form = {name: values[(cid, "value")] for name, cid in FORM_FIELDS}
    form["surface"] = cfg.base.surface
    return form


def rows_of(cfg: MapConfig) -> FormRows:
    """The generated rows of the form showing ``cfg`` (every hyperparameter filled in)."""
    numbers = {p.key: cfg.entry.value(p.key) for p in cfg.spec.params if p.kind in ("float", "int")}
    flags = {p.key: (["on"] if cfg.entry.value(p.key) else []) if p.kind == "bool" else cfg.entry.value(p.key)
             for p in cfg.spec.params if p.kind in ("bool", "choice")}  # fmt: skip
    return FormRows(dict(cfg.base.surface_params), numbers, flags)

