"""Analytic test surfaces as Numba jet functions, and the one dispatcher.

Each surface is written exactly once, as jet arithmetic (see ``_jet``), so its
value, gradient and Hessian are exact and cannot drift apart.  ``evaluate``
selects a surface by integer id; every kernel in ``optimizers`` calls it, so the
number of compiled variants never grows with the number of surfaces.

``p`` is the surface's parameter vector (see ``catalog``); ``code``/``consts``
are the user-formula program: empty arrays for the data surfaces, and empty arrays or
None for the analytic built-ins.  With None, Numba compiles a variant of each kernel
without the formula interpreter and the data loops (a branch on ``code is None`` is
pruned when the compiler types it), which a fresh checkout compiles seconds sooner.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from surfaces import _jet as J
from surfaces._datakernels import LINREG, LOGREG, TINY_NET, data_jet, is_data_surface
from surfaces._vm import eval_program

BEALE = 0
ROSENBROCK = 1
LONG_VALLEY = 2
QUADRATIC = 3
SADDLE = 4
MONKEY_SADDLE = 5
HIMMELBLAU = 6
RASTRIGIN = 7
ACKLEY = 8
GOLDSTEIN_PRICE = 9
BOOTH = 10
CLIFF = 11
PLATEAU = 12
CUSTOM = 13
SHARP_WIDE = 14
# LINREG, LOGREG, TINY_NET (15–17): the data surfaces, defined in _datakernels
_NO_INDEX = np.zeros(0, dtype=np.int64)


@njit(cache=True, error_model="numpy")
def _beale(X, Y):
    # Σ_i (c_i − x + x·y^i)², c = 1.5, 2.25, 2.625
    xy = J.mul(X, Y)
    xy2 = J.mul(xy, Y)
    xy3 = J.mul(xy2, Y)
    r1 = J.addc(J.sub(xy, X), 1.5)
    r2 = J.addc(J.sub(xy2, X), 2.25)
    r3 = J.addc(J.sub(xy3, X), 2.625)
    return J.add(J.add(J.square(r1), J.square(r2)), J.square(r3))


@njit(cache=True, error_model="numpy")
def _rosenbrock(X, Y, a, b):
    return J.add(J.square(J.addc(J.neg(X), a)), J.scale(J.square(J.sub(Y, J.square(X))), b))


@njit(cache=True, error_model="numpy")
def _long_valley(X, Y, slope, wall):
    # slope·log cosh(x) + ½·wall·y²: a floor of constant slope between steep walls
    return J.add(J.scale(J.logcosh(X), slope), J.scale(J.square(Y), 0.5 * wall))


@njit(cache=True, error_model="numpy")
def _quadratic(X, Y, kappa, angle_deg):
    # ½(ε u² + v²), ε = 1/κ, (u, v) = (x, y) rotated by the angle
    t = angle_deg * math.pi / 180.0
    c = math.cos(t)
    s = math.sin(t)
    u = J.add(J.scale(X, c), J.scale(Y, s))
    v = J.sub(J.scale(Y, c), J.scale(X, s))
    return J.scale(J.add(J.scale(J.square(u), 1.0 / kappa), J.square(v)), 0.5)


@njit(cache=True, error_model="numpy")
def _saddle(X, Y):
    return J.sub(J.square(X), J.square(Y))


@njit(cache=True, error_model="numpy")
def _monkey_saddle(X, Y):
    return J.sub(J.powi(X, 3), J.scale(J.mul(X, J.square(Y)), 3.0))


@njit(cache=True, error_model="numpy")
def _himmelblau(X, Y):
    a = J.addc(J.add(J.square(X), Y), -11.0)
    b = J.addc(J.add(X, J.square(Y)), -7.0)
    return J.add(J.square(a), J.square(b))


@njit(cache=True, error_model="numpy")
def _rastrigin(X, Y, amp):
    tp = 2.0 * math.pi
    fx = J.sub(J.square(X), J.scale(J.cos(J.scale(X, tp)), amp))
    fy = J.sub(J.square(Y), J.scale(J.cos(J.scale(Y, tp)), amp))
    return J.addc(J.add(fx, fy), 2.0 * amp)


@njit(cache=True, error_model="numpy")
def _ackley(X, Y):
    r = J.sqrt(J.scale(J.add(J.square(X), J.square(Y)), 0.5))
    if r[0] == 0.0:
        # the cone tip: value is the minimum, subgradient 0, curvature unbounded
        r = J.const_like(r, 0.0)
    t1 = J.scale(J.exp(J.scale(r, -0.2)), -20.0)
    tp = 2.0 * math.pi
    cs = J.scale(J.add(J.cos(J.scale(X, tp)), J.cos(J.scale(Y, tp))), 0.5)
    t2 = J.neg(J.exp(cs))
    return J.addc(J.add(t1, t2), math.e + 20.0)


@njit(cache=True, error_model="numpy")
def _goldstein_price(X, Y):
    x2 = J.square(X)
    y2 = J.square(Y)
    xy = J.mul(X, Y)
    s = J.addc(J.add(X, Y), 1.0)
    p1 = J.addc(
        J.add(
            J.add(J.scale(X, -14.0), J.scale(x2, 3.0)),
            J.add(J.add(J.scale(Y, -14.0), J.scale(xy, 6.0)), J.scale(y2, 3.0)),
        ),
        19.0,
    )
    f1 = J.addc(J.mul(J.square(s), p1), 1.0)
    d = J.sub(J.scale(X, 2.0), J.scale(Y, 3.0))
    p2 = J.addc(
        J.add(
            J.add(J.scale(X, -32.0), J.scale(x2, 12.0)),
            J.add(J.add(J.scale(Y, 48.0), J.scale(xy, -36.0)), J.scale(y2, 27.0)),
        ),
        18.0,
    )
    f2 = J.addc(J.mul(J.square(d), p2), 30.0)
    return J.mul(f1, f2)


@njit(cache=True, error_model="numpy")
def _booth(X, Y):
    a = J.addc(J.add(X, J.scale(Y, 2.0)), -7.0)
    b = J.addc(J.add(J.scale(X, 2.0), Y), -5.0)
    return J.add(J.square(a), J.square(b))


@njit(cache=True, error_model="numpy")
def _cliff(X, Y, height, steepness):
    # (x−1)²/20 + ½y² + height·σ(−steepness·x): a high plateau that drops at x = 0
    bowl = J.add(J.scale(J.square(J.addc(X, -1.0)), 0.05), J.scale(J.square(Y), 0.5))
    return J.add(bowl, J.scale(J.sigmoid(J.scale(X, -steepness)), height))


@njit(cache=True, error_model="numpy")
def _plateau(X, Y, width):
    # 1 − exp(−(x² + y²)/(2w²)): a narrow well in a flat plain
    q = J.scale(J.add(J.square(X), J.square(Y)), -0.5 / (width * width))
    return J.addc(J.neg(J.exp(q)), 1.0)


@njit(cache=True, error_model="numpy")
def _sharp_wide(X, Y, sharp, wide):
    # q_s q_w / (q_s + q_w), q_s = ½·sharp·|p − (−1.5, 0)|², q_w = ½·wide·|p − (1.5, 0)|²: the two bowls
    # combined like resistors in parallel, f = 0 exactly at both centres, Hessian sharp·I and wide·I there
    y2 = J.square(Y)
    qs = J.scale(J.add(J.square(J.addc(X, 1.5)), y2), 0.5 * sharp)
    qw = J.scale(J.add(J.square(J.addc(X, -1.5)), y2), 0.5 * wide)
    return J.div(J.mul(qs, qw), J.add(qs, qw))


@njit(inline="always", cache=True, error_model="numpy")
def _dispatch(sid, p, code, consts, X, Y):
    """Jet of surface ``sid`` for input jets X, Y (order 1 or 2)."""
    if sid == BEALE:
        return _beale(X, Y)
    if sid == ROSENBROCK:
        return _rosenbrock(X, Y, p[0], p[1])
    if sid == LONG_VALLEY:
        return _long_valley(X, Y, p[0], p[1])
    if sid == QUADRATIC:
        return _quadratic(X, Y, p[0], p[1])
    if sid == SADDLE:
        return _saddle(X, Y)
    if sid == MONKEY_SADDLE:
        return _monkey_saddle(X, Y)
    if sid == HIMMELBLAU:
        return _himmelblau(X, Y)
    if sid == RASTRIGIN:
        return _rastrigin(X, Y, p[0])
    if sid == ACKLEY:
        return _ackley(X, Y)
    if sid == GOLDSTEIN_PRICE:
        return _goldstein_price(X, Y)
    if sid == BOOTH:
        return _booth(X, Y)
    if sid == CLIFF:
        return _cliff(X, Y, p[0], p[1])
    if sid == PLATEAU:
        return _plateau(X, Y, p[0])
    if sid == SHARP_WIDE:
        return _sharp_wide(X, Y, p[0], p[1])
    if code is None:  # an analytic built-in (the variant compiled without a formula or data)
        return J.const_like(X, math.nan)
    if sid == CUSTOM:
        return J.truncate_like(X, eval_program(code, consts, X[0], Y[0]))
    if is_data_surface(sid):  # the full batch: every point, in stored order
        return J.truncate_like(X, data_jet(sid, p, _NO_INDEX, 0, int(p[0]), X[0], Y[0], len(X) == 6))
    return J.const_like(X, math.nan)


@njit(cache=True, error_model="numpy")
def evaluate(sid, p, code, consts, x, y):
    """(f, fx, fy, fxx, fxy, fyy) of surface ``sid`` at (x, y)."""
    return _dispatch(sid, p, code, consts, J.var_x(x), J.var_y(y))


@njit(cache=True, error_model="numpy")
def evaluate_grad(sid, p, code, consts, x, y):
    """(f, fx, fy) of surface ``sid`` at (x, y), without Hessian work."""
    return _dispatch(sid, p, code, consts, J.var_x1(x), J.var_y1(y))


@njit(cache=True, error_model="numpy", nogil=True)
def evaluate_many(sid, p, code, consts, xs, ys, out):
    """Fill ``out[k, :]`` with the jet at (xs[k], ys[k]) for flat arrays."""
    for k in range(xs.size):
        j = evaluate(sid, p, code, consts, xs[k], ys[k])
        for c in range(6):
            out[k, c] = j[c]


@njit(cache=True, error_model="numpy", nogil=True)
def evaluate_grad_many(sid, p, code, consts, xs, ys, out):
    """Fill ``out[k, :]`` with (f, fx, fy) at (xs[k], ys[k]) for flat arrays: no Hessian work, and a
    far smaller compiled function than :func:`evaluate_many` (it loads from the cache ~10× faster)."""
    for k in range(xs.size):
        j = evaluate_grad(sid, p, code, consts, xs[k], ys[k])
        for c in range(3):
            out[k, c] = j[c]


def empty_program():
    """The (code, consts) pair of a built-in surface: no program."""
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
