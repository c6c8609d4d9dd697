"""The surfaces' value and gradient at a block of points, one straight loop per surface.

``evaluate_grad_block`` is :func:`surfaces._kernels.evaluate_grad` applied to
every point of a block, with the surface switch taken once per block instead
of once per point: each branch is a plain loop over the points, which the
compiler can vectorise (the jet arithmetic of one point has no branches for
most surfaces).  It calls the very same jet functions on the very same input
jets, and vectorised float64 additions, products, quotients and square roots
round exactly as scalar ones, so every value equals ``evaluate_grad``'s at that
point bit for bit (a test checks it on every surface).

Float32 blocks (a float32 sweep) compute the analytic surfaces in float32
(``_jet.like`` keeps their constants in float32); typed formulas and data
surfaces are evaluated in float64 and stored rounded.
"""

from __future__ import annotations

import math

from numba import njit

from surfaces import _jet as J
from surfaces._datakernels import data_jet, is_data_surface
from surfaces._kernels import (
    _NO_INDEX,
    ACKLEY,
    BEALE,
    BOOTH,
    CLIFF,
    CUSTOM,
    GOLDSTEIN_PRICE,
    HIMMELBLAU,
    LONG_VALLEY,
    MONKEY_SADDLE,
    PLATEAU,
    QUADRATIC,
    RASTRIGIN,
    ROSENBROCK,
    SADDLE,
    SHARP_WIDE,
    _ackley,
    _beale,
    _booth,
    _cliff,
    _goldstein_price,
    _himmelblau,
    _long_valley,
    _monkey_saddle,
    _plateau,
    _quadratic,
    _rastrigin,
    _rosenbrock,
    _saddle,
    _sharp_wide,
)
from surfaces._vm import eval_program


@njit(inline="always", cache=True, error_model="numpy")
def _store(j, k, f, gx, gy):
    f[k] = j[0]
    gx[k] = j[1]
    gy[k] = j[2]


@njit(cache=True, error_model="numpy", nogil=True)
def evaluate_grad_block(sid, p, code, consts, xs, ys, f, gx, gy):
    """f, ∂f/∂x, ∂f/∂y of surface ``sid`` at every (xs[k], ys[k]) into f[k], gx[k], gy[k].

    Each triple equals ``evaluate_grad(sid, p, code, consts, xs[k], ys[k])`` exactly.
    The output arrays may not overlap the inputs.
    """
    n = xs.size
    if sid == BEALE:
        for k in range(n):
            _store(_beale(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == ROSENBROCK:
        a = p[0]
        b = p[1]
        for k in range(n):
            _store(_rosenbrock(J.var_x1(xs[k]), J.var_y1(ys[k]), a, b), k, f, gx, gy)
    elif sid == LONG_VALLEY:
        a = p[0]
        b = p[1]
        for k in range(n):
            _store(_long_valley(J.var_x1(xs[k]), J.var_y1(ys[k]), a, b), k, f, gx, gy)
    elif sid == QUADRATIC:
        a = p[0]
        b = p[1]
        for k in range(n):
            _store(_quadratic(J.var_x1(xs[k]), J.var_y1(ys[k]), a, b), k, f, gx, gy)
    elif sid == SADDLE:
        for k in range(n):
            _store(_saddle(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == MONKEY_SADDLE:
        for k in range(n):
            _store(_monkey_saddle(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == HIMMELBLAU:
        for k in range(n):
            _store(_himmelblau(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == RASTRIGIN:
        a = p[0]
        for k in range(n):
            _store(_rastrigin(J.var_x1(xs[k]), J.var_y1(ys[k]), a), k, f, gx, gy)
    elif sid == ACKLEY:
        for k in range(n):
            _store(_ackley(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == GOLDSTEIN_PRICE:
        for k in range(n):
            _store(_goldstein_price(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == BOOTH:
        for k in range(n):
            _store(_booth(J.var_x1(xs[k]), J.var_y1(ys[k])), k, f, gx, gy)
    elif sid == CLIFF:
        a = p[0]
        b = p[1]
        for k in range(n):
            _store(_cliff(J.var_x1(xs[k]), J.var_y1(ys[k]), a, b), k, f, gx, gy)
    elif sid == PLATEAU:
        a = p[0]
        for k in range(n):
            _store(_plateau(J.var_x1(xs[k]), J.var_y1(ys[k]), a), k, f, gx, gy)
    elif sid == SHARP_WIDE:
        a = p[0]
        b = p[1]
        for k in range(n):
            _store(_sharp_wide(J.var_x1(xs[k]), J.var_y1(ys[k]), a, b), k, f, gx, gy)
    elif sid == CUSTOM:
        for k in range(n):
            j = eval_program(code, consts, float(xs[k]), float(ys[k]))
            _store(j, k, f, gx, gy)
    elif is_data_surface(sid):  # the full batch: every point, in stored order
        for k in range(n):
            jet = data_jet(sid, p, _NO_INDEX, 0, int(p[0]), float(xs[k]), float(ys[k]), False)
            _store(jet, k, f, gx, gy)
    else:
        for k in range(n):
            _store((math.nan, math.nan, math.nan), k, f, gx, gy)
