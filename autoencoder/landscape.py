"""A 2-D slice of the network's loss around trained weights, and the optimizers' paths on it.

The slice is f(θc + α·d1 + β·d2) over a grid of (α, β), θc being one run's
final weights.  The two directions are either

* ``random``: Gaussian directions, filter-normalised (Li et al. 2018,
  "Visualizing the Loss Landscape of Neural Nets"): in each weight block the
  direction is rescaled to the norm of the weights it perturbs, per layer
  (``normalization="layer"``) or per unit, i.e. per column of W
  (``normalization="filter"``).  Biases and batch-norm parameters get a zero
  direction, as in the paper.  Random directions in a space of many dimensions
  are nearly orthogonal to the path the optimizer took, so paths project to
  almost nothing; that is itself a lesson.
* ``pca``: the top two principal directions of the centre run's weight
  trajectory (snapshots per epoch, relative to the final weights), which
  capture as much of that path as two directions can (the explained variance
  ratios are reported).

Every run's path is projected onto the plane by least squares; the centre
run's path ends at (0, 0).  The result has the shape the analytic surfaces
produce (xs, ys, z with rows = y), so the same contour code draws it.  The
loss is evaluated in evaluation mode (batch norm uses the centre run's running
statistics) on a fixed subset of the training data, so the centre of the
grid is that run's final training loss on the subset.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autoencoder.model import Autoencoder, BatchNormState
from autoencoder.train import auto_threads, blas_threads

MAX_RESOLUTION = 61
MAX_SAMPLES = 5000
METHODS = ("random", "pca")
NORMALIZATIONS = ("layer", "filter")


@dataclass
class Landscape:
    """A loss grid (rows = y) on the plane spanned by two directions, with projected paths."""

    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    paths: dict[str, np.ndarray]  # run key → (k, 2) coordinates (α, β) of its snapshots
    path_epochs: dict[str, list[int]]
    center: str
    center_loss: float
    method: str
    normalization: str | None = None
    explained: tuple[float, float] | None = None  # PCA: variance ratio of each direction
    samples: int = 0
    directions: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs, ys, z) exactly as ``Surface.grid`` returns them."""
        return self.xs, self.ys, self.z

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: non-finite grid values become None."""
        z = [[float(v) if math.isfinite(v) else None for v in row] for row in self.z]
        return {
            "xs": self.xs.tolist(),
            "ys": self.ys.tolist(),
            "z": z,
            "paths": {k: v.tolist() for k, v in self.paths.items()},
            "path_epochs": self.path_epochs,
            "center": self.center,
            "center_loss": self.center_loss,
            "method": self.method,
            "normalization": self.normalization,
            "explained": list(self.explained) if self.explained else None,
            "samples": self.samples,
        }


def random_directions(
    model: Autoencoder, theta: np.ndarray, seed: int = 0, normalization: str = "layer"
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian directions, filter-normalised against ``theta`` (see the module docstring)."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {normalization!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        d = rng.standard_normal(theta.size)
        for b in model.blocks:
            dv = b.view(d)
            if b.kind not in ("weight", "skip"):
                dv[...] = 0.0
                continue
            tv = b.view(theta)
            if normalization == "layer":
                dn = np.linalg.norm(dv)
                dv *= np.linalg.norm(tv) / dn if dn > 0 else 0.0
            else:  # per unit: the column of W feeding each output
                dn = np.linalg.norm(dv, axis=0)
                tn = np.linalg.norm(tv, axis=0)
                dv *= np.where(dn > 0, tn / np.where(dn > 0, dn, 1.0), 0.0)
        out.append(d)
    return out[0], out[1]


def pca_directions(path: np.ndarray, center: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Top two principal directions (unit vectors) of the snapshots ``path`` (k × n) around ``center``.

    Computed from the k × k Gram matrix, so the cost is O(k²n) for any n.
    """
    m = np.asarray(path, dtype=np.float64) - center[None, :]
    m = m[np.linalg.norm(m, axis=1) > 0]
    if m.shape[0] < 2:
        raise ValueError("PCA directions need at least two snapshots away from the final weights (train ≥ 2 epochs)")
    gram = m @ m.T
    lam, u = np.linalg.eigh(gram)
    order = np.argsort(lam)[::-1]
    lam = np.clip(lam[order], 0.0, None)
    u = u[:, order]
    total = float(lam.sum())
    if lam[1] <= 1e-12 * max(lam[0], 1e-300):
        raise ValueError("the weight trajectory is (nearly) a straight line: its second PCA direction is undefined")
    dirs = []
    for i in range(2):
        v = m.T @ u[:, i]
        dirs.append(v / np.linalg.norm(v))
    return dirs[0], dirs[1], (float(lam[0] / total), float(lam[1] / total))


def project(points: np.ndarray, center: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Least-squares (α, β) with points ≈ center + α·d1 + β·d2, one row per point."""
    basis = np.vstack([d1, d2])  # 2 × n
    gram = basis @ basis.T
    rhs = (np.asarray(points, dtype=np.float64) - center[None, :]) @ basis.T  # k × 2
    return np.linalg.solve(gram, rhs.T).T


def slice_losses(
    model: Autoencoder,
    center: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    inputs: np.ndarray,
    targets: np.ndarray,
    bn_state: BatchNormState | None = None,
    cancel: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Evaluation-mode loss at center + x·d1 + y·d2 for every grid point; z[i, j] ↔ (xs[j], ys[i])."""
    z = np.empty((ys.size, xs.size))
    theta = np.empty_like(center)
    with np.errstate(all="ignore"):
        for i, b in enumerate(ys):
            if cancel is not None and cancel():
                raise InterruptedError("landscape cancelled")
            for j, a in enumerate(xs):
                np.multiply(d1, a, out=theta)
                theta += center
                theta += b * d2
                z[i, j] = model.loss(theta, inputs, targets, bn_state=bn_state)
    z[~np.isfinite(z)] = np.nan
    return z


def loss_landscape(
    model: Autoencoder,
    center_theta: np.ndarray,
    inputs: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    bn_state: BatchNormState | None = None,
    paths: Mapping[str, np.ndarray] | None = None,
    path_epochs: Mapping[str, list[int]] | None = None,
    center: str = "center",
    method: str = "random",
    resolution: int = 31,
    span: float | None = None,
    seed: int = 0,
    normalization: str = "layer",
    cancel: Callable[[], bool] | None = None,
    threads: int | None | str = "auto",
) -> Landscape:
    """The loss slice around ``center_theta`` (see the module docstring).

    ``paths`` maps a name to that run's (k × n) weight snapshots; with
    ``method="pca"`` the path named ``center`` defines the directions.
    ``span`` is the half-width of the square grid in units of the directions
    (default 1 for random directions, the extent of the paths for PCA).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(resolution, bool) or int(resolution) != resolution or not 3 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be a whole number in [3, {MAX_RESOLUTION}], got {resolution!r}")
    if resolution % 2 == 0:
        raise ValueError(f"resolution must be odd, so the final weights sit on the grid's centre; got {resolution}")
    if span is not None and not (isinstance(span, (int, float)) and math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a positive number, got {span!r}")
    inputs = np.asarray(inputs, dtype=np.float64)
    targets = inputs if targets is None else np.asarray(targets, dtype=np.float64)
    if not 1 <= inputs.shape[0] <= MAX_SAMPLES:
        raise ValueError(f"the landscape evaluates 1 to {MAX_SAMPLES} samples, got {inputs.shape[0]}")
    center_theta = np.asarray(center_theta, dtype=np.float64)
    paths = dict(paths or {})
    explained = None
    norm_used: str | None = normalization
    if method == "random":
        d1, d2 = random_directions(model, center_theta, seed, normalization)
        if not (np.any(d1) and np.any(d2)):
            raise ValueError("the weights are all zero: filter-normalised directions are undefined")
    else:
        if center not in paths:
            raise ValueError(f"PCA directions need the weight trajectory of {center!r}")
        d1, d2, explained = pca_directions(paths[center], center_theta)
        norm_used = None
    projected = {k: project(v, center_theta, d1, d2) for k, v in paths.items()}
    if span is None:
        if method == "random":
            span = 1.0
        else:
            ext = max((float(np.max(np.abs(p))) for p in projected.values() if p.size), default=0.0)
            span = 1.25 * ext if ext > 0 else 1.0
    r = int(resolution)
    xs = np.linspace(-span, span, r)
    ys = np.linspace(-span, span, r)
    xs[r // 2] = 0.0
    ys[r // 2] = 0.0
    if threads == "auto":
        threads = auto_threads(model, inputs.shape[0])
    with blas_threads(threads):
        z = slice_losses(model, center_theta, d1, d2, xs, ys, inputs, targets, bn_state, cancel)
        center_loss = model.loss(center_theta, inputs, targets, bn_state=bn_state)
    return Landscape(
        xs=xs, ys=ys, z=z, paths=projected,
        path_epochs={k: list(v) for k, v in (path_epochs or {}).items() if k in projected},
        center=center, center_loss=float(center_loss), method=method, normalization=norm_used,
        explained=explained, samples=int(inputs.shape[0]), directions=(d1, d2),
    )  # fmt: skip


def race_landscape(
    race: Any,
    *,
    center: str | None = None,
    method: str = "random",
    resolution: int = 31,
    span: float | None = None,
    samples: int | None = None,
    seed: int = 0,
    normalization: str = "layer",
    cancel: Callable[[], bool] | None = None,
    threads: int | None | str = "auto",
) -> Landscape:
    """The landscape around one run of a ``RaceResult`` (default: the lowest final training loss), with every path.

    ``samples`` limits the fixed training rows evaluated (default: all the race kept).
    """
    runs = list(race.runs)
    if center is None:
        center_run = min(runs, key=lambda r: r.final_train_loss)
    else:
        center_run = race.run(center)
    x = race.landscape_inputs
    t = race.landscape_targets
    if samples is not None:
        if not 1 <= int(samples) <= MAX_SAMPLES:
            raise ValueError(f"samples must be in [1, {MAX_SAMPLES}], got {samples!r}")
        x = x[: int(samples)]
        t = t[: int(samples)]
    paths = {r.key: r.path_matrix() for r in runs}
    epochs = {r.key: list(r.path_epochs) for r in runs}
    return loss_landscape(
        race.model, center_run.theta, x, t, bn_state=center_run.bn_state, paths=paths, path_epochs=epochs,
        center=center_run.key, method=method, resolution=resolution, span=span, seed=seed,
        normalization=normalization, cancel=cancel, threads=threads,
    )  # fmt: skip
