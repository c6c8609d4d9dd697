"""The Numba loops that drive an optimizer over an analytic surface.

``run`` traces one configuration (optionally recording every step);
``sweep`` runs many configurations (starts and/or hyperparameters) with the
same compiled code, one after the other (the lock-step sweep of coordinate-wise
rules is in ``_sweepkernels``).  Optimizer and surface are runtime integers, so one
compiled ``run`` serves every optimizer × surface pair.

A step that produces a non-finite value or leaves the escape radius ends the
run with status DIVERGED; the recorded arrays stop at the last finite step.

Each iteration drives the kernels' begin/resume protocol exactly as
``optimizers.stepper.Stepper`` does (see its contract); the loop is inlined
here because compiled code cannot call the Python stepper, and a test checks
that the two agree step for step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from optimizers._batchkernels import batch_bounds, epoch_order
from optimizers._kernels import begin, init_state, looks_ahead, resume, samples_at_query
from optimizers._modkernels import apply_noise_and_clip, scheduled_lr
from optimizers._slots import (
    BATCH_SIZE,
    CLIP_MODE,
    COMPLETED,
    CONVERGED,
    DIVERGED,
    DONE_AT_QUERY,
    HP_LR,
    MAX_EVALS_PER_STEP,
    NEED_EVAL,
    NEWTON,
    NOISE_SIGMA,
    SCHED_KIND,
    SEED,
    STALLED,
    STALLED_STATUS,
)
from surfaces._datakernels import data_count, data_jet
from surfaces._kernels import evaluate, evaluate_grad

#: a stalled step at a gradient this small (relative to max(1, |f|)) counts as converged
STALL_GTOL = 1e-8


@njit(inline="always", cache=True, error_model="numpy")
def _finite2(a, b):
    return math.isfinite(a) and math.isfinite(b)


@njit(inline="always", cache=True, error_model="numpy")
def _eval_into(sid, sp, code, consts, x, y, want_h, g, h):
    """f at (x, y); ∇f into g, and ∇²f into h only when ``want_h`` (Newton).

    ``h`` None (no Hessian buffer) compiles without the surfaces' second-order jets."""
    if h is not None:
        if want_h:
            j = evaluate(sid, sp, code, consts, x, y)
            h[0, 0] = j[3]
            h[0, 1] = j[4]
            h[1, 0] = j[4]
            h[1, 1] = j[5]
            g[0] = j[1]
            g[1] = j[2]
            return j[0]
    j1 = evaluate_grad(sid, sp, code, consts, x, y)
    g[0] = j1[1]
    g[1] = j1[2]
    return j1[0]


@njit(inline="always", cache=True, error_model="numpy")
def _batch_size(sid, sp, code, mods):
    """B when step gradients are minibatch means on this surface (0 < B < n), else 0 (the full batch).

    0 on an analytic built-in (``code`` None, see ``surfaces._kernels``): that compiled variant of ``run``
    leaves out the data loops."""
    if code is None:
        return 0
    n = data_count(sid, sp)
    b = int(mods[BATCH_SIZE])
    return b if 0 < b < n else 0


@njit(inline="always", cache=True, error_model="numpy")
def _next_batch(code, bsz, seed, perm, t):
    """(lo, hi) of step t's batch in ``perm``, reshuffling ``perm`` at the start of each epoch."""
    j, lo, hi, epoch = batch_bounds(t, perm.size, bsz)
    if code is None:  # never asked (no data): see _batch_size
        return lo, hi
    if j == 0:
        epoch_order(perm, seed, epoch)
    return lo, hi


@njit(inline="always", cache=True, error_model="numpy")
def _batch_jet(sid, sp, code, perm, lo, hi, x, y):
    """(f, fx, fy) of the mean loss over the batch ``perm[lo:hi]`` at (x, y)."""
    if code is None:  # never asked (no data): see _batch_size
        return math.nan, math.nan, math.nan
    j = data_jet(sid, sp, perm, lo, hi, x, y, False)
    return j[0], j[1], j[2]


@njit(cache=True, error_model="numpy", nogil=True)
def run(
    sid, sp, code, consts, oid, hp, mods, x0, n_steps, radius, gtol, xtol,
    S, sc, hess, show, record, pos, loss, grad, upd, eff_out, st_out, final,
):  # fmt: skip
    """Trace ``n_steps`` iterations from ``x0``; returns (last step index, status, final loss).

    ``hess`` is the 2×2 buffer Newton's method reads the Hessian from, or None for a rule that
    never reads it: Numba then compiles ``run`` without the surfaces' second-order jets, and
    ``begin`` gets a zero matrix of ``run``'s own.

    When ``record`` is true, row t of ``pos``/``loss``/``grad``/``upd``/``eff_out``
    and ``st_out[t]`` (state rows listed in ``show``) describe iterate t; row 0
    is the start.  ``final`` receives the last finite iterate.  With ``gtol`` > 0
    the run stops with CONVERGED once ‖∇f‖ ≤ gtol and ‖Δθ‖ ≤ xtol.

    The modifiers in ``mods`` apply as given.  Which optimizers take them is the
    registry's call (``OptimizerSpec.first_order``): the runner passes no
    modifiers for the others.  With a minibatch size on a data surface the
    optimizer is given the batch's loss and gradient (at the iterate and at any
    query point of the step); the recorded loss and gradient stay the full ones.
    """
    init_state(oid, hp, S, sc)
    theta = np.empty(2)
    theta[0] = x0[0]
    theta[1] = x0[1]
    g = np.empty(2)
    gm = np.empty(2)
    gq = np.empty(2)
    q = np.zeros(2)
    eff = np.zeros(2)
    old = np.empty(2)
    if hess is None:
        h = np.zeros((2, 2))
    else:
        h = hess
    lookahead = looks_ahead(oid, hp)
    sampled = samples_at_query(oid, hp)
    want_h = oid == NEWTON  # with hess None, that run does not evaluate the Hessian (see _eval_into)
    rng = np.uint64(int(mods[SEED]))
    scheduled = mods[SCHED_KIND] != 0.0
    perturbed = mods[NOISE_SIGMA] > 0.0 or mods[CLIP_MODE] != 0.0
    bsz = _batch_size(sid, sp, code, mods)
    perm = np.empty(data_count(sid, sp) if bsz > 0 else 0, dtype=np.int64)
    lo = 0
    hi = 0

    f = _eval_into(sid, sp, code, consts, theta[0], theta[1], want_h, g, hess)
    final[0] = theta[0]
    final[1] = theta[1]
    if not (math.isfinite(f) and _finite2(g[0], g[1])):
        return 0, DIVERGED, f
    if record:
        pos[0, 0] = theta[0]
        pos[0, 1] = theta[1]
        loss[0] = f
        grad[0, 0] = g[0]
        grad[0, 1] = g[1]
        upd[0, 0] = 0.0
        upd[0, 1] = 0.0
        eff_out[0, 0] = 0.0
        eff_out[0, 1] = 0.0
        for r in range(show.size):
            st_out[0, r, 0] = S[show[r], 0]
            st_out[0, r, 1] = S[show[r], 1]

    status = COMPLETED
    last = 0
    for t in range(1, n_steps + 1):
        old[0] = theta[0]
        old[1] = theta[1]
        fm = f
        if bsz > 0:
            lo, hi = _next_batch(code, bsz, int(mods[SEED]), perm, t)
            jb = _batch_jet(sid, sp, code, perm, lo, hi, theta[0], theta[1])
            fm = jb[0]
            gm[0] = jb[1]
            gm[1] = jb[2]
        else:
            gm[0] = g[0]
            gm[1] = g[1]
        lr = scheduled_lr(hp[HP_LR], mods, t - 1) if scheduled else hp[HP_LR]
        if perturbed and not lookahead:
            rng = apply_noise_and_clip(mods, gm, rng)
        res = begin(oid, hp, lr, S, sc, theta, fm, gm, h, q, eff)
        fq = math.nan
        evals = 0
        while res == NEED_EVAL:
            evals += 1
            if evals > MAX_EVALS_PER_STEP:
                res = STALLED
                break
            if bsz > 0:
                jq = _batch_jet(sid, sp, code, perm, lo, hi, q[0], q[1])
                fq = jq[0]
                gq[0] = jq[1]
                gq[1] = jq[2]
            else:
                fq = _eval_into(sid, sp, code, consts, q[0], q[1], False, gq, None)
            if sampled:
                if not (math.isfinite(fq) and _finite2(gq[0], gq[1])):
                    fq = math.nan
                    break
                if perturbed:
                    rng = apply_noise_and_clip(mods, gq, rng)
            res = resume(oid, hp, lr, S, sc, theta, q, fq, gq, eff)
        if res == STALLED:  # no step possible: converged if the gradient has vanished
            theta[0] = old[0]
            theta[1] = old[1]
            gn = math.sqrt(g[0] * g[0] + g[1] * g[1])
            status = CONVERGED if gn <= STALL_GTOL * max(1.0, abs(f)) else STALLED_STATUS
            break
        if res == NEED_EVAL:  # the loss or gradient at the look-ahead (or SAM's ascent) point was not finite
            theta[0] = old[0]
            theta[1] = old[1]
            status = DIVERGED
            break
        if res == DONE_AT_QUERY and bsz == 0:
            f = fq
            g[0] = gq[0]
            g[1] = gq[1]
        else:
            f = _eval_into(sid, sp, code, consts, theta[0], theta[1], want_h, g, hess)
        if not (
            _finite2(theta[0], theta[1])
            and math.isfinite(f)
            and _finite2(g[0], g[1])
            and abs(theta[0]) <= radius
            and abs(theta[1]) <= radius
        ):
            theta[0] = old[0]
            theta[1] = old[1]
            status = DIVERGED
            break
        last = t
        dx = theta[0] - old[0]
        dy = theta[1] - old[1]
        if record:
            pos[t, 0] = theta[0]
            pos[t, 1] = theta[1]
            loss[t] = f
            grad[t, 0] = g[0]
            grad[t, 1] = g[1]
            upd[t, 0] = dx
            upd[t, 1] = dy
            e0 = eff[0]
            e1 = eff[1]
            eff_out[t, 0] = e0 if math.isfinite(e0) else 0.0
            eff_out[t, 1] = e1 if math.isfinite(e1) else 0.0
            for r in range(show.size):
                s0 = S[show[r], 0]
                s1 = S[show[r], 1]
                st_out[t, r, 0] = s0 if math.isfinite(s0) else 0.0
                st_out[t, r, 1] = s1 if math.isfinite(s1) else 0.0
        if gtol > 0.0 and math.sqrt(g[0] * g[0] + g[1] * g[1]) <= gtol and math.sqrt(dx * dx + dy * dy) <= xtol:
            status = CONVERGED
            break
    final[0] = theta[0]
    final[1] = theta[1]
    if status == DIVERGED or status == STALLED_STATUS:
        f = evaluate_grad(sid, sp, code, consts, theta[0], theta[1])[0]
    return last, status, f


@njit(cache=True, error_model="numpy", nogil=True)
def sweep(
    sid, sp, code, consts, oid, hps, mods, starts, n_steps, radius, gtol, xtol,
    rows, nsc, out_final, out_loss, out_steps, out_status,
):  # fmt: skip
    """Run job k from ``starts[k]`` with hyperparameters ``hps[k]`` (no recording).

    ``out_steps[k]`` is the step at which the run converged (−1 if it never
    did); ``out_status[k]`` its status code.
    """
    m = starts.shape[0]
    S = np.zeros((rows, 2))
    sc = np.zeros(nsc)
    show = np.zeros(0, dtype=np.int64)
    e1 = np.zeros((0, 2))
    e0 = np.zeros(0)
    e3 = np.zeros((0, 0, 2))
    final = np.empty(2)
    hess = np.zeros((2, 2))  # any rule runs here, Newton's method too
    for k in range(m):
        last, status, f = run(
            sid, sp, code, consts, oid, hps[k], mods, starts[k], n_steps, radius, gtol, xtol,
            S, sc, hess, show, False, e1, e0, e1, e1, e1, e3, final,
        )  # fmt: skip
        out_final[k, 0] = final[0]
        out_final[k, 1] = final[1]
        out_loss[k] = f if math.isfinite(f) else math.inf
        out_steps[k] = last if status == CONVERGED else -1
        out_status[k] = status
