"""Train one autoencoder with several optimizers: a race from the same weights on the same minibatches.

One driver, ``optimizers.stepper.Stepper``, runs any optimizer of ``optimizers``
through the kernels' reverse-communication protocol on the network's flat
parameter vector:

* first-order methods step on minibatches (one shared, seeded order per epoch);
  schedules, gradient noise and clipping (``Modifiers``) apply exactly as in the
  surface runner, and textbook Nesterov gets its gradient at the look-ahead point;
* line-search methods (CG, L-BFGS) work on the full training set: each query
  the kernel asks for is evaluated on the full batch;
* Newton uses the exact Hessian, built by central differences of the analytic
  gradient, so it is refused for models with more than ``NEWTON_MAX_PARAMS``
  parameters.

Runs are interleaved epoch by epoch, so a progress callback sees every
optimizer advance together.  Each history entry holds the evaluation-mode
loss on (a fixed subset of) the training and validation sets after that
epoch; epoch 0 is the common starting point.  A run whose loss, gradient or
weights stop being finite ends with status ``diverged`` and
``diverged_at_epoch``; its history keeps only the finite epochs and its
weights are those of the last finite epoch.

Precision: the flat parameter vector, the optimizer state and every
gradient the kernels see are float64.  Minibatch forward/backward passes run
in float32 by default (``precision="float32"``): BLAS does single-precision
products about twice as fast and 8-bit-quality images do not need more.
Full-batch methods, whose line searches compare losses to ~1e-4 relative and
whose Hessian is a finite difference, always run in float64, as do the
per-epoch evaluations.

>>> from autoencoder.data import load_data
>>> from autoencoder.model import ModelSpec
>>> from optimizers import make_config
>>> data = load_data("digits", max_samples=300)
>>> race = train_race(data, [make_config("adam", lr=0.01)], ModelSpec(hidden=(16,)), epochs=2)
>>> [r.epoch for r in race.runs[0].history]
[0, 1, 2]
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoencoder.corrupt import DEFAULT_TABLE, Corruption, corrupt, parse_corruption, supported
from autoencoder.data import MAX_SAMPLES, Dataset
from autoencoder.hf_epoch import ITERS_PER_EPOCH as HF_ITERS_PER_EPOCH
from autoencoder.hf_epoch import hessian_free_epoch
from autoencoder.metrics import mean_std, psnr
from autoencoder.model import Autoencoder, BatchNormState, ModelSpec
from optimizers._modkernels import apply_noise_and_clip, scheduled_lr
from optimizers.modifiers import NO_MODIFIERS, Modifiers
from optimizers.registry import OptimizerConfig, make_config
from optimizers.stepper import DONE_AT_QUERY, NEED_EVAL, STALLED, Stepper

MAX_EPOCHS = 200
MAX_RUNS = 16
MAX_BATCH = 65_536
NEWTON_MAX_PARAMS = 300
#: memory the per-epoch weight snapshots (for the landscape's paths) may take
PATH_BUDGET_BYTES = 256 * 1024 * 1024
#: rows per chunk when a full batch is evaluated without batch norm
FULL_BATCH_CHUNK = 8192
#: below this many multiply-adds per layer product, BLAS runs single-threaded (see blas_threads)
SMALL_PRODUCT = 4_000_000

STATUSES = ("running", "completed", "diverged", "stalled", "cancelled", "time_limit")


@dataclass(frozen=True)
class RaceEntry:
    """One contestant: an optimizer configuration, its modifiers, and how it sees the data."""

    config: OptimizerConfig
    modifiers: Modifiers = NO_MODIFIERS
    label: str | None = None
    full_batch: bool | None = None  # None: line-search and second-order methods use the full batch


@dataclass(frozen=True)
class EpochRecord:
    """The state of one run after ``epoch`` epochs (epoch 0: the start)."""

    epoch: int
    train_loss: float
    val_loss: float
    seconds: float  # cumulative training time of this run (evaluations excluded)
    steps: int  # optimizer iterations so far
    samples: int  # sample-gradient evaluations so far (a measure of work)

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "train_loss": self.train_loss, "val_loss": self.val_loss,
                "seconds": self.seconds, "steps": self.steps, "samples": self.samples}  # fmt: skip


@dataclass
class RunResult:
    """Everything one optimizer produced."""

    key: str  # machine name, unique in the race: "adam", "adam-2"
    label: str  # display name: "Adam (lr=0.01)"
    config: OptimizerConfig
    modifiers: Modifiers
    full_batch: bool
    precision: str
    status: str = "running"
    message: str = ""
    diverged_at_epoch: int | None = None
    history: list[EpochRecord] = field(default_factory=list)
    theta: np.ndarray = field(default=None, repr=False)  # weights after the last recorded epoch
    bn_state: BatchNormState | None = field(default=None, repr=False)
    path: list[np.ndarray] = field(default_factory=list, repr=False)  # weight snapshots (float32)
    path_epochs: list[int] = field(default_factory=list)
    #: hessian_free only: CG iterations and curvature products of each iteration, in order (empty otherwise)
    cg_iterations: list[int] = field(default_factory=list)
    curvature_products: list[int] = field(default_factory=list)

    @property
    def final_train_loss(self) -> float:
        return self.history[-1].train_loss

    @property
    def final_val_loss(self) -> float:
        return self.history[-1].val_loss

    def path_matrix(self) -> np.ndarray:
        """(k, n) float64 snapshots, the last row being exactly the final weights."""
        rows = [p.astype(np.float64) for p in self.path]
        if not self.path_epochs or self.path_epochs[-1] != self.history[-1].epoch:
            rows.append(self.theta.copy())
        else:
            rows[-1] = self.theta.copy()
        return np.vstack(rows)

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "optimizer": self.config.to_dict(),
            "modifiers": self.modifiers.to_dict(),
            "full_batch": self.full_batch,
            "precision": self.precision,
            "status": self.status,
            "message": self.message,
            "diverged_at_epoch": self.diverged_at_epoch,
            "history": [r.to_dict() for r in self.history],
            "cg_iterations": list(self.cg_iterations) or None,
            "curvature_products": list(self.curvature_products) or None,
        }


@dataclass
class PSNRTable:
    """Mean (std) PSNR in dB per corruption: the corrupted input, then each optimizer's reconstruction.

    Per-image PSNRs are capped at 60 dB before averaging (see ``metrics.mean_std``);
    a cell is None when every image came through unchanged (the input row's clean column).
    """

    corruptions: list[Corruption]
    rows: list[str]
    cells: list[list[tuple[float, float] | None]]  # rows × corruptions; None: undefined (identical images)
    samples: int = 0

    @property
    def columns(self) -> list[str]:
        return [c.label() for c in self.corruptions]

    def cell(self, row: str, kind: str) -> tuple[float, float] | None:
        i = self.rows.index(row)
        j = [c.kind for c in self.corruptions].index(kind)
        return self.cells[i][j]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "kinds": [c.kind for c in self.corruptions],
            "levels": [c.level for c in self.corruptions],
            "samples": self.samples,
            "rows": [
                {"label": r, "cells": [None if c is None else {"mean": c[0], "std": c[1]} for c in cells]}
                for r, cells in zip(self.rows, self.cells)
            ],
        }

    def to_text(self) -> str:
        head = ["PSNR dB: mean (std)"] + self.columns
        body = [[r] + ["—" if c is None else f"{c[0]:.1f} ({c[1]:.1f})" for c in cells]
                for r, cells in zip(self.rows, self.cells)]  # fmt: skip
        widths = [max(len(row[k]) for row in [head] + body) for k in range(len(head))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in [head] + body]
        return "\n".join(lines) + "\n"


@dataclass
class RaceResult:
    """A finished (or stopped) race: per-run histories and weights, reconstructions, the PSNR table."""

    model: Autoencoder
    init: str
    dataset: dict[str, Any]
    image_shape: tuple[int, int] | None
    settings: dict[str, Any]
    theta0: np.ndarray = field(repr=False)
    runs: list[RunResult]
    originals: np.ndarray = field(repr=False)  # validation images shown
    inputs: np.ndarray = field(repr=False)  # what the models were given (corrupted when denoising)
    reconstructions: dict[str, np.ndarray] = field(repr=False)  # run key → reconstructions of ``inputs``
    psnr: PSNRTable | None
    stopped: str | None  # None, "cancelled" or "time_limit"
    elapsed: float
    landscape_inputs: np.ndarray = field(repr=False)  # fixed training rows the landscape evaluates (inputs)
    landscape_targets: np.ndarray = field(repr=False)  # … and their clean targets

    def run(self, key: str) -> RunResult:
        for r in self.runs:
            if r.key == key or r.label == key:
                return r
        raise ValueError(f"no run {key!r} (runs: {', '.join(r.key for r in self.runs)})")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no arrays except reconstructions as nested lists; no NaN)."""
        return {
            "model": self.model.to_dict(),
            "init": self.init,
            "dataset": self.dataset,
            "settings": self.settings,
            "stopped": self.stopped,
            "elapsed": self.elapsed,
            "runs": [r.summary() for r in self.runs],
            "psnr": None if self.psnr is None else self.psnr.to_dict(),
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "originals": np.round(self.originals, 4).tolist(),
            "inputs": np.round(self.inputs, 4).tolist(),
            "reconstructions": {k: np.round(v, 4).tolist() for k, v in self.reconstructions.items()},
        }


# --------------------------------------------------------------------------- helpers
def _entry(item: Any) -> RaceEntry:
    if isinstance(item, RaceEntry):
        return item
    if isinstance(item, OptimizerConfig):
        return RaceEntry(item)
    if isinstance(item, str):
        return RaceEntry(make_config(item))
    if isinstance(item, tuple) and item and isinstance(item[0], OptimizerConfig):
        return RaceEntry(*item)
    raise ValueError(f"an optimizer must be a name, an OptimizerConfig or a RaceEntry, got {item!r}")


def _cancel_fn(cancel: Any) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise ValueError("cancel must be a callable returning True to stop, or an object with is_set()")


def _finite_vec(v: np.ndarray) -> bool:
    s = float(np.dot(v, v))
    return math.isfinite(s)


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Limit BLAS to ``threads`` threads inside the block (no-op for None, or without threadpoolctl).

    Small matrix products gain nothing from a second thread and lose a lot
    when the other core is busy (measured here: 2.5–5× slower on digits-sized
    nets while another process ran), so the race uses one thread for them.
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


def auto_threads(model: Autoencoder, rows: int) -> int | None:
    """1 when the largest layer product of ``rows`` samples is small, else None (BLAS's default)."""
    biggest = max(model.sizes[i] * model.sizes[i + 1] for i in range(model.n_layers))
    return 1 if biggest * rows < SMALL_PRODUCT else None


_warmed = False


def warm_kernels() -> None:
    """Load (or compile) the kernels' Python-callable specialisations once, so no run's clock pays for it."""
    global _warmed
    if _warmed:
        return
    n = 2

    def evaluate(q: np.ndarray, gq: np.ndarray) -> float:
        gq[:] = 1.0
        return 0.5

    for name in ("adam", "lbfgs"):
        Stepper(make_config(name), n).step(np.zeros(n), 1.0, np.ones(n), evaluate, 1e-3)
    mods = NO_MODIFIERS.vector()
    scheduled_lr(1e-3, mods, 0)
    apply_noise_and_clip(mods, np.zeros(n), np.uint64(0))
    _warmed = True


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Run:
    """Mutable state of one contestant during the race."""

    def __init__(self, entry: RaceEntry, key: str, label: str, model: Autoencoder, theta0: np.ndarray,
                 precision: str) -> None:  # fmt: skip
        cfg = entry.config
        spec = cfg.spec
        self.entry = entry
        n = theta0.size
        self.full_batch = (not spec.first_order) if entry.full_batch is None else bool(entry.full_batch)
        # the full-batch epoch applies no modifiers, not even to a first-order rule run on the full batch
        if spec.name == "hessian_free":  # its own driver (autoencoder.hf_epoch): no stepper, no n×n matrix
            if not self.full_batch:
                raise ValueError("Hessian-free takes its gradient on the full batch (its curvature on a minibatch)")
            self.stepper = None
        else:
            self.stepper = Stepper(cfg, n, NO_MODIFIERS if self.full_batch else entry.modifiers)
        if self.stepper is not None and self.stepper.needs_hessian and not self.full_batch:
            raise ValueError("Newton's method needs the full batch (its Hessian is computed on the whole training set)")
        self.theta = theta0.copy()
        self.g = np.zeros(n)
        self.f = math.nan
        self.fg_valid = False
        self.stats_last: list[tuple[np.ndarray, np.ndarray]] = []
        self.bn = model.new_bn_state()
        self.steps = 0
        self.samples = 0
        self.seconds = 0.0
        self.dtype = np.float64 if self.full_batch or precision == "float64" else np.float32
        self.result = RunResult(key, label, cfg, entry.modifiers, self.full_batch,
                                "float64" if self.dtype is np.float64 else "float32")  # fmt: skip

    @property
    def active(self) -> bool:
        return self.result.status == "running"


# --------------------------------------------------------------------------- the race
def train_race(
    data: Dataset,
    optimizers: Sequence[Any],
    model: ModelSpec | None = None,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    seed: int = 0,
    corruption: Corruption | str | None = None,
    precision: str = "float32",
    full_batch_iters: int = 1,
    eval_samples: int = 5000,
    time_limit: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    cancel: Any = None,
    n_show: int = 8,
    psnr_corruptions: Sequence[Corruption] | None = DEFAULT_TABLE,
    psnr_samples: int = 500,
    landscape_samples: int = 1000,
    theta0: np.ndarray | None = None,
    threads: int | None | str = "auto",
) -> RaceResult:
    """Train ``model`` on ``data`` once per optimizer, from the same weights, and compare.

    ``optimizers``: names, ``OptimizerConfig``s or ``RaceEntry``s (1 to 16).
    ``corruption`` (e.g. ``"gaussian:0.2"``) trains a denoising autoencoder:
    inputs are corrupted (fresh, seeded noise per minibatch, the same for every
    optimizer), targets stay clean.  ``full_batch_iters`` is the number of
    iterations a full-batch method makes per epoch.

    ``progress(snapshot)`` is called after every run's epoch with the whole
    history so far (a JSON-safe dict: ``epoch``, ``epochs``, ``fraction``,
    ``elapsed``, ``runs`` → ``key``, ``label``, ``status``, ``message``,
    ``diverged_at_epoch``, ``history``).  ``cancel`` (a callable returning True,
    or an Event) is checked between minibatches; ``time_limit`` (seconds) bounds
    the training's wall time.  Either stops every run within its current epoch,
    keeping the epochs completed so far (``RaceResult.stopped`` says why).
    """
    t_start = time.perf_counter()
    spec = model or ModelSpec()
    if not isinstance(data, Dataset):
        raise ValueError("data must be a Dataset (see autoencoder.data.load_data)")
    if data.n_samples > MAX_SAMPLES:
        raise ValueError(f"the data set has {data.n_samples:,} samples; the limit is {MAX_SAMPLES:,}")
    if isinstance(epochs, bool) or int(epochs) != epochs or not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ValueError(f"epochs must be a whole number in [1, {MAX_EPOCHS}], got {epochs!r}")
    epochs = int(epochs)
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or not 1 <= int(batch_size) <= MAX_BATCH:
        raise ValueError(f"batch size must be a whole number in [1, {MAX_BATCH}], got {batch_size!r}")
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be float32 or float64, got {precision!r}")
    if (
        isinstance(full_batch_iters, bool)
        or int(full_batch_iters) != full_batch_iters
        or not 1 <= full_batch_iters <= 1000
    ):
        raise ValueError(f"full_batch_iters must be a whole number in [1, 1000], got {full_batch_iters!r}")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ValueError(f"the time limit must be a positive number of seconds, got {time_limit!r}")
    for name, value, low in (("eval_samples", eval_samples, 1), ("psnr_samples", psnr_samples, 1),
                             ("landscape_samples", landscape_samples, 1), ("n_show", n_show, 0)):  # fmt: skip
        if isinstance(value, bool) or int(value) != value or not low <= int(value) <= MAX_SAMPLES:
            raise ValueError(f"{name} must be a whole number in [{low}, {MAX_SAMPLES}], got {value!r}")
    entries = [_entry(o) for o in optimizers]
    if not 1 <= len(entries) <= MAX_RUNS:
        raise ValueError(f"give 1 to {MAX_RUNS} optimizers, got {len(entries)}")
    if isinstance(corruption, str):
        corruption = parse_corruption(corruption)
    if corruption is not None and corruption.kind == "clean":
        corruption = None
    if corruption is not None and not supported(corruption, data.image_shape):
        raise ValueError(f"{corruption.kind} needs image data; {data.name} has no image shape")
    net = spec.build(data.n_features)
    if theta0 is None:
        theta0 = net.init_params(spec.init, seed)
    else:
        theta0 = np.array(theta0, dtype=np.float64)
        net._check_theta(theta0)
    for e in entries:
        if e.config.spec.name == "newton" and net.n_params > NEWTON_MAX_PARAMS:
            raise ValueError(
                f"Newton's method builds the exact {net.n_params}×{net.n_params} Hessian; it is limited to "
                f"{NEWTON_MAX_PARAMS} parameters (use a smaller net, e.g. --hidden 2)"
            )
    keys: list[str] = []
    labels: list[str] = []
    for e in entries:
        base = e.config.name
        k = base
        i = 2
        while k in keys:
            k = f"{base}-{i}"
            i += 1
        keys.append(k)
        lab = e.label or e.config.label()
        if lab in labels:
            lab = f"{lab} [{k}]"
        labels.append(lab)
    runs = [_Run(e, k, lab, net, theta0, precision) for e, k, lab in zip(entries, keys, labels)]
    cancelled = _cancel_fn(cancel)
    if threads == "auto":
        threads = auto_threads(net, max(min(int(batch_size), data.train.shape[0]), 1))
    elif threads is not None and (isinstance(threads, bool) or int(threads) != threads or not 1 <= int(threads) <= 64):
        raise ValueError(f"threads must be 'auto', None or a whole number in [1, 64], got {threads!r}")
    with blas_threads(threads):
        return _race(data, spec, net, theta0, runs, cancelled, t_start, epochs, batch_size, seed, corruption,
                     precision, int(full_batch_iters), int(eval_samples), time_limit, progress, n_show,
                     psnr_corruptions, psnr_samples, landscape_samples)  # fmt: skip


def _race(
    data,
    spec,
    net,
    theta0,
    runs,
    cancelled,
    t_start,
    epochs,
    batch_size,
    seed,
    corruption,
    precision,
    full_batch_iters,
    eval_samples,
    time_limit,
    progress,
    n_show,
    psnr_corruptions,
    psnr_samples,
    landscape_samples,
):  # fmt: skip  (internal; arguments validated by train_race)
    warm_kernels()
    train = data.train
    val = data.val
    n_train = train.shape[0]
    bsz = min(int(batch_size), n_train)
    eval_n = int(eval_samples)
    eval_rng = np.random.default_rng([seed, 4])
    tr_eval_t = train[:eval_n]
    va_eval_t = val[:eval_n]
    if corruption is not None:
        tr_eval_x = corrupt(tr_eval_t, corruption, data.image_shape, eval_rng)
        va_eval_x = corrupt(va_eval_t, corruption, data.image_shape, eval_rng)
    else:
        tr_eval_x, va_eval_x = tr_eval_t, va_eval_t
    need32 = any(not r.full_batch and r.dtype is np.float32 for r in runs)
    train32 = train.astype(np.float32) if need32 else None

    budget_every = math.ceil((epochs + 1) * net.n_params * 4 * len(runs) / PATH_BUDGET_BYTES)
    path_every = max(1, budget_every)

    state: dict[str, Any] = {"stopped": None}

    def check_stop() -> None:  # before every minibatch (and every full-batch evaluation)
        if time_limit is not None and time.perf_counter() - t_start > time_limit:
            raise _Stop("time_limit")
        if cancelled():
            raise _Stop("cancelled")

    def evaluate(r: _Run) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            tl = net.loss(r.theta, tr_eval_x, tr_eval_t, bn_state=r.bn)
            vl = net.loss(r.theta, va_eval_x, va_eval_t, bn_state=r.bn)
        return tl, vl

    def record(r: _Run, epoch: int, tl: float, vl: float) -> None:
        r.result.history.append(EpochRecord(epoch, tl, vl, r.seconds, r.steps, r.samples))
        if epoch % path_every == 0 or epoch == epochs:
            r.result.path.append(r.theta.astype(np.float32))
            r.result.path_epochs.append(epoch)

    total_units = epochs * len(runs)

    def snapshot(epoch: int, done_units: int) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "epochs": epochs,
            "fraction": min(1.0, done_units / total_units),
            "elapsed": time.perf_counter() - t_start,
            "stopped": state["stopped"],
            "runs": [
                {
                    "key": r.result.key,
                    "label": r.result.label,
                    "status": r.result.status,
                    "message": r.result.message,
                    "diverged_at_epoch": r.result.diverged_at_epoch,
                    "history": [h.to_dict() for h in r.result.history],
                }
                for r in runs
            ],
        }

    for r in runs:
        tl, vl = evaluate(r)
        if not (math.isfinite(tl) and math.isfinite(vl)):
            raise ValueError("the initial loss is not finite: check the data and the model")
        record(r, 0, tl, vl)
    if progress is not None:
        progress(snapshot(0, 0))

    done_units = 0
    for epoch in range(1, epochs + 1):
        if not any(r.active for r in runs):
            break
        perm = np.random.default_rng([seed, 1, epoch]).permutation(n_train)
        dtypes = {r.dtype for r in runs if r.active and not r.full_batch}
        batches = _epoch_batches(train, train32, perm, bsz, net.batch_norm, corruption, data.image_shape,
                                 seed, epoch, dtypes)  # fmt: skip
        full = None
        if any(r.full_batch for r in runs if r.active):
            if corruption is not None:
                full = (corrupt(train, corruption, data.image_shape, np.random.default_rng([seed, 3, epoch])), train)
            else:
                full = (train, train)
        for r in runs:
            if not r.active:
                continue
            theta_start = r.theta.copy()
            bn_start = r.bn.copy()
            t0 = time.perf_counter()
            reason = None
            try:
                with np.errstate(all="ignore"):
                    if r.full_batch:
                        if corruption is not None:
                            r.fg_valid = False  # a new corrupted copy of the training set
                        if r.entry.config.spec.name == "hessian_free":  # products, not a Hessian: any size
                            reason = hessian_free_epoch(
                                r, net, full[0], full[1], max(int(full_batch_iters), HF_ITERS_PER_EPOCH),
                                lambda q, gq, r=r, full=full: _full_eval(r, net, full[0], full[1], q, gq), [seed, 5, epoch],
                                check_stop)  # fmt: skip
                        else:
                            reason = _full_batch_epoch(r, net, full[0], full[1], int(full_batch_iters), check_stop)
                    else:
                        reason = _minibatch_epoch(r, net, batches, check_stop)
            except _Stop as stop:
                state["stopped"] = stop.reason
            r.seconds += time.perf_counter() - t0
            if state["stopped"] is not None:
                r.theta[:] = theta_start
                r.bn.assign(bn_start)
                break
            if reason is None and not _finite_vec(r.theta):
                reason = "diverged"
            if reason is None:
                tl, vl = evaluate(r)
                if not (math.isfinite(tl) and math.isfinite(vl)):
                    reason = "diverged"
            if reason is not None:
                r.theta[:] = theta_start
                r.bn.assign(bn_start)
                r.result.status = reason
                if reason == "diverged":
                    r.result.diverged_at_epoch = epoch
                    r.result.message = f"diverged in epoch {epoch} (the loss or the weights stopped being finite)"
                else:
                    r.result.message = f"stalled in epoch {epoch} (the line search or the Newton system found no step)"
            else:
                record(r, epoch, tl, vl)
            done_units += 1
            if progress is not None:
                progress(snapshot(epoch, done_units))
        if state["stopped"] is not None:
            break

    for r in runs:
        if r.active:
            if state["stopped"] is None:
                r.result.status = "completed"
                r.result.message = f"completed {r.result.history[-1].epoch} epochs"
            else:
                r.result.status = state["stopped"]
                what = "cancelled" if state["stopped"] == "cancelled" else "stopped at the time limit"
                r.result.message = f"{what} after {r.result.history[-1].epoch} epochs"
        r.result.theta = r.theta
        r.result.bn_state = r.bn
        last = r.result.history[-1].epoch
        if not r.result.path_epochs or r.result.path_epochs[-1] != last:
            r.result.path.append(r.theta.astype(np.float32))
            r.result.path_epochs.append(last)
    if progress is not None and state["stopped"] is not None:
        progress(snapshot(epoch, done_units))

    # reconstructions of fixed validation images, and the PSNR table
    shown = val[: max(0, min(int(n_show), val.shape[0]))]
    inputs = (
        shown if corruption is None else corrupt(shown, corruption, data.image_shape, np.random.default_rng([seed, 5]))
    )
    with np.errstate(all="ignore"):
        recon = {r.result.key: net.reconstruct(r.theta, inputs, r.bn) if len(inputs) else inputs.copy() for r in runs}
    table = None
    if psnr_corruptions:
        table = psnr_table(net, [(r.result.label, r.theta, r.bn) for r in runs], val[: int(psnr_samples)],
                           data.image_shape, psnr_corruptions, seed)  # fmt: skip
    land_t = train[: max(1, min(int(landscape_samples), n_train))]
    land_x = (
        land_t
        if corruption is None
        else corrupt(land_t, corruption, data.image_shape, np.random.default_rng([seed, 7]))
    )
    settings = {
        "epochs": epochs,
        "batch_size": bsz,
        "seed": seed,
        "corruption": None if corruption is None else corruption.spec(),
        "precision": precision,
        "full_batch_iters": int(full_batch_iters),
        "eval_samples": eval_n,
        "time_limit": time_limit,
    }
    return RaceResult(
        model=net, init=spec.init, dataset=data.to_dict(), image_shape=data.image_shape, settings=settings,
        theta0=theta0, runs=[r.result for r in runs], originals=shown, inputs=inputs, reconstructions=recon,
        psnr=table, stopped=state["stopped"], elapsed=time.perf_counter() - t_start,
        landscape_inputs=land_x, landscape_targets=land_t,
    )  # fmt: skip


def _epoch_batches(
    train: np.ndarray, train32: np.ndarray | None, perm: np.ndarray, bsz: int, bn: bool,
    corruption: Corruption | None, image_shape: tuple[int, int] | None, seed: int, epoch: int, dtypes: set[Any],
) -> dict[Any, list[tuple[np.ndarray, np.ndarray]]]:  # fmt: skip
    """This epoch's minibatches (input, target) per dtype in ``dtypes``, shared by every minibatch run."""
    if not dtypes:
        return {}
    out: dict[Any, list[tuple[np.ndarray, np.ndarray]]] = {}
    n = perm.size
    bounds = [(s, min(s + bsz, n)) for s in range(0, n, bsz)]
    if bn and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < 2:
        bounds.pop()  # batch norm cannot normalise a batch of one
    sources = [(dt, train32 if dt is np.float32 else train) for dt in (np.float64, np.float32) if dt in dtypes]
    noisy64 = None
    for dt, src in sources:
        ordered = src[perm]
        if corruption is not None:
            if noisy64 is None:
                noisy64 = corrupt(train[perm], corruption, image_shape, np.random.default_rng([seed, 2, epoch]))
            inputs = noisy64.astype(dt, copy=False)
        else:
            inputs = ordered
        out[dt] = [(inputs[a:b], ordered[a:b]) for a, b in bounds]
    return out


def _minibatch_epoch(r: _Run, net: Autoencoder, batches: dict[Any, Any], check_stop: Callable[[], None]) -> str | None:
    """One pass over the minibatches; returns None, 'diverged' or 'stalled'."""
    stepper = r.stepper
    stats: list[tuple[np.ndarray, np.ndarray]] = []

    def evaluate(q: np.ndarray, gq: np.ndarray) -> float:
        """Loss and gradient at q on the current minibatch (xb, tb of the loop below)."""
        nonlocal stats
        fq, _, stats = net.loss_and_grad(q, xb, tb, out=gq, dtype=r.dtype)
        r.samples += xb.shape[0]
        return fq

    for xb, tb in batches[r.dtype]:
        check_stop()
        if stepper.lookahead:  # the rule ignores f and ∇f at θ: only its look-ahead point is evaluated
            f = 0.0
        else:
            f = evaluate(r.theta, r.g)
            if not (math.isfinite(f) and _finite_vec(r.g)):
                return "diverged"
        res = stepper.step(r.theta, f, r.g, evaluate, stepper.lr(r.steps))
        if res == NEED_EVAL:  # the look-ahead loss or gradient was not finite
            return "diverged"
        if res == STALLED:
            return "stalled"
        r.bn.update(stats)
        r.steps += 1
    return None


def _full_eval(r: _Run, net: Autoencoder, x: np.ndarray, t: np.ndarray, theta: np.ndarray, out: np.ndarray) -> float:
    """Loss and gradient (into ``out``) on the full training set; batch-norm statistics into r.stats_last."""
    n = x.shape[0]
    r.samples += n
    if net.batch_norm or n <= FULL_BATCH_CHUNK:
        f, _, stats = net.loss_and_grad(theta, x, t, out=out)
        r.stats_last = stats
        return f
    out[:] = 0.0
    f = 0.0
    for s in range(0, n, FULL_BATCH_CHUNK):
        e = min(n, s + FULL_BATCH_CHUNK)
        w = (e - s) / n
        fc, _, _ = net.loss_and_grad(theta, x[s:e], t[s:e], out=out, scale=w, accumulate=True)
        f += w * fc
    r.stats_last = []
    return f


def finite_difference_hessian(grad: Callable[[np.ndarray, np.ndarray], None], theta: np.ndarray,
                              out: np.ndarray, rel_step: float = 1e-5) -> np.ndarray:  # fmt: skip
    """Hessian by central differences of an analytic gradient ``grad(theta, out)``, symmetrised."""
    n = theta.size
    t = theta.copy()
    gp = np.empty(n)
    gm = np.empty(n)
    for i in range(n):
        h = rel_step * max(1.0, abs(theta[i]))
        t[i] = theta[i] + h
        grad(t, gp)
        t[i] = theta[i] - h
        grad(t, gm)
        t[i] = theta[i]
        out[:, i] = (gp - gm) / (2.0 * h)
    out += out.T
    out *= 0.5
    return out


def _full_batch_epoch(r: _Run, net: Autoencoder, x: np.ndarray, t: np.ndarray, iters: int,
                      check_stop: Callable[[], None]) -> str | None:  # fmt: skip
    """``iters`` iterations of a line-search or Newton method on the full batch; None, 'diverged' or 'stalled'."""
    stepper = r.stepper
    stats_q: list[tuple[np.ndarray, np.ndarray]] = []

    def evaluate(q: np.ndarray, gq: np.ndarray) -> float:
        nonlocal stats_q
        check_stop()
        fq = _full_eval(r, net, x, t, q, gq)
        stats_q = r.stats_last
        return fq

    for _ in range(iters):
        check_stop()
        if not r.fg_valid:
            r.f = _full_eval(r, net, x, t, r.theta, r.g)
            r.bn.update(r.stats_last)
            r.fg_valid = True
        if not (math.isfinite(r.f) and _finite_vec(r.g)):
            return "diverged"
        if stepper.needs_hessian:

            def grad(th: np.ndarray, out: np.ndarray) -> None:
                _full_eval(r, net, x, t, th, out)

            finite_difference_hessian(grad, r.theta, stepper.h)
            if not np.all(np.isfinite(stepper.h)):
                return "diverged"
        old = r.theta.copy()
        stats_q = []
        res = stepper.step(r.theta, r.f, r.g, evaluate, stepper.lr(r.steps))
        if res == NEED_EVAL:  # a look-ahead rule on the full batch: its look-ahead point was not finite
            return "diverged"
        if res == STALLED:
            return "stalled"
        r.steps += 1
        if res == DONE_AT_QUERY:
            r.f = stepper.fq
            np.copyto(r.g, stepper.gq)
            r.bn.update(stats_q)
        else:
            r.f = _full_eval(r, net, x, t, r.theta, r.g)
            r.bn.update(r.stats_last)
        if not (math.isfinite(r.f) and _finite_vec(r.g)):
            r.theta[:] = old
            return "diverged"
    return None


# --------------------------------------------------------------------------- PSNR
def psnr_table(
    net: Autoencoder,
    models: Sequence[tuple[str, np.ndarray, BatchNormState | None]],
    clean: np.ndarray,
    image_shape: tuple[int, int] | None,
    corruptions: Sequence[Corruption] = DEFAULT_TABLE,
    seed: int = 0,
) -> PSNRTable:
    """The lecture's denoising table: mean (std) PSNR of the corrupted input and of each model's output.

    Each corruption is applied once (seeded) to ``clean``; every model sees the
    same corrupted images.  Corruptions that need a pixel grid are left out for
    data without an image shape.
    """
    cols = [c for c in corruptions if supported(c, image_shape)]
    rows = ["Input"] + [label for label, _, _ in models]
    cells: list[list[tuple[float, float] | None]] = [[] for _ in rows]
    for j, c in enumerate(cols):
        noisy = corrupt(clean, c, image_shape, np.random.default_rng([seed, 6, j]))
        cells[0].append(mean_std(psnr(clean, noisy)))
        for i, (_, theta, bn) in enumerate(models, start=1):
            with np.errstate(all="ignore"):
                rec = net.reconstruct(theta, noisy, bn)
            cells[i].append(mean_std(psnr(clean, rec)) if np.all(np.isfinite(rec)) else None)
    return PSNRTable(list(cols), rows, cells, int(clean.shape[0]))
