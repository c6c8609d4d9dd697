"""Sweep maps: many runs at once, summarised as images.

* ``basin_map``: run from every point of a grid over the plotting box and
  record which minimum each start reaches, how many steps it took, its final
  loss, and whether it diverged (basins of attraction).
* ``hyper_map``: run from one start over a grid of two hyperparameters and
  record the same (stability regions).

Both compute in row chunks so a caller can show progress and stop early; the
total work is bounded (grid ≤ 400 × 400, steps ≤ ``MAX_MAP_STEPS``).
``heavy_ball_stable`` is the analytic stability condition these maps are
compared with on a quadratic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers import _slots as slots
from optimizers.modifiers import NO_MODIFIERS, Modifiers
from optimizers.registry import HyperParam, OptimizerConfig
from optimizers.runner import sweep

MAX_GRID = 400
MAX_MAP_STEPS = 5000
#: label of starts whose run diverged / converged to no known minimum
DIVERGED = -2
NO_MINIMUM = -1

#: chunks of a map computed with a stop check but no progress to report (see ``_chunked_sweep``)
STOP_CHUNKS = 4

Progress = Callable[[float], None]
StopCheck = Callable[[], bool]


class Cancelled(Exception):
    """The caller asked the map computation to stop."""


@dataclass(frozen=True, eq=False)
class SweepMap:
    """Per-pixel outcome of a map; rows follow ``ys``, columns ``xs``."""

    xs: np.ndarray  # (nx,) start x, or values of the x hyperparameter
    ys: np.ndarray  # (ny,)
    x_label: str
    y_label: str
    final_x: np.ndarray  # (ny, nx)
    final_y: np.ndarray
    final_loss: np.ndarray  # inf where diverged
    steps: np.ndarray  # steps to converge, −1 if never
    status: np.ndarray  # status codes (optimizers._slots)
    basin: np.ndarray  # index of the minimum reached, NO_MINIMUM or DIVERGED
    minima: tuple[tuple[float, float], ...]  # the minima the basin indices refer to
    log_x: bool = False
    log_y: bool = False
    precision: str = "float64"  # the arithmetic every run of the map ran in (``runner.sweep``)

    @property
    def diverged(self) -> np.ndarray:
        return self.status == slots.DIVERGED

    @property
    def converged(self) -> np.ndarray:
        return self.status == slots.CONVERGED


def _check_grid(n: int, what: str) -> int:
    if isinstance(n, bool) or int(n) != n or not 2 <= int(n) <= MAX_GRID:
        raise ValueError(f"{what} must be a whole number in [2, {MAX_GRID}], got {n!r}")
    return int(n)


def _check_map_steps(steps: int) -> int:
    if isinstance(steps, bool) or int(steps) != steps or not 1 <= int(steps) <= MAX_MAP_STEPS:
        raise ValueError(f"steps must be a whole number in [1, {MAX_MAP_STEPS}], got {steps!r}")
    return int(steps)


def _chunked_sweep(surface, config, starts, hyper, steps, modifiers, progress, should_stop, rows: int,
                   precision: str = "float64"):  # fmt: skip
    """Run the jobs in ``rows`` chunks, reporting progress and honouring ``should_stop`` between them; at most
    :data:`STOP_CHUNKS` for a stop check alone, one chunk when there is neither to do (every job's result is the
    same either way: each equals its single run; each chunk costs a pause of both threads).

    Returns (final, loss, steps, status, precision): ``precision`` is the one every chunk ran in (``sweep``
    may grant float64 to a float32 request)."""
    if progress is None and should_stop is None:
        rows = 1
    elif progress is None:  # a stop check alone (a time limit, say) needs fewer pauses than a progress bar
        rows = min(rows, STOP_CHUNKS)
    m = starts.shape[0] if hyper is None else hyper.shape[0]
    final = np.zeros((m, 2))
    loss = np.zeros(m)
    nsteps = np.zeros(m, dtype=np.int64)
    status = np.zeros(m, dtype=np.int64)
    ran = set()
    bounds = np.linspace(0, m, rows + 1).astype(int)
    for k in range(rows):
        if should_stop is not None and should_stop():
            raise Cancelled("map computation cancelled")
        a, b = bounds[k], bounds[k + 1]
        if a == b:
            continue
        res = sweep(
            surface,
            config,
            starts if starts.shape[0] == 1 else starts[a:b],
            steps,
            modifiers=modifiers,
            hyper=None if hyper is None else hyper[a:b],
            precision=precision,
        )
        ran.add(res.precision)
        final[a:b] = res.final_positions
        loss[a:b] = res.final_losses
        nsteps[a:b] = res.steps_to_converge
        status[a:b] = res.status
        if progress is not None:
            progress(b / m)
    return final, loss, nsteps, status, "float32" if ran == {"float32"} else "float64"


def _label_basins(surface, final: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Index of the minimum each run ended at (within 2 % of the box), by known minima.

    A surface without known minima (a typed formula) gets its minima from the
    converged end points themselves, merged within the same tolerance.
    """
    tol = 0.02 * surface.span
    minima = [(m.x, m.y) for m in surface.minima]
    if not minima:
        for p in final[status == slots.CONVERGED]:
            if not any(np.hypot(p[0] - q[0], p[1] - q[1]) <= tol for q in minima):
                minima.append((float(p[0]), float(p[1])))
                if len(minima) >= 64:
                    break
    basin = np.full(final.shape[0], NO_MINIMUM, dtype=np.int64)
    if minima:
        mins = np.asarray(minima)
        d = np.hypot(final[:, None, 0] - mins[None, :, 0], final[:, None, 1] - mins[None, :, 1])
        nearest = np.argmin(d, axis=1)
        close = d[np.arange(final.shape[0]), nearest] <= tol
        basin[close] = nearest[close]
    basin[status == slots.DIVERGED] = DIVERGED
    return basin, tuple(minima)


def _finish(xs, ys, xl, yl, surface, final, loss, nsteps, status, precision, log_x=False, log_y=False) -> SweepMap:
    basin, minima = _label_basins(surface, final, status)
    shape = (ys.size, xs.size)
    return SweepMap(
        xs=xs, ys=ys, x_label=xl, y_label=yl,
        final_x=final[:, 0].reshape(shape), final_y=final[:, 1].reshape(shape),
        final_loss=loss.reshape(shape), steps=nsteps.reshape(shape), status=status.reshape(shape),
        basin=basin.reshape(shape), minima=minima, log_x=log_x, log_y=log_y, precision=precision,
    )  # fmt: skip


def basin_map(
    surface,
    config: OptimizerConfig,
    grid: int = 200,
    steps: int = 500,
    modifiers: Modifiers = NO_MODIFIERS,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    precision: str = "float64",
) -> SweepMap:
    """Start a run at every point of a grid × grid lattice over the surface's box.

    ``precision="float32"`` is for maps that only need colours (see ``runner.sweep``); the map's
    ``precision`` says what ran."""
    n = _check_grid(grid, "grid")
    steps = _check_map_steps(steps)
    (x0, x1), (y0, y1) = surface.bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    starts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    out = _chunked_sweep(surface, config, starts, None, steps, modifiers, progress, should_stop, rows=min(n, 20),
                         precision=precision)  # fmt: skip
    return _finish(xs, ys, "x", "y", surface, *out)


def axis_values(param: HyperParam, low: float, high: float, n: int, log: bool | None = None) -> np.ndarray:
    """n values of a hyperparameter from low to high (log-spaced for log parameters), each validated."""
    n = _check_grid(n, "axis size")
    if param.kind not in ("float", "int"):
        raise ValueError(f"{param.key} is not numeric and cannot be an axis")
    lo = param.coerce(low)
    hi = param.coerce(high)
    if not lo < hi:
        raise ValueError(f"the {param.key} axis needs low < high, got {low!r} and {high!r}")
    use_log = param.log if log is None else log
    if use_log and lo <= 0:
        raise ValueError(f"a log axis for {param.key} needs positive values")
    vals = np.geomspace(lo, hi, n) if use_log else np.linspace(lo, hi, n)
    if param.kind == "int":
        vals = np.round(vals)
    return vals


def hyper_map(
    surface,
    config: OptimizerConfig,
    start,
    x_axis: tuple[str, np.ndarray],
    y_axis: tuple[str, np.ndarray],
    steps: int = 500,
    modifiers: Modifiers = NO_MODIFIERS,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    precision: str = "float64",
) -> SweepMap:
    """Run from ``start`` for every pair of values of two hyperparameters of ``config``.

    Every run has its own hyperparameters, so none steps in lock-step and a ``precision="float32"``
    request runs in float64 (the map's ``precision`` says so)."""
    steps = _check_map_steps(steps)
    (xk, xv), (yk, yv) = x_axis, y_axis
    if xk == yk:
        raise ValueError("the two axes must be different hyperparameters")
    px, py = config.spec.param(xk), config.spec.param(yk)
    xv = np.asarray(xv, dtype=float)
    yv = np.asarray(yv, dtype=float)
    for p, vals in ((px, xv), (py, yv)):
        _check_grid(vals.size, f"the {p.key} axis size")
        for v in vals:
            p.coerce(float(v))
    hyper = np.tile(config.vector, (xv.size * yv.size, 1))
    gx, gy = np.meshgrid(xv, yv)
    hyper[:, px.slot] = gx.ravel()
    hyper[:, py.slot] = gy.ravel()
    st = np.asarray(start, dtype=float).reshape(1, 2)
    out = _chunked_sweep(surface, config, st, hyper, steps, modifiers, progress, should_stop, rows=min(yv.size, 20),
                         precision=precision)  # fmt: skip
    return _finish(xv, yv, xk, yk, surface, *out, log_x=px.log and xv.min() > 0, log_y=py.log and yv.min() > 0)


def kernel_loaded(kind: str) -> bool:
    """Whether this process has the sweep kernel of a ``kind`` map ("basin": the lock-step kernel; "hyper": the
    one that steps one run at a time) loaded already, compiled or read from Numba's cache.  When not, the next
    such map waits for it first: a moment with a filled cache, tens of seconds on a fresh install."""
    from optimizers._runkernels import sweep as one_run_at_a_time
    from optimizers._sweepkernels import sweep_lockstep

    return bool((sweep_lockstep if kind == "basin" else one_run_at_a_time).signatures)


def heavy_ball_stable(lr: np.ndarray, momentum: np.ndarray, curvatures) -> np.ndarray:
    """Whether heavy-ball momentum (θ ← θ − ηb, b ← μb + g) is stable on a quadratic.

    On each eigen-direction with curvature λ > 0 the iteration is linear and
    stable exactly when 0 < ηλ < 2(1 + μ) for 0 ≤ μ < 1; μ = 0 is gradient
    descent's η < 2/λ.
    """
    lr = np.asarray(lr, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    ok = (momentum >= 0) & (momentum < 1) & (lr > 0)
    for lam in curvatures:
        ok &= lr * lam < 2.0 * (1.0 + momentum)
    return ok
