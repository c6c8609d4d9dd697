"""Export a computed sweep map: the page's figure as PNG, SVG or PDF, or the map's data as CSV or NPZ.

One function, :func:`export_map`, serves the command line (``descent-lab sweep``) and the
``/maps`` page's Download button, so both write the same file for the same map:

* ``png``, ``svg``, ``pdf``: the page's figure laid out for a size (:mod:`app.export.sweep_figure`)
  and drawn by the export browser (:func:`app.export.formats.static_image`).  A PNG has the
  preset's pixels (``slide`` 1920 × 1080, ``column`` 1050 wide …); an SVG or PDF is drawn at
  scale 1, so it is the preset's physical size (``column`` 3.5 in wide: ``\\includegraphics``
  in LaTeX keeps its text at the document's 8–10 pt);
* ``csv``: one row per pixel (``x, y, final_x, final_y, final_loss, steps, status, minimum``;
  empty loss where a run diverged);
* ``npz``: every array of the map, and the axis labels.

PNG, SVG, PDF and NPZ carry the map's settings (:mod:`app.export.sweep_metadata`).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np

from app.export.formats import ExportError, ExportOptions, static_image
from app.export.sweep_figure import MapSize, export_figure
from app.export.sweep_metadata import embed, embed_npz, settings_document, settings_text
from app.maps.map_figure import map_figure
from app.maps.state import MapConfig, map_query
from optimizers.maps import SweepMap

FIGURES = ("png", "svg", "pdf")
FORMATS = FIGURES + ("csv", "npz")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv",
               "npz": "application/octet-stream"}  # fmt: skip
STATUS_NAMES = {0: "running", 1: "completed", 2: "diverged", 3: "converged", 4: "stalled"}

__all__ = ["FIGURES", "FORMATS", "MEDIA_TYPES", "ExportError", "MapSize", "export_map", "filename", "map_csv",
           "map_npz", "settings_of"]  # fmt: skip


def settings_of(cfg: MapConfig) -> dict[str, Any]:
    """The settings document an export of ``cfg``'s map carries."""
    return settings_document(map_query(cfg), cfg.kind)


def figure_for(cfg: MapConfig, smap: SweepMap, surface: Any, size: MapSize) -> tuple[dict[str, Any], Any]:
    """The export figure of a computed map and its frame (the page's figure, laid out for ``size``)."""
    return export_figure(map_figure(cfg, smap, surface), size)


def export_map(cfg: MapConfig, smap: SweepMap, surface: Any, fmt: str, size: MapSize | None = None,
               svg_text: str = "font") -> bytes:
    """The file of format ``fmt`` for the map ``smap`` computed from ``cfg`` on ``surface``.

    ``size`` matters for the figures only (default: the ``page`` preset); ``svg_text`` for SVG only
    (``font`` embeds the subset font, ``paths`` draws the text as outlines).  ValueError for an
    unknown format or a size nothing fits in; ExportError when the export browser cannot draw.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    settings = settings_of(cfg)
    if fmt == "csv":
        return map_csv(smap)
    if fmt == "npz":
        return map_npz(smap, settings_text(settings))
    fig, frame = figure_for(cfg, smap, surface, size or MapSize())
    scale = frame.scale if fmt == "png" else 1.0
    image = static_image(fig, fmt, ExportOptions(width=frame.width, height=frame.height, scale=scale,
                                                     svg_text=svg_text))
    title = " ".join(frame.placement.title_lines)
    return embed(fmt, image, settings, title=title)


def map_csv(smap: SweepMap) -> bytes:
    """One row per pixel, rows of the map bottom to top: the axis values, where the run ended, and how."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([smap.x_label, smap.y_label, "final_x", "final_y", "final_loss", "steps", "status", "minimum"])
    for r in range(smap.ys.size):
        for c in range(smap.xs.size):
            loss = float(smap.final_loss[r, c])
            writer.writerow([
                repr(float(smap.xs[c])), repr(float(smap.ys[r])), repr(float(smap.final_x[r, c])),
                repr(float(smap.final_y[r, c])), repr(loss) if np.isfinite(loss) else "",
                int(smap.steps[r, c]), STATUS_NAMES.get(int(smap.status[r, c]), "unknown"), int(smap.basin[r, c]),
            ])  # fmt: skip
    return buf.getvalue().encode("utf-8")


def map_arrays(smap: SweepMap) -> dict[str, np.ndarray]:
    """Every array of a SweepMap, by name (no object arrays: loadable with ``allow_pickle=False``)."""
    return {
        "xs": smap.xs, "ys": smap.ys, "final_x": smap.final_x, "final_y": smap.final_y,
        "final_loss": smap.final_loss, "steps": smap.steps, "status": smap.status, "basin": smap.basin,
        "minima": np.asarray(smap.minima, dtype=float).reshape(-1, 2), "labels": np.array([smap.x_label, smap.y_label]),
        "precision": np.array(smap.precision),  # the arithmetic the runs ran in: float64, or float32 when asked for
    }  # fmt: skip


def map_npz(smap: SweepMap, settings: str | None = None) -> bytes:
    """The map's arrays as a compressed .npz, with the settings text as ``settings`` when given."""
    arrays = map_arrays(smap)
    if settings is not None:
        arrays = embed_npz(arrays, settings)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def filename(cfg: MapConfig, fmt: str) -> str:
    """A download name such as ``descent-lab-map-himmelblau-adam.png``."""
    surface = "formula" if cfg.base.is_formula else cfg.base.surface
    name = f"descent-lab-map-{surface}-{cfg.entry.name}"
    if cfg.kind == "hyper":
        name += f"-{cfg.x_axis.key}-{cfg.y_axis.key}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + f".{fmt}"
