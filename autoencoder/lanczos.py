"""Extreme eigenvalues of a symmetric operator known only through products: Lanczos with full reorthogonalisation.

``lanczos_extremes(matvec, n, k_top, k_bottom)`` builds an orthonormal Krylov
basis Q (m vectors, m ≤ ``max_iter``) from a seeded random start, re-orthogonalising
every new vector against all previous ones twice (classical Gram–Schmidt,
"twice is enough"), so the tridiagonal T = Qᵀ A Q stays accurate and no ghost
copies of converged eigenvalues appear.  The Ritz values (eigenvalues of T)
at both ends of the spectrum converge first; the result reports the top
``k_top`` and bottom ``k_bottom`` with their residual bounds |β_m · s_m,i|
(‖A y − θ y‖ for the Ritz pair), and optionally the Ritz vectors Q s.

It stops early when the Krylov space is invariant (β ≈ 0: the Ritz values are
then exact) or when every requested Ritz pair's residual is below
``tol · max|θ|``.  Memory is m × n floats; cost m products plus O(m² n).
Deterministic: same operator, start seed and settings give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from autoencoder.hvp import gauss_newton_vector_product, hessian_vector_product


@dataclass
class LanczosResult:
    top: np.ndarray  # the k_top largest Ritz values, largest first
    bottom: np.ndarray  # the k_bottom smallest, smallest first
    top_residuals: np.ndarray
    bottom_residuals: np.ndarray
    iterations: int  # products of the operator used
    converged: bool
    top_vectors: np.ndarray | None = field(default=None, repr=False)  # n × k_top (columns), if asked
    bottom_vectors: np.ndarray | None = field(default=None, repr=False)
    ritz: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # every Ritz value, ascending


def lanczos_extremes(
    matvec: Callable[[np.ndarray], np.ndarray],
    n: int,
    k_top: int = 5,
    k_bottom: int = 5,
    *,
    max_iter: int = 80,
    tol: float = 1e-8,
    seed: int = 0,
    vectors: bool = False,
    check_every: int = 5,
) -> LanczosResult:
    """Top-``k_top`` and bottom-``k_bottom`` eigenvalues of the symmetric n × n operator ``matvec``."""
    n = int(n)
    if n < 1:
        raise ValueError("the operator must have at least one dimension")
    if k_top < 0 or k_bottom < 0 or k_top + k_bottom < 1:
        raise ValueError("ask for at least one eigenvalue")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    m_max = min(int(max_iter), n)
    k_top, k_bottom = min(k_top, m_max), min(k_bottom, m_max)
    Q = np.zeros((m_max + 1, n))
    alpha = np.zeros(m_max)
    beta = np.zeros(m_max)
    q = np.random.default_rng(seed).standard_normal(n)
    Q[0] = q / np.linalg.norm(q)
    m = 0
    converged = False
    scale = 0.0
    for j in range(m_max):
        w = np.asarray(matvec(Q[j]), dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"the operator returned shape {w.shape}, expected ({n},)")
        if not np.all(np.isfinite(w)):
            raise FloatingPointError("the operator returned a non-finite product")
        alpha[j] = Q[j] @ w
        for _ in range(2):  # full reorthogonalisation against Q[0..j]
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        beta[j] = b
        m = j + 1
        scale = max(scale, abs(alpha[j]), b)
        if b <= 1e-12 * max(scale, 1e-300):  # invariant subspace: T's eigenvalues are eigenvalues of A
            beta[j] = 0.0
            converged = True
            break
        Q[j + 1] = w / b
        if m == m_max or m % check_every == 0:
            theta, s = _ritz(alpha, beta, m)
            res = np.abs(b * s[-1])
            want = np.r_[np.arange(k_bottom), np.arange(m - k_top, m)] if m >= k_top + k_bottom else np.arange(m)
            if m >= k_top + k_bottom and np.all(res[want] <= tol * max(np.abs(theta).max(), 1e-300)):
                converged = True
                break
    theta, s = _ritz(alpha, beta, m)
    res = np.abs(beta[m - 1] * s[-1])
    kt, kb = min(k_top, m), min(k_bottom, m)
    top_idx = np.arange(m - 1, m - 1 - kt, -1)
    bot_idx = np.arange(kb)
    out = LanczosResult(theta[top_idx], theta[bot_idx], res[top_idx], res[bot_idx], m, converged, ritz=theta)
    if vectors:
        out.top_vectors = Q[:m].T @ s[:, top_idx]
        out.bottom_vectors = Q[:m].T @ s[:, bot_idx]
    return out


def _ritz(alpha: np.ndarray, beta: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
    return np.linalg.eigh(t)


def hessian_extremes(model, theta: np.ndarray, x: np.ndarray, target: np.ndarray | None = None, *,
                     k_top: int = 5, k_bottom: int = 5, max_iter: int = 80, tol: float = 1e-8, seed: int = 0,
                     vectors: bool = False, gauss_newton: bool = False) -> LanczosResult:  # fmt: skip
    """Lanczos on the exact Hessian (or Gauss–Newton matrix) of the autoencoder's training loss at ``theta``."""
    product = gauss_newton_vector_product if gauss_newton else hessian_vector_product
    theta = np.asarray(theta, dtype=np.float64).copy()
    return lanczos_extremes(lambda v: product(model, theta, x, target, v), model.n_params, k_top, k_bottom,
                            max_iter=max_iter, tol=tol, seed=seed, vectors=vectors)  # fmt: skip


#: reported eigenvalues at each end, and the Lanczos bound, for the lab's and the CLI's curvature report
REPORT_K = 5
REPORT_ITER = 60


def curvature_report(model, theta: np.ndarray, x: np.ndarray, target: np.ndarray | None = None, *,
                     k: int = REPORT_K, max_iter: int = REPORT_ITER, seed: int = 0) -> dict:  # fmt: skip
    """The Hessian's top-k and bottom-k eigenvalues at ``theta`` and the condition number they give (plain JSON).

    ``kappa`` is λ_max/λ_min when the bottom eigenvalue is positive.  Otherwise the Hessian is
    indefinite or singular there (``definite`` False) and ``kappa`` uses ``lambda_small``, the
    smallest positive eigenvalue among those reported (None if none is positive), as ``note`` says.
    """
    r = hessian_extremes(model, theta, x, target, k_top=k, k_bottom=k, max_iter=max_iter, seed=seed)
    top = [float(v) for v in r.top]
    bottom = [float(v) for v in r.bottom]
    lam_max = top[0]
    definite = bottom[0] > 0.0
    positives = [v for v in top + bottom if v > 0.0]
    small = bottom[0] if definite else (min(positives) if positives else None)
    kappa = lam_max / small if (small is not None and lam_max > 0.0) else None
    if definite:
        note = "λ_min > 0: κ = λ_max/λ_min."
    elif small is None:
        note = "no positive eigenvalue was found: no condition number."
    else:
        note = (f"λ_min = {bottom[0]:.3g} ≤ 0 (the Hessian is indefinite or singular here): κ uses the smallest "
                f"positive eigenvalue found, {small:.3g}, so it describes the stiff directions Lanczos resolved.")  # fmt: skip
    return {
        "top": top, "bottom": bottom, "top_residuals": [float(v) for v in r.top_residuals],
        "bottom_residuals": [float(v) for v in r.bottom_residuals], "iterations": r.iterations,
        "converged": r.converged, "lambda_max": lam_max, "lambda_small": small, "definite": definite,
        "kappa": kappa, "note": note, "n_params": model.n_params, "samples": int(np.asarray(x).shape[0]),
    }  # fmt: skip
