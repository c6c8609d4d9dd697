"""Raster helpers: plotly.js typed-array specs, colouring a sampled surface, and the app's one PNG encoder.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import numpy as np

from app.shell.style import SURFACE_SCALE, UNDEFINED_RGB


def typed(a: Any, dtype: str = "f8") -> dict[str, str]:
    """A plotly.js typed-array spec (float64, or float32 for display-only series); NaN is a gap."""
    arr = np.asarray(a, dtype=np.float64)
    if dtype == "f4":
        arr = np.where(np.abs(arr) > 3.0e38, np.nan, arr)
    arr = np.ascontiguousarray(arr, dtype="<" + dtype)
    spec = {"dtype": dtype, "bdata": base64.b64encode(arr.tobytes()).decode("ascii")}
    if arr.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in arr.shape)
    return spec


def untyped(spec: Any) -> np.ndarray:
    """Inverse of :func:`typed` (for tests); plain lists pass through as arrays."""
    if isinstance(spec, dict) and "bdata" in spec:
        a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<" + spec.get("dtype", "f8")).astype(np.float64)
        if "shape" in spec:
            a = a.reshape(tuple(int(s) for s in spec["shape"].split(",")))
        return a
    return np.asarray(spec, dtype=np.float64)


def _scale_rgb() -> tuple[np.ndarray, np.ndarray]:
    stops = np.array([p for p, _ in SURFACE_SCALE])
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in SURFACE_SCALE], dtype=np.float64)
    return stops, rgb


def colorize(z: np.ndarray, low: float, high: float) -> np.ndarray:
    """RGB (uint8) of ``z`` on :data:`SURFACE_SCALE` between ``low`` and ``high``; non-finite → UNDEFINED_RGB."""
    stops, rgb = _scale_rgb()
    span = high - low if high > low else 1.0
    t = np.clip((np.nan_to_num(z, nan=low) - low) / span, 0.0, 1.0)
    out = np.empty(z.shape + (3,), dtype=np.uint8)
    for k in range(3):
        out[..., k] = np.round(np.interp(t, stops, rgb[:, k])).astype(np.uint8)
    out[~np.isfinite(z)] = UNDEFINED_RGB
    return out


def png_rgb(rgb: np.ndarray) -> bytes:
    """A PNG file of an (h, w, 3) uint8 image whose row 0 is the *bottom* row (like a y-up grid)."""
    img = np.ascontiguousarray(rgb[::-1], dtype=np.uint8)
    h, w, _ = img.shape
    # filter type 1 (Sub): each byte minus the byte of the pixel to its left; smooth images compress well
    sub = img.astype(np.int16)
    sub[:, 1:, :] -= img[:, :-1, :].astype(np.int16)
    rows = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    rows[:, 0] = 1
    rows[:, 1:] = (sub % 256).astype(np.uint8).reshape(h, 3 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b"")
