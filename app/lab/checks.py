"""What a race needs before it starts, and how much measuring it may do afterwards.

``check_run`` lists the reasons a race cannot start (a model over :data:`MAX_PARAMS`, no upload,
Newton on a model too large for its exact Hessian, a pixel-grid noise on data without images);
the form shows them under "Before starting" and the job checks them again with the loaded data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.lab.limits import LANDSCAPE_BUDGET, MAX_PARAMS
from app.lab.state import NOISE_LABELS, SOURCES, LabSettings
from autoencoder.corrupt import DEFAULT_TABLE, GRID_KINDS, Corruption
from autoencoder.model import deep_skip_pair


def source_shape(s: LabSettings, upload: Mapping[str, Any] | None) -> tuple[int | None, tuple[int, int] | None]:
    """(features, image shape) of the chosen data, as far as known before loading it."""
    if s.data == "file":
        if not isinstance(upload, Mapping):
            return None, None
        shape = upload.get("image_shape")
        return int(upload.get("n_features") or 0) or None, (tuple(shape) if shape else None)
    _, feats, shape = SOURCES[s.data]
    return feats, shape


def param_count(s: LabSettings, n_features: int) -> int:
    """Parameters of the autoencoder (the model's own count, without building it)."""
    sizes = (n_features, *s.hidden, n_features)
    n = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1)) + n_features
    n += sum(s.hidden) * (2 if s.bn else 1) + (n_features**2 if s.skip in ("shallow", "both") else 0)
    if s.skip in ("deep", "both"):
        try:
            i, j = deep_skip_pair(s.hidden)
        except ValueError:
            return n  # building the model says why (model_summary, check_run)
        n += s.hidden[i] * s.hidden[j]
    return n


def model_summary(s: LabSettings, n_features: int | None) -> tuple[str, int | None]:
    """'64 → 32 → 8 → 32 → 64 · 4,840 parameters' and the count (None when unknown or invalid)."""
    widths = [str(n_features or "d"), *map(str, s.hidden), str(n_features or "d")]
    arch = " → ".join(widths)
    if not n_features:
        return arch, None
    n = param_count(s, n_features)
    if n > MAX_PARAMS:
        return f"{arch} · {n:,} parameters (too many)", n
    try:
        n = s.model_spec().build(n_features).n_params
    except ValueError as exc:
        return f"{arch} · {exc}", None
    return f"{arch} · {n:,} parameters", n


def check_run(s: LabSettings, upload: Mapping[str, Any] | None) -> list[str]:
    """Reasons this race cannot start (model too large, missing upload, noise needing images, …)."""
    errors = []
    n_features, shape = source_shape(s, upload)
    if s.data == "file" and n_features is None:
        errors.append("Upload a .npy, .npz or .csv file first (or choose another data source).")
    if n_features:
        n: int | None = param_count(s, n_features)
        if n > MAX_PARAMS:
            errors.append(f"The model would have {n:,} parameters; the lab allows {MAX_PARAMS:,}. "
                          "Use fewer or narrower hidden layers.")  # fmt: skip
        else:
            try:
                n = s.model_spec().build(n_features).n_params
            except ValueError as exc:
                errors.append(f"Model: {exc}.")
                n = None
        from autoencoder.train import NEWTON_MAX_PARAMS

        if n is not None and any(o.name == "newton" for o in s.opts) and n > NEWTON_MAX_PARAMS:
            errors.append(f"Newton's method builds the exact Hessian and is limited to {NEWTON_MAX_PARAMS} parameters; "
                          f"this model has {n:,} (try hidden size 1 or 2 on a small input).")  # fmt: skip
    if s.noise in GRID_KINDS and s.data == "file" and n_features and shape is None:
        errors.append(f"{NOISE_LABELS[s.noise].capitalize()} needs images; this file's samples have no image shape.")
    return errors


def psnr_columns(s: LabSettings) -> tuple[Corruption, ...]:
    """The lecture's table, with the trained corruption at the trained strength."""
    c = s.corruption()
    if c is None:
        return DEFAULT_TABLE
    return tuple(c if col.kind == c.kind else col for col in DEFAULT_TABLE)


def landscape_plan(n_params: int, n_rows: int) -> tuple[int, int]:
    """(grid resolution, samples) for the two loss slices, within :data:`LANDSCAPE_BUDGET`."""
    for res in (25, 21, 17, 13, 9):
        for samples in (500, 250, 100, 50):
            samples = min(samples, max(1, n_rows))
            if 2 * res * res * samples * 2 * n_params <= LANDSCAPE_BUDGET:
                return res, samples
    return 7, min(20, max(1, n_rows))
