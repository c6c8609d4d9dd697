"""Analytic test surfaces as Numba jet functions, and the one dispatcher.

Each surface is written exactly once, as jet arithmetic (see ``_jet``), so its
value, gradient and Hessian are exact and cannot drift apart.  ``evaluate``
selects a surface by integer id; every kernel in ``optimizers`` calls it, so the
number of compiled variants never grows with the number of surfaces.

``p`` is the surface's parameter vector (see ``catalog``); ``code``/``consts``
are the user-formula program (empty for built-in surfaces).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from surfaces import _jet as J
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


@njit(cache=True)
def _beale(x, y):
    # Σ_i (c_i − x + x·y^i)², c = 1.5, 2.25, 2.625
    X = J.var_x(x)
    Y = J.var_y(y)
    xy = J.mul(X, Y)
    xy2 = J.mul(xy, Y)
    xy3 = J.mul(xy2, Y)
    r1 = J.addc(J.sub(xy, X), 1.5)
    r2 = J.addc(J.sub(xy2, X), 2.25)
    r3 = J.addc(J.sub(xy3, X), 2.625)
    return J.add(J.add(J.square(r1), J.square(r2)), J.square(r3))


@njit(cache=True)
def _rosenbrock(x, y, a, b):
    X = J.var_x(x)
    Y = J.var_y(y)
    return J.add(J.square(J.addc(J.neg(X), a)), J.scale(J.square(J.sub(Y, J.square(X))), b))


@njit(cache=True)
def _long_valley(x, y, slope, wall):
    # slope·log cosh(x) + ½·wall·y²: a floor of constant slope between steep walls
    return J.add(J.scale(J.logcosh(J.var_x(x)), slope), J.scale(J.square(J.var_y(y)), 0.5 * wall))


@njit(cache=True)
def _quadratic(x, y, kappa, angle_deg):
    # ½(ε u² + v²), ε = 1/κ, (u, v) = (x, y) rotated by the angle
    t = angle_deg * math.pi / 180.0
    c = math.cos(t)
    s = math.sin(t)
    X = J.var_x(x)
    Y = J.var_y(y)
    u = J.add(J.scale(X, c), J.scale(Y, s))
    v = J.sub(J.scale(Y, c), J.scale(X, s))
    return J.scale(J.add(J.scale(J.square(u), 1.0 / kappa), J.square(v)), 0.5)


@njit(cache=True)
def _saddle(x, y):
    return J.sub(J.square(J.var_x(x)), J.square(J.var_y(y)))


@njit(cache=True)
def _monkey_saddle(x, y):
    X = J.var_x(x)
    Y = J.var_y(y)
    return J.sub(J.powi(X, 3), J.scale(J.mul(X, J.square(Y)), 3.0))


@njit(cache=True)
def _himmelblau(x, y):
    X = J.var_x(x)
    Y = J.var_y(y)
    a = J.addc(J.add(J.square(X), Y), -11.0)
    b = J.addc(J.add(X, J.square(Y)), -7.0)
    return J.add(J.square(a), J.square(b))


@njit(cache=True)
def _rastrigin(x, y, amp):
    X = J.var_x(x)
    Y = J.var_y(y)
    tp = 2.0 * math.pi
    fx = J.sub(J.square(X), J.scale(J.cos(J.scale(X, tp)), amp))
    fy = J.sub(J.square(Y), J.scale(J.cos(J.scale(Y, tp)), amp))
    return J.addc(J.add(fx, fy), 2.0 * amp)


@njit(cache=True)
def _ackley(x, y):
    X = J.var_x(x)
    Y = J.var_y(y)
    r = J.sqrt(J.scale(J.add(J.square(X), J.square(Y)), 0.5))
    if r[0] == 0.0:
        # the cone tip: value is the minimum, subgradient 0, curvature unbounded
        r = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    t1 = J.scale(J.exp(J.scale(r, -0.2)), -20.0)
    tp = 2.0 * math.pi
    cs = J.scale(J.add(J.cos(J.scale(X, tp)), J.cos(J.scale(Y, tp))), 0.5)
    t2 = J.neg(J.exp(cs))
    return J.addc(J.add(t1, t2), math.e + 20.0)


@njit(cache=True)
def _goldstein_price(x, y):
    X = J.var_x(x)
    Y = J.var_y(y)
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


@njit(cache=True)
def _booth(x, y):
    X = J.var_x(x)
    Y = J.var_y(y)
    a = J.addc(J.add(X, J.scale(Y, 2.0)), -7.0)
    b = J.addc(J.add(J.scale(X, 2.0), Y), -5.0)
    return J.add(J.square(a), J.square(b))


@njit(cache=True)
def _cliff(x, y, height, steepness):
    # ¼(x−1)² + ½y² + height·σ(−steepness·x): a high plateau that drops at x = 0
    X = J.var_x(x)
    Y = J.var_y(y)
    bowl = J.add(J.scale(J.square(J.addc(X, -1.0)), 0.25), J.scale(J.square(Y), 0.5))
    return J.add(bowl, J.scale(J.sigmoid(J.scale(X, -steepness)), height))


@njit(cache=True)
def _plateau(x, y, width):
    # 1 − exp(−(x² + y²)/(2w²)): a narrow well in a flat plain
    X = J.var_x(x)
    Y = J.var_y(y)
    q = J.scale(J.add(J.square(X), J.square(Y)), -0.5 / (width * width))
    return J.addc(J.neg(J.exp(q)), 1.0)


@njit(cache=True)
def evaluate(sid, p, code, consts, x, y):
    """Jet (f, fx, fy, fxx, fxy, fyy) of surface ``sid`` at (x, y)."""
    if sid == BEALE:
        return _beale(x, y)
    if sid == ROSENBROCK:
        return _rosenbrock(x, y, p[0], p[1])
    if sid == LONG_VALLEY:
        return _long_valley(x, y, p[0], p[1])
    if sid == QUADRATIC:
        return _quadratic(x, y, p[0], p[1])
    if sid == SADDLE:
        return _saddle(x, y)
    if sid == MONKEY_SADDLE:
        return _monkey_saddle(x, y)
    if sid == HIMMELBLAU:
        return _himmelblau(x, y)
    if sid == RASTRIGIN:
        return _rastrigin(x, y, p[0])
    if sid == ACKLEY:
        return _ackley(x, y)
    if sid == GOLDSTEIN_PRICE:
        return _goldstein_price(x, y)
    if sid == BOOTH:
        return _booth(x, y)
    if sid == CLIFF:
        return _cliff(x, y, p[0], p[1])
    if sid == PLATEAU:
        return _plateau(x, y, p[0])
    if sid == CUSTOM:
        return eval_program(code, consts, x, y)
    nan = math.nan
    return (nan, nan, nan, nan, nan, nan)


@njit(cache=True, nogil=True)
def evaluate_many(sid, p, code, consts, xs, ys, out):
    """Fill ``out[k, :]`` with the jet at (xs[k], ys[k]) for flat arrays."""
    for k in range(xs.size):
        j = evaluate(sid, p, code, consts, xs[k], ys[k])
        for c in range(6):
            out[k, c] = j[c]


def empty_program():
    """The (code, consts) pair of a built-in surface: no program."""
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
