"""Text labels of an exported map placed so that no two overlap.

The page places the arrow labels ("−∇f", "−m", "Δθ") on its canvas apart from each other;
a static picture draws them with plotly, which puts every label top-right of its point,
so labels of arrows that end close together print over each other.  Here each label gets
the first of :data:`POSITIONS` whose box (estimated from the font size and the text's
length) overlaps no label placed before it, in the figure's own pixel geometry.

The placement itself (:func:`first_free`, :func:`flow`) is pure geometry on boxes of any
origin: the animated export (:mod:`app.export.animation`) places its text with the same
functions, on boxes it measures with the font it draws in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: (left, top, right, bottom) in pixels, y growing downwards
Box = tuple[float, float, float, float]

#: where a label may sit around its point, in the order tried
POSITIONS = ("top right", "bottom right", "top left", "bottom left", "middle right", "middle left",
             "top center", "bottom center")  # fmt: skip
CHAR_WIDTH = 0.62  # of the font size: the width of an average glyph of the sans-serif fonts used
LINE_HEIGHT = 1.25
PAD = 3.0  # pixels between a point and its label


def _pixels(axis: dict[str, Any], lo_px: float, size_px: float) -> tuple[float, float, float, float]:
    """(data low, data high, pixel low, pixel high) of an axis over its domain of the paper."""
    lo, hi = axis.get("range", (0.0, 1.0))
    d0, d1 = axis.get("domain", (0.0, 1.0))
    return float(lo), float(hi), lo_px + d0 * size_px, lo_px + d1 * size_px


def _equal_scale(x: list[float], y: list[float]) -> None:
    """Shrink the longer axis's pixel span about its centre so both axes have one scale (plotly's
    ``scaleanchor`` with ``constrain: domain``)."""
    sx, sy = (x[3] - x[2]) / ((x[1] - x[0]) or 1.0), (y[3] - y[2]) / ((y[1] - y[0]) or 1.0)
    s = min(sx, sy)
    for a, scale in ((x, sx), (y, sy)):
        if scale > s:
            mid, half = (a[2] + a[3]) / 2, (a[1] - a[0]) * s / 2
            a[2], a[3] = mid - half, mid + half


def box_at(x: float, y: float, w: float, h: float, position: str, pad: float = PAD) -> Box:
    """The ``w × h`` box placed at ``position`` (one of :data:`POSITIONS`) of the point (x, y), ``pad`` away."""
    vertical, _, horizontal = position.partition(" ")
    left = {"right": x + pad, "left": x - pad - w, "center": x - w / 2}[horizontal]
    top = {"top": y - pad - h, "bottom": y + pad, "middle": y - h / 2}[vertical]
    return left, top, left + w, top + h


def label_box(x: float, y: float, text: str, size: float, position: str) -> Box:
    """(left, top, right, bottom) in pixels of ``text`` at font ``size`` placed at ``position`` of (x, y)."""
    return box_at(x, y, CHAR_WIDTH * size * max(len(text), 1), LINE_HEIGHT * size, position)


def overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share some area (boxes that only touch do not overlap)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def within(box: Box, bounds: Box) -> bool:
    """Whether ``box`` lies entirely inside ``bounds``."""
    return bounds[0] <= box[0] and box[2] <= bounds[2] and bounds[1] <= box[1] and box[3] <= bounds[3]


def shift_inside(box: Box, bounds: Box) -> Box | None:
    """``box`` moved (not resized) the least distance that puts it inside ``bounds``; None if it is larger."""
    w, h = box[2] - box[0], box[3] - box[1]
    if w > bounds[2] - bounds[0] or h > bounds[3] - bounds[1]:
        return None
    left = min(max(box[0], bounds[0]), bounds[2] - w)
    top = min(max(box[1], bounds[1]), bounds[3] - h)
    return left, top, left + w, top + h


def first_free(
    x: float,
    y: float,
    w: float,
    h: float,
    positions: Sequence[str],
    taken: Iterable[Box],
    bounds: Box | None = None,
    pad: float = PAD,
    rings: int = 1,
) -> tuple[str, Box] | None:
    """The first position of ``positions`` around (x, y) where a ``w × h`` box overlaps none of ``taken``.

    Every position is tried at distance ``pad`` from the point, then (for ``rings`` > 1) all of
    them again one box height further out, and so on.  With ``bounds`` a box is first shifted
    inside them (:func:`shift_inside`), so a label at an edge slides along it instead of leaving
    the picture.  None when no tried box is free.
    """
    taken = list(taken)
    for ring in range(max(1, rings)):
        for position in positions:
            box: Box | None = box_at(x, y, w, h, position, pad + ring * h)
            if bounds is not None:
                box = shift_inside(box, bounds)
                if box is None:
                    return None
            if not any(overlap(box, other) for other in taken):
                return position, box
    return None


def flow(widths: Sequence[float], left: float, right: float, gap: float) -> list[tuple[float, int]]:
    """Items of the given widths laid out left to right in rows within [left, right]: each item's (x, row).

    An item that does not fit after the last one on its row starts the next row; an item wider than
    the whole span gets a row of its own (the caller shortens it to ``right - left``).
    """
    out: list[tuple[float, int]] = []
    x, row = left, 0
    for w in widths:
        if x > left and x + w > right:
            x, row = left, row + 1
        out.append((x, row))
        x += w + gap
    return out


def place_labels(fig: dict[str, Any], width: float, height: float) -> list[tuple[str, Box]]:
    """Give every labelled point of the map (axes x/y) of ``fig`` a text position clear of the others.

    Changes ``fig`` in place (each text trace's ``textposition`` becomes a list, one per point)
    and returns the labels with their boxes (for tests).  ``width × height`` is the figure's
    layout size in pixels.
    """
    layout = fig["layout"]
    m = layout.get("margin", {})
    left, top = float(m.get("l", 80)), float(m.get("t", 100))
    pw, ph = width - left - float(m.get("r", 80)), height - top - float(m.get("b", 80))
    xa, ya = layout.get("xaxis", {}), layout.get("yaxis", {})
    x, y = list(_pixels(xa, left, pw)), list(_pixels(ya, 0.0, ph))
    if ya.get("scaleanchor") == "x":
        _equal_scale(x, y)

    def to_x(v: float) -> float:
        return x[2] + (v - x[0]) / ((x[1] - x[0]) or 1.0) * (x[3] - x[2])

    def to_y(v: float) -> float:  # paper fractions grow upwards, screen pixels downwards
        return top + ph - (y[2] + (v - y[0]) / ((y[1] - y[0]) or 1.0) * (y[3] - y[2]))
    placed: list[tuple[str, Box]] = []
    for trace in fig["data"]:
        texts = trace.get("text")
        if "text" not in str(trace.get("mode", "")) or not isinstance(texts, list) or trace.get("xaxis", "x") != "x":
            continue
        size = float(trace.get("textfont", {}).get("size", 12))
        given = trace.get("textposition", "top right")
        positions = list(given) if isinstance(given, list) else [given] * len(texts)
        for i, text in enumerate(texts):
            if not text or i >= len(trace.get("x", [])):
                continue
            px, py = to_x(float(trace["x"][i])), to_y(float(trace["y"][i]))
            w, h = CHAR_WIDTH * size * max(len(str(text)), 1), LINE_HEIGHT * size
            tried = (positions[i], *POSITIONS)
            free = first_free(px, py, w, h, tried, (other for _, other in placed))
            pos, box = free if free is not None else (tried[-1], box_at(px, py, w, h, tried[-1]))
            positions[i] = pos
            placed.append((str(text), box))
        trace["textposition"] = positions
    return placed
