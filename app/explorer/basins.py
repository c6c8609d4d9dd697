"""The Explorer's basins layer: the map coloured by where each start ends, for the race's first optimizer.

    GET /_descent/basins?q=<Explorer query>

answers ``{"key", "image", "legend", "caption", "grid", "steps"}``: a layout image
(a PNG over the plotting box, drawn by ``assets/explorer_basins.js`` over the
surface's colours and under the contour lines and runs), one legend entry per
colour that appears, and the sentence that says what the colours mean.  Every
pixel is a start: the first optimizer of the race, with its hyperparameters and
the race's modifiers (noise, clipping, schedule), run from there for the race's
steps, and coloured by the minimum it reached (the Sweep maps page's colours:
Okabe–Ito per minimum, light grey for none, black for diverged).

The work of one answer is bounded (:data:`LAYER_BUDGET_NS` of estimated kernel
time): the grid shrinks for long races and slow rules, down to :data:`MIN_GRID`
starts a side; beyond that the layer is refused with the reason.  Answers go
through the shared result cache, keyed by what the layer depends on (surface,
box, first optimizer, steps, modifiers), so moving the start or another
optimizer's slider costs nothing.  A query that cannot be used is answered 400;
a layer that cannot be drawn (3-D view, a data surface, no optimizer) is
answered ``{"error": reason}``.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from typing import Any

import numpy as np

from app.explorer.compute import build_surface
from app.explorer.config import MAX_QUERY_CHARS, ExplorerConfig, box_start
from app.explorer.ids import BASINS_ROUTE
from app.explorer.query import from_query, state_key
from app.export.imaging import DIVERGED_RGB, NONE_RGB, OKABE_ITO, hex_rgb, map_rgb
from app.hosting import result_cache
from app.shell.raster import png_rgb
from optimizers.maps import DIVERGED, MAX_MAP_STEPS, NO_MINIMUM, SweepMap, basin_map

ROUTE = BASINS_ROUTE
#: estimated kernel time one answer may take (the grid shrinks to fit it)
LAYER_BUDGET_NS = 250e6
MAX_GRID = 128
MIN_GRID = 16
#: a layer whose smallest grid would take this many budgets is refused
REFUSE_FACTOR = 8
#: estimated ns per step and start, by how the rule is swept (medians of bench/bench_core.py, rounded up)
NS_LOCKSTEP = 4.0  # coordinate-wise rules, stepped as one vector
NS_ONE_BY_ONE = 1000.0  # the other kernel rules (Newton, CG, L-BFGS, SAM), one run at a time
NS_PYTHON = 25000.0  # Hessian-free: a Python driver
#: a typed formula is evaluated by the formula machine: about ten times an analytic surface's cost a step
FORMULA_FACTOR = 10.0
#: how much of each colour is kept over white: the layer tints the map, contours and runs stay legible
TINT = 0.62
MAX_LEGEND = 8


class BadRequest(ValueError):
    """A request the endpoint refuses (answered 400)."""


class NoLayer(ValueError):
    """A configuration the layer is not drawn for (answered with the reason)."""


def requested(args: Any) -> ExplorerConfig:
    """The configuration a request names; :class:`BadRequest` if its query is unusable."""
    q = args.get("q", "")
    if not isinstance(q, str) or len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"q must be an Explorer query of at most {MAX_QUERY_CHARS} characters")
    return from_query(q)


def ns_per_step(cfg: ExplorerConfig) -> float:
    """Estimated kernel time of one step of one start of the layer's optimizer."""
    spec = cfg.optimizers[0].spec
    if spec.name == "hessian_free":
        ns = NS_PYTHON
    else:
        ns = NS_LOCKSTEP if spec.coordinatewise else NS_ONE_BY_ONE
    return ns * (FORMULA_FACTOR if cfg.is_formula else 1.0)


def layer_grid(steps: int, ns: float) -> int:
    """Starts a side for a layer of ``steps`` steps at ``ns`` per step: the most within the budget
    (≤ :data:`MAX_GRID`, ≥ :data:`MIN_GRID`); :class:`NoLayer` if even the smallest would take far longer."""
    fits = int(math.sqrt(LAYER_BUDGET_NS / max(1.0, steps * ns)))
    if fits < MIN_GRID and MIN_GRID * MIN_GRID * steps * ns > REFUSE_FACTOR * LAYER_BUDGET_NS:
        raise NoLayer(f"too slow to draw here ({steps} steps of this optimizer from {MIN_GRID} × {MIN_GRID} "
                      "starts): shorten the race, or use the Sweep maps page")  # fmt: skip
    return max(MIN_GRID, min(MAX_GRID, fits))


def layer_config(cfg: ExplorerConfig) -> ExplorerConfig:
    """What the layer depends on, and nothing else (its cache key): the first optimizer alone, a fixed start."""
    if cfg.view == "3d":
        raise NoLayer("basins are drawn on the contour map")
    if cfg.is_data:
        raise NoLayer("basins are drawn for the analytic and typed surfaces (a data surface's every step "
                      "costs all its points)")  # fmt: skip
    if not cfg.optimizers:
        raise NoLayer("add an optimizer to colour the map by where its runs end")
    first = cfg.optimizers[0]
    if first.problem():
        raise NoLayer(first.problem() or "")
    return dataclasses.replace(cfg, optimizers=(first,), start=box_start(cfg.box), arrows=-1, basins=False, notes=())


def _tinted(rgb: np.ndarray) -> np.ndarray:
    return np.round(255.0 - TINT * (255.0 - rgb.astype(np.float64))).astype(np.uint8)


def _share(mask: np.ndarray) -> float:
    return round(100.0 * float(mask.mean()), 1) if mask.size else 0.0


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def legend(smap: SweepMap) -> list[dict[str, Any]]:
    """One entry per colour the layer shows (label, colour as drawn, share of the starts in %), largest minima first."""
    out: list[dict[str, Any]] = []
    shown = [(k, smap.basin == k) for k in range(len(smap.minima))]
    shown = sorted(((k, m) for k, m in shown if m.any()), key=lambda km: -int(km[1].sum()))
    palette = _palette(len(smap.minima))
    for k, m in shown[:MAX_LEGEND]:
        x, y = smap.minima[k]
        out.append({"label": f"minimum ({_fmt(x)}, {_fmt(y)})", "color": palette[k], "share": _share(m)})
    if len(shown) > MAX_LEGEND:
        rest = np.isin(smap.basin, [k for k, _ in shown[MAX_LEGEND:]])
        out.append({"label": f"{len(shown) - MAX_LEGEND} more minima", "color": "", "share": _share(rest)})
    for mask, label, rgb in ((smap.basin == NO_MINIMUM, "no known minimum", NONE_RGB),
                             (smap.basin == DIVERGED, "diverged", DIVERGED_RGB)):  # fmt: skip
        if mask.any():
            out.append({"label": label, "color": _tinted_hex(rgb), "share": _share(mask)})
    return out


def _tinted_hex(rgb: Any) -> str:
    r, g, b = (int(v) for v in _tinted(np.asarray(rgb)))
    return f"#{r:02x}{g:02x}{b:02x}"


def _palette(k: int) -> list[str]:
    """The drawn colour of minimum 0 … k−1 (map_rgb's, tinted)."""
    return [_tinted_hex(hex_rgb(OKABE_ITO[i % len(OKABE_ITO)])) for i in range(k)]


def layer_image(smap: SweepMap) -> dict[str, Any]:
    """The layer as a plotly layout image over the plotting box (pixel centres at the grid's starts)."""
    rgb = _tinted(map_rgb(smap, "minimum"))  # rows top to bottom
    png = png_rgb(np.ascontiguousarray(rgb[::-1]))  # png_rgb takes row 0 as the bottom row
    xs, ys = smap.xs, smap.ys
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return {
        "source": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "xref": "x", "yref": "y",
        "x": float(xs[0] - dx / 2), "y": float(ys[-1] + dy / 2),
        "sizex": float(xs[-1] - xs[0] + dx), "sizey": float(ys[-1] - ys[0] + dy),
        "sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top",
    }  # fmt: skip


def caption(cfg: ExplorerConfig, grid: int, steps: int) -> str:
    """What the colours mean, in one sentence."""
    first = cfg.optimizers[0]
    mods = []
    if cfg.noise > 0:
        mods.append(f"gradient noise σ = {_fmt(cfg.noise)}, seed {cfg.seed}")
    if cfg.clip != "none":
        mods.append(f"clipping by {cfg.clip}")
    if cfg.schedule != "constant":
        mods.append(f"{cfg.schedule} schedule")
    extra = f" ({'; '.join(mods)})" if mods else ""
    return (f"Colour: where each start ends with {first.label()}{extra} after {steps} steps, "
            f"{grid} × {grid} starts.")  # fmt: skip


def basin_layer(cfg: ExplorerConfig) -> dict[str, Any]:
    """The layer of ``cfg`` (see the module docstring), computed; :class:`NoLayer` with the reason."""
    lcfg = layer_config(cfg)
    steps = min(lcfg.steps, MAX_MAP_STEPS)
    grid = layer_grid(steps, ns_per_step(lcfg))
    try:
        surface = dataclasses.replace(build_surface(lcfg), bounds=lcfg.bounds)
        config = lcfg.optimizers[0].config()
    except ValueError as exc:
        raise NoLayer(str(exc).splitlines()[0] if str(exc) else "this surface cannot be drawn") from None
    with np.errstate(all="ignore"):
        smap = basin_map(surface, config, grid=grid, steps=steps, modifiers=lcfg.modifiers())
    return {"key": state_key(lcfg), "image": layer_image(smap), "legend": legend(smap),
            "caption": caption(lcfg, grid, steps), "grid": grid, "steps": steps}  # fmt: skip


def cached_layer_text(cfg: ExplorerConfig) -> str:
    """:func:`basin_layer`'s JSON through the shared result cache, or ``{"error": reason}``."""
    import json

    try:
        lcfg = layer_config(cfg)
        text, _ = result_cache.fetch_text("basins", state_key(lcfg), lambda: basin_layer(lcfg))
        return text
    except NoLayer as exc:
        return json.dumps({"error": str(exc)})


def register(server: Any) -> None:
    """Add the layer's route to the Flask server."""
    from flask import Response, request

    @server.get(ROUTE)
    def basins_layer() -> Any:
        try:
            cfg = requested(request.args)
        except BadRequest as exc:
            return {"error": "bad request", "reason": str(exc)}, 400
        response = Response(cached_layer_text(cfg), mimetype="application/json")
        response.headers["Cache-Control"] = "private, max-age=600"
        return response
