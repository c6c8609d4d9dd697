"""The figure of a computed map for its configuration: titles, the surface's contours under a
basin map, and the analytic stability bound over a hyperparameter map where one applies.

The drawing itself is :mod:`app.maps.figures` (pure builders of a :class:`~optimizers.maps.SweepMap`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from app.hosting import result_cache
from app.maps import figures as maps_figures
from app.maps.state import MapConfig
from app.maps.wording import axis_title, short_value
from app.shell.contours import levels_for
from app.shell.surface_grid import sample
from app.shell.validation import symbol_text
from optimizers.maps import SweepMap, heavy_ball_stable

#: the hyperparameters the analytic bound knows: the learning rate, the momentum and the weight decay
BOUND_KEYS = frozenset({"lr", "momentum", "weight_decay"})
#: a basin map's contour lines are those of the surface sampled on this many points a side
CONTOUR_SAMPLES = 200


def heavy_ball_bound(cfg: MapConfig) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str] | None:
    """The analytic stability test of this hyperparameter map, if it has one, and its legend label.

    Heavy-ball momentum (and SGD without Nesterov) with no dampening on the
    quadratic ½(u²/κ + v²): curvatures 1/κ and 1, each raised by the weight
    decay λ; stable exactly when η(c + λ) < 2(1 + μ) for both.  Applies when
    both axes are among η, μ and λ, with no clipping and a constant learning
    rate (gradient noise leaves the condition unchanged).
    """
    if cfg.kind != "hyper" or cfg.base.surface != "quadratic":
        return None
    if cfg.base.clip != "none" or cfg.base.schedule != "constant":  # the iteration is no longer this linear one
        return None
    vals = dict(cfg.entry.values)
    name = cfg.entry.name
    heavy = (name == "momentum" or (name == "sgd" and not vals.get("nesterov"))) and vals.get("dampening", 0) == 0
    keys = {cfg.x_axis.key, cfg.y_axis.key}
    if not heavy or not keys <= BOUND_KEYS:
        return None
    kappa = dict(cfg.base.surface_params)["kappa"]
    xk, yk = cfg.x_axis.key, cfg.y_axis.key

    def stable(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = {k: np.asarray(vals[k], dtype=float) for k in BOUND_KEYS}
        v[xk], v[yk] = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        wd = v["weight_decay"]
        return heavy_ball_stable(v["lr"], v["momentum"], [1.0 / kappa + wd, 1.0 + wd])

    lam = "(1 + λ)" if "weight_decay" in keys or vals["weight_decay"] else ""
    mu = "2(1 + μ)" if "momentum" in keys or vals["momentum"] else "2"
    return stable, f"analytic limit η{lam} = {mu}"


BOUND_EXPLANATION = (
    "Dashed line: on ½(u²/κ + v²) heavy-ball momentum is stable exactly when η·(c + λ) < 2(1 + μ) for both "
    "curvatures c = 1/κ and c = 1 (λ: weight decay); the steeper one binds. With μ = λ = 0 this is gradient "
    "descent's η < 2/L."
)


def f_star_of(surface: Any) -> float | None:
    """The lowest known minimum value of ``surface``, or None when it knows no minimum."""
    return min(m.value for m in surface.minima) if surface.minima else None


def _surface_title(cfg: MapConfig, surface: Any) -> str:
    if cfg.base.is_formula:
        text = cfg.base.formula
        return "f = " + (text if len(text) <= 40 else text[:39] + "…")
    return surface.display_name


def surface_contours(cfg: MapConfig, surface: Any) -> dict[str, Any]:
    """The contour-line trace of a basin map's surface (``surface``, built from ``cfg``), from the shared result
    cache: keyed by the surface alone, so maps of other optimizers and settings on it reuse the lines."""

    def build() -> dict[str, Any]:
        g = sample(surface, CONTOUR_SAMPLES)
        return maps_figures.contour_trace(g.xs, g.ys, g.z, levels_for(g.scale))

    trace, _ = result_cache.fetch("map-contours", cfg.base.surface_key(), build)
    return trace


def map_figure(cfg: MapConfig, smap: SweepMap, surface: Any, contours: bool = True) -> dict[str, Any]:
    """The figure of a computed map (calls the pure builders of :mod:`app.maps.figures`); ``contours=False``
    leaves a basin map's surface contour lines out (a live preview whose page already has them)."""
    label = cfg.entry.label()
    fs = f_star_of(surface)
    what = maps_figures.SHOW_LABELS[cfg.show]
    steps = cfg.base.steps
    if cfg.kind == "basin":
        return maps_figures.basin_figure(
            smap, cfg.show, title=f"Basins of attraction · {label} on {_surface_title(cfg, surface)}",
            subtitle=f"{cfg.grid}×{cfg.grid} starts × up to {steps} steps · colour: {what}",
            f_star=fs, steps=steps, contours=surface_contours(cfg, surface) if contours else None,
        )  # fmt: skip
    spec = cfg.spec
    px, py = spec.param(cfg.x_axis.key), spec.param(cfg.y_axis.key)
    bound = None
    hb = heavy_ball_bound(cfg)
    if hb is not None:
        stable, bound_label = hb
        bx, by = maps_figures.stability_boundary(
            stable, (float(smap.xs[0]), float(smap.xs[-1])), (float(smap.ys[0]), float(smap.ys[-1])),
            smap.log_x, smap.log_y,
        )  # fmt: skip
        bound = (bx, by, bound_label)
    others = [(k, v) for k, v in cfg.entry.changed().items() if k not in cfg.swept()]
    rest = ", ".join(f"{symbol_text(spec.param(k))} = {short_value(v)}" for k, v in others[:3]) or "defaults"
    rest += ", …" if len(others) > 3 else ""
    start = ", ".join(short_value(v) for v in cfg.base.start)
    return maps_figures.hyper_figure(
        smap, cfg.show, title=f"{spec.display_name} on {_surface_title(cfg, surface)}",
        subtitle=f"from ({start}) · {cfg.grid}×{cfg.grid} settings × up to {steps} steps · other settings: {rest}",
        x_title=axis_title(px), y_title=axis_title(py), x_symbol=symbol_text(px), y_symbol=symbol_text(py),
        f_star=fs, steps=steps, bound=bound,
    )  # fmt: skip
