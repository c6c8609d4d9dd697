"""Trace optimizers on surfaces: one run with every step recorded, or batched sweeps.

>>> from surfaces import get_surface
>>> from optimizers import make_config, trace
>>> t = trace(get_surface("beale"), make_config("adam", lr=0.01), start=(1.0, 1.5), steps=500)
>>> t.positions.shape
(501, 2)

Recorded arrays never contain NaN or inf: a run that diverges ends at its last
finite iterate and says so in ``status``/``message``.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizers import precompile
from optimizers import _slots as slots
from optimizers._kernels import scalar_slots, state_rows
from optimizers._runkernels import run as _run_kernel
from optimizers._runkernels import sweep as _sweep_kernel
from optimizers._sweepkernels import sweep_lockstep as _lockstep_kernel
from optimizers.curvature import curvature_along
from optimizers.modifiers import NO_MODIFIERS, Modifiers
from optimizers.registry import OptimizerConfig
from surfaces._datakernels import is_data_surface
from surfaces._kernels import CUSTOM

#: hard limits on the work one call may request
MAX_STEPS = 100_000
MAX_SWEEP_JOBS = 400 * 400
#: runs stepped together as one vector by the lock-step sweep: large enough that the per-step work shared by
#: a block (the optimizer's scalar factors, the calls, each loop's set-up) is small next to the runs' own, small
#: enough that a block's arrays (about 150 kB) stay in a core's L2 cache; 1024 measured 12 % faster than 512
LOCKSTEP_BLOCK = 1024
#: runs of one call of the job-by-job sweep kernel when a sweep's threads share out its runs (a lock-step sweep's
#: threads share out blocks): small enough to balance the threads, large enough that a call's cost is negligible
SWEEP_PIECE = 256

STATUS_NAMES = {
    slots.COMPLETED: "completed",
    slots.DIVERGED: "diverged",
    slots.CONVERGED: "converged",
    slots.STALLED_STATUS: "stalled",
}


def escape_radius(surface: Any) -> float:
    """Distance from the origin beyond which a run counts as diverged."""
    (x0, x1), (y0, y1) = surface.bounds
    return 1e4 * max(abs(x0), abs(x1), abs(y0), abs(y1), 1.0)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Every recorded step of one run; row 0 is the start point."""

    positions: np.ndarray  # (k+1, 2)
    losses: np.ndarray  # (k+1,)
    gradients: np.ndarray  # (k+1, 2) true gradient at each iterate
    updates: np.ndarray  # (k+1, 2) θ_t − θ_{t−1}; row 0 is zero
    effective_lr: np.ndarray  # (k+1, 2) per-coordinate step multiplier
    state: dict[str, np.ndarray]  # name → (k+1, 2) optimizer buffers
    status: str  # completed | diverged | converged | stalled
    steps_requested: int
    stop_step: int | None = None  # step at which the run diverged/stalled/converged
    config: OptimizerConfig | None = field(default=None, repr=False)
    modifiers: Modifiers = NO_MODIFIERS
    #: (k+1, 2) the point to evaluate at each step when it is not the iterate (schedule-free's average x; the
    #: positions are y, where the gradient is taken); row 0 is the start.  None for every other optimizer.
    averaged: np.ndarray | None = field(default=None, repr=False)
    #: (k+1,) f at each row of ``averaged`` (non-finite values as 0, like the state); None with it
    averaged_losses: np.ndarray | None = field(default=None, repr=False)
    #: (k+1,) eigenvalues λ_min ≤ λ_max of the surface's exact Hessian at each row of ``positions`` (where the
    #: gradient is taken), and (k+1, 2) their unit eigenvectors; rows where the Hessian is not finite are zeros
    #: (see ``optimizers.curvature``).  None only for a Trajectory built without a surface.
    lambda_min: np.ndarray | None = field(default=None, repr=False)
    lambda_max: np.ndarray | None = field(default=None, repr=False)
    eigvec_min: np.ndarray | None = field(default=None, repr=False)
    eigvec_max: np.ndarray | None = field(default=None, repr=False)
    #: hessian_free only (None for every other optimizer): (k+1,) CG iterations and curvature-vector products of
    #: each step, the damping λ its CG used and its reduction ratio ρ (0 where undefined); row 0 is zero
    cg_iterations: np.ndarray | None = field(default=None, repr=False)
    curvature_products: np.ndarray | None = field(default=None, repr=False)
    damping: np.ndarray | None = field(default=None, repr=False)
    rho: np.ndarray | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        """Number of completed steps (rows − 1)."""
        return self.positions.shape[0] - 1

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def message(self) -> str:
        if self.status == "diverged":
            return f"diverged at step {self.stop_step}"
        if self.status == "stalled":
            return f"stalled at step {self.stop_step} (no step possible)"
        if self.status == "converged":
            return f"converged at step {self.stop_step}"
        return f"completed {self.steps} steps"


def _check_start(start: Any) -> np.ndarray:
    x = np.asarray(start, dtype=np.float64).reshape(-1)
    if x.size != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"start must be two finite numbers, got {start!r}")
    return x


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or int(steps) != steps or not 0 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number in [0, {MAX_STEPS}], got {steps!r}")
    return int(steps)


def _mods_for(config: OptimizerConfig, modifiers: Modifiers) -> np.ndarray:
    """Modifier vector; methods that are not first-order ignore modifiers."""
    return modifiers.vector() if config.spec.first_order else NO_MODIFIERS.vector()


def trace(
    surface: Any,
    config: OptimizerConfig,
    start: Any,
    steps: int = 500,
    modifiers: Modifiers = NO_MODIFIERS,
    gtol: float = 0.0,
    xtol: float = 0.0,
) -> Trajectory:
    """Run ``config`` on ``surface`` from ``start`` for ``steps`` iterations, recording each.

    With ``gtol`` > 0 the run stops early once ‖∇f‖ ≤ gtol and ‖Δθ‖ ≤ xtol.
    """
    x0 = _check_start(start)
    n = _check_steps(steps)
    if not np.all(np.isfinite(surface.first_order(x0[0], x0[1]))):
        raise ValueError(f"the surface or its gradient is not defined at the start point ({x0[0]:g}, {x0[1]:g})")
    if config.spec.name == "hessian_free":
        return _trace_hessian_free(surface, config, x0, n, float(gtol), float(xtol), modifiers)
    hp = config.vector
    rows = state_rows(config.spec.oid, hp)
    shown = config.state_rows()
    show = np.array([r for _, r in shown], dtype=np.int64)
    Sarr = np.zeros((max(rows, 1), 2))
    sc = np.zeros(scalar_slots(config.spec.oid, hp))
    pos = np.zeros((n + 1, 2))
    loss = np.zeros(n + 1)
    grad = np.zeros((n + 1, 2))
    upd = np.zeros((n + 1, 2))
    eff = np.zeros((n + 1, 2))
    st = np.zeros((n + 1, len(shown), 2))
    final = np.zeros(2)
    sid, sp, code, consts = surface.point_args
    precompile.await_step_kernels()  # a fresh checkout's first trace: see optimizers.precompile
    with np.errstate(all="ignore"):
        last, status, _ = _run_kernel(
            sid, sp, code, consts, config.spec.oid, hp, _mods_for(config, modifiers), x0, n,
            escape_radius(surface), float(gtol), float(xtol), Sarr, sc, _hessian_buffer(config), show, True,
            pos, loss, grad, upd, eff, st, final,
        )  # fmt: skip
    k = last + 1
    state = {name: st[:k, i].copy() for i, (name, _) in enumerate(shown)}
    averaged, averaged_losses = _averaged(surface, config, state, x0)
    return Trajectory(
        positions=pos[:k].copy(),
        losses=loss[:k].copy(),
        gradients=grad[:k].copy(),
        updates=upd[:k].copy(),
        effective_lr=eff[:k].copy(),
        state=state,
        status=STATUS_NAMES[status],
        steps_requested=n,
        stop_step=_stop_step(status, last),
        config=config,
        modifiers=modifiers,
        averaged=averaged,
        averaged_losses=averaged_losses,
        **_curvature_fields(surface, pos[:k]),
    )


def _hessian_buffer(config: OptimizerConfig) -> np.ndarray | None:
    """The trace kernel's Hessian buffer: only Newton's method reads one (see ``_runkernels.run``)."""
    return np.zeros((2, 2)) if config.spec.oid == slots.NEWTON else None


def _stop_step(status: int, last: int) -> int | None:
    """The step a run ended at: None if it completed; the failing step for a divergence or a stall."""
    if status == slots.COMPLETED:
        return None
    return last + 1 if status in (slots.DIVERGED, slots.STALLED_STATUS) else last


def _curvature_fields(surface: Any, positions: np.ndarray) -> dict[str, np.ndarray]:
    """The Trajectory's curvature fields: the exact Hessian's eigenpairs at each recorded position."""
    curv = curvature_along(surface, positions)
    return {"lambda_min": curv.lambda_min, "lambda_max": curv.lambda_max,
            "eigvec_min": curv.vec_min, "eigvec_max": curv.vec_max}  # fmt: skip


def _averaged(surface: Any, config: OptimizerConfig, state: dict[str, np.ndarray], x0: np.ndarray) -> tuple[Any, Any]:
    """The evaluated point of each step and f there, for a rule that names one (``OptimizerSpec.averaged_state``).

    The kernel writes the average after each step, so row 0 of its state is zero; before the first step the
    average is the start itself (schedulefree's x₁ = z₁ = y₁ = θ₀)."""
    name = config.spec.averaged_state
    if not name:
        return None, None
    avg = state[name].copy()
    avg[0] = x0
    with np.errstate(all="ignore"):
        f = np.asarray(surface.value(avg[:, 0], avg[:, 1]), dtype=np.float64).reshape(-1)
    return avg, np.where(np.isfinite(f), f, 0.0)


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Outcome of every job of a batched run, in job order."""

    final_positions: np.ndarray  # (m, 2) last finite iterate
    final_losses: np.ndarray  # (m,) inf where the loss was not finite
    steps_to_converge: np.ndarray  # (m,) int, −1 if never converged
    status: np.ndarray  # (m,) int status codes (see STATUS_NAMES)
    precision: str = "float64"  # the arithmetic the jobs ran in (see ``sweep``)

    @property
    def diverged(self) -> np.ndarray:
        return self.status == slots.DIVERGED

    @property
    def converged(self) -> np.ndarray:
        return self.status == slots.CONVERGED


def default_tolerances(surface: Any) -> tuple[float, float]:
    """(gtol, xtol) that define 'converged' for sweeps: both relative to the plot's size."""
    return 1e-6, 1e-7 * surface.span


#: the arithmetic a sweep may ask for; float64 is the default and the only one for traces
PRECISIONS = ("float64", "float32")


def float32_applies(surface: Any) -> bool:
    """Whether a float32 sweep computes this surface in float32: the analytic surfaces (a typed formula or a
    data surface is evaluated in float64 whatever the sweep's precision, so it sweeps in float64)."""
    sid = surface.kernel_args[0]
    return sid != CUSTOM and not is_data_surface(sid)


def float32_tolerances(surface: Any) -> tuple[float, float]:
    """(gtol, xtol) of 'converged' in a float32 sweep.

    float32 carries about 7 digits: near a minimum its iterates move by whole ulps (≈ 1e-7 of the box)
    and its gradients are rounding noise of about 1e-6 of the terms that cancel, so float64's
    (1e-6, 1e-7·span) would rarely be met and every run would take the whole step budget.  A float32 run
    has converged when the gradient is below 1e-3 and a step moves less than 1e-5 of the box.
    """
    return 1e-3, 1e-5 * surface.span


def _sweep_inputs(config: OptimizerConfig, starts: Any, hyper: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """A sweep's starts (k, 2) and hyperparameter rows (h, N_HP), checked, and its job count max(k, h);
    a single start or a missing ``hyper`` (the config's vector) broadcasts over the other."""
    st = np.asarray(starts, dtype=np.float64)
    if st.ndim == 1:
        st = _check_start(st)[None, :]
    if st.ndim != 2 or st.shape[1] != 2 or not np.all(np.isfinite(st)):
        raise ValueError("starts must be an (m, 2) array of finite numbers")
    hps = config.vector[None, :] if hyper is None else np.asarray(hyper, dtype=np.float64)
    if hps.ndim != 2 or hps.shape[1] != slots.N_HP:
        raise ValueError(f"hyper must be an (m, {slots.N_HP}) array")
    return st, hps, max(st.shape[0], hps.shape[0])


def sweep(
    surface: Any,
    config: OptimizerConfig,
    starts: Any,
    steps: int = 1000,
    modifiers: Modifiers = NO_MODIFIERS,
    hyper: np.ndarray | None = None,
    gtol: float | None = None,
    xtol: float | None = None,
    threads: int | None = None,
    precision: str = "float64",
) -> SweepResult:
    """Run many jobs at once: job k starts at ``starts[k]`` with hyperparameter vector ``hyper[k]``.

    ``starts`` may be a single point (broadcast over ``hyper``) and ``hyper`` may
    be None (``config.vector`` for every job).  Runs stop when converged.  The
    jobs are split over ``threads`` worker threads (the kernel releases the GIL).
    Jobs of a coordinate-wise rule that share one hyperparameter vector step
    together in blocks (``_sweepkernels.sweep_lockstep``), the others one by one;
    either way every job's result equals its single ``trace`` exactly (float64).

    ``precision="float32"`` asks for float32 arithmetic where a map only needs
    colours.  It is granted to lock-step jobs on an analytic surface (see
    ``float32_applies``), with ``float32_tolerances``
    unless ``gtol``/``xtol`` are given; every other sweep runs in float64.  The
    result's ``precision`` says which one ran.
    """
    n = _check_steps(steps)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if config.spec.name == "hessian_free":
        return _sweep_hessian_free(surface, config, starts, n, hyper, gtol, xtol)
    st, hps, m = _sweep_inputs(config, starts, hyper)
    if m > MAX_SWEEP_JOBS:
        raise ValueError(f"a sweep may run at most {MAX_SWEEP_JOBS} jobs, got {m}")
    st = np.ascontiguousarray(np.broadcast_to(st, (m, 2)))
    hps = np.ascontiguousarray(np.broadcast_to(hps, (m, slots.N_HP)))
    # rules that act per coordinate: runs sharing hyperparameters can step in lock-step
    lockstep = config.spec.coordinatewise and bool(np.all(hps == hps[0]))
    single = precision == "float32" and lockstep and float32_applies(surface)
    g_default, x_default = float32_tolerances(surface) if single else default_tolerances(surface)
    gtol = g_default if gtol is None else float(gtol)
    xtol = x_default if xtol is None else float(xtol)
    oid = config.spec.oid
    worst = hps[np.argmax(hps[:, slots.HP_HISTORY])] if oid == slots.LBFGS else config.vector
    rows = max(state_rows(oid, worst), 1)
    nsc = scalar_slots(oid, worst)
    out_final = np.zeros((m, 2))
    out_loss = np.zeros(m)
    out_steps = np.zeros(m, dtype=np.int64)
    out_status = np.zeros(m, dtype=np.int64)
    sid, sp, code, consts = surface.kernel_args
    mods = _mods_for(config, modifiers)
    radius = escape_radius(surface)
    threads = threads or min(os.cpu_count() or 1, 8)
    piece = LOCKSTEP_BLOCK if lockstep else SWEEP_PIECE
    pieces = -(-m // piece)
    if single:
        st = st.astype(np.float32)

    def work(a: int, b: int) -> None:
        with np.errstate(all="ignore"):
            if lockstep:
                _lockstep_kernel(
                    sid, sp, code, consts, oid, hps[0], mods, st[a:b], n, radius, gtol, xtol,
                    rows, nsc, LOCKSTEP_BLOCK, out_final[a:b], out_loss[a:b], out_steps[a:b], out_status[a:b],
                )  # fmt: skip
            else:
                _sweep_kernel(
                    sid, sp, code, consts, oid, hps[a:b], mods, st[a:b], n, radius, gtol, xtol,
                    rows, nsc, out_final[a:b], out_loss[a:b], out_steps[a:b], out_status[a:b],
                )  # fmt: skip

    if threads == 1 or pieces == 1:
        work(0, m)
    else:
        # the threads take pieces in turn until none is left, so a thread whose runs converge early takes more
        # (a fixed split waits for the slower half); this thread is one of them: one thread fewer to start
        tickets = itertools.count()  # next() on it is atomic under the GIL

        def take() -> None:
            for k in iter(tickets.__next__, None):
                if k >= pieces:
                    return
                work(k * piece, min((k + 1) * piece, m))

        with ThreadPoolExecutor(max_workers=min(threads, pieces) - 1) as pool:
            others = [pool.submit(take) for _ in range(min(threads, pieces) - 1)]
            take()
            for f in others:
                f.result()
    return SweepResult(out_final, out_loss, out_steps, out_status, "float32" if single else "float64")


# --------------------------------------------------------------------------------------
# hessian_free: a Python driver on the surface's Hessian-vector products (never a compiled kernel)
# --------------------------------------------------------------------------------------


def _run_hessian_free(surface: Any, hp: np.ndarray, x0: np.ndarray, n: int, gtol: float,
                      xtol: float) -> tuple[dict[str, np.ndarray], int, int]:  # fmt: skip
    """Run Martens' Hessian-free method; returns (recorded arrays, last step, status code) with the kernel's
    stopping and divergence semantics (``_runkernels.run``)."""
    from optimizers.hessian_free import HessianFree

    hf = HessianFree(2, lr=float(hp[slots.HP_LR]), damping=float(hp[slots.HP_DAMPING]),
                     max_cg=int(hp[slots.HP_MAX_EVALS]), cg_decay=float(hp[slots.HP_RHO]))  # fmt: skip
    radius = escape_radius(surface)
    cur = {"h": None}

    def evaluate(q: np.ndarray, gq: np.ndarray) -> float:
        j = surface.first_order(q[0], q[1])
        gq[0], gq[1] = j[1], j[2]
        return float(j[0])

    def product(vec: np.ndarray, out: np.ndarray) -> None:
        if cur["h"] is None:  # the Hessian's entries at this iterate, used only as B·v
            cur["h"] = surface.jet(theta[0], theta[1])[3:6]
        hxx, hxy, hyy = cur["h"]
        out[0] = hxx * vec[0] + hxy * vec[1]
        out[1] = hxy * vec[0] + hyy * vec[1]

    rec = {k: np.zeros((n + 1, 2)) for k in ("positions", "gradients", "updates", "effective_lr", "direction")}
    rec.update({k: np.zeros(n + 1) for k in ("losses", "cg_iterations", "curvature_products", "damping", "rho")})
    theta = x0.copy()
    g = np.zeros(2)
    with np.errstate(all="ignore"):
        f = evaluate(theta, g)
    rec["positions"][0], rec["losses"][0], rec["gradients"][0] = theta, f, g
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        return rec, 0, slots.DIVERGED
    status, last = slots.COMPLETED, 0
    for t in range(1, n + 1):
        old, gold, fold = theta.copy(), g.copy(), f
        cur["h"] = None
        with np.errstate(all="ignore"):
            info = hf.step(theta, f, g, evaluate, product)
        if info.stalled:
            theta[:], g[:] = old, gold
            status = slots.CONVERGED if np.hypot(*g) <= 1e-8 * max(1.0, abs(f)) else slots.STALLED_STATUS
            break
        f = info.f
        if not (np.all(np.isfinite(theta)) and np.isfinite(f) and np.all(np.isfinite(g))
                and np.all(np.abs(theta) <= radius)):  # fmt: skip
            theta[:], g[:], f = old, gold, fold
            status = slots.DIVERGED
            break
        last = t
        dx = theta - old
        rec["positions"][t], rec["losses"][t], rec["gradients"][t], rec["updates"][t] = theta, f, g, dx
        with np.errstate(all="ignore"):
            eff = np.where(gold != 0.0, -dx / gold, 0.0)
        rec["effective_lr"][t] = np.where(np.isfinite(eff), eff, 0.0)
        rec["direction"][t] = np.where(np.isfinite(hf.direction), hf.direction, 0.0)
        rec["cg_iterations"][t], rec["curvature_products"][t] = info.cg_iterations, info.products
        rec["damping"][t] = info.damping
        rec["rho"][t] = info.rho if np.isfinite(info.rho) else 0.0
        if gtol > 0.0 and np.hypot(*g) <= gtol and np.hypot(*dx) <= xtol:
            status = slots.CONVERGED
            break
    return rec, last, status


def _trace_hessian_free(surface: Any, config: OptimizerConfig, x0: np.ndarray, n: int, gtol: float, xtol: float,
                        modifiers: Modifiers) -> Trajectory:  # fmt: skip
    rec, last, status = _run_hessian_free(surface, config.vector, x0, n, gtol, xtol)
    k = last + 1
    pos = rec["positions"]
    return Trajectory(
        positions=pos[:k].copy(),
        losses=rec["losses"][:k].copy(),
        gradients=rec["gradients"][:k].copy(),
        updates=rec["updates"][:k].copy(),
        effective_lr=rec["effective_lr"][:k].copy(),
        state={"direction": rec["direction"][:k].copy()},
        status=STATUS_NAMES[status],
        steps_requested=n,
        stop_step=_stop_step(status, last),
        config=config,
        modifiers=modifiers,
        **_curvature_fields(surface, pos[:k]),
        cg_iterations=rec["cg_iterations"][:k].astype(np.int64),
        curvature_products=rec["curvature_products"][:k].astype(np.int64),
        damping=rec["damping"][:k].copy(),
        rho=rec["rho"][:k].copy(),
    )


#: job-steps (jobs × steps) one hessian_free sweep may run: each job is a Python-level run (~0.4 ms a step)
MAX_HF_SWEEP_WORK = 50_000


def _sweep_hessian_free(surface: Any, config: OptimizerConfig, starts: Any, n: int, hyper: np.ndarray | None,
                        gtol: float | None, xtol: float | None) -> SweepResult:  # fmt: skip
    """One Python run per job (start and hyperparameter row), with the compiled sweep's semantics."""
    st, hps, m = _sweep_inputs(config, starts, hyper)
    if m * max(n, 1) > MAX_HF_SWEEP_WORK:
        raise ValueError(f"hessian_free runs in Python: a sweep may take at most {MAX_HF_SWEEP_WORK:,} job-steps "
                         f"(jobs × steps), got {m:,} × {n:,}; use a smaller grid or fewer steps")  # fmt: skip
    st = np.broadcast_to(st, (m, 2))
    hps = np.broadcast_to(hps, (m, slots.N_HP))
    g_default, x_default = default_tolerances(surface)
    gtol = g_default if gtol is None else float(gtol)
    xtol = x_default if xtol is None else float(xtol)
    out = SweepResult(np.zeros((m, 2)), np.zeros(m), np.full(m, -1, dtype=np.int64), np.zeros(m, dtype=np.int64))
    for j in range(m):
        rec, last, status = _run_hessian_free(surface, hps[j], st[j].copy(), n, gtol, xtol)
        out.final_positions[j] = rec["positions"][last]
        f = rec["losses"][last]
        out.final_losses[j] = f if np.isfinite(f) else np.inf
        out.status[j] = status
        if status == slots.CONVERGED:
            out.steps_to_converge[j] = last
    return out
