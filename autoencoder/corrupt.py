"""Input corruptions for denoising: Gaussian noise, salt and pepper, blur, knockout.

Every corruption takes a batch of flattened images with values in [0, 1], an
image shape (h, w) where the corruption needs the pixel grid, and a numpy
Generator; it returns a new array, also in [0, 1] (the input is not changed).

>>> import numpy as np
>>> c = parse_corruption("gaussian:0.2")
>>> c.kind, c.level
('gaussian', 0.2)
>>> x = np.full((2, 16), 0.5)
>>> corrupt(x, c, (4, 4), np.random.default_rng(0)).shape
(2, 16)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: kind → (display name, default level, lowest, highest, what the level means)
KINDS: dict[str, tuple[str, float, float, float, str]] = {
    "clean": ("Clean", 0.0, 0.0, 0.0, "no corruption"),
    "salt_pepper": ("Salt and pepper", 0.1, 0.0, 1.0, "fraction of pixels set to 0 or 1"),
    "gaussian": ("Gaussian", 0.2, 0.0, 1.0, "standard deviation σ of the added noise"),
    "blur": ("Blur", 1.0, 0.0, 5.0, "σ of the Gaussian blur kernel, in pixels"),
    "knockout": ("Knockout", 0.3, 0.0, 1.0, "side of the zeroed square, as a fraction of the image side"),
}
_ALIASES = {
    "none": "clean",
    "salt-and-pepper": "salt_pepper",
    "salt_and_pepper": "salt_pepper",
    "saltpepper": "salt_pepper",
    "s&p": "salt_pepper",
    "sp": "salt_pepper",
    "noise": "gaussian",
    "gauss": "gaussian",
}
#: corruptions that need the image grid
GRID_KINDS = ("blur", "knockout")


@dataclass(frozen=True)
class Corruption:
    """One corruption: its kind and strength (see ``KINDS`` for what ``level`` means)."""

    kind: str
    level: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown corruption {self.kind!r} (known: {', '.join(KINDS)})")
        _, _, lo, hi, what = KINDS[self.kind]
        if not (isinstance(self.level, (int, float)) and math.isfinite(self.level) and lo <= self.level <= hi):
            raise ValueError(f"{self.kind} level ({what}) must be in [{lo:g}, {hi:g}], got {self.level!r}")

    @property
    def display_name(self) -> str:
        return KINDS[self.kind][0]

    @property
    def needs_grid(self) -> bool:
        return self.kind in GRID_KINDS

    def label(self) -> str:
        return self.display_name if self.kind == "clean" else f"{self.display_name} ({self.level:g})"

    def spec(self) -> str:
        """The text form parse_corruption reads back."""
        return self.kind if self.kind == "clean" else f"{self.kind}:{self.level:g}"


def parse_corruption(text: str) -> Corruption:
    """'gaussian:0.2', 'salt_pepper', 'blur:1.5', 'knockout:0.25' → Corruption (default level if omitted)."""
    raw = str(text).strip()
    name, sep, level_text = raw.partition(":")
    kind = name.strip().lower().replace(" ", "_")
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"unknown noise type {name.strip()!r} (known: {', '.join(KINDS)})")
    if not sep:
        return Corruption(kind, KINDS[kind][1])
    try:
        level = float(level_text)
    except ValueError:
        raise ValueError(f"noise level must be a number, got {level_text.strip()!r} in {raw!r}") from None
    return Corruption(kind, level)


#: the columns of the lecture's denoising table, with default strengths
DEFAULT_TABLE: tuple[Corruption, ...] = (
    Corruption("clean", 0.0),
    Corruption("salt_pepper", KINDS["salt_pepper"][1]),
    Corruption("gaussian", KINDS["gaussian"][1]),
    Corruption("blur", KINDS["blur"][1]),
    Corruption("knockout", KINDS["knockout"][1]),
)


def _grid(x: np.ndarray, image_shape: tuple[int, int] | None, kind: str) -> np.ndarray:
    if image_shape is None:
        raise ValueError(f"{kind} needs image data (a pixel grid); this data set has no image shape")
    h, w = image_shape
    if h * w != x.shape[1]:
        raise ValueError(f"image shape {h}x{w} does not match {x.shape[1]} features")
    return x.reshape(x.shape[0], h, w)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian taps with radius ceil(3σ) (a single 1 for σ = 0)."""
    if sigma <= 0.0:
        return np.ones(1)
    r = max(1, math.ceil(3.0 * sigma))
    t = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def _convolve_axis(img: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """Convolve along ``axis`` (1 or 2) with edge pixels repeated beyond the border."""
    r = k.size // 2
    if r == 0:
        return img.copy()
    pad = [(0, 0)] * img.ndim
    pad[axis] = (r, r)
    p = np.pad(img, pad, mode="edge")
    n = img.shape[axis]
    out = np.zeros_like(img)
    for j, kj in enumerate(k):
        sl = [slice(None)] * img.ndim
        sl[axis] = slice(j, j + n)
        out += kj * p[tuple(sl)]
    return out


def blur(x: np.ndarray, sigma: float, image_shape: tuple[int, int] | None) -> np.ndarray:
    """Separable Gaussian blur of each image (rows, then columns)."""
    img = _grid(x, image_shape, "blur")
    k = gaussian_kernel(sigma)
    out = _convolve_axis(_convolve_axis(img, k, 1), k, 2)
    return out.reshape(x.shape)


def corrupt(
    x: np.ndarray,
    corruption: Corruption,
    image_shape: tuple[int, int] | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """A corrupted copy of ``x`` (n × d, values in [0, 1]), clipped to [0, 1]."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a batch of flattened images (n × d), got shape {x.shape}")
    kind, level = corruption.kind, float(corruption.level)
    if kind == "clean":
        return x.copy()
    if kind == "gaussian":
        noise = rng.standard_normal(x.shape).astype(x.dtype, copy=False)
        out = x + level * noise
    elif kind == "salt_pepper":
        u = rng.random(x.shape)
        out = x.copy()
        out[u < 0.5 * level] = 0.0
        out[(u >= 0.5 * level) & (u < level)] = 1.0
    elif kind == "blur":
        out = blur(x, level, image_shape).astype(x.dtype, copy=False)
    elif kind == "knockout":
        img = _grid(x, image_shape, "knockout")
        n, h, w = img.shape
        side_h = min(h, max(1, round(level * h))) if level > 0 else 0
        side_w = min(w, max(1, round(level * w))) if level > 0 else 0
        out3 = img.copy()
        if side_h and side_w:
            top = rng.integers(0, h - side_h + 1, size=n)
            left = rng.integers(0, w - side_w + 1, size=n)
            rows = np.arange(h)[None, :]
            cols = np.arange(w)[None, :]
            in_r = (rows >= top[:, None]) & (rows < top[:, None] + side_h)  # n × h
            in_c = (cols >= left[:, None]) & (cols < left[:, None] + side_w)  # n × w
            out3[in_r[:, :, None] & in_c[:, None, :]] = 0.0
        out = out3.reshape(x.shape)
    else:  # pragma: no cover - Corruption validates kind
        raise ValueError(f"unknown corruption {kind!r}")
    return np.clip(out, 0.0, 1.0, out=out)


def supported(corruption: Corruption, image_shape: tuple[int, int] | None) -> bool:
    """Whether ``corruption`` can be applied to data with this image shape."""
    return not corruption.needs_grid or image_shape is not None
