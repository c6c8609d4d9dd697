r"""Hessian-free optimisation (truncated Newton), Martens 2010, "Deep learning via Hessian-free optimization".

Each iteration minimises the damped quadratic model of f at θ,

.. math::
    q(d) = g^\top d + \tfrac12 d^\top B d, \qquad
    \text{CG on } (B + \lambda I)\, d = -g,

by linear conjugate gradient, touching the curvature matrix B (the Hessian, or the Gauss–Newton matrix when
the caller supplies Gauss–Newton products) only through products ``B·v``; B is never formed.  The rule:

1. CG starts from ζ·d_{t−1} (the previous iteration's direction decayed by ζ, Martens uses 0.95), or from 0
   when that start has no lower model value than 0 (q_λ(ζd) ≥ 0).
2. CG runs at most ``max_cg`` iterations (hard cap :data:`MAX_CG`) and stops early by Martens' relative
   progress rule: at iteration i with k = max(10, ⌈0.1·i⌉), stop once i > k, q_λ(x_i) < 0 and
   (q_λ(x_i) − q_λ(x_{i−k})) / q_λ(x_i) < k·ε with ε = 5·10⁻⁴; also when the residual vanishes
   (‖r‖ ≤ 10⁻¹⁴·‖g‖, the exact Newton step of a quadratic).
3. Negative curvature: if a CG direction p has p·(B+λI)p ≤ 0 (or the product is not finite), CG stops and
   returns its iterate so far (the best, since each CG step lowers q_λ); if that is still 0 (no CG step was
   taken) or has q_λ ≥ 0, the direction is the steepest-descent fallback d = −g, which the line search scales.
4. ρ = (f(θ + d) − f(θ)) / q(d) for the full CG direction d with the undamped model q (ρ is undefined, and
   counts as bad, when q(d) ≥ 0 or f(θ + d) is not finite); λ ← 3/2·λ if ρ < 1/4, λ ← 2/3·λ if ρ > 3/4
   (Martens' constants), kept in [:data:`LAMBDA_MIN`, :data:`LAMBDA_MAX`] (see :func:`adapt`).
5. The step θ ← θ + α·d with α = η first and backtracking α ← 0.8·α (the line search of Martens & Sutskever
   2012 §8.8; Martens 2010's own safeguard is backtracking over stored CG iterates, not done here) until
   f(θ + αd) ≤ f(θ) + 10⁻²·α·g·d; if no α in :data:`MAX_BACKTRACK` trials decreases f the step is rejected
   (θ stays, λ ← 3/2·λ as for a bad ρ).

The driver works on flat float64 vectors with two callables: ``evaluate(q, gq) -> f`` writes ∇f(q) into ``gq``
and returns f(q) (the stepper's contract), and ``curvature_product(v, out)`` writes B·v at the current iterate
into ``out``.  It is plain Python: an iteration's cost is its products.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: optimizer id of ``hessian_free`` in the registry; it never reaches a compiled kernel (the runner dispatches
#: on the name first), so it is not one of the kernels' ids
HESSIAN_FREE_OID = 100
#: hard cap on CG iterations per step
MAX_CG = 500
#: damping bounds
LAMBDA_MIN = 1e-8
LAMBDA_MAX = 1e8
#: Martens' progress tolerance ε
CG_EPS = 5e-4
#: line search: shrink factor, Armijo constant, trials
BACKTRACK = 0.8
ARMIJO = 1e-2
MAX_BACKTRACK = 100
#: Martens' damping constants
RHO_LOW, RHO_HIGH = 0.25, 0.75
LAMBDA_UP, LAMBDA_DOWN = 1.5, 2.0 / 3.0

Evaluate = Callable[[np.ndarray, np.ndarray], float]
Product = Callable[[np.ndarray, np.ndarray], None]


@dataclass
class StepInfo:
    """What one iteration did."""

    f: float  # f at the new iterate
    accepted: bool
    cg_iterations: int
    products: int  # curvature-vector products this iteration
    damping: float  # λ used by this iteration's CG
    rho: float  # reduction ratio (nan if the model predicted no decrease)
    alpha: float  # step length taken (0 if rejected)
    negative_curvature: bool
    stalled: bool = False


def adapt(lam: float, rho: float) -> float:
    """Martens' Levenberg–Marquardt rule: ρ < 1/4 → λ·3/2, ρ > 3/4 → λ·2/3, within [LAMBDA_MIN, LAMBDA_MAX]
    (a λ of 0 stays 0 after a good ρ and becomes LAMBDA_MIN after a bad one)."""
    if not math.isfinite(rho) or rho < RHO_LOW:
        return min(max(lam * LAMBDA_UP, LAMBDA_MIN), LAMBDA_MAX)
    if rho > RHO_HIGH:
        return 0.0 if lam == 0.0 else max(lam * LAMBDA_DOWN, LAMBDA_MIN)
    return lam


class HessianFree:
    """Martens' Hessian-free driver; keep one per run (it holds λ and the CG warm start)."""

    def __init__(self, n: int, *, lr: float = 1.0, damping: float = 1.0, max_cg: int = 50,
                 cg_decay: float = 0.95) -> None:  # fmt: skip
        if not lr > 0.0 or not math.isfinite(lr):
            raise ValueError(f"lr must be positive, got {lr!r}")
        if not 0.0 <= damping <= LAMBDA_MAX:
            raise ValueError(f"damping must be in [0, {LAMBDA_MAX:g}], got {damping!r}")
        if int(max_cg) != max_cg or not 1 <= int(max_cg) <= MAX_CG:
            raise ValueError(f"max_cg must be a whole number in [1, {MAX_CG}], got {max_cg!r}")
        if not 0.0 <= cg_decay <= 1.0:
            raise ValueError(f"cg_decay must be in [0, 1], got {cg_decay!r}")
        self.n = int(n)
        self.lr = float(lr)
        self.damping = float(damping)
        self.max_cg = int(max_cg)
        self.cg_decay = float(cg_decay)
        self.direction = np.zeros(self.n)  # last CG solution (the warm start's source)
        self._gq = np.zeros(self.n)

    # ------------------------------------------------------------------ CG
    def cg(self, g: np.ndarray, product: Product, lam: float) -> tuple[np.ndarray, np.ndarray, int, int, bool]:
        """Minimise q_λ(d) = g·d + ½d·(B+λI)d: returns (d, (B+λI)d, CG iterations, products, negative curvature)."""
        n = self.n
        av = np.empty(n)
        products = 0

        def apply(v: np.ndarray) -> np.ndarray:
            nonlocal products
            product(v, av)
            products += 1
            return av + lam * v

        x = self.cg_decay * self.direction
        if np.any(x):
            ax = apply(x).copy()
            if not (np.all(np.isfinite(ax)) and g @ x + 0.5 * (x @ ax) < 0.0):
                x = np.zeros(n)
                ax = np.zeros(n)
        else:
            x = np.zeros(n)
            ax = np.zeros(n)
        r = -g - ax  # residual of (B+λI)x = −g
        p = r.copy()
        rr = r @ r
        gnorm = math.sqrt(g @ g)
        phis = [float(g @ x + 0.5 * (x @ ax))]
        its = 0
        negative = False
        while its < self.max_cg and math.sqrt(rr) > 1e-14 * gnorm:
            ap = apply(p)
            pap = float(p @ ap)
            if not (math.isfinite(pap) and pap > 0.0):
                negative = True
                break
            a = rr / pap
            x = x + a * p
            ax = ax + a * ap
            r = r - a * ap
            its += 1
            rr_new = r @ r
            p = r + (rr_new / rr) * p
            rr = rr_new
            phi = float(g @ x + 0.5 * (x @ ax))
            phis.append(phi)
            k = max(10, math.ceil(0.1 * its))
            if its > k and phi < 0.0 and (phi - phis[its - k]) / phi < k * CG_EPS:
                break
        if not np.any(x) or not phis[-1] < 0.0:  # no descent found (negative curvature at once): −g
            x = -g.copy()
            ax = apply(x).copy()
        return x, ax, its, products, negative

    # ---------------------------------------------------------------- step
    def step(self, theta: np.ndarray, f: float, g: np.ndarray, evaluate: Evaluate, product: Product) -> StepInfo:
        """One iteration at θ (with f, ∇f there): updates ``theta`` and ``g`` in place, returns what it did."""
        lam = self.damping
        d, ad, its, products, negative = self.cg(g, product, lam)
        if not np.all(np.isfinite(d)) or not np.all(np.isfinite(ad)):
            self.damping = adapt(lam, math.nan)
            return StepInfo(f, False, its, products, lam, math.nan, 0.0, negative, stalled=True)
        self.direction = d
        gd = float(g @ d)
        q_model = gd + 0.5 * (float(d @ ad) - lam * float(d @ d))  # undamped q(d)
        gq = self._gq
        alpha = self.lr
        rho = math.nan
        for trial in range(MAX_BACKTRACK):
            q = theta + alpha * d
            with np.errstate(all="ignore"):
                fq = evaluate(q, gq)
            ok = math.isfinite(fq) and np.all(np.isfinite(gq)) and np.all(np.isfinite(q))
            if trial == 0 and alpha == 1.0:
                rho = (fq - f) / q_model if ok and q_model < 0.0 else math.nan
            if ok and fq <= f + ARMIJO * alpha * gd and (fq < f or gd == 0.0):
                break
            alpha *= BACKTRACK
        else:
            self.damping = adapt(lam, math.nan)
            return StepInfo(f, False, its, products, lam, rho, 0.0, negative)
        if self.lr != 1.0:  # ρ of the full CG step d, as Martens defines it
            with np.errstate(all="ignore"):
                f1 = evaluate(theta + d, np.empty(self.n))
            rho = (f1 - f) / q_model if q_model < 0.0 and math.isfinite(f1) else math.nan
        self.damping = adapt(lam, rho)
        theta[:] = q
        g[:] = gq
        return StepInfo(float(fq), True, its, products, lam, rho, alpha, negative)
