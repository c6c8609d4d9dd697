"""The figure style every page shares: the run palette, the map's colour scale, the font, and the
message figure shown where a plot cannot be drawn.
"""

from __future__ import annotations

from typing import Any


#: Okabe & Ito's colour-blind-safe palette, ordered for contrast on a light map (yellow last)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: the map's background colour scale: light and neutral, so the coloured paths stand out
SURFACE_SCALE = [[0.0, "#ffffff"], [0.25, "#eef1f5"], [0.6, "#cfd7e1"], [1.0, "#93a3b8"]]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
LINE_COLOR = "rgba(55,66,84,0.42)"
UNDEFINED_RGB = (243, 226, 226)  # where the surface is not finite (e.g. log of a negative number)


def color(c: int) -> str:
    return COLORS[c % len(COLORS)]


def message_figure(text: str) -> dict[str, Any]:
    """An empty map carrying a message (e.g. a formula that does not parse)."""
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "margin": {"l": 20, "r": 20, "t": 20, "b": 20},
            "annotations": [
                {"text": wrap_lines(text), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5,
                 "y": 0.5, "font": {"size": 16, "color": "#8a3b00", "family": FONT}}
            ],
        },
    }  # fmt: skip


def escape(text: str) -> str:
    """Plotly renders a subset of HTML in labels; show user-influenced text literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap_lines(text: str, width: int = 70) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "<br>".join(escape(s) for s in lines[:6])
