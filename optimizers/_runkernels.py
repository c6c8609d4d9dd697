"""The Numba loops that drive an optimizer over an analytic surface.

``run`` traces one configuration (optionally recording every step);
``sweep`` runs many configurations (starts and/or hyperparameters) with the
same compiled code.  Optimizer and surface are runtime integers, so one
compiled ``run`` serves every optimizer × surface pair.

A step that produces a non-finite value or leaves the escape radius ends the
run with status DIVERGED; the recorded arrays stop at the last finite step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from optimizers._kernels import begin, init_state, resume
from optimizers._modkernels import apply_noise_and_clip, scheduled_lr
from optimizers._slots import (
    COMPLETED,
    CONVENTION,
    CONVERGED,
    DIVERGED,
    DONE_AT_QUERY,
    LR,
    NEED_EVAL,
    NESTEROV_,
    NEWTON,
    SEED,
    STALLED,
    STALLED_STATUS,
    TEXTBOOK,
)
from optimizers._slots import NESTEROV as NESTEROV_ID
from optimizers._slots import SGD as SGD_ID
from surfaces._kernels import evaluate

#: evaluations one iteration may request before it is declared stalled
MAX_EVALS_PER_STEP = 200


@njit(inline="always", cache=True)
def _finite2(a, b):
    return math.isfinite(a) and math.isfinite(b)


@njit(cache=True, nogil=True)
def run(
    sid, sp, code, consts, oid, hp, mods, x0, n_steps, radius, gtol, xtol,
    S, sc, show, record, pos, loss, grad, upd, eff_out, st_out, final,
):  # fmt: skip
    """Trace ``n_steps`` iterations from ``x0``; returns (last step index, status, final loss).

    When ``record`` is true, row t of ``pos``/``loss``/``grad``/``upd``/``eff_out``
    and ``st_out[t]`` (state rows listed in ``show``) describe iterate t; row 0
    is the start.  ``final`` receives the last finite iterate.  With ``gtol`` > 0
    the run stops with CONVERGED once ‖∇f‖ ≤ gtol and ‖Δθ‖ ≤ xtol.
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
    h = np.zeros((2, 2))
    first_order = oid < NEWTON
    lookahead = (oid >= SGD_ID and oid <= NESTEROV_ID) and hp[CONVENTION] == TEXTBOOK and hp[NESTEROV_] != 0.0
    want_h = oid == NEWTON
    rng = np.uint64(int(mods[SEED]))

    j = evaluate(sid, sp, code, consts, theta[0], theta[1])
    f = j[0]
    g[0] = j[1]
    g[1] = j[2]
    if want_h:
        h[0, 0] = j[3]
        h[0, 1] = j[4]
        h[1, 0] = j[4]
        h[1, 1] = j[5]
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
        gm[0] = g[0]
        gm[1] = g[1]
        if first_order:
            lr = scheduled_lr(hp[LR], mods, t - 1)
            if not lookahead:
                rng = apply_noise_and_clip(mods, gm, rng)
        else:
            lr = hp[LR]
        res = begin(oid, hp, lr, S, sc, theta, f, gm, h, q, eff)
        fq = math.nan
        evals = 0
        while res == NEED_EVAL:
            evals += 1
            if evals > MAX_EVALS_PER_STEP:
                res = STALLED
                break
            jq = evaluate(sid, sp, code, consts, q[0], q[1])
            fq = jq[0]
            gq[0] = jq[1]
            gq[1] = jq[2]
            if lookahead:
                if not (math.isfinite(fq) and _finite2(gq[0], gq[1])):
                    fq = math.nan
                    break
                rng = apply_noise_and_clip(mods, gq, rng)
            res = resume(oid, hp, lr, S, sc, theta, q, fq, gq, eff)
        if res == STALLED:
            theta[0] = old[0]
            theta[1] = old[1]
            status = STALLED_STATUS
            break
        if res == NEED_EVAL:  # the look-ahead point was not finite
            theta[0] = old[0]
            theta[1] = old[1]
            status = DIVERGED
            break
        if res == DONE_AT_QUERY:
            f = fq
            g[0] = gq[0]
            g[1] = gq[1]
        else:
            j = evaluate(sid, sp, code, consts, theta[0], theta[1])
            f = j[0]
            g[0] = j[1]
            g[1] = j[2]
            if want_h:
                h[0, 0] = j[3]
                h[0, 1] = j[4]
                h[1, 0] = j[4]
                h[1, 1] = j[5]
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
        jf = evaluate(sid, sp, code, consts, theta[0], theta[1])
        f = jf[0]
    return last, status, f


@njit(cache=True, nogil=True)
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
    for k in range(m):
        last, status, f = run(
            sid, sp, code, consts, oid, hps[k], mods, starts[k], n_steps, radius, gtol, xtol,
            S, sc, show, False, e1, e0, e1, e1, e1, e3, final,
        )  # fmt: skip
        out_final[k, 0] = final[0]
        out_final[k, 1] = final[1]
        out_loss[k] = f if math.isfinite(f) else math.inf
        out_steps[k] = last if status == CONVERGED else -1
        out_status[k] = status
