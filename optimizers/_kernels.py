"""Update rules as Numba kernels on flat float64 vectors.

One iteration is driven by reverse communication, so the same kernels step a
2-D point on an analytic surface (driven from a Numba loop) and the flat
weight vector of a network (driven from Python):

* ``begin(oid, hp, lr, S, sc, theta, f, g, h, q, eff)`` starts an iteration at
  the iterate ``theta`` with loss ``f`` and gradient ``g`` (``h`` is the
  Hessian, read by Newton only).  It returns ``DONE`` after updating
  ``theta`` in place, or ``NEED_EVAL`` after writing a query point into ``q``.
* ``resume(oid, hp, lr, S, sc, theta, q, fq, gq, eff)`` receives f and ∇f at
  ``q`` and returns ``NEED_EVAL`` again, ``DONE``, ``DONE_AT_QUERY`` (theta
  became ``q``) or ``STALLED``.

First-order rules finish in ``begin``; textbook Nesterov asks for the gradient
at its look-ahead point, and SAM for the gradient at its ascent point (two
gradients per step); CG and L-BFGS run a weak-Wolfe bisection line search
through ``resume``.  ``S`` holds per-coordinate state rows, ``sc`` scalars;
``eff`` receives the per-coordinate effective learning rate of the step.

Each rule follows torch.optim where torch has the optimizer (defaults, ε
placement, first step), and repeats the floating-point operations of its
single-tensor path (torch 2.13) in torch's order: fused multiply-adds where
torch's CPU kernels fuse, ``lerp`` for the first moments, Python's pow for the
bias corrections (see ``optimizers._torchmath``).  Lion follows its paper with
lion-pytorch's arithmetic, schedule-free SGD and AdamW the schedulefree
package's; the local-gains rule follows the lecture notes.
``tests/reference.py`` holds the slow readable versions these kernels are
tested against, and ``tests/engine/test_torch_conformance.py`` checks them
against torch.optim itself.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from optimizers._slots import (
    ADADELTA,
    ADAGRAD,
    ADAM,
    ADAMAX,
    ADAMW,
    CG,
    CG_SINCE_RESTART,
    DBD,
    DONE,
    DONE_AT_QUERY,
    FLETCHER_REEVES,
    HP_AMSGRAD,
    HP_NO_BIAS_CORRECTION,
    HP_BETA1,
    HP_BETA2,
    HP_BETA_RULE,
    HP_C1,
    HP_C2,
    HP_CENTERED,
    HP_CONVENTION,
    HP_DAMPENING,
    HP_DAMPING,
    HP_DECOUPLED_WD,
    HP_EPS,
    HP_BASE,
    HP_ETA_MINUS,
    HP_ETA_PLUS,
    HP_GAIN_MAX,
    HP_GAIN_MIN,
    HP_GAIN_STEP,
    HP_HISTORY,
    HP_INITIAL_ACC,
    HP_LR_DECAY,
    HP_MAX_EVALS,
    HP_MOMENTUM,
    HP_MOMENTUM_DECAY,
    HP_NESTEROV,
    HP_RHO,
    HP_SAM_RHO,
    HP_SF_R,
    HP_STEP_MAX,
    HP_STEP_MIN,
    HP_WARMUP_STEPS,
    HP_WEIGHT_DECAY,
    HP_WEIGHT_LR_POWER,
    LB_COUNT,
    LB_HEAD,
    LBFGS,
    LION,
    LS_ALPHA,
    LS_BEST_ALPHA,
    LS_BEST_F,
    LS_DPHI0,
    LS_F0,
    LS_HI,
    LS_LO,
    LS_NEVALS,
    LS_PREV_ALPHA,
    LS_PREV_DPHI,
    MOMENTUM,
    MU_PRODUCT,
    N_SCALARS,
    NADAM,
    NEED_EVAL,
    NESTEROV,
    NEWTON,
    RADAM,
    RMSPROP,
    RPROP,
    SAM,
    SAM_ADAM,
    SAM_MOMENTUM,
    SF_ADAMW,
    SF_LR_MAX,
    SF_SGD,
    SF_WEIGHT_SUM,
    SGD,
    STALLED,
    TEXTBOOK,
    T,
)
from optimizers._torchmath import fma, lerp, pypow
from surfaces._jet import like


def state_rows(oid: int, hp: np.ndarray) -> int:
    """Number of per-coordinate state rows the optimizer needs."""
    if oid == LBFGS:
        return 2 * int(hp[HP_HISTORY]) + 2
    if oid in (RMSPROP, ADAM, ADAMW, DBD, SF_SGD, SF_ADAMW):
        return 3
    if oid in (ADADELTA, NADAM, RPROP, CG, ADAMAX, RADAM, SAM):
        return 2
    if oid == NEWTON:
        return 0
    return 1


def scalar_slots(oid: int, hp: np.ndarray) -> int:
    """Length of the scalar-state vector."""
    return N_SCALARS + (int(hp[HP_HISTORY]) if oid == LBFGS else 0)


@njit(cache=True, error_model="numpy")
def init_state(oid, hp, S, sc):
    """Reset the state for a new run (torch's lazy state initialisation)."""
    S[:, :] = 0.0
    sc[:] = 0.0
    if oid == ADAGRAD:
        S[0, :] = hp[HP_INITIAL_ACC]
    elif oid == RPROP:
        S[0, :] = hp[0]  # step sizes start at lr
    elif oid == DBD:
        S[0, :] = 1.0  # gains start at 1
    if oid == NADAM:
        sc[MU_PRODUCT] = 1.0


@njit(inline="always", cache=True, error_model="numpy")
def _dot(a, b):
    s = 0.0
    for i in range(a.size):
        s += a[i] * b[i]
    return s


@njit(inline="always", cache=True, error_model="numpy")
def _sign(v):
    if v > 0.0:
        return 1.0
    if v < 0.0:
        return -1.0
    return 0.0


@njit(inline="always", cache=True, error_model="numpy")
def _sgd(hp, lr, S, sc, theta, g, q, eff):
    """torch.optim.SGD, or the textbook v ← αv − εg; θ ← θ + v."""
    mu = hp[HP_MOMENTUM]
    tau = hp[HP_DAMPENING]
    wd = hp[HP_WEIGHT_DECAY]
    nesterov = hp[HP_NESTEROV] != 0.0
    first = sc[T] == 1.0
    if hp[HP_CONVENTION] == TEXTBOOK:
        if nesterov:
            for i in range(theta.size):
                q[i] = theta[i] + mu * S[0, i]
            return NEED_EVAL
        for i in range(theta.size):
            gi = g[i] + wd * theta[i]
            S[0, i] = mu * S[0, i] - lr * gi
            theta[i] += S[0, i]
            eff[i] = lr
        return DONE
    return _sgd_torch(lr, mu, tau, wd, nesterov, first, S, theta, g, eff)


@njit(inline="always", cache=True, error_model="numpy")
def _sgd_torch(lr, mu, tau, wd, nesterov, first, S, theta, g, eff):
    """torch.optim.SGD's single-tensor step with gradient g (row 0 of S is the momentum buffer).

    The scalars are taken in theta's precision (``like``: themselves in float64, so a float32 sweep's
    block stays in float32).
    """
    keep = like(theta, 1.0 - tau)
    mom = like(theta, mu)
    decay = like(theta, wd)
    neg_lr = like(theta, -lr)
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            gi = fma(decay, theta[i], gi)  # grad.add(param, alpha=λ)
        if mu != 0.0:
            if first:
                S[0, i] = gi
            else:
                S[0, i] = fma(keep, gi, S[0, i] * mom)  # buf.mul_(μ).add_(grad, alpha=1−τ)
            if nesterov:
                gi = fma(mom, S[0, i], gi)  # grad.add(buf, alpha=μ)
            else:
                gi = S[0, i]
        theta[i] = fma(neg_lr, gi, theta[i])  # param.add_(grad, alpha=−η)
        eff[i] = lr
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _textbook_nesterov_resume(hp, lr, S, theta, q, gq, eff):
    """θ̃ = θ + αv was evaluated: v ← αv − ε∇f(θ̃); θ ← θ + v."""
    mu = hp[HP_MOMENTUM]
    wd = hp[HP_WEIGHT_DECAY]
    for i in range(theta.size):
        gi = gq[i] + wd * q[i]
        S[0, i] = mu * S[0, i] - lr * gi
        theta[i] += S[0, i]
        eff[i] = lr
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _adagrad(hp, lr, S, sc, theta, g, eff):
    wd = hp[HP_WEIGHT_DECAY]
    eps = hp[HP_EPS]
    clr = lr / (1.0 + (sc[T] - 1.0) * hp[HP_LR_DECAY])
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            gi = fma(wd, theta[i], gi)
        S[0, i] = fma(gi, gi, S[0, i])  # state_sum.addcmul_(grad, grad, value=1)
        std = math.sqrt(S[0, i]) + eps
        theta[i] = theta[i] + (-clr * gi) / std  # param.addcdiv_(grad, std, value=−clr)
        eff[i] = clr / std
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _rmsprop(hp, lr, S, sc, theta, g, eff):
    alpha = hp[HP_RHO]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    mu = hp[HP_MOMENTUM]
    centered = hp[HP_CENTERED] != 0.0
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            gi = fma(wd, theta[i], gi)
        S[0, i] = fma((1.0 - alpha) * gi, gi, S[0, i] * alpha)  # square_avg.mul_(α).addcmul_(g, g, value=1−α)
        if centered:
            S[2, i] = lerp(S[2, i], gi, 1.0 - alpha)  # grad_avg.lerp_(grad, 1−α)
            avg = math.sqrt(fma(-S[2, i], S[2, i], S[0, i])) + eps  # square_avg.addcmul(ḡ, ḡ, value=−1).sqrt_()
        else:
            avg = math.sqrt(S[0, i]) + eps
        if mu > 0.0:
            S[1, i] = S[1, i] * mu + gi / avg  # buf.mul_(μ).addcdiv_(grad, avg)
            theta[i] = fma(-lr, S[1, i], theta[i])
        else:
            theta[i] = theta[i] + (-lr * gi) / avg
        eff[i] = lr / avg
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _adadelta(hp, lr, S, sc, theta, g, eff):
    rho = hp[HP_RHO]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            gi = fma(wd, theta[i], gi)
        S[0, i] = fma((1.0 - rho) * gi, gi, S[0, i] * rho)
        ratio = math.sqrt(S[1, i] + eps) / math.sqrt(S[0, i] + eps)  # delta = acc_delta.add(ε).sqrt_().div_(std)
        delta = ratio * gi
        S[1, i] = fma((1.0 - rho) * delta, delta, S[1, i] * rho)
        theta[i] = fma(-lr, delta, theta[i])
        eff[i] = lr * ratio
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _adam(hp, lr, S, sc, theta, g, eff, decoupled):
    """Adam (L2 weight decay) or AdamW (decoupled decay θ ← θ(1 − ηλ)); without the bias correction when
    hp[HP_NO_BIAS_CORRECTION] is set (step size η, denominator √v + ε: the moments' zero start left in)."""
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    amsgrad = hp[HP_AMSGRAD] != 0.0
    t = sc[T]
    if hp[HP_NO_BIAS_CORRECTION] != 0.0:
        step_size = lr
        bc2_sqrt = 1.0  # √v / 1 + ε is √v + ε exactly
    else:
        step_size = lr / (1.0 - pypow(b1, t))
        bc2_sqrt = pypow(1.0 - pypow(b2, t), 0.5)
    if decoupled and wd != 0.0:
        decay = 1.0 - lr * wd
        for i in range(theta.size):
            theta[i] *= decay
    l2 = 0.0 if decoupled else wd
    m = S[0]
    v = S[1]
    for i in range(theta.size):
        gi = g[i]
        if l2 != 0.0:
            gi = fma(l2, theta[i], gi)
        m[i] = lerp(m[i], gi, 1.0 - b1)  # exp_avg.lerp_(grad, 1−β₁)
        v[i] = fma((1.0 - b2) * gi, gi, v[i] * b2)  # exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
    if amsgrad:  # a separate pass keeps the main loop branch-free (and vectorisable)
        vmax = S[2]
        for i in range(theta.size):
            vmax[i] = max(vmax[i], v[i])
        v = vmax
    for i in range(theta.size):
        denom = math.sqrt(v[i]) / bc2_sqrt + eps  # (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ε)
        theta[i] = theta[i] + (-step_size * m[i]) / denom  # param.addcdiv_(exp_avg, denom, value=−step_size)
        eff[i] = lr / denom
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _adamax(hp, lr, S, sc, theta, g, eff):
    """torch.optim.Adamax: u ← max(β₂u, |g| + ε); θ ← θ − η/(1−β₁ᵗ)·m/u."""
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    clr = lr / (1.0 - pypow(b1, sc[T]))
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            gi = fma(wd, theta[i], gi)
        S[0, i] = lerp(S[0, i], gi, 1.0 - b1)
        S[1, i] = max(S[1, i] * b2, abs(gi) + eps)  # torch.maximum(exp_inf.mul_(β₂), grad.abs().add_(ε))
        theta[i] = theta[i] + (-clr * S[0, i]) / S[1, i]  # param.addcdiv_(exp_avg, exp_inf, value=−clr)
        eff[i] = lr / S[1, i]
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _radam(hp, lr, S, sc, theta, g, eff):
    """torch.optim.RAdam: Adam's step times the variance rectification r_t once ρ_t > 5, else momentum SGD."""
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    decoupled = hp[HP_DECOUPLED_WD] != 0.0
    t = sc[T]
    bc1 = 1.0 - pypow(b1, t)
    b2t = pypow(b2, t)
    bc2 = 1.0 - b2t
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho_t = rho_inf - 2.0 * t * b2t / bc2
    rectified = rho_t > 5.0
    rect = 0.0
    bc2_sqrt = 0.0
    if rectified:
        rect = pypow((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t), 0.5)
        bc2_sqrt = pypow(bc2, 0.5)
    decay = 1.0 - lr * wd
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            if decoupled:
                theta[i] *= decay
            else:
                gi = fma(wd, theta[i], gi)
        S[0, i] = lerp(S[0, i], gi, 1.0 - b1)
        S[1, i] = fma((1.0 - b2) * gi, gi, S[1, i] * b2)
        m_hat = S[0, i] / bc1
        if rectified:
            # (bias_correction2 ** 0.5) / exp_avg_sq_sqrt is a reciprocal times a scalar in torch
            adaptive = (1.0 / (math.sqrt(S[1, i]) + eps)) * bc2_sqrt
            theta[i] = theta[i] - m_hat * lr * adaptive * rect
            eff[i] = lr * adaptive * rect
        else:
            theta[i] = theta[i] - m_hat * lr
            eff[i] = lr
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _nadam(hp, lr, S, sc, theta, g, eff):
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    psi = hp[HP_MOMENTUM_DECAY]
    decoupled = hp[HP_DECOUPLED_WD] != 0.0
    t = sc[T]
    bc2 = 1.0 - pypow(b2, t)
    mu = b1 * (1.0 - 0.5 * pypow(0.96, t * psi))
    mu_next = b1 * (1.0 - 0.5 * pypow(0.96, (t + 1.0) * psi))
    sc[MU_PRODUCT] *= mu
    mu_prod = sc[MU_PRODUCT]
    mu_prod_next = mu_prod * mu_next
    c_grad = -lr * (1.0 - mu) / (1.0 - mu_prod)
    c_avg = (-lr * mu_next) / (1.0 - mu_prod_next)
    decay = 1.0 - lr * wd
    for i in range(theta.size):
        gi = g[i]
        if wd != 0.0:
            if decoupled:
                theta[i] *= decay
            else:
                gi = fma(wd, theta[i], gi)
        S[0, i] = lerp(S[0, i], gi, 1.0 - b1)
        S[1, i] = fma((1.0 - b2) * gi, gi, S[1, i] * b2)
        denom = math.sqrt(S[1, i] / bc2) + eps  # exp_avg_sq.div(bias_correction2).sqrt().add_(ε)
        theta[i] = theta[i] + (c_grad * gi) / denom
        theta[i] = theta[i] + (c_avg * S[0, i]) / denom
        eff[i] = lr / denom
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _lion(hp, lr, S, sc, theta, g, eff):
    """Lion (Chen et al. 2023): c = β1m + (1−β1)g; θ ← θ(1 − ηλ) − η sign c; m ← β2m + (1−β2)g.

    In lion-pytorch's order: the decay as a factor first, then the sign step.
    """
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    wd = hp[HP_WEIGHT_DECAY]
    decay = 1.0 - lr * wd
    for i in range(theta.size):
        theta[i] *= decay  # p.mul_(1 − ηλ)
        c = fma(1.0 - b1, g[i], S[0, i] * b1)  # exp_avg.clone().mul_(β₁).add(grad, alpha=1−β₁)
        theta[i] = fma(-lr, _sign(c), theta[i])
        S[0, i] = fma(1.0 - b2, g[i], S[0, i] * b2)
        eff[i] = lr
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _schedule_free(hp, lr, S, sc, theta, g, eff, adaptive):
    """schedulefree's SGDScheduleFree / AdamWScheduleFree (Defazio et al. 2024), foreach=False, train mode.

    θ is y, the point where the gradient is taken; S[0] is z (the SGD or Adam-normalised sequence),
    S[1] Adam's v, S[2] x = the average, the point to evaluate (its ``eval()``), shown, not fed back.
    """
    beta = hp[HP_BETA1] if adaptive else hp[HP_MOMENTUM]
    wd = hp[HP_WEIGHT_DECAY]
    k = sc[T] - 1.0
    warmup = hp[HP_WARMUP_STEPS]
    if k < warmup:
        lr = lr * ((k + 1.0) / warmup)
    if sc[T] == 1.0:
        sc[SF_LR_MAX] = -1.0
        for i in range(theta.size):
            S[0, i] = theta[i]  # z starts as a copy of the parameters
    sc[SF_LR_MAX] = max(lr, sc[SF_LR_MAX])
    weight = pypow(k + 1.0, hp[HP_SF_R]) * pypow(sc[SF_LR_MAX], hp[HP_WEIGHT_LR_POWER])
    sc[SF_WEIGHT_SUM] += weight
    ckp1 = weight / sc[SF_WEIGHT_SUM] if sc[SF_WEIGHT_SUM] != 0.0 else 0.0
    c_y = lr * (beta * (1.0 - ckp1) - 1.0)
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    bc2 = 1.0 - pypow(b2, k + 1.0) if adaptive else 1.0
    w_eval = 1.0 - 1.0 / beta
    for i in range(theta.size):
        gi = g[i]
        if adaptive:
            S[1, i] = fma((1.0 - b2) * gi, gi, S[1, i] * b2)  # exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
            denom = math.sqrt(S[1, i] / bc2) + eps  # exp_avg_sq.div(bias_correction2).sqrt_().add_(ε)
            gi = gi / denom
            eff[i] = lr / denom
        else:
            eff[i] = lr
        if wd != 0.0:
            gi = fma(wd, theta[i], gi)  # weight decay at y
        theta[i] = lerp(theta[i], S[0, i], ckp1)  # y.lerp_(z, c)
        theta[i] = fma(c_y, gi, theta[i])  # y.add_(grad, alpha=lr(β(1−c) − 1))
        S[0, i] = fma(-lr, gi, S[0, i])  # z.sub_(grad, alpha=lr)
        S[2, i] = lerp(theta[i], S[0, i], w_eval)  # x: eval()'s p.lerp_(z, 1 − 1/β)
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _sam_ascent(hp, theta, g, q):
    """SAM (Foret et al. 2021): ask for the gradient at θ + ε, ε = ρ g/(‖g‖₂ + 1e-12)."""
    scale = hp[HP_SAM_RHO] / (math.sqrt(_dot(g, g)) + 1e-12)
    for i in range(theta.size):
        q[i] = theta[i] + scale * g[i]
    return NEED_EVAL


@njit(inline="always", cache=True, error_model="numpy")
def _sam_resume(hp, lr, S, sc, theta, gq, eff):
    """The base optimizer's step at θ with the gradient gq taken at θ + ε."""
    base = hp[HP_BASE]
    if base == SAM_ADAM:
        return _adam(hp, lr, S, sc, theta, gq, eff, False)
    mu = hp[HP_MOMENTUM] if base == SAM_MOMENTUM else 0.0
    return _sgd_torch(lr, mu, 0.0, hp[HP_WEIGHT_DECAY], False, sc[T] == 1.0, S, theta, gq, eff)


@njit(inline="always", cache=True, error_model="numpy")
def _rprop(hp, lr, S, sc, theta, g, eff):
    eta_minus = hp[HP_ETA_MINUS]
    eta_plus = hp[HP_ETA_PLUS]
    smin = hp[HP_STEP_MIN]
    smax = hp[HP_STEP_MAX]
    for i in range(theta.size):
        gi = g[i]
        s = gi * S[1, i]
        if s > 0.0:
            factor = eta_plus
        elif s < 0.0:
            factor = eta_minus
            gi = 0.0  # a sign change skips this coordinate's step
        else:
            factor = 1.0
        step = S[0, i] * factor
        S[0, i] = min(max(step, smin), smax)
        theta[i] -= _sign(gi) * S[0, i]
        S[1, i] = gi
        eff[i] = S[0, i]
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _dbd(hp, lr, S, sc, theta, g, eff):
    """Local gains: gain += δ when ∂E/∂w keeps its sign, gain ×= 1 − δ otherwise."""
    delta = hp[HP_GAIN_STEP]
    gmin = hp[HP_GAIN_MIN]
    gmax = hp[HP_GAIN_MAX]
    mu = hp[HP_MOMENTUM]
    for i in range(theta.size):
        if g[i] * S[1, i] > 0.0:
            gain = S[0, i] + delta
        else:
            gain = S[0, i] * (1.0 - delta)
        gain = min(max(gain, gmin), gmax)
        S[0, i] = gain
        S[2, i] = mu * S[2, i] - lr * gain * g[i]
        theta[i] += S[2, i]
        S[1, i] = g[i]
        eff[i] = lr * gain
    return DONE


@njit(cache=True, error_model="numpy")
def _solve(a, b, out):
    """Solve a·x = b by Gaussian elimination with partial pivoting; False if singular."""
    n = b.size
    m = np.empty((n, n + 1))
    for i in range(n):
        for j in range(n):
            m[i, j] = a[i, j]
        m[i, n] = b[i]
    for k in range(n):
        p = k
        for i in range(k + 1, n):
            if abs(m[i, k]) > abs(m[p, k]):
                p = i
        if not abs(m[p, k]) > 1e-300:
            return False
        if p != k:
            for j in range(n + 1):
                tmp = m[k, j]
                m[k, j] = m[p, j]
                m[p, j] = tmp
        for i in range(k + 1, n):
            r = m[i, k] / m[k, k]
            for j in range(k, n + 1):
                m[i, j] -= r * m[k, j]
    for i in range(n - 1, -1, -1):
        s = m[i, n]
        for j in range(i + 1, n):
            s -= m[i, j] * out[j]
        out[i] = s / m[i, i]
        if not math.isfinite(out[i]):
            return False
    return True


@njit(cache=True, error_model="numpy")
def _newton(hp, lr, theta, g, h, eff):
    """Damped Newton: θ ← θ − η (H + λI)⁻¹ ∇f."""
    n = theta.size
    a = h.copy()
    for i in range(n):
        a[i, i] += hp[HP_DAMPING]
    d = np.empty(n)
    if not _solve(a, g, d):
        return STALLED
    for i in range(n):
        step = lr * d[i]
        theta[i] -= step
        eff[i] = abs(step / g[i]) if g[i] != 0.0 else 0.0
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _ls_start(hp, sc, theta, d, g, q, f, alpha0):
    """Begin a weak-Wolfe line search along d from theta (φ(α) = f(θ + αd))."""
    dphi0 = _dot(g, d)
    sc[LS_F0] = f
    sc[LS_DPHI0] = dphi0
    sc[LS_LO] = 0.0
    sc[LS_HI] = math.inf
    sc[LS_NEVALS] = 0.0
    sc[LS_ALPHA] = alpha0
    sc[LS_BEST_ALPHA] = 0.0
    sc[LS_BEST_F] = f
    for i in range(theta.size):
        q[i] = theta[i] + alpha0 * d[i]
    return NEED_EVAL


@njit(inline="always", cache=True, error_model="numpy")
def _ls_step(hp, sc, theta, d, q, fq, gq):
    """One bisection step of the weak-Wolfe search; returns 1 accept, 0 continue, -1 give up.

    Armijo fails (or f is not finite): hi ← α.  Curvature fails: lo ← α.
    α ← (lo + hi)/2, or 2α while no upper bracket exists.
    """
    alpha = sc[LS_ALPHA]
    f0 = sc[LS_F0]
    dphi0 = sc[LS_DPHI0]
    sc[LS_NEVALS] += 1.0
    finite = math.isfinite(fq)
    if finite and fq < sc[LS_BEST_F]:
        sc[LS_BEST_F] = fq
        sc[LS_BEST_ALPHA] = alpha
    if not finite or fq > f0 + hp[HP_C1] * alpha * dphi0:
        sc[LS_HI] = alpha
    else:
        dphi = 0.0
        ok = True
        for i in range(gq.size):
            if not math.isfinite(gq[i]):
                ok = False
            dphi += gq[i] * d[i]
        if ok and dphi >= hp[HP_C2] * dphi0:
            return 1
        sc[LS_LO] = alpha
    if sc[LS_NEVALS] >= hp[HP_MAX_EVALS]:
        return -1
    if sc[LS_HI] == math.inf:
        alpha = 2.0 * alpha
    else:
        alpha = 0.5 * (sc[LS_LO] + sc[LS_HI])
    sc[LS_ALPHA] = alpha
    for i in range(theta.size):
        q[i] = theta[i] + alpha * d[i]
    return 0


@njit(inline="always", cache=True, error_model="numpy")
def _ls_give_up(sc, theta, d, eff, g_at_theta):
    """Take the best decreasing trial point, if any, after the search ran out of evaluations."""
    a = sc[LS_BEST_ALPHA]
    if a == 0.0:
        return STALLED
    for i in range(theta.size):
        step = a * d[i]
        theta[i] += step
        eff[i] = abs(step / g_at_theta[i]) if g_at_theta[i] != 0.0 else 0.0
    return DONE


@njit(cache=True, error_model="numpy")
def _cg_begin(hp, lr, S, sc, theta, f, g, q, eff):
    """Nonlinear CG (PR+ or FR), restarted every n iterations or when d is not a descent direction."""
    n = theta.size
    d = S[0]
    gprev = S[1]
    # CG_SINCE_RESTART counts the conjugate steps since the last steepest-descent step:
    # a cycle of n iterations is one steepest-descent step and n − 1 conjugate steps
    restart = sc[T] == 1.0 or sc[CG_SINCE_RESTART] >= n - 1
    beta = 0.0
    gg_prev = _dot(gprev, gprev)
    if not restart and gg_prev > 0.0:  # β is undefined after a zero gradient (and x/0 raises in Numba)
        if hp[HP_BETA_RULE] == 1.0:  # Fletcher–Reeves
            beta = _dot(g, g) / gg_prev
        else:  # Polak–Ribière+
            num = 0.0
            for i in range(n):
                num += g[i] * (g[i] - gprev[i])
            beta = max(0.0, num / gg_prev)
        if not math.isfinite(beta):
            beta = 0.0
    for i in range(n):
        d[i] = -g[i] + beta * d[i]
    if _dot(g, d) >= 0.0:
        for i in range(n):
            d[i] = -g[i]
        restart = True
    sc[CG_SINCE_RESTART] = 0.0 if restart or beta == 0.0 else sc[CG_SINCE_RESTART] + 1.0
    gnorm1 = 0.0
    for i in range(n):
        gnorm1 += abs(g[i])
        gprev[i] = g[i]
    if gnorm1 == 0.0:  # at a stationary point: no step
        eff[:] = 0.0
        return DONE
    dphi0 = _dot(g, d)
    if sc[T] == 1.0:
        alpha0 = lr * min(1.0, 1.0 / gnorm1)
    else:  # Nocedal & Wright (3.59): α₀ = α_{k−1} φ'_{k−1}(0) / φ'_k(0)
        alpha0 = sc[LS_PREV_ALPHA] * sc[LS_PREV_DPHI] / dphi0 if dphi0 != 0.0 else 0.0  # φ'(0) may underflow
        if not (alpha0 > 1e-12 and alpha0 < 1e12):
            alpha0 = lr * min(1.0, 1.0 / gnorm1)
    return _ls_start(hp, sc, theta, d, g, q, f, alpha0)


@njit(cache=True, error_model="numpy")
def _lbfgs_direction(hp, S, sc, g, d):
    """Two-loop recursion: d = −H_k ∇f with H₀ = γI, γ = sᵀy / yᵀy of the newest pair."""
    m = int(hp[HP_HISTORY])
    count = int(sc[LB_COUNT])
    head = int(sc[LB_HEAD])  # slot of the newest pair
    n = g.size
    for i in range(n):
        d[i] = -g[i]
    for k in range(count):
        j = (head - k) % m
        rho = 1.0 / _dot(S[m + j], S[j])
        a = rho * _dot(S[j], d)
        sc[N_SCALARS + j] = a
        for i in range(n):
            d[i] -= a * S[m + j, i]
    if count > 0:
        gamma = _dot(S[head], S[m + head]) / _dot(S[m + head], S[m + head])
        for i in range(n):
            d[i] *= gamma
    for k in range(count - 1, -1, -1):
        j = (head - k) % m
        rho = 1.0 / _dot(S[m + j], S[j])
        b = rho * _dot(S[m + j], d)
        a = sc[N_SCALARS + j]
        for i in range(n):
            d[i] += (a - b) * S[j, i]


@njit(cache=True, error_model="numpy")
def _lbfgs_begin(hp, lr, S, sc, theta, f, g, q, eff):
    m = int(hp[HP_HISTORY])
    n = theta.size
    d = S[2 * m]
    gprev = S[2 * m + 1]
    _lbfgs_direction(hp, S, sc, g, d)
    if _dot(g, d) >= 0.0:  # lost descent: forget the curvature pairs
        sc[LB_COUNT] = 0.0
        for i in range(n):
            d[i] = -g[i]
    gnorm1 = 0.0
    for i in range(n):
        gnorm1 += abs(g[i])
        gprev[i] = g[i]
    if gnorm1 == 0.0:  # at a stationary point: no step
        eff[:] = 0.0
        return DONE
    if sc[T] == 1.0:
        alpha0 = lr * min(1.0, 1.0 / gnorm1)
    else:
        alpha0 = lr
    return _ls_start(hp, sc, theta, d, g, q, f, alpha0)


@njit(cache=True, error_model="numpy")
def _lbfgs_accept(hp, S, sc, theta, q, gq, eff):
    """Move to q; store the pair (s, y) when sᵀy > 1e-12·max(1, |φ'(0)|).

    A Wolfe step makes sᵀy positive; the threshold drops pairs lost to rounding.
    """
    m = int(hp[HP_HISTORY])
    n = theta.size
    gprev = S[2 * m + 1]
    head = (int(sc[LB_HEAD]) + 1) % m
    sy = 0.0
    for i in range(n):
        sy += (q[i] - theta[i]) * (gq[i] - gprev[i])
    if sy > 1e-12 * max(1.0, abs(sc[LS_DPHI0])) and math.isfinite(sy):
        for i in range(n):
            S[head, i] = q[i] - theta[i]
            S[m + head, i] = gq[i] - gprev[i]
        sc[LB_HEAD] = head
        sc[LB_COUNT] = min(sc[LB_COUNT] + 1.0, m)
    for i in range(n):
        step = q[i] - theta[i]
        eff[i] = abs(step / gprev[i]) if gprev[i] != 0.0 else 0.0
        theta[i] = q[i]
    return DONE_AT_QUERY


@njit(inline="always", cache=True, error_model="numpy")
def looks_ahead(oid, hp):
    """Whether ``begin`` asks for the gradient at a look-ahead point instead of using ∇f(θ) (textbook Nesterov).

    Such a rule ignores the f and g passed to ``begin``; its drivers apply noise
    and clipping to the look-ahead gradient instead.
    """
    return (oid == SGD or oid == MOMENTUM or oid == NESTEROV) and hp[HP_CONVENTION] == TEXTBOOK and hp[HP_NESTEROV] != 0.0


@njit(inline="always", cache=True, error_model="numpy")
def samples_at_query(oid, hp):
    """Whether the gradient ``resume`` receives is a first-order gradient sample (textbook Nesterov, SAM).

    Its drivers end the iteration with NEED_EVAL if that loss or gradient is not finite, and apply
    noise and clipping to it (SAM's gradient at θ gets them too: it is not a look-ahead rule).
    """
    return oid == SAM or looks_ahead(oid, hp)


@njit(cache=True, error_model="numpy")
def begin(oid, hp, lr, S, sc, theta, f, g, h, q, eff):
    """Start one iteration at theta (see the module docstring)."""
    sc[T] += 1.0
    if oid == SGD or oid == MOMENTUM or oid == NESTEROV:
        return _sgd(hp, lr, S, sc, theta, g, q, eff)
    if oid == ADAM:
        return _adam(hp, lr, S, sc, theta, g, eff, False)
    if oid == ADAMW:
        return _adam(hp, lr, S, sc, theta, g, eff, True)
    if oid == ADAGRAD:
        return _adagrad(hp, lr, S, sc, theta, g, eff)
    if oid == RMSPROP:
        return _rmsprop(hp, lr, S, sc, theta, g, eff)
    if oid == ADADELTA:
        return _adadelta(hp, lr, S, sc, theta, g, eff)
    if oid == NADAM:
        return _nadam(hp, lr, S, sc, theta, g, eff)
    if oid == ADAMAX:
        return _adamax(hp, lr, S, sc, theta, g, eff)
    if oid == RADAM:
        return _radam(hp, lr, S, sc, theta, g, eff)
    if oid == LION:
        return _lion(hp, lr, S, sc, theta, g, eff)
    if oid == SAM:
        return _sam_ascent(hp, theta, g, q)
    if oid == SF_SGD:
        return _schedule_free(hp, lr, S, sc, theta, g, eff, False)
    if oid == SF_ADAMW:
        return _schedule_free(hp, lr, S, sc, theta, g, eff, True)
    if oid == RPROP:
        return _rprop(hp, lr, S, sc, theta, g, eff)
    if oid == DBD:
        return _dbd(hp, lr, S, sc, theta, g, eff)
    if oid == NEWTON:
        return _newton(hp, lr, theta, g, h, eff)
    if oid == CG:
        return _cg_begin(hp, lr, S, sc, theta, f, g, q, eff)
    if oid == LBFGS:
        return _lbfgs_begin(hp, lr, S, sc, theta, f, g, q, eff)
    return STALLED


@njit(cache=True, error_model="numpy")
def resume(oid, hp, lr, S, sc, theta, q, fq, gq, eff):
    """Continue an iteration with f and ∇f evaluated at the query point q."""
    if oid == SAM:
        return _sam_resume(hp, lr, S, sc, theta, gq, eff)
    if oid == SGD or oid == MOMENTUM or oid == NESTEROV:
        return _textbook_nesterov_resume(hp, lr, S, theta, q, gq, eff)
    if oid == CG or oid == LBFGS:
        if oid == CG:
            d = S[0]
            gprev = S[1]
        else:
            m = int(hp[HP_HISTORY])
            d = S[2 * m]
            gprev = S[2 * m + 1]
        verdict = _ls_step(hp, sc, theta, d, q, fq, gq)
        if verdict == 0:
            return NEED_EVAL
        if verdict < 0:
            return _ls_give_up(sc, theta, d, eff, gprev)
        sc[LS_PREV_ALPHA] = sc[LS_ALPHA]
        sc[LS_PREV_DPHI] = sc[LS_DPHI0]
        if oid == LBFGS:
            return _lbfgs_accept(hp, S, sc, theta, q, gq, eff)
        for i in range(theta.size):
            step = q[i] - theta[i]
            eff[i] = abs(step / gprev[i]) if gprev[i] != 0.0 else 0.0
            theta[i] = q[i]
        return DONE_AT_QUERY
    return STALLED

