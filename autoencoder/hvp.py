"""Exact curvature products of the autoencoder's training loss: Hessian- and Gauss–Newton–vector products.

Both functions differentiate the same loss that ``Autoencoder.loss_and_grad``
computes (training mode: batch norm uses the batch's own statistics; the
reconstruction target defaults to ``x``, pass the clean images as ``target``
for a denoising autoencoder fed corrupted ``x``).

``hessian_vector_product`` is Pearlmutter's R-operator (forward over reverse):
the forward pass carries each intermediate's directional derivative
R{·} = d/dr (·)(θ + r v) at r = 0, and the backward pass is differentiated the
same way, so R{∇L} = H v exactly (up to rounding), at about twice the cost of
one gradient, without finite differences and without forming H.

``gauss_newton_vector_product`` returns G v = Jᵀ H_L J v, where J = ∂y/∂θ is
the Jacobian of the network's output and H_L the loss's Hessian with respect
to it.  For BCE from logits the output is the logit u, and H_L = σ(u)(1 − σ(u))/N
(N = number of pixels).  For MSE the output is y = act(u) and H_L = 2/N, the
constant diagonal; written at the logits, that is H_L = (2/N)·act'(u)² (for
a linear output activation exactly 2/N).  G drops every term of H that multiplies the
residual, so it is positive semi-definite.  With the same R-forward pass, it
is the backward pass run on H_L·(J v) with the residual-dependent terms zero.

Both skips are in both products (``autoencoder.layers`` defines them): the
shallow x S enters the output's pre-activation, so R{x S} = x V_S; the deep
a_i D enters decoder layer j's pre-activation before batch norm, so
R{a_i D} = R{a_i} D + a_i V_D, and the backward pass sends ∂L/∂z_j Dᵀ (and its
R{·}) back to a_i besides the path through the layers in between.

``bn_state`` is accepted for symmetry with the trainer's calls; like
``loss_and_grad`` these products are of the training-mode loss, which never
reads the running averages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoencoder.model import Autoencoder, BatchNormState


def _d1(name: str, u: np.ndarray, a: np.ndarray) -> np.ndarray:
    """act'(u) given a = act(u)."""
    if name == "relu":
        return (u > 0.0).astype(u.dtype)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    return np.ones_like(u)


def _d2(name: str, u: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    """act''(u) given a = act(u); None where it is identically zero (linear, relu almost everywhere)."""
    if name == "sigmoid":
        return a * (1.0 - a) * (1.0 - 2.0 * a)
    if name == "tanh":
        return -2.0 * a * (1.0 - a * a)
    return None


def _act(name: str, u: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(u, 0.0)
    if name == "sigmoid":
        return 0.5 + 0.5 * np.tanh(0.5 * u)
    if name == "tanh":
        return np.tanh(u)
    return u.copy()


def _check(model: Autoencoder, theta: np.ndarray, x: np.ndarray, target: np.ndarray | None, v: np.ndarray):
    theta = np.asarray(theta, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    model._check_theta(theta)
    if v.shape != theta.shape:
        raise ValueError(f"the direction must have the parameters' shape {theta.shape}, got {v.shape}")
    x = model._check_x(x, np.float64)
    t = x if target is None else model._check_x(target, np.float64)
    if t.shape != x.shape:
        raise ValueError(f"target shape {t.shape} differs from input shape {x.shape}")
    return theta, x, t, v


def _curvature_product(model: Autoencoder, theta, x, target, v, gauss_newton: bool) -> np.ndarray:
    theta, x, t, v = _check(model, theta, x, target, v)
    L = model.n_layers
    eps = model.bn_eps
    P = [{k: b.view(theta) for k, b in blocks.items()} for blocks in model._layer_blocks]
    V = [{k: b.view(v) for k, b in blocks.items()} for blocks in model._layer_blocks]
    S = model.skip_block.view(theta) if model.skip_block is not None else None
    VS = model.skip_block.view(v) if model.skip_block is not None else None
    D = model.deep_skip_block.view(theta) if model.deep_skip_block is not None else None
    VD = model.deep_skip_block.view(v) if model.deep_skip_block is not None else None
    deep_from, deep_to = model.deep_skip_pair or (-1, -1)  # hidden layer indices; a_i is acts[i + 1]

    # ---- forward pass with R{·}
    acts, racts = [x], [np.zeros_like(x)]
    pre, rpre, bn = [], [], []
    a, ra = x, racts[0]
    for l in range(L):
        p, q = P[l], V[l]
        z = a @ p["weight"]
        rz = a @ q["weight"]
        if l > 0:  # R{x} = 0: the first layer's input carries no direction
            rz += ra @ p["weight"]
        if l == deep_to:  # the deep skip, before batch norm
            a_i, ra_i = acts[deep_from + 1], racts[deep_from + 1]
            z = z + a_i @ D
            rz += ra_i @ D + a_i @ VD
        if model.has_bn(l):
            c = z - z.mean(axis=0)
            rc = rz - rz.mean(axis=0)
            var = np.mean(c * c, axis=0)
            rvar = 2.0 * np.mean(c * rc, axis=0)
            inv = 1.0 / np.sqrt(var + eps)
            rinv = -0.5 * inv**3 * rvar
            uh = c * inv
            ruh = rc * inv + c * rinv
            u = uh * p["gamma"] + p["beta"]
            ru = ruh * p["gamma"] + uh * q["gamma"] + q["beta"]
            bn.append((uh, ruh, inv, rinv))
        else:
            u = z + p["bias"]
            ru = rz + q["bias"]
            bn.append(None)
        if l == L - 1 and S is not None:
            u = u + x @ S
            ru = ru + x @ VS
        pre.append(u)
        rpre.append(ru)
        if l < L - 1:
            name = model.activations[l]
            a = _act(name, u)
            ra = _d1(name, u, a) * ru
            acts.append(a)
            racts.append(ra)

    # ---- the loss's gradient at the output pre-activation, and its R{·}
    u, ru = pre[-1], rpre[-1]
    N = u.size
    if model.loss_name == "bce":
        y = _act("sigmoid", u)
        s1 = y * (1.0 - y)
        du = (y - t) / N
        rdu = s1 * ru / N
    else:
        name = model.output_activation
        y = _act(name, u)
        d1 = _d1(name, u, y)
        du = (2.0 / N) * (y - t) * d1
        rdu = (2.0 / N) * d1 * d1 * ru
        d2 = _d2(name, u, y)
        if d2 is not None and not gauss_newton:
            rdu += (2.0 / N) * (y - t) * d2 * ru
    if gauss_newton:  # Jᵀ applied to H_L J v: the backward pass's terms in the residual are dropped
        du = np.zeros_like(du)

    # ---- backward pass with R{·}
    out = np.zeros(model.n_params)
    da_deep = rda_deep = None  # the deep skip's ∂L/∂a_i and its R{·}, added where the backward pass reaches a_i
    O = [{k: b.view(out) for k, b in blocks.items()} for blocks in model._layer_blocks]
    for l in range(L - 1, -1, -1):
        p, q, o = P[l], V[l], O[l]
        if l == L - 1 and S is not None:
            model.skip_block.view(out)[...] = x.T @ rdu
        if bn[l] is not None:
            uh, ruh, inv, rinv = bn[l]
            o["gamma"][...] = np.sum(rdu * uh + du * ruh, axis=0)
            o["beta"][...] = np.sum(rdu, axis=0)
            dh = du * p["gamma"]
            rdh = rdu * p["gamma"] + du * q["gamma"]
            m_dhuh = np.mean(dh * uh, axis=0)
            inner = dh - dh.mean(axis=0) - uh * m_dhuh
            rinner = rdh - rdh.mean(axis=0) - ruh * m_dhuh - uh * np.mean(rdh * uh + dh * ruh, axis=0)
            dz = inv * inner
            rdz = rinv * inner + inv * rinner
        else:
            o["bias"][...] = np.sum(rdu, axis=0)
            dz, rdz = du, rdu
        np.matmul(acts[l].T, rdz, out=o["weight"])
        if l > 0 and not gauss_newton:  # (Gauss–Newton: dz = 0, and R{x} = 0 for the first layer)
            o["weight"] += racts[l].T @ dz
        if l == deep_to:
            a_i = acts[deep_from + 1]
            od = model.deep_skip_block.view(out)
            od[...] = a_i.T @ rdz
            rda_deep = rdz @ D.T
            if not gauss_newton:
                od += racts[deep_from + 1].T @ dz
                da_deep = dz @ D.T
                rda_deep += dz @ VD.T
        if l > 0:
            name = model.activations[l - 1]
            rda = rdz @ p["weight"].T
            if l == deep_from + 1:  # acts[l] is a_i
                rda += rda_deep
            up, ap = pre[l - 1], acts[l]
            d1 = _d1(name, up, ap)
            if gauss_newton:  # the backward pass of J^T alone: du stays zero
                rdu = rda * d1
                du = np.zeros_like(rdu)
                continue
            da = dz @ p["weight"].T
            if l == deep_from + 1:
                da += da_deep
            rda += dz @ q["weight"].T
            rdu_next = rda * d1
            d2 = _d2(name, up, ap)
            if d2 is not None:
                rdu_next += da * d2 * rpre[l - 1]
            du, rdu = da * d1, rdu_next
    return out


def hessian_vector_product(
    model: Autoencoder,
    theta: np.ndarray,
    x: np.ndarray,
    target: np.ndarray | None = None,
    v: np.ndarray | None = None,
    *,
    bn_state: BatchNormState | None = None,
) -> np.ndarray:
    """H v, the exact Hessian of ``model.loss_and_grad(theta, x, target)``'s loss times ``v`` (a new float64 vector)."""
    if v is None:
        raise ValueError("give the direction v")
    return _curvature_product(model, theta, x, target, v, gauss_newton=False)


def gauss_newton_vector_product(
    model: Autoencoder,
    theta: np.ndarray,
    x: np.ndarray,
    target: np.ndarray | None = None,
    v: np.ndarray | None = None,
    *,
    bn_state: BatchNormState | None = None,
) -> np.ndarray:
    """G v = Jᵀ H_L J v, the (positive semi-definite) Gauss–Newton matrix of the same loss times ``v``."""
    if v is None:
        raise ValueError("give the direction v")
    return _curvature_product(model, theta, x, target, v, gauss_newton=True)


def dense_hessian(model: Autoencoder, theta: np.ndarray, x: np.ndarray, target: Any = None,
                  *, gauss_newton: bool = False) -> np.ndarray:  # fmt: skip
    """The n × n matrix, column by column from products (small models only: tests and teaching)."""
    n = model.n_params
    if n > 4000:
        raise ValueError(f"a dense Hessian of {n:,} parameters is too large; use products or Lanczos")
    f = gauss_newton_vector_product if gauss_newton else hessian_vector_product
    h = np.empty((n, n))
    e = np.zeros(n)
    for i in range(n):
        e[i] = 1.0
        h[:, i] = f(model, theta, x, target, e)
        e[i] = 0.0
    return h
