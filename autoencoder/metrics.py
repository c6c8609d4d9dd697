"""Image-quality and subspace metrics: PSNR, principal angles, the PCA basis.

PSNR of one image with values in [0, 1] is 10·log10(1 / MSE) dB, MSE being the
mean squared pixel error; tables report the mean and the standard deviation
over images, as the lecture's denoising table does.

>>> import numpy as np
>>> round(float(psnr(np.zeros((1, 4)), np.full((1, 4), 0.1))[0]), 6)
20.0
"""

from __future__ import annotations

import math

import numpy as np


def psnr(reference: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Per-row PSNR in dB (rows are images); +inf where the two rows are identical."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    if ref.shape != est.shape:
        raise ValueError(f"shapes differ: {ref.shape} vs {est.shape}")
    if ref.ndim == 1:
        ref = ref[None, :]
        est = est[None, :]
    mse = np.mean((ref.reshape(ref.shape[0], -1) - est.reshape(est.shape[0], -1)) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / mse)


#: PSNR of an image reproduced (almost) exactly, in summaries: MSE ≤ 1e-6 counts as perfect
MAX_PSNR = 60.0


def mean_std(values: np.ndarray, cap: float | None = MAX_PSNR) -> tuple[float, float] | None:
    """(mean, std) of per-image PSNRs, each capped at ``cap``; None when every image is reproduced exactly.

    The cap keeps an image that a corruption happened to leave unchanged
    (a knockout patch on blank background: infinite PSNR) in the average.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or np.all(np.isposinf(v)):
        return None
    if cap is not None:
        v = np.minimum(v, cap)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    return float(v.mean()), float(v.std())


def orthonormal_basis(a: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis (columns) of the column space of ``a`` (rank-revealing SVD)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        return u[:, :0]
    return u[:, s > rtol * s[0]]


def subspace_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles (radians, largest first) between the column spaces of ``a`` and ``b``.

    Cosines come from the singular values of QaᵀQb; angles near zero, where
    the cosine loses precision, come from the sines (singular values of the
    part of Qb outside span(Qa)) instead (Björck & Golub 1973).
    """
    qa = orthonormal_basis(a)
    qb = orthonormal_basis(b)
    if qa.shape[0] != qb.shape[0]:
        raise ValueError(f"the spaces live in different dimensions: {qa.shape[0]} vs {qb.shape[0]}")
    if qa.shape[1] < qb.shape[1]:
        qa, qb = qb, qa
    cross = qa.T @ qb
    cos = np.linalg.svd(cross, compute_uv=False)
    sin = np.linalg.svd(qb - qa @ cross, compute_uv=False)
    cos = np.clip(np.sort(cos), -1.0, 1.0)  # ascending cosines: largest angle first
    sin = np.clip(np.sort(sin)[::-1], -1.0, 1.0)  # descending sines: largest angle first
    angles = np.where(cos**2 <= 0.5, np.arccos(cos), np.arcsin(sin))
    return angles


def pca_basis(x: np.ndarray, k: int) -> np.ndarray:
    """The top-k right singular vectors of the centred data (d × k, columns)."""
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"k must be in [1, {min(x.shape)}], got {k}")
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    return vt[:k].T


def max_angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """The largest principal angle between two column spaces, in degrees."""
    return float(math.degrees(float(np.max(subspace_angles(a, b)))))
