"""The training loss and its exact gradient by a hand-written backward pass (``Autoencoder.loss_and_grad``).

Kept apart from ``autoencoder.model`` so that each file stays readable; call it through the model's method.
The curvature products of the same loss are in ``autoencoder.hvp``.

The skips in the backward pass: the shallow skip's x S gives ∂L/∂S = xᵀ ∂L/∂u_out (x is data, so nothing
flows on).  The deep skip's a_i D, added to layer j's pre-activation z_j before batch norm, gives
∂L/∂D = a_iᵀ ∂L/∂z_j, and ∂L/∂z_j Dᵀ joins ∂L/∂a_i: the activation a_i then receives the gradient of both
its paths, the next dense layer's and the skip's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autoencoder.layers import activate, activation_grad_inplace


def loss_and_grad(
    model: Any,  # an autoencoder.model.Autoencoder (not imported: that module imports this one)
    theta: np.ndarray,
    x: np.ndarray,
    target: np.ndarray | None = None,
    *,
    out: np.ndarray | None = None,
    dtype: Any = np.float64,
    scale: float = 1.0,
    accumulate: bool = False,
) -> tuple[float, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Training-mode loss, its gradient and the batch-norm statistics: see ``Autoencoder.loss_and_grad``."""
    model._check_theta(theta)
    dtype = np.dtype(dtype).type
    x = model._check_x(x, dtype)
    t = x if target is None else model._check_x(target, dtype)
    if t.shape != x.shape:
        raise ValueError(f"target shape {t.shape} differs from input shape {x.shape}")
    g = np.zeros(model.n_params) if out is None else out
    ps, skip, deep = model._params(theta, dtype)
    deep_from, deep_to = model.deep_skip_pair or (-1, -1)  # hidden layer indices; a_i is acts[i + 1]
    gw = model._workspace(dtype)[1]  # every block is written exactly once below, then copied into g
    n = x.shape[0]
    L = model.n_layers
    eps = dtype(model.bn_eps)
    acts = [x]  # a_l: input of layer l
    pre: list[np.ndarray] = []  # u_l (after batch norm) of each layer
    bn_cache: list[tuple[np.ndarray, np.ndarray] | None] = []
    stats: list[tuple[np.ndarray, np.ndarray]] = []
    a = x
    for l in range(L):
        p = ps[l]
        u = a @ p["weight"]
        if l == deep_to:  # before batch norm (see autoencoder.layers)
            u += acts[deep_from + 1] @ deep
        if model.has_bn(l):
            mu = u.mean(axis=0)
            u -= mu
            var = np.mean(u * u, axis=0)
            inv = 1.0 / np.sqrt(var + eps)
            u *= inv  # û
            bn_cache.append((u.copy(), inv))
            unbiased = var * (n / (n - 1)) if n > 1 else var
            stats.append((mu.astype(np.float64), unbiased.astype(np.float64)))
            u *= p["gamma"]
            u += p["beta"]
        else:
            bn_cache.append(None)
            u += p["bias"]
        if l == L - 1 and skip is not None:
            u += x @ skip
        pre.append(u)
        if l < L - 1:
            a = activate(model.activations[l], u)
            acts.append(a)
    u = pre[-1]
    size = u.size
    if model.loss_name == "bce":
        y = activate("sigmoid", u)
        f = float(np.sum(np.logaddexp(0.0, u) - t * u, dtype=np.float64) / size)
        du = y - t
        du *= dtype(scale / size)
    else:
        y = activate(model.output_activation, u)
        diff = y - t
        d = diff.reshape(-1)
        f = float(np.dot(d, d)) / size
        du = diff
        du *= dtype(2.0 * scale / size)
        activation_grad_inplace(model.output_activation, du, u, y)
    if not math.isfinite(f):
        g[:] = math.nan
        return f, g, stats
    da_deep = None  # ∂L/∂a_i through the deep skip, added where the backward pass reaches a_i
    for l in range(L - 1, -1, -1):
        blocks = model._layer_blocks[l]
        if l == L - 1 and skip is not None:
            np.matmul(x.T, du, out=model.skip_block.view(gw))
        cache = bn_cache[l]
        if cache is not None:
            uh, inv = cache
            np.sum(du * uh, axis=0, out=blocks["gamma"].view(gw))
            np.sum(du, axis=0, out=blocks["beta"].view(gw))
            dh = du * ps[l]["gamma"]
            # ∂/∂u of the normalisation: (1/σ)(dh − mean(dh) − û·mean(dh ⊙ û))
            dz = dh - dh.mean(axis=0)
            dz -= uh * np.mean(dh * uh, axis=0)
            dz *= inv
        else:
            np.sum(du, axis=0, out=blocks["bias"].view(gw))
            dz = du
        np.matmul(acts[l].T, dz, out=blocks["weight"].view(gw))
        if l == deep_to:
            np.matmul(acts[deep_from + 1].T, dz, out=model.deep_skip_block.view(gw))
            da_deep = dz @ deep.T
        if l > 0:
            da = dz @ ps[l]["weight"].T
            if l == deep_from + 1:  # acts[l] is a_i
                da += da_deep
            du = activation_grad_inplace(model.activations[l - 1], da, pre[l - 1], acts[l])
    if accumulate:
        g += gw
    else:
        np.copyto(g, gw, casting="same_kind")
    return f, g, stats


def numerical_gradient(fun: Any, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function of a vector (for tests and small checks)."""
    g = np.zeros_like(theta)
    t = theta.copy()
    for i in range(theta.size):
        old = t[i]
        t[i] = old + h
        fp = fun(t)
        t[i] = old - h
        fm = fun(t)
        t[i] = old
        g[i] = (fp - fm) / (2.0 * h)
    return g
