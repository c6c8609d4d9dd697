"""Pixel images of sweep maps, written as PNG without a browser (for the command line).

Colours: the Okabe–Ito palette for basins (colour-blind safe), a perceptually
ordered ramp for steps and loss, black for diverged starts, light grey for
starts that reached no known minimum.
"""

from __future__ import annotations

import numpy as np

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")
#: a viridis-like ramp (dark blue → green → yellow), as RGB stops
RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
DIVERGED_RGB = (0, 0, 0)
NONE_RGB = (221, 221, 221)


def hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def ramp(t: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to RGB (…, 3) uint8 along RAMP."""
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0) * (len(RAMP) - 1)
    i = np.minimum(t.astype(int), len(RAMP) - 2)
    f = (t - i)[..., None]
    stops = np.asarray(RAMP, dtype=float)
    return np.round(stops[i] * (1 - f) + stops[i + 1] * f).astype(np.uint8)


def map_rgb(smap, color_by: str = "minimum") -> np.ndarray:
    """RGB image (rows = y from bottom to top) of a SweepMap coloured by minimum, steps or loss."""
    h, w = smap.status.shape
    img = np.empty((h, w, 3), dtype=np.uint8)
    if color_by == "minimum":
        img[:] = NONE_RGB
        for k in range(len(smap.minima)):
            img[smap.basin == k] = hex_rgb(OKABE_ITO[k % len(OKABE_ITO)])
    elif color_by == "steps":
        steps = smap.steps.astype(float)
        ok = steps >= 0
        top = steps[ok].max() if ok.any() else 1.0
        img[:] = ramp(np.where(ok, steps / max(top, 1.0), 1.0))
        img[~ok] = NONE_RGB
    elif color_by == "loss":
        loss = np.where(np.isfinite(smap.final_loss), smap.final_loss, np.nan)
        finite = loss[np.isfinite(loss)]
        lo = finite.min() if finite.size else 0.0
        lg = np.log10(np.maximum(loss - lo, 0.0) + 1e-12)
        lg_f = lg[np.isfinite(lg)]
        a, b = (lg_f.min(), lg_f.max()) if lg_f.size else (0.0, 1.0)
        img[:] = ramp((lg - a) / max(b - a, 1e-12))
    else:
        raise ValueError(f"color_by must be minimum, steps or loss, got {color_by!r}")
    img[smap.diverged] = DIVERGED_RGB
    return img[::-1]  # PNG rows run top to bottom


def png_bytes(rgb: np.ndarray, scale: int = 1) -> bytes:
    """Encode an (h, w, 3) uint8 array (row 0 on top) as PNG, each pixel repeated scale×scale times."""
    from app.shell.raster import png_rgb  # the app's one PNG encoder (it takes row 0 at the bottom)

    if scale > 1:
        rgb = np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)
    return png_rgb(rgb[::-1])
