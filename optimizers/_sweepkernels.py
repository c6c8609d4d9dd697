"""The lock-step sweep: many runs of a coordinate-wise optimizer stepped as one vector.

A coordinate-wise rule (``OptimizerSpec.coordinatewise``) acts on each
coordinate alone, and its scalar state (step count, bias corrections,
schedule) is the same for all runs at step t, so a block of B runs sharing one
hyperparameter vector is stepped as one flat vector of 2B coordinates, laid out
as a structure of arrays: ``theta[:B]`` holds the runs' x, ``theta[B:]`` their
y.  Every pass over the block is a straight loop the compiler vectorises:

1. the optimizer's ``begin`` on the whole vector: the rule functions a single run's ``begin`` calls,
   inlined into the block loop (``_begin_block``); for Adam and AdamW the same step in one pass
   (``_adam_in_one_pass``);
2. the surface's value and gradient at every run (``evaluate_grad_block``: the
   surface switch once per block, not once per run);
3. one fused pass that counts the runs with an event (a non-finite value, an
   escape, or possibly converged) without branching; only when there is one
   does a second, per-run pass apply the exact rules of ``_runkernels.run``.

The runs' arithmetic is exactly their single ``run``'s: the same operations on
the same values, in the same order (vectorised float64 arithmetic rounds as
scalar arithmetic does, and no fast-math flag is set), so every job equals its
single run bit for bit.  Noise is drawn once per step and shared, exactly as each run
would draw it alone from the same seed, and clipping by norm is applied per
run.  A block stops as soon as all its runs are done.

A float32 sweep (``starts`` in float32) keeps the block's arrays, and the
analytic surfaces' arithmetic, in float32: twice the runs per vector register
where a map only needs colours.  Its runs are no longer their float64 single
runs' bits; the scalars of each step (learning rate, bias corrections) are
still computed in float64 and rounded once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import overload

from optimizers import _kernels as K
from optimizers._kernels import begin, init_state, looks_ahead
from optimizers._modkernels import apply_noise_and_clip, normal, scheduled_lr
from optimizers._runkernels import _batch_size, _next_batch
from optimizers._slots import (
    ADADELTA,
    ADAGRAD,
    ADAM,
    ADAMAX,
    ADAMW,
    CLIP_MODE,
    CLIP_VALUE,
    COMPLETED,
    CONVERGED,
    DBD,
    DIVERGED,
    DONE,
    HP_AMSGRAD,
    HP_BETA1,
    HP_BETA2,
    HP_EPS,
    HP_LR,
    HP_NO_BIAS_CORRECTION,
    HP_WEIGHT_DECAY,
    LION,
    MOMENTUM,
    NADAM,
    NEED_EVAL,
    NESTEROV,
    NOISE_SIGMA,
    RADAM,
    RMSPROP,
    RPROP,
    SCHED_KIND,
    SEED,
    SF_ADAMW,
    SF_SGD,
    SGD,
    T,
)
from optimizers._torchmath import divide_by, fma, lerp, pypow
from surfaces._blockkernels import evaluate_grad_block
from surfaces._datakernels import data_count, data_jet
from surfaces._jet import is_float32, like

#: a margin that makes ``max(|a|, |b|) <= tol·(1 + REL) + ABS`` a necessary condition of ``√(a² + b²) <= tol``
#: in float64 (see ``_near``): the cheap test screens the runs, the exact one decides
_SCREEN_REL = 1e-7
_SCREEN_ABS = 1e-150
_LARGEST = 1.7976931348623157e308


@njit(inline="always", cache=True, error_model="numpy")
def _screen(tol):
    """The bound of ``_near`` for tolerance ``tol``.

    If max(|a|, |b|) exceeds it, fl(√(fl(a²) + fl(b²))) > tol: |a| > 1e-150 keeps a² normal, so each
    rounding loses under 2⁻⁵² of the value, far less than the 1e-7 margin (and an overflow gives inf).
    """
    return tol * (1.0 + _SCREEN_REL) + _SCREEN_ABS


@njit(inline="always", cache=True, error_model="numpy")
def _near(a, b, bound):
    return max(abs(a), abs(b)) <= bound


@njit(inline="always", cache=True, error_model="numpy")
def _copy_into(dst, src):
    """dst[:] = src as a plain loop: Numba's slice copy checks the two arrays for overlap first (measured slower
    in the step loop)."""
    for i in range(src.size):
        dst[i] = src[i]


@njit(inline="always", cache=True, error_model="numpy")
def _minibatch_grads(sid, sp, perm, lo, hi, xs, ys, gx, gy):
    """Every run's gradient on the minibatch ``perm[lo:hi]``, as each run would take it alone."""
    for k in range(xs.size):
        jb = data_jet(sid, sp, perm, lo, hi, float(xs[k]), float(ys[k]), False)
        gx[k] = jb[1]
        gy[k] = jb[2]


@njit(inline="always", cache=True, error_model="numpy")
def _perturb(sigma, clip_mode, zero_mods, noise, pair, gx, gy, rng):
    """Add the step's shared noise draw to every run's gradient (x, then y), then clip each run's pair."""
    if sigma > 0.0:
        noise[0], rng = normal(rng)
        noise[1], rng = normal(rng)
        nx = sigma * noise[0]
        ny = sigma * noise[1]
        for k in range(gx.size):
            gx[k] += nx
            gy[k] += ny
    if clip_mode != 0.0:
        for k in range(gx.size):
            pair[0] = gx[k]
            pair[1] = gy[k]
            apply_noise_and_clip(zero_mods, pair, rng)
            gx[k] = pair[0]
            gy[k] = pair[1]
    return rng


@njit(inline="always", cache=True, error_model="numpy")
def _count_events(xs, ys, f, gx, gy, old_x, old_y, done, radius, gtol, g_bound, x_bound):
    """How many live runs of the block have a non-finite value, left the radius, or may have converged.

    One branch-free pass: ``abs(v) < inf`` is false for NaN and ±inf, ``abs(v) <= radius`` for NaN too.
    """
    check_convergence = gtol > 0.0
    events = 0
    for k in range(xs.size):
        x = xs[k]
        y = ys[k]
        fine = (abs(x) <= radius) & (abs(y) <= radius) & (abs(f[k]) < math.inf)
        fine = fine & (abs(gx[k]) < math.inf) & (abs(gy[k]) < math.inf)
        maybe = check_convergence & _near(gx[k], gy[k], g_bound) & _near(x - old_x[k], y - old_y[k], x_bound)
        events += (not done[k]) & ((not fine) | maybe)
    return events


@njit(inline="always", cache=True, error_model="numpy")
def _adam_in_one_pass(hp, lr, S, sc, theta, g, decoupled, old):
    """``begin`` for Adam (or AdamW when ``decoupled``): ``_kernels._adam``'s step in one pass over the coordinates.

    ``old`` receives each coordinate before the step (what a separate copy would hold, without its pass).

    Each coordinate goes through exactly ``_adam``'s operations in its order (decay, L2 term, the moments'
    lerp and fused multiply-add, AMSGrad's maximum, denominator and step), so the results are the same bits;
    fusing its three loops into one, and leaving out the effective learning rate a sweep never reads (a
    division per coordinate), makes the Adam sweep about a fifth faster.  The division by the bias
    correction's square root, the same for every coordinate, is ``divide_by``: the same bits as the
    division, about a sixth faster again.  The lock-step tests compare every
    Adam variant with its single runs, which take ``_adam`` itself, so the two cannot drift apart.
    """
    sc[T] += 1.0
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    eps = hp[HP_EPS]
    wd = hp[HP_WEIGHT_DECAY]
    amsgrad = hp[HP_AMSGRAD] != 0.0
    t = sc[T]
    if hp[HP_NO_BIAS_CORRECTION] != 0.0:
        step_size = lr
        bc2_sqrt = 1.0
    else:
        step_size = lr / (1.0 - pypow(b1, t))
        bc2_sqrt = pypow(1.0 - pypow(b2, t), 0.5)
    decays = decoupled and wd != 0.0
    # the step's scalars in the block's precision: themselves in float64, rounded once for a float32 block
    decay = like(theta, 1.0 - lr * wd)
    l2 = like(theta, 0.0 if decoupled else wd)
    w1 = like(theta, 1.0 - b1)
    w2 = like(theta, 1.0 - b2)
    beta2 = like(theta, b2)
    bc2 = like(theta, bc2_sqrt)
    inv_bc2 = like(theta, 1.0) / bc2
    eps_ = like(theta, eps)
    neg_step = like(theta, -step_size)
    m = S[0]
    v = S[1]
    v_max = S[2]
    for i in range(theta.size):
        th = theta[i]
        old[i] = th
        if decays:
            th *= decay
        gi = g[i]
        if l2 != 0.0:
            gi = fma(l2, th, gi)
        mi = lerp(m[i], gi, w1)
        vi = fma(w2 * gi, gi, v[i] * beta2)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(v_max[i], vi)
            v_max[i] = vi
        denom = divide_by(math.sqrt(vi), bc2, inv_bc2) + eps_
        theta[i] = th + (neg_step * mi) / denom
    return DONE


@njit(inline="always", cache=True, error_model="numpy")
def _begin_block(oid, hp, lr, S, sc, theta, g, q, eff):
    """``_kernels.begin`` of a coordinate-wise rule, its rule inlined into the block loop.

    ``begin`` is a function of its own (compiled once for every driver); called, the compiler cannot
    tell the block's arrays apart and leaves its loops scalar (measured: RMSProp, Adadelta, NAdam and
    RAdam 3–4× slower a step).  Inlined here, each loop runs over the block's own fresh arrays.  The
    same rule functions as ``begin``'s, so the same arithmetic; any other rule goes to ``begin``.
    """
    if oid == SGD or oid == MOMENTUM or oid == NESTEROV:
        sc[T] += 1.0
        return K._sgd(hp, lr, S, sc, theta, g, q, eff)
    if oid == ADAGRAD:
        sc[T] += 1.0
        return K._adagrad(hp, lr, S, sc, theta, g, eff)
    if oid == RMSPROP:
        sc[T] += 1.0
        return K._rmsprop(hp, lr, S, sc, theta, g, eff)
    if oid == ADADELTA:
        sc[T] += 1.0
        return K._adadelta(hp, lr, S, sc, theta, g, eff)
    if oid == NADAM:
        sc[T] += 1.0
        return K._nadam(hp, lr, S, sc, theta, g, eff)
    if oid == ADAMAX:
        sc[T] += 1.0
        return K._adamax(hp, lr, S, sc, theta, g, eff)
    if oid == RADAM:
        sc[T] += 1.0
        return K._radam(hp, lr, S, sc, theta, g, eff)
    if oid == LION:
        sc[T] += 1.0
        return K._lion(hp, lr, S, sc, theta, g, eff)
    if oid == SF_SGD or oid == SF_ADAMW:
        sc[T] += 1.0
        return K._schedule_free(hp, lr, S, sc, theta, g, eff, oid == SF_ADAMW)
    if oid == RPROP:
        sc[T] += 1.0
        return K._rprop(hp, lr, S, sc, theta, g, eff)
    if oid == DBD:
        sc[T] += 1.0
        return K._dbd(hp, lr, S, sc, theta, g, eff)
    return _begin_other(oid, hp, lr, S, sc, theta, g, q, eff)


def _begin_other(oid, hp, lr, S, sc, theta, g, q, eff):
    """``_kernels.begin`` for a rule ``_begin_block`` does not inline (float64 blocks only)."""
    raise NotImplementedError("compiled code only: see _ov_begin_other")


@overload(_begin_other)
def _ov_begin_other(oid, hp, lr, S, sc, theta, g, q, eff):
    if is_float32(theta):
        # every coordinate-wise rule is inlined above and only those step in lock-step; refusing here keeps
        # a float32 block from compiling a float32 copy of every rule ``begin`` knows
        def refuse(oid, hp, lr, S, sc, theta, g, q, eff):
            if oid >= 0:
                raise ValueError("this rule has no float32 lock-step sweep")
            return DONE

        return refuse

    def impl(oid, hp, lr, S, sc, theta, g, q, eff):
        h = np.zeros((2, 2))
        return begin(oid, hp, lr, S, sc, theta, 0.0, g, h, q, eff)

    return impl


@njit(cache=True, error_model="numpy", nogil=True)
def sweep_lockstep(
    sid, sp, code, consts, oid, hp, mods, starts, n_steps, radius, gtol, xtol,
    rows, nsc, block, out_final, out_loss, out_steps, out_status,
):  # fmt: skip
    """``sweep`` for coordinate-wise optimizers sharing one hyperparameter vector (see the module docstring).

    Job k starts at ``starts[k]``; ``out_final[k]``, ``out_loss[k]`` (inf where not finite),
    ``out_steps[k]`` (the step it converged at, −1 if it never did) and ``out_status[k]`` equal what
    its single ``run`` gives.  ``block`` runs are stepped together.
    """
    m = starts.shape[0]
    # private copies: the block-gradient call counts references to its array arguments, and threads sharing
    # one array would contend for its counter's cache line on every call
    sp = sp.copy()
    code = code.copy()
    consts = consts.copy()
    lookahead = looks_ahead(oid, hp)
    scheduled = mods[SCHED_KIND] != 0.0
    sigma = mods[NOISE_SIGMA]
    clip_mode = mods[CLIP_MODE]
    zero_mods = np.zeros(mods.size)
    zero_mods[CLIP_MODE] = clip_mode
    zero_mods[CLIP_VALUE] = mods[CLIP_VALUE]
    noise = np.zeros(2)
    pair = np.zeros(2)
    one_x = np.empty(1)
    one_y = np.empty(1)
    one_f = np.empty(1)
    one_gx = np.empty(1)
    one_gy = np.empty(1)
    bsz = _batch_size(sid, sp, code, mods)
    perm = np.empty(data_count(sid, sp) if bsz > 0 else 0, dtype=np.int64)
    own_step_gradient = bsz > 0 or ((sigma > 0.0 or clip_mode != 0.0) and not lookahead)
    in_radius = min(radius, _LARGEST)  # |v| <= in_radius is false for NaN and ±inf even when radius is inf
    g_bound = _screen(gtol)
    x_bound = _screen(xtol)
    lo = 0
    hi = 0
    for b0 in range(0, m, block):
        nb = min(block, m - b0)
        n = 2 * nb
        theta = np.empty(n, dtype=starts.dtype)
        xs = theta[:nb]
        ys = theta[nb:]
        for k in range(nb):
            xs[k] = starts[b0 + k, 0]
            ys[k] = starts[b0 + k, 1]
        S = np.zeros((rows, n), dtype=starts.dtype)
        sc = np.zeros(nsc)
        init_state(oid, hp, S, sc)
        g = np.empty(n, dtype=starts.dtype)
        gx = g[:nb]
        gy = g[nb:]
        gm = np.empty(n, dtype=starts.dtype) if own_step_gradient else g
        gmx = gm[:nb]
        gmy = gm[nb:]
        q = np.zeros(n, dtype=starts.dtype)
        qx = q[:nb]
        qy = q[nb:]
        gq = np.empty(n, dtype=starts.dtype)
        gqx = gq[:nb]
        gqy = gq[nb:]
        fq = np.empty(nb, dtype=starts.dtype)
        eff = np.zeros(n, dtype=starts.dtype)
        old = np.empty(n, dtype=starts.dtype)
        old_x = old[:nb]
        old_y = old[nb:]
        f = np.empty(nb, dtype=starts.dtype)
        done = np.zeros(nb, dtype=np.bool_)
        remaining = nb
        rng = np.uint64(int(mods[SEED]))
        evaluate_grad_block(sid, sp, code, consts, xs, ys, f, gx, gy)
        for k in range(nb):
            out_final[b0 + k, 0] = xs[k]
            out_final[b0 + k, 1] = ys[k]
            out_steps[b0 + k] = -1
            if not (math.isfinite(f[k]) and math.isfinite(gx[k]) and math.isfinite(gy[k])):
                done[k] = True
                remaining -= 1
                out_status[b0 + k] = DIVERGED
                out_loss[b0 + k] = math.inf
        for t in range(1, n_steps + 1):
            if remaining == 0:
                break
            if own_step_gradient:
                _copy_into(gm, g)
                if bsz > 0:  # every run of the block on the same minibatch, as each would be alone
                    lo, hi = _next_batch(code, bsz, int(mods[SEED]), perm, t)
                    _minibatch_grads(sid, sp, perm, lo, hi, xs, ys, gmx, gmy)
                if not lookahead:
                    rng = _perturb(sigma, clip_mode, zero_mods, noise, pair, gmx, gmy, rng)
            lr = scheduled_lr(hp[HP_LR], mods, t - 1) if scheduled else hp[HP_LR]
            if oid == ADAM or oid == ADAMW:
                res = _adam_in_one_pass(hp, lr, S, sc, theta, gm, oid == ADAMW, old)
            else:
                _copy_into(old, theta)
                res = _begin_block(oid, hp, lr, S, sc, theta, gm, q, eff)
            if res == NEED_EVAL:  # textbook Nesterov: gradients at the look-ahead points (SAM never steps here)
                if bsz > 0:
                    _minibatch_grads(sid, sp, perm, lo, hi, qx, qy, gqx, gqy)
                else:
                    evaluate_grad_block(sid, sp, code, consts, qx, qy, fq, gqx, gqy)
                rng = _perturb(sigma, clip_mode, zero_mods, noise, pair, gqx, gqy, rng)
                K._textbook_nesterov_resume(hp, lr, S, theta, q, gq, eff)  # ``resume`` of a look-ahead rule
            evaluate_grad_block(sid, sp, code, consts, xs, ys, f, gx, gy)
            if _count_events(xs, ys, f, gx, gy, old_x, old_y, done, in_radius, gtol, g_bound, x_bound) == 0:
                continue
            for k in range(nb):  # the exact rules of a single run, for the runs the screen flagged
                if done[k]:
                    continue
                x = xs[k]
                y = ys[k]
                if not (
                    math.isfinite(x) and math.isfinite(y) and math.isfinite(f[k])
                    and math.isfinite(gx[k]) and math.isfinite(gy[k])
                    and abs(x) <= radius and abs(y) <= radius
                ):  # fmt: skip
                    done[k] = True
                    remaining -= 1
                    out_status[b0 + k] = DIVERGED
                    one_x[0] = old_x[k]
                    one_y[0] = old_y[k]
                    out_final[b0 + k, 0] = one_x[0]
                    out_final[b0 + k, 1] = one_y[0]
                    evaluate_grad_block(sid, sp, code, consts, one_x, one_y, one_f, one_gx, one_gy)
                    out_loss[b0 + k] = one_f[0] if math.isfinite(one_f[0]) else math.inf
                    continue
                if gtol > 0.0:
                    dx = x - old_x[k]
                    dy = y - old_y[k]
                    if (math.sqrt(gx[k] * gx[k] + gy[k] * gy[k]) <= gtol
                            and math.sqrt(dx * dx + dy * dy) <= xtol):  # fmt: skip
                        done[k] = True
                        remaining -= 1
                        out_status[b0 + k] = CONVERGED
                        out_steps[b0 + k] = t
                        out_final[b0 + k, 0] = x
                        out_final[b0 + k, 1] = y
                        out_loss[b0 + k] = f[k]
        for k in range(nb):
            if not done[k]:
                out_status[b0 + k] = COMPLETED
                out_final[b0 + k, 0] = xs[k]
                out_final[b0 + k, 1] = ys[k]
                out_loss[b0 + k] = f[k]
