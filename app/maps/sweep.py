"""Running the sweep of a :class:`~app.maps.state.MapConfig`, and the computed map as JSON for the shared store.

:func:`run_sweep` is the one place a configuration becomes engine calls, for the page's background
job, its exports and the command line alike, so all three compute the same numbers.
:func:`sweep_document` and :func:`sweep_from_document` turn a :class:`~optimizers.maps.SweepMap`
into plain JSON (arrays as little-endian base64, exact for every float) and back, so that the
result cache can keep the map's data beside its figure: an export of the map on screen then
reads the very numbers the page drew.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from app.maps.state import MapConfig, map_axes
from optimizers import maps as sweep_engine
from optimizers.maps import MAX_GRID, SweepMap

#: the arrays of a SweepMap and their stored dtypes (exact: float64, and integers that fit)
ARRAYS = {"xs": "<f8", "ys": "<f8", "final_x": "<f8", "final_y": "<f8", "final_loss": "<f8", "steps": "<i4",
          "status": "<i1", "basin": "<i2"}  # fmt: skip
MAX_MINIMA = 1000


def run_sweep(
    cfg: MapConfig,
    surface: Any,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    precision: str = "float64",
) -> SweepMap:
    """The map ``cfg`` describes on ``surface`` (its built surface); the engine's errors propagate.

    ``precision="float32"`` is for a map whose colours are all that is drawn (the live preview); the
    engine grants it where it applies and the map's ``precision`` says what ran."""
    optimizer = cfg.entry.config()
    mods = cfg.base.modifiers()
    steps = cfg.base.steps
    if cfg.kind == "basin":
        return sweep_engine.basin_map(surface, optimizer, cfg.grid, steps, mods, progress=progress,
                                      should_stop=should_stop, precision=precision)  # fmt: skip
    xs, ys = map_axes(cfg)
    return sweep_engine.hyper_map(surface, optimizer, cfg.base.start, (cfg.x_axis.key, xs), (cfg.y_axis.key, ys),
                                  steps, mods, progress=progress, should_stop=should_stop,
                                  precision=precision)  # fmt: skip


def sweep_document(smap: SweepMap) -> dict[str, Any]:
    """A SweepMap as plain JSON (no NaN or infinity appears in it: arrays are base64)."""
    doc: dict[str, Any] = {
        name: base64.b64encode(np.ascontiguousarray(getattr(smap, name), dtype=dt).tobytes()).decode("ascii")
        for name, dt in ARRAYS.items()
    }
    doc.update(x_label=smap.x_label, y_label=smap.y_label, log_x=bool(smap.log_x), log_y=bool(smap.log_y),
               minima=[[float(x), float(y)] for x, y in smap.minima], precision=smap.precision)  # fmt: skip
    return doc


def sweep_from_document(doc: Any) -> SweepMap:
    """The SweepMap of :func:`sweep_document`'s output; ValueError for anything else (the store is checked)."""
    if not isinstance(doc, Mapping):
        raise ValueError("not a stored map")  # noqa: TRY004  (one error type for every unreadable entry)
    arrays: dict[str, np.ndarray] = {}
    for name, dt in ARRAYS.items():
        text = doc.get(name)
        if not isinstance(text, str):
            raise ValueError(f"the stored map has no {name}")  # noqa: TRY004
        arrays[name] = np.frombuffer(base64.b64decode(text, validate=True), dtype=dt).copy()
    nx, ny = arrays["xs"].size, arrays["ys"].size
    if not (2 <= nx <= MAX_GRID and 2 <= ny <= MAX_GRID):
        raise ValueError("the stored map has a bad size")
    for name in ARRAYS:
        if name not in ("xs", "ys"):
            if arrays[name].size != nx * ny:
                raise ValueError(f"the stored map's {name} has the wrong size")
            arrays[name] = arrays[name].reshape(ny, nx)
    minima = doc.get("minima")
    if not isinstance(minima, list) or len(minima) > MAX_MINIMA:
        raise ValueError("the stored map's minima are unreadable")
    pts = tuple((float(m[0]), float(m[1])) for m in minima)
    labels = doc.get("x_label"), doc.get("y_label")
    if not all(isinstance(s, str) for s in labels):
        raise ValueError("the stored map's labels are unreadable")
    return SweepMap(
        xs=arrays["xs"], ys=arrays["ys"], x_label=labels[0], y_label=labels[1], final_x=arrays["final_x"],
        final_y=arrays["final_y"], final_loss=arrays["final_loss"], steps=arrays["steps"].astype(np.int64),
        status=arrays["status"].astype(np.int64), basin=arrays["basin"].astype(np.int64), minima=pts,
        log_x=bool(doc.get("log_x")), log_y=bool(doc.get("log_y")),
        precision="float32" if doc.get("precision") == "float32" else "float64",
    )  # fmt: skip
