"""Forward-mode jets in two variables, of order 1 or 2.

A jet of order 2 is the tuple ``(v, gx, gy, hxx, hxy, hyy)``: the value of an
expression with its exact gradient and Hessian with respect to ``(x, y)``; a
jet of order 1 is ``(v, gx, gy)``.  Every surface is written once as jet
arithmetic on its input jets ``X`` and ``Y``; Numba compiles it once per
order, so first-order optimizers never pay for Hessian arithmetic, and value,
gradient and Hessian come from the single definition.  The user-formula
virtual machine evaluates with the same operations (order 2).

The primitives that look inside a jet (``add``, ``mul``, ``chain``, ...) are
generic over the order through ``numba.extending.overload``; their plain
Python bodies work on either order too, so they can be used (and tested)
outside Numba.  Everything else is composed from them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload


def _order(a) -> int:
    return 2 if len(a) == 6 else 1


def like(ref, c):
    """The number c in the floating-point type of ``ref`` (a number or an array).

    In plain Python, and in compiled code for any ``ref`` that is not float32,
    this is c itself (so float64 arithmetic is untouched, bit for bit); for a
    float32 ``ref`` it is ``np.float32(c)``.  Jets of float32 numbers cast
    their constants with it, so a float32 sweep stays in float32 instead of
    being promoted to float64 by the first literal it meets.
    """
    return c


def var_x(x):
    """x as a jet of order 2."""
    return (x, 1.0, 0.0, 0.0, 0.0, 0.0)


def var_y(y):
    """y as a jet of order 2."""
    return (y, 0.0, 1.0, 0.0, 0.0, 0.0)


def var_x1(x):
    """x as a jet of order 1."""
    return (x, 1.0, 0.0)


def var_y1(y):
    """y as a jet of order 1."""
    return (y, 0.0, 1.0)


def const(c):
    """The constant c as a jet of order 2."""
    return (c, 0.0, 0.0, 0.0, 0.0, 0.0)


def const_like(a, c):
    """The constant c as a jet of a's order."""
    return (c,) + (0.0,) * (len(a) - 1)


def truncate_like(a, j):
    """The order-2 jet j cut down to a's order."""
    return tuple(j[: len(a)])


def add(a, b):
    return tuple(u + v for u, v in zip(a, b))


def sub(a, b):
    return tuple(u - v for u, v in zip(a, b))


def addc(a, c):
    """a + c for a plain number c."""
    return (a[0] + c,) + tuple(a[1:])


def scale(a, c):
    """c * a for a plain number c."""
    return tuple(c * u for u in a)


def neg(a):
    return tuple(-u for u in a)


def mul(a, b):
    """Product rule; at order 2 also H(ab) = a Hb + b Ha + ∇a∇bᵀ + ∇b∇aᵀ."""
    first = (a[0] * b[0], a[1] * b[0] + a[0] * b[1], a[2] * b[0] + a[0] * b[2])
    if _order(a) == 1:
        return first
    return first + (
        a[3] * b[0] + 2.0 * a[1] * b[1] + a[0] * b[3],
        a[4] * b[0] + a[1] * b[2] + a[2] * b[1] + a[0] * b[4],
        a[5] * b[0] + 2.0 * a[2] * b[2] + a[0] * b[5],
    )


def chain(a, f0, f1, f2):
    """Apply a scalar function with value f0, slope f1 and curvature f2 at a[0]."""
    first = (f0, f1 * a[1], f1 * a[2])
    if _order(a) == 1:
        return first
    return first + (
        f2 * a[1] * a[1] + f1 * a[3],
        f2 * a[1] * a[2] + f1 * a[4],
        f2 * a[2] * a[2] + f1 * a[5],
    )


def _is_order1(a) -> bool:
    return isinstance(a, types.BaseTuple) and len(a.types) == 3


def is_float32(t) -> bool:
    """Whether the Numba type ``t`` is float32 or an array of float32 (for overloads and intrinsics)."""
    dtype = t.dtype if isinstance(t, types.Array) else t
    return isinstance(dtype, types.Float) and dtype.bitwidth == 32


@overload(like)
def _ov_like(ref, c):
    if is_float32(ref):
        return lambda ref, c: np.float32(c)
    return lambda ref, c: c


@overload(var_x)
def _ov_var_x(x):
    return lambda x: (x, 1.0, 0.0, 0.0, 0.0, 0.0)


@overload(var_y)
def _ov_var_y(y):
    return lambda y: (y, 0.0, 1.0, 0.0, 0.0, 0.0)


@overload(var_x1)
def _ov_var_x1(x):
    return lambda x: (x, like(x, 1.0), like(x, 0.0))


@overload(var_y1)
def _ov_var_y1(y):
    return lambda y: (y, like(y, 0.0), like(y, 1.0))


@overload(const)
def _ov_const(c):
    return lambda c: (c, 0.0, 0.0, 0.0, 0.0, 0.0)


@overload(const_like)
def _ov_const_like(a, c):
    if _is_order1(a):
        return lambda a, c: (like(a[0], c), like(a[0], 0.0), like(a[0], 0.0))
    return lambda a, c: (c, 0.0, 0.0, 0.0, 0.0, 0.0)


@overload(truncate_like)
def _ov_truncate_like(a, j):
    if _is_order1(a):
        return lambda a, j: (j[0], j[1], j[2])
    return lambda a, j: j


@overload(add)
def _ov_add(a, b):
    if _is_order1(a):
        return lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2])
    return lambda a, b: (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


@overload(sub)
def _ov_sub(a, b):
    if _is_order1(a):
        return lambda a, b: (a[0] - b[0], a[1] - b[1], a[2] - b[2])
    return lambda a, b: (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4], a[5] - b[5])


@overload(addc)
def _ov_addc(a, c):
    if _is_order1(a):
        return lambda a, c: (a[0] + like(a[0], c), a[1], a[2])
    return lambda a, c: (a[0] + c, a[1], a[2], a[3], a[4], a[5])


@overload(scale)
def _ov_scale(a, c):
    if _is_order1(a):

        def impl1(a, c):
            k = like(a[0], c)
            return (k * a[0], k * a[1], k * a[2])

        return impl1
    return lambda a, c: (c * a[0], c * a[1], c * a[2], c * a[3], c * a[4], c * a[5])


@overload(neg)
def _ov_neg(a):
    if _is_order1(a):
        return lambda a: (-a[0], -a[1], -a[2])
    return lambda a: (-a[0], -a[1], -a[2], -a[3], -a[4], -a[5])


@overload(mul)
def _ov_mul(a, b):
    if _is_order1(a):
        return lambda a, b: (a[0] * b[0], a[1] * b[0] + a[0] * b[1], a[2] * b[0] + a[0] * b[2])

    def impl(a, b):
        return (
            a[0] * b[0],
            a[1] * b[0] + a[0] * b[1],
            a[2] * b[0] + a[0] * b[2],
            a[3] * b[0] + 2.0 * a[1] * b[1] + a[0] * b[3],
            a[4] * b[0] + a[1] * b[2] + a[2] * b[1] + a[0] * b[4],
            a[5] * b[0] + 2.0 * a[2] * b[2] + a[0] * b[5],
        )

    return impl


@overload(chain)
def _ov_chain(a, f0, f1, f2):
    if _is_order1(a):

        def impl1(a, f0, f1, f2):
            slope = like(a[0], f1)
            return (like(a[0], f0), slope * a[1], slope * a[2])

        return impl1

    def impl(a, f0, f1, f2):
        return (
            f0,
            f1 * a[1],
            f1 * a[2],
            f2 * a[1] * a[1] + f1 * a[3],
            f2 * a[1] * a[2] + f1 * a[4],
            f2 * a[2] * a[2] + f1 * a[5],
        )

    return impl


@njit(inline="always", cache=True, error_model="numpy")
def square(a):
    v = a[0]
    return chain(a, v * v, 2.0 * v, 2.0)


@njit(inline="always", cache=True, error_model="numpy")
def recip(a):
    v = a[0]
    r = 1.0 / v
    return chain(a, r, -r * r, 2.0 * r * r * r)


@njit(inline="always", cache=True, error_model="numpy")
def div(a, b):
    return mul(a, recip(b))


@njit(inline="always", cache=True, error_model="numpy")
def powi(a, n):
    """a ** n for an integer n (n may be negative; 0 gives 1)."""
    v = a[0]
    if n == 0:
        return const_like(a, 1.0)
    if n == 1:
        return a
    f0 = v**n
    f1 = n * v ** (n - 1)
    f2 = n * (n - 1) * v ** (n - 2) if n != 2 else 2.0
    return chain(a, f0, f1, f2)


@njit(inline="always", cache=True, error_model="numpy")
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


@njit(inline="always", cache=True, error_model="numpy")
def exp(a):
    e = math.exp(a[0])
    return chain(a, e, e, e)


@njit(inline="always", cache=True, error_model="numpy")
def log(a):
    v = a[0]
    if v <= 0.0:
        return chain(a, math.nan, math.nan, math.nan)
    return chain(a, math.log(v), 1.0 / v, -1.0 / (v * v))


@njit(inline="always", cache=True, error_model="numpy")
def sqrt(a):
    v = a[0]
    if v < 0.0:
        return chain(a, math.nan, math.nan, math.nan)
    s = math.sqrt(v)
    if s == 0.0:
        return chain(a, 0.0, math.inf, -math.inf)
    return chain(a, s, 0.5 / s, -0.25 / (s * v))


@njit(inline="always", cache=True, error_model="numpy")
def sin(a):
    s = math.sin(a[0])
    return chain(a, s, math.cos(a[0]), -s)


@njit(inline="always", cache=True, error_model="numpy")
def cos(a):
    c = math.cos(a[0])
    return chain(a, c, -math.sin(a[0]), -c)


@njit(inline="always", cache=True, error_model="numpy")
def tan(a):
    t = math.tan(a[0])
    d = 1.0 + t * t
    return chain(a, t, d, 2.0 * t * d)


@njit(inline="always", cache=True, error_model="numpy")
def tanh(a):
    t = math.tanh(a[0])
    d = 1.0 - t * t
    return chain(a, t, d, -2.0 * t * d)


@njit(inline="always", cache=True, error_model="numpy")
def sinh(a):
    s = math.sinh(a[0])
    return chain(a, s, math.cosh(a[0]), s)


@njit(inline="always", cache=True, error_model="numpy")
def cosh(a):
    c = math.cosh(a[0])
    return chain(a, c, math.sinh(a[0]), c)


@njit(inline="always", cache=True, error_model="numpy")
def arctan(a):
    v = a[0]
    d = 1.0 / (1.0 + v * v)
    return chain(a, math.atan(v), d, -2.0 * v * d * d)


@njit(inline="always", cache=True, error_model="numpy")
def arcsin(a):
    v = a[0]
    if v <= -1.0 or v >= 1.0:
        if v == 1.0 or v == -1.0:
            return chain(a, math.asin(v), math.inf, math.inf)
        return chain(a, math.nan, math.nan, math.nan)
    r = 1.0 / math.sqrt(1.0 - v * v)
    return chain(a, math.asin(v), r, v * r * r * r)


@njit(inline="always", cache=True, error_model="numpy")
def arccos(a):
    return addc(neg(arcsin(a)), 0.5 * math.pi)


@njit(inline="always", cache=True, error_model="numpy")
def absval(a):
    """|a| with the subgradient 0 at the kink."""
    v = a[0]
    if v > 0.0:
        return a
    if v < 0.0:
        return neg(a)
    return const_like(a, 0.0)


@njit(inline="always", cache=True, error_model="numpy")
def logcosh(a):
    """log(cosh(a)), overflow-free: |v| + log1p(exp(-2|v|)) - log 2."""
    v = a[0]
    av = abs(v)
    f0 = av + math.log1p(math.exp(-2.0 * av)) - math.log(2.0)
    t = math.tanh(v)
    return chain(a, f0, t, 1.0 - t * t)


@njit(inline="always", cache=True, error_model="numpy")
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
