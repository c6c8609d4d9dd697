"""A surface sampled on a grid for a map's background, and the value transform (log or linear) it is drawn with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from surfaces import Surface


@dataclass(frozen=True, eq=False)
class ZScale:
    """How surface values map to the contour/height axis: log10(f − floor + eps) or f, capped at ``cap``."""

    log: bool
    floor: float
    eps: float
    low: float
    cap: float

    def __call__(self, f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        with np.errstate(all="ignore"):
            z = np.log10(np.maximum(f - self.floor, 0.0) + self.eps) if self.log else f.copy()
        return z

    def to_dict(self) -> dict[str, Any]:
        return {"log": self.log, "floor": self.floor, "eps": self.eps, "low": self.low, "cap": self.cap}


@dataclass(frozen=True, eq=False)
class Grid:
    """The surface sampled for the background: axis vectors, values and their plotted transform."""

    xs: np.ndarray
    ys: np.ndarray
    f: np.ndarray
    z: np.ndarray
    scale: ZScale


def f_star(surface: Surface) -> float | None:
    """The lowest known minimum value, or None when the surface knows no minimum."""
    return min(m.value for m in surface.minima) if surface.minima else None


def sample(surface: Surface, n: int, eps_rel: float = 1e-4) -> Grid:
    """The n×n grid over the surface's bounds and the transform used to draw it.

    Log-scaled surfaces are drawn as log10(f − f₀ + ε) with ε = ``eps_rel`` × (median − f₀):
    a small ε resolves the floor of the valleys in a contour map; the 3-D view uses a
    larger one so the minima are not drawn as needle-deep wells.
    """
    xs, ys, f = surface.grid(n)
    finite = f[np.isfinite(f)]
    fs = f_star(surface)
    if finite.size == 0:
        scale = ZScale(False, 0.0, 1.0, 0.0, 1.0)
        return Grid(xs, ys, f, np.zeros_like(f), scale)
    lo = float(finite.min()) if fs is None else min(float(finite.min()), fs)
    if surface.log_contour:
        spread = float(np.percentile(finite, 50)) - lo
        eps = max(spread * eps_rel, 1e-12) if spread > 0 else 1e-6
        probe = ZScale(True, lo, eps, 0.0, 0.0)
        zf = probe(finite)
        scale = ZScale(True, lo, eps, float(zf.min()), float(np.percentile(zf, 99)))
    else:
        scale = ZScale(False, 0.0, 1.0, float(finite.min()), float(np.percentile(finite, 97)))
    z = scale(f)
    return Grid(xs, ys, f, z, scale)
