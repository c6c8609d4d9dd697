"""What a class room shows the teacher: the join QR code and the class's answers (pure functions)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.lessons.figures import prediction_map

ANSWER_COLOR = "#d55e00"


def qr_data_uri(url: str) -> str:
    """An SVG QR code of ``url`` as a data URI (drawn on the server: no outside service)."""
    import segno

    svg = segno.make(url, error="m").svg_data_uri(scale=6, border=2, dark="#111111", light="#ffffff")
    return svg


def _bars(labels: list[str], counts: list[int], title: str) -> dict[str, Any]:
    return {
        "data": [{"type": "bar", "x": labels, "y": counts, "marker": {"color": ANSWER_COLOR},
                  "hovertemplate": "%{x}: %{y}<extra></extra>"}],
        "layout": {"margin": {"l": 40, "r": 10, "t": 30, "b": 60}, "height": 260, "title": {"text": title},
                   "yaxis": {"title": {"text": "students"}, "rangemode": "tozero", "dtick": 1}},
    }  # fmt: skip


def tally_figure(kind: str, answers: list[Any], choices: tuple[str, ...] = (), view_cfg: Any = None,
                 surface: Any = None) -> dict[str, Any]:
    """The class's answers: a heat map of clicked points over the prediction map (click), a bar per
    choice (first, diverge) or a histogram (number).  Answers of the wrong shape are skipped."""
    n = len(answers)
    if kind == "click" and surface is not None:
        pts = [a for a in answers if isinstance(a, list) and len(a) == 2]
        fig = prediction_map(view_cfg, surface)
        (x0, x1), (y0, y1) = surface.bounds
        fig["data"].append({
            "type": "histogram2d", "x": [p[0] for p in pts], "y": [p[1] for p in pts], "name": "answers",
            "xbins": {"start": x0, "end": x1, "size": (x1 - x0) / 24}, "ybins": {"start": y0, "end": y1, "size": (y1 - y0) / 24},
            "colorscale": [[0.0, "rgba(213,94,0,0)"], [1e-6, "rgba(213,94,0,0.35)"], [1.0, "rgba(213,94,0,0.95)"]],
            "showscale": False, "hovertemplate": "%{z} here<extra></extra>",
        })  # fmt: skip
        fig["data"].append({
            "type": "scatter", "mode": "markers", "x": [p[0] for p in pts], "y": [p[1] for p in pts], "name": "answers",
            "marker": {"symbol": "x", "size": 9, "color": ANSWER_COLOR, "opacity": 0.7, "line": {"width": 1, "color": "#fff"}},
            "hoverinfo": "skip",
        })  # fmt: skip
        fig["layout"]["title"] = {"text": f"{len(pts)} prediction{'s' if len(pts) != 1 else ''}"}
        fig["layout"]["margin"]["t"] = 30
        return fig
    if kind in ("first", "diverge"):
        labels = list(choices) if kind == "first" else ["yes", "no"]
        c = Counter(a for a in answers if a in labels)
        return _bars(labels, [c[label] for label in labels], f"{sum(c.values())} answers")
    nums = [float(a) for a in answers if isinstance(a, (int, float)) and not isinstance(a, bool)]
    return {
        "data": [{"type": "histogram", "x": nums, "marker": {"color": ANSWER_COLOR}, "nbinsx": 20}],
        "layout": {"margin": {"l": 40, "r": 10, "t": 30, "b": 40}, "height": 260,
                   "title": {"text": f"{len(nums)} answers"}, "yaxis": {"title": {"text": "students"}}},
    } if n or nums else _bars([], [], "no answers yet")  # fmt: skip
