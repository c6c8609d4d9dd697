"""Second-order forward-mode jets in two variables.

A jet is the tuple ``(v, gx, gy, hxx, hxy, hyy)``: the value of an expression
together with its exact gradient and Hessian with respect to ``(x, y)``.  Every
surface is written once as jet arithmetic, so its value, gradient and Hessian
come from that single definition.  The user-formula virtual machine evaluates
with the same operations.

All functions are Numba ``njit`` and tiny, so LLVM inlines them; when a caller
uses only the value and gradient, the Hessian arithmetic is dead code and is
eliminated by the compiler.
"""

from __future__ import annotations

import math

from numba import njit


@njit(inline="always", cache=True)
def var_x(x):
    return (x, 1.0, 0.0, 0.0, 0.0, 0.0)


@njit(inline="always", cache=True)
def var_y(y):
    return (y, 0.0, 1.0, 0.0, 0.0, 0.0)


@njit(inline="always", cache=True)
def const(c):
    return (c, 0.0, 0.0, 0.0, 0.0, 0.0)


@njit(inline="always", cache=True)
def add(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


@njit(inline="always", cache=True)
def sub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4], a[5] - b[5])


@njit(inline="always", cache=True)
def addc(a, c):
    """a + c for a plain number c."""
    return (a[0] + c, a[1], a[2], a[3], a[4], a[5])


@njit(inline="always", cache=True)
def scale(a, c):
    """c * a for a plain number c."""
    return (c * a[0], c * a[1], c * a[2], c * a[3], c * a[4], c * a[5])


@njit(inline="always", cache=True)
def neg(a):
    return (-a[0], -a[1], -a[2], -a[3], -a[4], -a[5])


@njit(inline="always", cache=True)
def mul(a, b):
    """Product rule to second order: H(ab) = a Hb + b Ha + ∇a∇bᵀ + ∇b∇aᵀ."""
    return (
        a[0] * b[0],
        a[1] * b[0] + a[0] * b[1],
        a[2] * b[0] + a[0] * b[2],
        a[3] * b[0] + 2.0 * a[1] * b[1] + a[0] * b[3],
        a[4] * b[0] + a[1] * b[2] + a[2] * b[1] + a[0] * b[4],
        a[5] * b[0] + 2.0 * a[2] * b[2] + a[0] * b[5],
    )


@njit(inline="always", cache=True)
def chain(a, f0, f1, f2):
    """Apply a scalar function with value f0, slope f1, curvature f2 at a[0]."""
    return (
        f0,
        f1 * a[1],
        f1 * a[2],
        f2 * a[1] * a[1] + f1 * a[3],
        f2 * a[1] * a[2] + f1 * a[4],
        f2 * a[2] * a[2] + f1 * a[5],
    )


@njit(inline="always", cache=True)
def square(a):
    v = a[0]
    return chain(a, v * v, 2.0 * v, 2.0)


@njit(inline="always", cache=True)
def recip(a):
    v = a[0]
    r = 1.0 / v
    return chain(a, r, -r * r, 2.0 * r * r * r)


@njit(inline="always", cache=True)
def div(a, b):
    return mul(a, recip(b))


@njit(inline="always", cache=True)
def powi(a, n):
    """a ** n for an integer n (n may be negative; 0 gives 1)."""
    v = a[0]
    if n == 0:
        return const(1.0)
    if n == 1:
        return a
    f0 = v**n
    f1 = n * v ** (n - 1)
    f2 = n * (n - 1) * v ** (n - 2) if n != 2 else 2.0
    return chain(a, f0, f1, f2)


@njit(inline="always", cache=True)
def powc(a, p):
    """a ** p for a real constant p (a > 0 for non-integer p)."""
    v = a[0]
    if v == 0.0:
        f0 = 0.0 if p > 0.0 else math.inf
        f1 = 0.0 if p > 1.0 else (1.0 if p == 1.0 else math.inf)
        f2 = 0.0 if p > 2.0 else (2.0 if p == 2.0 else math.inf)
        return chain(a, f0, f1, f2)
    f0 = v**p
    return chain(a, f0, p * f0 / v, p * (p - 1.0) * f0 / (v * v))


@njit(inline="always", cache=True)
def exp(a):
    e = math.exp(a[0])
    return chain(a, e, e, e)


@njit(inline="always", cache=True)
def log(a):
    v = a[0]
    if v <= 0.0:
        return chain(a, math.nan, math.nan, math.nan)
    return chain(a, math.log(v), 1.0 / v, -1.0 / (v * v))


@njit(inline="always", cache=True)
def sqrt(a):
    v = a[0]
    if v < 0.0:
        return chain(a, math.nan, math.nan, math.nan)
    s = math.sqrt(v)
    if s == 0.0:
        return chain(a, 0.0, math.inf, -math.inf)
    return chain(a, s, 0.5 / s, -0.25 / (s * v))


@njit(inline="always", cache=True)
def sin(a):
    s = math.sin(a[0])
    return chain(a, s, math.cos(a[0]), -s)


@njit(inline="always", cache=True)
def cos(a):
    c = math.cos(a[0])
    return chain(a, c, -math.sin(a[0]), -c)


@njit(inline="always", cache=True)
def tan(a):
    t = math.tan(a[0])
    d = 1.0 + t * t
    return chain(a, t, d, 2.0 * t * d)


@njit(inline="always", cache=True)
def tanh(a):
    t = math.tanh(a[0])
    d = 1.0 - t * t
    return chain(a, t, d, -2.0 * t * d)


@njit(inline="always", cache=True)
def sinh(a):
    s = math.sinh(a[0])
    return chain(a, s, math.cosh(a[0]), s)


@njit(inline="always", cache=True)
def cosh(a):
    c = math.cosh(a[0])
    return chain(a, c, math.sinh(a[0]), c)


@njit(inline="always", cache=True)
def arctan(a):
    v = a[0]
    d = 1.0 / (1.0 + v * v)
    return chain(a, math.atan(v), d, -2.0 * v * d * d)


@njit(inline="always", cache=True)
def arcsin(a):
    v = a[0]
    if v <= -1.0 or v >= 1.0:
        if v == 1.0 or v == -1.0:
            return chain(a, math.asin(v), math.inf, math.inf)
        return chain(a, math.nan, math.nan, math.nan)
    r = 1.0 / math.sqrt(1.0 - v * v)
    return chain(a, math.asin(v), r, v * r * r * r)


@njit(inline="always", cache=True)
def arccos(a):
    b = arcsin(a)
    return (0.5 * math.pi - b[0], -b[1], -b[2], -b[3], -b[4], -b[5])


@njit(inline="always", cache=True)
def absval(a):
    """|a| with the subgradient 0 at the kink."""
    v = a[0]
    if v > 0.0:
        return a
    if v < 0.0:
        return neg(a)
    return const(0.0)


@njit(inline="always", cache=True)
def logcosh(a):
    """log(cosh(a)), overflow-free: |v| + log1p(exp(-2|v|)) - log 2."""
    v = a[0]
    av = abs(v)
    f0 = av + math.log1p(math.exp(-2.0 * av)) - math.log(2.0)
    t = math.tanh(v)
    return chain(a, f0, t, 1.0 - t * t)


@njit(inline="always", cache=True)
def sigmoid(a):
    """Logistic function 1/(1+exp(-a)), evaluated without overflow."""
    v = a[0]
    if v >= 0.0:
        s = 1.0 / (1.0 + math.exp(-v))
    else:
        e = math.exp(v)
        s = e / (1.0 + e)
    d = s * (1.0 - s)
    return chain(a, s, d, d * (1.0 - 2.0 * s))
