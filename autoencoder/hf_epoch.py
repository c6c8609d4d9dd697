"""One epoch of Martens' Hessian-free method on the autoencoder (Martens 2010, §4).

The gradient is taken on the full training batch, the curvature products on a smaller curvature minibatch
(a fresh seeded sample of :data:`CURVATURE_BATCH` rows each iteration, as Martens does): the Gauss–Newton
matrix (the default, positive semi-definite) or the exact Hessian (``gauss_newton`` off), both as
R-operator products (``autoencoder.hvp``), never a matrix.  The rule itself is
``optimizers.hessian_free.HessianFree``, the same driver the surfaces use.

An epoch runs ``max(full_batch_iters, ITERS_PER_EPOCH)`` iterations; each iteration's CG iterations and
curvature products are appended to the run's record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autoencoder.hvp import gauss_newton_vector_product, hessian_vector_product
from optimizers.hessian_free import HessianFree

#: rows of the curvature minibatch (the whole training set if smaller)
CURVATURE_BATCH = 256
#: Hessian-free iterations per epoch at least (each is one full-batch gradient and a CG solve)
ITERS_PER_EPOCH = 5
#: CG iterations per step on a network at most (bounds an epoch's cost whatever max_cg says)
MAX_CG_NETWORK = 50


def make_driver(config: Any, n: int) -> HessianFree:
    v = config.values
    return HessianFree(n, lr=v["lr"], damping=v["damping"], max_cg=min(int(v["max_cg"]), MAX_CG_NETWORK),
                       cg_decay=v["cg_decay"])  # fmt: skip


def hessian_free_epoch(r: Any, net: Any, x: np.ndarray, t: np.ndarray, iters: int,
                       full_eval: Callable[[np.ndarray, np.ndarray], float], seed: Any,
                       check_stop: Callable[[], None]) -> str | None:  # fmt: skip
    """Run ``iters`` Hessian-free iterations on run ``r`` (its θ, f, g, batch-norm state and step count).

    ``full_eval(theta, out)`` is the trainer's full-batch loss and gradient (it records the batch-norm
    statistics in ``r.stats_last``).  Returns None, 'diverged' or 'stalled'; appends each iteration's CG
    iterations and curvature products to ``r.result.cg_iterations`` / ``r.result.curvature_products``."""
    if getattr(r, "hf", None) is None:
        r.hf = make_driver(r.entry.config, r.theta.size)
    hf: HessianFree = r.hf
    product_fn = gauss_newton_vector_product if r.entry.config.values["gauss_newton"] else hessian_vector_product
    rng = np.random.default_rng(seed)
    n_rows = x.shape[0]

    def evaluate(q: np.ndarray, gq: np.ndarray) -> float:
        check_stop()
        return full_eval(q, gq)

    for _ in range(iters):
        check_stop()
        if not r.fg_valid:
            r.f = full_eval(r.theta, r.g)
            r.bn.update(r.stats_last)
            r.fg_valid = True
        if not (math.isfinite(r.f) and np.all(np.isfinite(r.g))):
            return "diverged"
        rows = rng.choice(n_rows, CURVATURE_BATCH, replace=False) if n_rows > CURVATURE_BATCH else slice(None)
        xc, tc = x[rows], t[rows]
        theta_now = r.theta.copy()

        def product(v: np.ndarray, out: np.ndarray, th: np.ndarray = theta_now, xc: np.ndarray = xc,
                    tc: np.ndarray = tc) -> None:  # fmt: skip
            out[:] = product_fn(net, th, xc, tc, v, bn_state=r.bn)
            r.samples += xc.shape[0]

        info = hf.step(r.theta, r.f, r.g, evaluate, product)
        r.result.cg_iterations.append(int(info.cg_iterations))
        r.result.curvature_products.append(int(info.products))
        if info.stalled:
            return "stalled"
        r.steps += 1
        if info.accepted:
            r.f = info.f
            if getattr(net, "batch_norm", False):  # the last evaluation may not be the iterate's (ρ's trial)
                r.f = full_eval(r.theta, r.g)
            r.bn.update(r.stats_last)
        if not (math.isfinite(r.f) and np.all(np.isfinite(r.g)) and np.all(np.isfinite(r.theta))):
            return "diverged"
    return None
