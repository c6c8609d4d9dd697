"""Loss surfaces made of data: the mean loss of a two-parameter model over a set of points.

Each data surface is the mean over points i of a per-point loss ℓ_i(x, y) of the model
with parameters (x, y), written out with its exact gradient and Hessian (closed forms,
not jets: a surface of n points costs n per-point terms, and the closed forms allocate
nothing).  The same function gives the full loss (every point, in order) and the loss of
a minibatch (the points ``idx[lo:hi]``), so a minibatch gradient and the full gradient
come from one definition and the mean of an epoch's minibatch gradients is the full
gradient up to rounding.

The parameter vector ``p`` of a data surface is laid out as::

    p[0] = n (number of points)   p[1] = bias (logreg)   p[2] = L2 weight λ (logreg)   p[3] unused
    p[4 : 4 + n]        first input column  (u for linreg/tiny_net, a₁ for logreg)
    p[4 + n : 4 + 2n]   second column       (target v for linreg/tiny_net, a₂ for logreg)
    p[4 + 2n : 4 + 3n]  third column        (logreg only: the label t ∈ {−1, +1})

The rules (the mean over the points in the batch; the LaTeX in ``catalog`` says the same):

- ``linreg``:   ℓ = (x·u + y − v)²                        (x = slope w, y = intercept b)
- ``logreg``:   ℓ = log(1 + exp(−t·(x·a₁ + y·a₂ + bias))) and ½λ(x² + y²) added once to the mean
- ``tiny_net``: ℓ = (y·tanh(x·u) − v)²                    (x = inner weight w₁, y = outer weight w₂)
"""

from __future__ import annotations

import math

from numba import njit

LINREG = 15
LOGREG = 16
TINY_NET = 17

HEADER = 4  # entries of p before the data columns
N_SLOT = 0
BIAS_SLOT = 1
L2_SLOT = 2


@njit(inline="always", cache=True, error_model="numpy")
def is_data_surface(sid):
    return sid == LINREG or sid == LOGREG or sid == TINY_NET


@njit(inline="always", cache=True, error_model="numpy")
def data_count(sid, p):
    """Number of points of a data surface; 0 for every other surface."""
    if is_data_surface(sid) and p.size > HEADER:
        return int(p[N_SLOT])
    return 0


@njit(inline="always", cache=True, error_model="numpy")
def _softplus(s):
    """log(1 + eˢ) without overflow."""
    if s > 0.0:
        return s + math.log1p(math.exp(-s))
    return math.log1p(math.exp(s))


@njit(inline="always", cache=True, error_model="numpy")
def _sigmoid(s):
    """1 / (1 + e⁻ˢ) without overflow."""
    if s >= 0.0:
        return 1.0 / (1.0 + math.exp(-s))
    e = math.exp(s)
    return e / (1.0 + e)


@njit(cache=True, error_model="numpy")
def data_jet(sid, p, idx, lo, hi, x, y, want_h):
    """(f, fx, fy, fxx, fxy, fyy) of the mean loss over the points ``idx[lo:hi]`` at (x, y).

    With an empty ``idx`` the points are ``lo .. hi−1`` in their stored order (the full batch is
    ``lo = 0, hi = n``).  The Hessian entries are 0 unless ``want_h``.  An empty batch gives NaN."""
    n = int(p[N_SLOT])
    c1 = HEADER
    c2 = HEADER + n
    c3 = HEADER + 2 * n
    f = 0.0
    fx = 0.0
    fy = 0.0
    fxx = 0.0
    fxy = 0.0
    fyy = 0.0
    use_idx = idx.size > 0
    for k in range(lo, hi):
        i = idx[k] if use_idx else k
        if sid == LINREG:
            u = p[c1 + i]
            r = x * u + y - p[c2 + i]
            f += r * r
            fx += 2.0 * r * u
            fy += 2.0 * r
            if want_h:
                fxx += 2.0 * u * u
                fxy += 2.0 * u
                fyy += 2.0
        elif sid == LOGREG:
            t = p[c3 + i]
            a1 = p[c1 + i]
            a2 = p[c2 + i]
            z = x * a1 + y * a2 + p[BIAS_SLOT]
            m = t * z
            f += _softplus(-m)
            d = -t * _sigmoid(-m)  # dℓ/dz
            fx += d * a1
            fy += d * a2
            if want_h:
                s = _sigmoid(m)
                c = s * (1.0 - s)  # d²ℓ/dz², t² = 1
                fxx += c * a1 * a1
                fxy += c * a1 * a2
                fyy += c * a2 * a2
        else:  # TINY_NET
            u = p[c1 + i]
            h = math.tanh(x * u)
            dh = u * (1.0 - h * h)  # ∂h/∂x
            r = y * h - p[c2 + i]
            f += r * r
            fx += 2.0 * r * y * dh
            fy += 2.0 * r * h
            if want_h:
                d2h = -2.0 * h * u * dh  # ∂²h/∂x²
                fxx += 2.0 * (y * dh * y * dh + r * y * d2h)
                fxy += 2.0 * (h * y * dh + r * dh)
                fyy += 2.0 * h * h
    m = hi - lo
    if m <= 0:
        return (math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    inv = 1.0 / m
    f *= inv
    fx *= inv
    fy *= inv
    fxx *= inv
    fxy *= inv
    fyy *= inv
    if sid == LOGREG:
        lam = p[L2_SLOT]
        if lam != 0.0:
            f += 0.5 * lam * (x * x + y * y)
            fx += lam * x
            fy += lam * y
            if want_h:
                fxx += lam
                fyy += lam
    return (f, fx, fy, fxx, fxy, fyy)


@njit(cache=True, error_model="numpy", nogil=True)
def data_jet_many(sid, p, idx, xs, ys, want_h, out):
    """Fill ``out[k, :]`` with :func:`data_jet` over the points ``idx`` (all of them) at (xs[k], ys[k])."""
    for k in range(xs.size):
        j = data_jet(sid, p, idx, 0, idx.size, xs[k], ys[k], want_h)
        for c in range(6):
            out[k, c] = j[c]
