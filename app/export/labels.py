"""Text labels of an exported map placed so that no two overlap.

The page places the arrow labels ("−∇f", "−m", "Δθ") on its canvas apart from each other;
a static picture draws them with plotly, which puts every label top-right of its point,
so labels of arrows that end close together print over each other.  Here each label gets
the first of :data:`POSITIONS` whose box (estimated from the font size and the text's
length) overlaps no label placed before it, in the figure's own pixel geometry.
"""

from __future__ import annotations

from typing import Any

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


def label_box(x: float, y: float, text: str, size: float, position: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) in pixels of ``text`` at font ``size`` placed at ``position`` of (x, y)."""
    w, h = CHAR_WIDTH * size * max(len(text), 1), LINE_HEIGHT * size
    vertical, _, horizontal = position.partition(" ")
    left = {"right": x + PAD, "left": x - PAD - w, "center": x - w / 2}[horizontal]
    top = {"top": y - PAD - h, "bottom": y + PAD, "middle": y - h / 2}[vertical]
    return left, top, left + w, top + h


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(fig: dict[str, Any], width: float, height: float) -> list[tuple[str, tuple[float, float, float, float]]]:
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
    placed: list[tuple[str, tuple[float, float, float, float]]] = []
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
            for pos in (positions[i], *POSITIONS):
                box = label_box(px, py, str(text), size, pos)
                if not any(overlap(box, other) for _, other in placed):
                    break
            positions[i] = pos
            placed.append((str(text), box))
        trace["textposition"] = positions
    return placed
