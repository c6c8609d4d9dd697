"""A linear autoencoder against PCA: how far each trained decoder's subspace is from the top-k
principal subspace, and how well each reconstructs the validation rows.

A linear autoencoder with a k-unit bottleneck trained to the minimum of the mean squared error
reconstructs through the span of the data's top-k principal directions (Baldi & Hornik 1989); its
weights are not the principal directions themselves, only their span. So the comparison is:

* the principal angles between the decoder's column space (:meth:`Autoencoder.decoder_matrix`)
  and the top-k PCA basis of the centred training rows (0° everywhere: the same subspace);
* the validation mean squared error of the autoencoder and of the rank-k PCA reconstruction
  x̂ = μ + (x − μ)VVᵀ (μ and V from the training rows). By Eckart–Young no rank-k affine map does
  better on the training rows; on validation rows PCA is the reference, not a bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autoencoder.metrics import pca_basis, subspace_angles
from autoencoder.model import Autoencoder


@dataclass(frozen=True)
class PcaRow:
    label: str
    angles_deg: tuple[float, ...]  # principal angles, largest first
    val_mse: float  # the autoencoder's validation mean squared error

    @property
    def max_angle_deg(self) -> float:
        return self.angles_deg[0]


@dataclass(frozen=True)
class PcaBaseline:
    k: int
    pca_val_mse: float
    rows: tuple[PcaRow, ...]

    def to_dict(self) -> dict:
        return {"k": self.k, "pca_val_mse": self.pca_val_mse,
                "rows": [{"label": r.label, "angles_deg": list(r.angles_deg), "val_mse": r.val_mse} for r in self.rows]}  # fmt: skip


def why_not_linear(model: Autoencoder) -> str | None:
    """Why ``model`` cannot be compared with PCA, or None when it can."""
    if model.skip != "none":
        return f"a model with a skip connection ({model.skip}) has no bottleneck to compare"
    if model.batch_norm:
        return "batch norm makes the model non-linear in its input"
    if any(a != "linear" for a in model.activations) or model.output_activation != "linear":
        return "the comparison needs a linear autoencoder (activation and output: linear)"
    if model.loss_name != "mse":
        return "the comparison needs the mean squared error loss"
    return None


def pca_reconstruction_mse(train: np.ndarray, val: np.ndarray, k: int) -> float:
    """Validation mean squared error of the rank-k PCA reconstruction fitted on ``train``."""
    mean = train.mean(axis=0)
    basis = pca_basis(train, k)
    centred = val - mean
    rec = mean + (centred @ basis) @ basis.T
    return float(np.mean((rec - val) ** 2))


def pca_baseline(model: Autoencoder, runs: Sequence[tuple[str, np.ndarray]], train: np.ndarray,
                 val: np.ndarray) -> PcaBaseline:  # fmt: skip
    """Each ``(label, weights)`` run against the top-k PCA of ``train`` (k: the bottleneck's width).

    Raises ValueError (saying why) for a model that is not a linear autoencoder. A run whose weights
    are not finite (it diverged) gets NaN angles and error.
    """
    why = why_not_linear(model)
    if why is not None:
        raise ValueError(why)
    k = int(model.hidden[model.bottleneck])
    train = np.asarray(train, dtype=np.float64)
    val = np.asarray(val, dtype=np.float64)
    if not 1 <= k <= min(train.shape):
        raise ValueError(f"a {k}-unit bottleneck needs at least {k} training rows and features")
    top = pca_basis(train, k)
    rows = []
    for label, theta in runs:
        theta = np.asarray(theta, dtype=np.float64)
        if theta.size == 0 or not np.all(np.isfinite(theta)):
            rows.append(PcaRow(label, (math.nan,) * k, math.nan))
            continue
        dec = model.decoder_matrix(theta)
        if np.linalg.matrix_rank(dec) < k:
            angles = (90.0,) + (math.nan,) * (k - 1)  # a collapsed decoder misses a whole direction
        else:
            angles = tuple(float(a) for a in np.degrees(subspace_angles(dec, top)))
        err = float(np.mean((model.reconstruct(theta, val, clip=False) - val) ** 2))
        rows.append(PcaRow(label, angles, err if math.isfinite(err) else math.nan))
    return PcaBaseline(k, pca_reconstruction_mse(train, val, k), tuple(rows))
