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

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizers import _slots as slots
from optimizers._kernels import scalar_slots, state_rows
from optimizers._runkernels import run as _run_kernel
from optimizers._runkernels import sweep as _sweep_kernel
from optimizers._runkernels import sweep_lockstep as _lockstep_kernel
from optimizers.curvature import curvature_along
from optimizers.modifiers import NO_MODIFIERS, Modifiers
from optimizers.registry import OptimizerConfig

#: hard limits on the work one call may request
MAX_STEPS = 100_000
MAX_SWEEP_JOBS = 400 * 400
#: runs stepped together as one flat vector by the lock-step sweep
LOCKSTEP_BLOCK = 64

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
    sid, sp, code, consts = surface.kernel_args
    with np.errstate(all="ignore"):
        last, status, _ = _run_kernel(
            sid, sp, code, consts, config.spec.oid, hp, _mods_for(config, modifiers), x0, n,
            escape_radius(surface), float(gtol), float(xtol), Sarr, sc, show, True,
            pos, loss, grad, upd, eff, st, final,
        )  # fmt: skip
    k = last + 1
    state = {name: st[:k, i].copy() for i, (name, _) in enumerate(shown)}
    averaged, averaged_losses = _averaged(surface, config, state, x0)
    curv = curvature_along(surface, pos[:k])
    return Trajectory(
        positions=pos[:k].copy(),
        losses=loss[:k].copy(),
        gradients=grad[:k].copy(),
        updates=upd[:k].copy(),
        effective_lr=eff[:k].copy(),
        state=state,
        status=STATUS_NAMES[status],
        steps_requested=n,
        stop_step=None
        if status == slots.COMPLETED
        else (last + 1 if status in (slots.DIVERGED, slots.STALLED_STATUS) else last),
        config=config,
        modifiers=modifiers,
        averaged=averaged,
        averaged_losses=averaged_losses,
        lambda_min=curv.lambda_min,
        lambda_max=curv.lambda_max,
        eigvec_min=curv.vec_min,
        eigvec_max=curv.vec_max,
    )


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

    @property
    def diverged(self) -> np.ndarray:
        return self.status == slots.DIVERGED

    @property
    def converged(self) -> np.ndarray:
        return self.status == slots.CONVERGED


def default_tolerances(surface: Any) -> tuple[float, float]:
    """(gtol, xtol) that define 'converged' for sweeps: both relative to the plot's size."""
    return 1e-6, 1e-7 * surface.span


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
) -> SweepResult:
    """Run many jobs at once: job k starts at ``starts[k]`` with hyperparameter vector ``hyper[k]``.

    ``starts`` may be a single point (broadcast over ``hyper``) and ``hyper`` may
    be None (``config.vector`` for every job).  Runs stop when converged.  The
    jobs are split over ``threads`` worker threads (the kernel releases the GIL).
    """
    n = _check_steps(steps)
    st = np.asarray(starts, dtype=np.float64)
    if st.ndim == 1:
        st = _check_start(st)[None, :]
    if st.ndim != 2 or st.shape[1] != 2 or not np.all(np.isfinite(st)):
        raise ValueError("starts must be an (m, 2) array of finite numbers")
    hps = config.vector[None, :] if hyper is None else np.asarray(hyper, dtype=np.float64)
    if hps.ndim != 2 or hps.shape[1] != slots.N_HP:
        raise ValueError(f"hyper must be an (m, {slots.N_HP}) array")
    m = max(st.shape[0], hps.shape[0])
    if m > MAX_SWEEP_JOBS:
        raise ValueError(f"a sweep may run at most {MAX_SWEEP_JOBS} jobs, got {m}")
    st = np.ascontiguousarray(np.broadcast_to(st, (m, 2)))
    hps = np.ascontiguousarray(np.broadcast_to(hps, (m, slots.N_HP)))
    g_default, x_default = default_tolerances(surface)
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
    chunks = np.array_split(np.arange(m), max(1, min(threads, m)))
    # rules that act per coordinate: runs sharing hyperparameters can step in lock-step
    lockstep = config.spec.coordinatewise and bool(np.all(hps == hps[0]))

    def work(idx: np.ndarray) -> None:
        if idx.size == 0:
            return
        a, b = idx[0], idx[-1] + 1
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

    if len(chunks) == 1:
        work(chunks[0])
    else:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            list(pool.map(work, chunks))
    return SweepResult(out_final, out_loss, out_steps, out_status)
