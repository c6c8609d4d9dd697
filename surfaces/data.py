"""Datasets of the data surfaces: generated from a seed, read from CSV, or given as points.

A dataset is a small array of points: ``(u, v)`` rows (input, target) for the regression
surfaces ``linreg`` and ``tiny_net``, ``(a₁, a₂, t)`` rows (two inputs and a label ±1) for
``logreg``.  :func:`generate` makes one from the surface's parameters (a seed, the number of
points, noise, outliers, the inputs' offset, the classes' overlap): the same parameters give
the same points on every machine.  :func:`parse_csv` reads a user's file with the rules the
autoencoder lab applies to uploads: a size limit, plain numbers only (nothing is evaluated
or unpickled), every value finite, a bounded number of rows, and a one-line reason naming the
line when something is refused.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from surfaces import _datakernels as D

#: largest number of points a data surface takes (generated, uploaded or edited)
MAX_POINTS = 4096
MIN_POINTS = 2
#: largest CSV file accepted, in bytes (4096 rows of three numbers fit with room to spare)
MAX_CSV_BYTES = 256 * 1024
#: largest |value| of a coordinate, a target or an input
MAX_ABS = 1e6

REGRESSION = "regression"
CLASSIFICATION = "classification"
KIND_OF_SURFACE = {"linreg": REGRESSION, "tiny_net": REGRESSION, "logreg": CLASSIFICATION}
COLUMNS = {REGRESSION: ("u", "v"), CLASSIFICATION: ("a1", "a2", "label")}

#: the model the regression points are drawn around: v = 1.5·u − 1 (linreg), v = 1.5·tanh(u) (tiny_net)
LINREG_TRUTH = (1.5, -1.0)
TINY_NET_TRUTH = (1.0, 1.5)
#: the direction the classes of ``logreg`` are separated along
LOGREG_DIRECTION = (math.cos(math.radians(30.0)), math.sin(math.radians(30.0)))
OUTLIER_SHIFT = 8.0


def kind_of(surface: str) -> str:
    try:
        return KIND_OF_SURFACE[surface]
    except KeyError:
        raise ValueError(f"{surface!r} is not a data surface (data surfaces: {', '.join(KIND_OF_SURFACE)})") from None


def generate(surface: str, params: dict[str, float]) -> np.ndarray:
    """The points of data surface ``surface`` for its (validated) parameters: shape (n, 2) or (n, 3).

    Inputs are drawn with ``numpy.random.default_rng(data_seed)`` (PCG64, the same stream on every
    platform); ``outliers`` is the fraction of points whose target is moved by ±8 (regression) or
    whose label is flipped (classification)."""
    rng = np.random.default_rng(int(params["data_seed"]))
    n = int(params["n"])
    outliers = float(params.get("outliers", 0.0))
    if surface == "logreg":
        base = rng.standard_normal((n, 2)) * 1.0
        d = np.array(LOGREG_DIRECTION)
        side = base @ d
        t = np.where(side >= 0.0, 1.0, -1.0)
        margin = 0.6 - 1.2 * float(params["overlap"])  # ≥ 0: separable by construction; < 0: the classes mix
        pts = base + (t * margin)[:, None] * d[None, :]
        flip = rng.random(n) < outliers
        t = np.where(flip, -t, t)
        return np.column_stack([pts, t])
    u = float(params.get("offset", 0.0)) + float(params.get("spread", 1.0)) * rng.standard_normal(n)
    eps = rng.standard_normal(n)
    if surface == "linreg":
        w, b = LINREG_TRUTH
        v = w * u + b + float(params["noise"]) * eps
    else:
        w1, w2 = TINY_NET_TRUTH
        v = w2 * np.tanh(w1 * u) + float(params["noise"]) * eps
    moved = rng.random(n) < outliers
    signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    v = np.where(moved, v + OUTLIER_SHIFT * signs, v)
    return np.column_stack([u, v])


def check_points(surface: str, points: Any) -> np.ndarray:
    """``points`` as a float array of the surface's shape; ValueError with a one-line reason."""
    kind = kind_of(surface)
    width = len(COLUMNS[kind])
    try:
        arr = np.array(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{surface} points must be rows of {width} numbers") from None
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{surface} points must be rows of {width} numbers ({', '.join(COLUMNS[kind])})")
    n = arr.shape[0]
    if not MIN_POINTS <= n <= MAX_POINTS:
        raise ValueError(f"{surface} needs between {MIN_POINTS} and {MAX_POINTS} points, got {n}")
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > MAX_ABS):
        raise ValueError(f"{surface} points must be finite numbers of magnitude at most {MAX_ABS:g}")
    if kind == CLASSIFICATION:
        labels = arr[:, 2]
        if not np.all((labels == 1.0) | (labels == -1.0) | (labels == 0.0)):
            raise ValueError("logreg labels must be 0 or 1 (or −1 and +1)")
        arr[:, 2] = np.where(labels > 0.0, 1.0, -1.0)
    return arr


_SPLIT = re.compile(r"[,;\t ]+")


def parse_csv(data: bytes | str, surface: str, name: str = "data.csv") -> np.ndarray:
    """Points of ``surface`` from CSV text: one point per line, numbers separated by commas, semicolons,
    tabs or spaces; an optional header line; ``#`` comments and blank lines skipped.

    Refused (ValueError naming the file and the line): more than MAX_CSV_BYTES, text that is not
    UTF-8, a field that is not a plain number, a wrong number of columns, non-finite values, and
    more than MAX_POINTS rows."""
    if isinstance(data, str):
        raw = data.encode("utf-8", "replace")
    else:
        raw = bytes(data)
    if len(raw) > MAX_CSV_BYTES:
        raise ValueError(f"{name} is {len(raw) / 1024:.0f} kB; the limit for points is {MAX_CSV_BYTES // 1024} kB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text") from None
    width = len(COLUMNS[kind_of(surface)])
    rows: list[list[float]] = []
    seen_data = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        fields = [f for f in _SPLIT.split(body) if f]
        values = [_number(f) for f in fields]
        if any(v is None for v in values):
            if not seen_data and not rows:  # a header line
                seen_data = True
                continue
            bad = next(f for f, v in zip(fields, values, strict=True) if v is None)
            raise ValueError(f"{name}, line {lineno}: {bad[:20]!r} is not a number")
        seen_data = True
        if len(values) != width:
            raise ValueError(f"{name}, line {lineno}: expected {width} numbers ({', '.join(COLUMNS[kind_of(surface)])}), "
                             f"got {len(values)}")  # fmt: skip
        rows.append([float(v) for v in values if v is not None])
        if len(rows) > MAX_POINTS:
            raise ValueError(f"{name} has more than {MAX_POINTS} points; the limit is {MAX_POINTS}")
    if not rows:
        raise ValueError(f"{name} has no points")
    try:
        return check_points(surface, rows)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$")


def _number(text: str) -> float | None:
    """A plain decimal number (no nan, inf, hex or underscores), else None."""
    if len(text) > 40 or not _NUMBER.match(text):
        return None
    return float(text)


def to_csv(surface: str, points: np.ndarray) -> str:
    """The points as CSV with a header line (the format :func:`parse_csv` reads)."""
    cols = COLUMNS[kind_of(surface)]
    lines = [",".join(cols)]
    for row in np.asarray(points):
        lines.append(",".join(repr(float(v)) for v in row))
    return "\n".join(lines) + "\n"


def kernel_vector(surface: str, points: np.ndarray, bias: float = 0.0, l2: float = 0.0,
                  center: bool = False) -> np.ndarray:  # fmt: skip
    """The kernels' parameter vector of a data surface (layout in :mod:`surfaces._datakernels`).

    ``center`` subtracts the inputs' mean (regression) before the fit: the data the kernel sees."""
    pts = np.asarray(points, dtype=np.float64)
    n = pts.shape[0]
    cols = [pts[:, c].copy() for c in range(pts.shape[1])]
    if center:
        cols[0] = cols[0] - cols[0].mean()
    head = np.zeros(D.HEADER)
    head[D.N_SLOT] = n
    head[D.BIAS_SLOT] = bias
    head[D.L2_SLOT] = l2
    return np.concatenate([head, *cols])

