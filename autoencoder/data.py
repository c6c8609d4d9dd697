"""Data sets for the autoencoder lab, scaled to [0, 1] and split into train/validation with a seed.

Sources (``load_data(source, ...)``):

* ``digits``: scikit-learn's bundled 8×8 handwritten digits (1 797 images; works offline).
* ``sample_images``: grey square patches cut at seeded random places from
  scikit-learn's two bundled photographs (needs Pillow to decode them).
* ``synthetic``: seeded images of random soft strokes (any count and side;
  MNIST-sized for benchmarks).
* ``mnist``: MNIST from local files the user points at: a folder holding the
  IDX files (``train-images-idx3-ubyte`` and optionally ``t10k-images-idx3-ubyte``,
  each optionally gzipped), one IDX file, or an ``.npz`` (``x_train``/``x_test``).
  Nothing is ever downloaded.
* ``file``: the user's own ``.npy``, ``.npz`` or ``.csv`` (at most 50 MB;
  loaded without pickle; numeric; finite; 2-D samples × features or 3-D
  samples × height × width, flattened).

Integer images with values up to 255 are divided by 255; other data outside
[0, 1] is min–max scaled over the whole array.  Bad input raises ValueError
with a one-line reason.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: the most samples a data set may have
MAX_SAMPLES = 70_000
#: the largest file a user may load
MAX_FILE_BYTES = 50 * 1024 * 1024
#: the most bytes an .npz or gzip file may expand to
MAX_EXPANDED_BYTES = 512 * 1024 * 1024
MAX_FEATURES = 100_000
MIN_SAMPLES = 4
SOURCES = ("digits", "sample_images", "synthetic", "mnist", "file")
FILE_TYPES = (".npy", ".npz", ".csv")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation rows (float64 in [0, 1]) and, for images, their shape."""

    name: str
    train: np.ndarray
    val: np.ndarray
    image_shape: tuple[int, int] | None
    description: str = ""

    @property
    def n_features(self) -> int:
        return int(self.train.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.train.shape[0] + self.val.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_train": int(self.train.shape[0]),
            "n_val": int(self.val.shape[0]),
            "n_features": self.n_features,
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "description": self.description,
        }


# --------------------------------------------------------------------------- split and scale
def split(
    x: np.ndarray,
    name: str,
    image_shape: tuple[int, int] | None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_samples: int | None = None,
    description: str = "",
) -> Dataset:
    """A seeded train/validation split of ``x`` (rows in [0, 1]); optionally a seeded subset first."""
    if not (isinstance(val_fraction, (int, float)) and 0.0 < val_fraction < 1.0):
        raise ValueError(f"the validation fraction must be in (0, 1), got {val_fraction!r}")
    n = x.shape[0]
    limit = MAX_SAMPLES if max_samples is None else int(max_samples)
    if not 1 <= limit <= MAX_SAMPLES:
        raise ValueError(f"max_samples must be in [1, {MAX_SAMPLES}], got {max_samples!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    if n > limit:
        order = order[:limit]
        n = limit
    if n < MIN_SAMPLES:
        raise ValueError(f"need at least {MIN_SAMPLES} samples, got {n}")
    n_val = min(n - 1, max(1, round(n * val_fraction)))
    val = np.ascontiguousarray(x[order[:n_val]], dtype=np.float64)
    train = np.ascontiguousarray(x[order[n_val:]], dtype=np.float64)
    return Dataset(name, train, val, image_shape, description)


def scale_unit(a: np.ndarray) -> tuple[np.ndarray, str]:
    """Values → float64 in [0, 1]; returns the array and how it was scaled."""
    if a.dtype == np.bool_:
        return a.astype(np.float64), "booleans as 0/1"
    lo = float(a.min())
    hi = float(a.max())
    if a.dtype.kind in "iu" and lo >= 0 and 1 < hi <= 255:
        return a.astype(np.float64) / 255.0, "divided by 255"
    if lo >= 0.0 and hi <= 1.0:
        return a.astype(np.float64), "already in [0, 1]"
    if hi == lo:
        raise ValueError(f"every value is {lo:g}: nothing to learn")
    out = (a.astype(np.float64) - lo) / (hi - lo)
    return np.clip(out, 0.0, 1.0, out=out), f"min–max scaled from [{lo:g}, {hi:g}]"


def _square_side(d: int) -> int | None:
    s = math.isqrt(d)
    return s if s * s == d and s > 1 else None


def check_array(a: Any, what: str = "the data") -> tuple[np.ndarray, tuple[int, int] | None]:
    """Validate a user array; returns it as (n, d) with the image shape (h, w) or None.

    Refuses non-numeric dtypes, shapes other than 2-D/3-D, too many or too few
    samples, and NaN/inf, each with a one-line reason.
    """
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{what} is not an array")
    kind = a.dtype.kind
    if kind == "O":
        raise ValueError(f"{what} has object dtype (Python objects); only numeric arrays are accepted")
    if kind in "USa":
        raise ValueError(f"{what} holds text ({a.dtype}); only numeric arrays are accepted")
    if kind == "c":
        raise ValueError(f"{what} holds complex numbers; only real numeric arrays are accepted")
    if kind not in "biuf":
        raise ValueError(f"{what} has dtype {a.dtype}; only numeric arrays (bool, int, float) are accepted")
    if a.ndim == 3:
        h, w = int(a.shape[1]), int(a.shape[2])
        image_shape: tuple[int, int] | None = (h, w)
        a = a.reshape(a.shape[0], h * w)
    elif a.ndim == 2:
        s = _square_side(int(a.shape[1]))
        image_shape = (s, s) if s else None
    else:
        hint = " (colour images: convert to grey first)" if a.ndim == 4 else ""
        raise ValueError(
            f"{what} must be 2-D (samples × features) or 3-D (samples × height × width), got shape {a.shape}{hint}"
        )
    n, d = a.shape
    if n > MAX_SAMPLES:
        raise ValueError(f"{what} has {n:,} samples; the limit is {MAX_SAMPLES:,}")
    if n < MIN_SAMPLES:
        raise ValueError(f"{what} has {n} samples; at least {MIN_SAMPLES} are needed")
    if not 2 <= d <= MAX_FEATURES:
        raise ValueError(f"{what} has {d} features per sample; between 2 and {MAX_FEATURES:,} are accepted")
    if kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            nan = int(np.isnan(a).sum())
            inf = int(bad.sum()) - nan
            row = int(np.argmax(bad.any(axis=1)))
            parts = [f"{nan:,} NaN" if nan else "", f"{inf:,} infinite" if inf else ""]
            raise ValueError(f"{what} contains {' and '.join(p for p in parts if p)} values (first in sample {row})")
    return a, image_shape


# --------------------------------------------------------------------------- user files
def _file_bytes(source: str | os.PathLike | bytes, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = filename or "upload"
    else:
        path = Path(source)
        name = filename or path.name
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"{name} is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")
    if not data:
        raise ValueError(f"{name} is empty")
    return data, name


def _check_npy_header(fh: Any, available: int, name: str) -> None:
    """Refuse an .npy whose header declares more data than the file holds (before numpy allocates it)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{name} is not a readable .npy file: {exc}") from None
    if dtype.hasobject:
        raise ValueError(f"{name} holds Python objects (object dtype); only numeric arrays are accepted")
    need = math.prod(shape) * dtype.itemsize
    have = available - fh.tell()
    if need != have:
        raise ValueError(f"{name}: the header declares {need:,} bytes of data but the file holds {have:,}")


def _load_npy(data: bytes, name: str) -> np.ndarray:
    if not data.startswith(b"\x93NUMPY"):
        looks = " (it looks like a Python pickle, which is never loaded)" if data[:1] == b"\x80" else ""
        raise ValueError(f"{name} is not a NumPy .npy file{looks}")
    _check_npy_header(io.BytesIO(data), len(data), name)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(f"{name} holds Python objects (object dtype); only numeric arrays are accepted") from None
        raise ValueError(f"{name} is not a readable .npy file: {exc}") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{name} is not a readable .npy file: {exc}") from None


_PREFERRED_KEYS = ("x", "X", "data", "images", "x_train", "arr_0")


def _npz_members(data: bytes, name: str) -> dict[str, np.ndarray]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        looks = " (it looks like a Python pickle, which is never loaded)" if data[:1] == b"\x80" else ""
        raise ValueError(f"{name} is not a NumPy .npz file{looks}") from None
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > MAX_EXPANDED_BYTES:
            raise ValueError(f"{name} expands to {total / 2**20:.0f} MB; the limit is {MAX_EXPANDED_BYTES // 2**20} MB")
        keys = [i.filename[:-4] for i in infos if i.filename.endswith(".npy")]
        for info in infos:
            if info.filename.endswith(".npy"):
                with zf.open(info) as fh:
                    _check_npy_header(fh, info.file_size, f"{name}:{info.filename[:-4]}")
    if not keys:
        raise ValueError(f"{name} holds no arrays")
    out = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for k in keys:
                out[k] = npz[k]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(f"{name} holds Python objects (object dtype); only numeric arrays are accepted") from None
        raise ValueError(f"{name} is not a readable .npz file: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{name} is not a readable .npz file: {exc}") from None
    return out


def _load_npz(data: bytes, name: str) -> np.ndarray:
    members = _npz_members(data, name)
    if len(members) == 1:
        return next(iter(members.values()))
    for k in _PREFERRED_KEYS:
        if k in members:
            return members[k]
    raise ValueError(
        f"{name} holds several arrays ({', '.join(sorted(members))}); name the data 'x' (or 'data', 'images')"
    )


def _load_csv(data: bytes, name: str) -> np.ndarray:
    if b"\x00" in data[:4096]:
        raise ValueError(f"{name} is not a text CSV file (binary content)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text") from None
    rows: list[list[float]] = []
    width = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split(",")
        vals = []
        for col, cell in enumerate(cells, start=1):
            c = cell.strip()
            try:
                vals.append(float(c))
            except ValueError:
                shown = c if len(c) <= 20 else c[:20] + "…"
                hint = " (remove the header row)" if not rows else ""
                raise ValueError(
                    f"{name}: line {lineno}, column {col} is not a number ({shown!r}); "
                    f"the CSV must hold numbers only{hint}"
                ) from None
        if width is None:
            width = len(vals)
        elif len(vals) != width:
            raise ValueError(f"{name}: line {lineno} has {len(vals)} values, earlier lines have {width}")
        rows.append(vals)
        if len(rows) > MAX_SAMPLES:
            raise ValueError(f"{name} has more than {MAX_SAMPLES:,} rows; the limit is {MAX_SAMPLES:,}")
    if not rows:
        raise ValueError(f"{name} holds no numbers")
    return np.array(rows, dtype=np.float64)


def read_array(source: str | os.PathLike | bytes, filename: str | None = None) -> np.ndarray:
    """The raw array in a user's .npy/.npz/.csv (a path, or the bytes of an upload plus its file name)."""
    data, name = _file_bytes(source, filename)
    ext = Path(name).suffix.lower()
    if ext == ".npy":
        return _load_npy(data, name)
    if ext == ".npz":
        return _load_npz(data, name)
    if ext in (".csv", ".txt"):
        return _load_csv(data, name)
    raise ValueError(f"{name}: unsupported file type {ext or '(none)'!r}; use {', '.join(FILE_TYPES)}")


def load_file(
    source: str | os.PathLike | bytes,
    filename: str | None = None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_samples: int | None = None,
    image_shape: tuple[int, int] | None = None,
) -> Dataset:
    """A user's file (path or upload bytes) as a Dataset; ValueError with a one-line reason if refused."""
    name = filename or (Path(source).name if not isinstance(source, (bytes, bytearray, memoryview)) else "upload")
    raw = read_array(source, filename)
    a, shape = check_array(raw, name)
    if image_shape is not None:
        h, w = (int(v) for v in image_shape)
        if h * w != a.shape[1]:
            raise ValueError(f"image shape {h}x{w} does not match {a.shape[1]} features")
        shape = (h, w)
    x, how = scale_unit(a)
    return split(x, name, shape, val_fraction=val_fraction, seed=seed, max_samples=max_samples,
                 description=f"{name}: {a.shape[0]:,} samples × {a.shape[1]} features, {how}")  # fmt: skip


# --------------------------------------------------------------------------- MNIST (local files only)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _maybe_gunzip(data: bytes, name: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(MAX_EXPANDED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{name} is not a readable gzip file: {exc}") from None
    if len(out) > MAX_EXPANDED_BYTES:
        raise ValueError(f"{name} expands to more than {MAX_EXPANDED_BYTES // 2**20} MB")
    return out


def parse_idx(data: bytes, name: str = "IDX file") -> np.ndarray:
    """An IDX array (the MNIST file format: magic 0 0 type ndim, big-endian sizes, data)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{name} is not an IDX file (bad magic number)")
    ndim = data[3]
    if not 1 <= ndim <= 4 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{name} is not an IDX file (bad header)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dt = np.dtype(_IDX_TYPES[data[2]])
    count = int(np.prod(shape, dtype=np.int64))
    start = 4 + 4 * ndim
    if len(data) - start != count * dt.itemsize:
        raise ValueError(f"{name}: header says {shape} but the file holds {len(data) - start} data bytes")
    if ndim == 1:
        raise ValueError(f"{name} is a labels file; point at the images file")
    return np.frombuffer(data, dtype=dt, count=count, offset=start).reshape(shape).astype(dt.newbyteorder("="))


def _read_limited(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")
    return path.read_bytes()


def _mnist_files(folder: Path) -> list[Path]:
    found = []
    for stem in ("train-images", "t10k-images"):
        for pattern in (f"{stem}-idx3-ubyte", f"{stem}.idx3-ubyte"):
            hit = [folder / (pattern + ext) for ext in ("", ".gz") if (folder / (pattern + ext)).is_file()]
            if hit:
                found.append(hit[0])
                break
    return found


def load_mnist_array(path: str | os.PathLike) -> np.ndarray:
    """The MNIST images at ``path`` (folder of IDX files, one IDX file, or an .npz), as (n, 28, 28)."""
    p = Path(path)
    if p.is_dir():
        files = _mnist_files(p)
        if not files:
            raise ValueError(
                f"{p} holds no MNIST image files (train-images-idx3-ubyte[.gz], t10k-images-idx3-ubyte[.gz])"
            )
        parts = [parse_idx(_maybe_gunzip(_read_limited(f), f.name), f.name) for f in files]
        return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
    if not p.is_file():
        raise ValueError(f"no such file or folder: {p}")
    if p.suffix.lower() == ".npz":
        members = _npz_members(_read_limited(p), p.name)
        if "x_train" in members:
            parts = [members["x_train"]] + ([members["x_test"]] if "x_test" in members else [])
            return np.concatenate(parts, axis=0)
        if len(members) == 1:
            return next(iter(members.values()))
        for k in _PREFERRED_KEYS:
            if k in members:
                return members[k]
        raise ValueError(f"{p.name} holds no 'x_train' array (has: {', '.join(sorted(members))})")
    return parse_idx(_maybe_gunzip(_read_limited(p), p.name), p.name)


# --------------------------------------------------------------------------- built-in sources
def digits_array() -> np.ndarray:
    """scikit-learn's 8×8 digits as (1797, 64) in [0, 1]."""
    from sklearn.datasets import load_digits

    return load_digits().data / 16.0


def sample_image_patches(patch_size: int = 12, n_patches: int = 4000, seed: int = 0) -> np.ndarray:
    """Grey patch_size² patches cut at seeded random places from scikit-learn's sample photographs."""
    if not 2 <= patch_size <= 64:
        raise ValueError(f"patch size must be in [2, 64], got {patch_size!r}")
    if not 1 <= n_patches <= MAX_SAMPLES:
        raise ValueError(f"the number of patches must be in [1, {MAX_SAMPLES}], got {n_patches!r}")
    from sklearn.datasets import load_sample_images

    try:
        images = load_sample_images().images
    except ImportError as exc:
        raise ValueError(f"the sample images need Pillow to decode them ({exc})") from None
    grey = [(im[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])) / 255.0 for im in images]
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(grey), size=n_patches)
    out = np.empty((n_patches, patch_size * patch_size))
    for k, i in enumerate(which):
        im = grey[i]
        r = rng.integers(0, im.shape[0] - patch_size + 1)
        c = rng.integers(0, im.shape[1] - patch_size + 1)
        out[k] = im[r : r + patch_size, c : c + patch_size].reshape(-1)
    return np.clip(out, 0.0, 1.0)


def synthetic_images(n: int = 2000, side: int = 28, seed: int = 0, chunk: int = 4096) -> np.ndarray:
    """Seeded images of two or three soft strokes each, (n, side²) in [0, 1] (MNIST-like statistics)."""
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"n must be in [1, {MAX_SAMPLES}], got {n!r}")
    if not 4 <= side <= 256:
        raise ValueError(f"side must be in [4, 256], got {side!r}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) / (side - 1)
    yy = yy.reshape(-1)
    xx = xx.reshape(-1)
    out = np.zeros((n, side * side))
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        img = np.zeros((m, side * side))
        for _ in range(3):
            cx, cy = rng.uniform(0.25, 0.75, size=(2, m, 1))
            ang = rng.uniform(0, np.pi, size=(m, 1))
            half = rng.uniform(0.1, 0.3, size=(m, 1))
            width = rng.uniform(0.03, 0.06, size=(m, 1))
            on = rng.random((m, 1)) < 0.8
            dx = xx[None, :] - cx
            dy = yy[None, :] - cy
            along = dx * np.cos(ang) + dy * np.sin(ang)
            across = -dx * np.sin(ang) + dy * np.cos(ang)
            beyond = np.maximum(np.abs(along) - half, 0.0)
            stroke = np.exp(-0.5 * ((across / width) ** 2 + (beyond / width) ** 2))
            np.maximum(img, stroke * on, out=img)
        out[s : s + m] = img
    return out


def load_data(
    source: str = "digits",
    path: str | os.PathLike | None = None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    max_samples: int | None = None,
    patch_size: int = 12,
    n_patches: int = 4000,
    n_synthetic: int = 2000,
    side: int = 28,
) -> Dataset:
    """Load ``source`` (see the module docstring), scaled to [0, 1], split with ``seed``."""
    src = str(source).strip().lower().replace("-", "_")
    kw = {"val_fraction": val_fraction, "seed": seed, "max_samples": max_samples}
    if src == "digits":
        x = digits_array()
        return split(x, "digits", (8, 8), **kw, description="scikit-learn digits: 1,797 images of 8×8 pixels")
    if src == "sample_images":
        x = sample_image_patches(patch_size, n_patches, seed)
        return split(x, "sample_images", (patch_size, patch_size), **kw,
                     description=f"{n_patches:,} grey {patch_size}×{patch_size} patches of scikit-learn's sample photographs")  # fmt: skip
    if src == "synthetic":
        x = synthetic_images(n_synthetic, side, seed)
        return split(x, "synthetic", (side, side), **kw,
                     description=f"{n_synthetic:,} synthetic {side}×{side} stroke images")  # fmt: skip
    if src in ("mnist", "file"):
        if path is None:
            raise ValueError(f"the {src} source needs a path")
        if src == "file":
            return load_file(path, **kw)
        raw = load_mnist_array(path)
        a, shape = check_array(raw, "the MNIST images")
        x, how = scale_unit(a)
        return split(x, "mnist", shape, **kw, description=f"MNIST from {Path(path).name}: {a.shape[0]:,} images, {how}")
    raise ValueError(f"unknown data source {source!r} (known: {', '.join(SOURCES)})")
