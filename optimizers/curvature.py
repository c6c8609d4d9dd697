"""The Hessian's eigen-decomposition at each recorded point of a 2-D run, in closed form.

For the symmetric matrix ``[[a, b], [b, c]]`` with mean ``m = (a + c)/2`` and radius
``r = hypot((a − c)/2, b)`` the eigenvalues are ``m ± r``.  The one of larger magnitude is
``m + sign(m)·r`` (no cancellation); the other is ``det / that`` (Vieta), so a tiny eigenvalue
next to a large one keeps its relative accuracy (κ = 10⁴ gives λ_min = 1e-4 to the last bits).
The eigenvector of λ_max is ``(cos φ, sin φ)`` with ``φ = ½·atan2(2b, a − c)``, which is defined
for every input: a diagonal matrix (b = 0) gives the coordinate axes, coincident eigenvalues
(r = 0) give φ = 0 (a diagonal matrix gets the exact axes).  λ_min's eigenvector is the perpendicular
``(−sin φ, cos φ)``.  Both are oriented so that their first non-zero component is positive.

Rows whose Hessian is not finite (an iterate where the surface overflows) are recorded as zeros,
as the trajectory's state is: nothing non-finite reaches a table, JSON or a figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Curvature:
    """Eigenvalues ``lambda_min ≤ lambda_max`` (each ``(k,)``) and unit eigenvectors (each ``(k, 2)``)."""

    lambda_min: np.ndarray
    lambda_max: np.ndarray
    vec_min: np.ndarray
    vec_max: np.ndarray


def eig2(hxx: Any, hxy: Any, hyy: Any) -> Curvature:
    """Closed-form eigen-decomposition of symmetric 2×2 matrices given by their entries (broadcast arrays).

    Returns arrays of the broadcast shape (vectors with a trailing axis of 2).  Non-finite entries give
    zero eigenvalues and zero vectors in that position."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(hxx, hxy, hyy))
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
    a, b, c = (np.where(ok, v, 0.0) for v in (a, b, c))
    with np.errstate(all="ignore"):
        m = 0.5 * (a + c)
        r = np.hypot(0.5 * (a - c), b)
        big = m + np.copysign(r, m)
        det = a * c - b * b
        small = np.where(big != 0.0, det / np.where(big != 0.0, big, 1.0), 0.0)
        lo = np.minimum(big, small)
        hi = np.maximum(big, small)
        phi = 0.5 * np.arctan2(2.0 * b, a - c)
    ok &= np.isfinite(lo) & np.isfinite(hi)
    cs, sn = np.cos(phi), np.sin(phi)
    # a diagonal matrix: the exact coordinate axes (cos(π/2) would leave 6e-17 in the "zero" component)
    axis = b == 0.0
    cs = np.where(axis, np.where(a >= c, 1.0, 0.0), cs)
    sn = np.where(axis, np.where(a >= c, 0.0, 1.0), sn)
    vmax = _oriented(np.stack([cs, sn], axis=-1))
    vmin = _oriented(np.stack([-sn, cs], axis=-1))
    okv = ok[..., None]
    return Curvature(
        lambda_min=np.where(ok, lo, 0.0),
        lambda_max=np.where(ok, hi, 0.0),
        vec_min=np.where(okv, vmin, 0.0),
        vec_max=np.where(okv, vmax, 0.0),
    )


def _oriented(v: np.ndarray) -> np.ndarray:
    """Each unit vector with the sign that makes its first non-zero component positive (eigenvectors have no
    sign of their own; one orientation keeps tables and pictures steady from row to row)."""
    flip = (v[..., 0] < 0.0) | ((v[..., 0] == 0.0) & (v[..., 1] < 0.0))
    return np.where(flip[..., None], -v, v)


def curvature_along(surface: Any, positions: np.ndarray) -> Curvature:
    """The exact Hessian's eigen-decomposition at each row of ``positions`` ((k, 2)), from the surface's jet."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    jet = surface.jet(pos[:, 0], pos[:, 1])
    return eig2(jet[:, 3], jet[:, 4], jet[:, 5])
