"""Building a :class:`Surface` from a data surface's parameters (and optionally its own points).

The points come from :func:`surfaces.data.generate` unless given.  The known minima are
computed from the data: least squares in closed form for ``linreg``; damped Newton for
``logreg`` (none when the weights run away: separable points without an L2 term) and for
``tiny_net`` (its minima come in a pair, (x, y) and (−x, −y), with a saddle at the origin).
The plotting box is the catalogue's, moved to centre the minimum when the data put it
outside the box's inner 80 %.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces import _kernels
from surfaces.catalog import Bounds, Minimum, SurfaceSpec
from surfaces.data import TINY_NET_TRUTH, check_points, generate, kernel_vector
from surfaces.surface import Surface

NEWTON_STEPS = 200
RUNAWAY_NORM = 1e3  # weights beyond this: the loss has no minimum in reach (separable data)
GRADIENT_TOL = 1e-10  # relative to max(1, |f|)
FLAT_CURVATURE = 1e-6  # a stationary point flatter than this in some direction is not reported as a minimum


def make_data_surface(spec: SurfaceSpec, values: dict[str, float], points: object = None) -> Surface:
    """The data surface ``spec`` with its validated parameter ``values``, on ``points`` if given."""
    pts = generate(spec.name, values) if points is None else check_points(spec.name, points)
    vec = kernel_vector(spec.name, pts, bias=values.get("bias", 0.0), l2=values.get("l2", 0.0),
                        center=bool(values.get("center", 0.0)))  # fmt: skip
    minima = _minima(spec.name, spec.sid, vec)
    return Surface(
        name=spec.name,
        sid=spec.sid,
        display_name=spec.display_name,
        description=spec.description,
        latex=spec.latex,
        bounds=_bounds_around(spec.bounds, minima),
        starts=spec.starts,
        minima=minima,
        log_contour=spec.log_contour,
        params=values,
        lesson=spec.lesson,
        param_vector=vec,
        points=pts,
    )


def _jet(sid: int, vec: np.ndarray, w: np.ndarray) -> np.ndarray:
    code, consts = _kernels.empty_program()
    out = np.empty((1, 6))
    with np.errstate(all="ignore"):
        _kernels.evaluate_many(sid, vec, code, consts, np.array([w[0]]), np.array([w[1]]), out)
    return out[0]


def _newton(sid: int, vec: np.ndarray, w0: tuple[float, float]) -> np.ndarray | None:
    """A strict local minimum found by damped Newton from ``w0``, or None.

    None also when the iterates run off (‖w‖ > RUNAWAY_NORM) or stop where the curvature has all but
    vanished (λ_min(H) ≤ FLAT_CURVATURE): on separable points the logistic loss and its Hessian both
    decay like e^(−‖w‖) along the separating direction, so a small gradient there is no minimum."""
    w = np.array(w0, dtype=np.float64)
    for _ in range(NEWTON_STEPS):
        j = _jet(sid, vec, w)
        f, g = j[0], j[1:3]
        if not np.all(np.isfinite(j)) or np.linalg.norm(w) > RUNAWAY_NORM:
            return None
        lams = np.linalg.eigvalsh(np.array([[j[3], j[4]], [j[4], j[5]]]))
        if np.linalg.norm(g) <= GRADIENT_TOL * max(1.0, abs(f)):
            return w if lams[0] > FLAT_CURVATURE else None
        shift = 0.0 if lams[0] > 1e-12 else 1e-3 - lams[0]  # Levenberg: keep the step a descent direction
        d = -np.linalg.solve(np.array([[j[3] + shift, j[4]], [j[4], j[5] + shift]]), g)
        step = 1.0
        while step > 1e-6 and _jet(sid, vec, w + step * d)[0] > f + 1e-4 * step * float(g @ d):
            step *= 0.5
        if step <= 1e-6 and shift == 0.0:
            step = 1.0  # at a minimum to rounding, f cannot fall any more: take the Newton step
        w = w + step * d
    return None


def _minima(name: str, sid: int, vec: np.ndarray) -> tuple[Minimum, ...]:
    if name == "linreg":
        n = int(vec[0])
        u = vec[4 : 4 + n]
        v = vec[4 + n : 4 + 2 * n]
        a = np.array([[u @ u, u.sum()], [u.sum(), float(n)]])
        if abs(np.linalg.det(a)) <= 1e-12 * max(1.0, float(np.abs(a).max()) ** 2):
            return ()  # all inputs equal: a line of minima
        w = np.linalg.solve(a, np.array([u @ v, v.sum()]))  # the normal equations
        return (Minimum(float(w[0]), float(w[1]), float(_jet(sid, vec, w)[0])),)
    if name == "logreg":
        w = _newton(sid, vec, (0.0, 0.0))
        return () if w is None else (Minimum(float(w[0]), float(w[1]), float(_jet(sid, vec, w)[0])),)
    w = _newton(sid, vec, TINY_NET_TRUTH)
    if w is None:
        return ()
    value = float(_jet(sid, vec, w)[0])
    return (Minimum(float(w[0]), float(w[1]), value), Minimum(-float(w[0]), -float(w[1]), value))


def _bounds_around(bounds: Bounds, minima: tuple[Minimum, ...]) -> Bounds:
    """``bounds``, or a box of the same size centred on the first minimum if it lies outside the inner 80 %."""
    if not minima:
        return bounds
    (x0, x1), (y0, y1) = bounds
    m = minima[0]
    inside = (x0 + 0.1 * (x1 - x0) <= m.x <= x1 - 0.1 * (x1 - x0)) and (y0 + 0.1 * (y1 - y0) <= m.y <= y1 - 0.1 * (y1 - y0))
    if inside or not (math.isfinite(m.x) and math.isfinite(m.y)):
        return bounds
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    return ((m.x - hx, m.x + hx), (m.y - hy, m.y + hy))
