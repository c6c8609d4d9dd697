"""One exported figure made of the page's own figures: the map, and beside or below it the
diagnostic panels (loss, ‖∇f‖, distance to the minimum, effective learning rate, the stability
η·λ_max as ``curvature`` and on the quadratic the error split as ``errors``), sized for
the picture's frame.

The map keeps equal axes (circles stay circles: curvature is what the picture shows), so
its shape is the surface box's.  The rest of the frame goes to the panels:

* in a wide frame the map takes the full height and the panels stack in a column beside it;
* in a tall frame, or for a wide map (a long valley), the map takes the full width and the
  panels sit in a row below it.

With no panels, a frame whose height is free (``column``, ``page``) takes the map's shape;
a fixed frame (a slide) keeps the bands the map cannot fill, unless ``equal_axes`` is off.
``auto`` adds the loss and gradient panels exactly when the map alone would leave more than
:data:`MAX_EMPTY` of a fixed frame empty.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from app.explorer.compute import Result
from app.explorer.diagnostics import PANELS as PAGE_PANELS
from app.explorer.diagnostics import diagnostics_panels
from app.export.labels import place_labels
from app.export.sizes import Frame, height_for

#: panel names of the command line and the export bar → the page's diagnostics keys
PANEL_KEYS = {"loss": "loss", "grad": "grad", "dist": "dist", "lr": "eff", "curvature": "stab", "errors": "split"}
PANEL_NAMES = ("map", *PANEL_KEYS)
#: what ``auto`` adds when the map alone would leave a fixed frame too empty
AUTO_PANELS = ("loss", "grad")
#: the largest share of a frame the map may leave empty before ``auto`` adds panels
MAX_EMPTY = 0.15
#: layout margins (CSS px): title above, legend below, axis labels left
TOP, LEFT, RIGHT = 44, 60, 16
LEGEND_ROW = 22
AXIS_BELOW = 46  # tick labels and the axis title under the lowest plots
GAP = 64  # between plots side by side (the right one's tick labels)
GAP_BELOW = 92  # between the map and a row of panels under it (ticks, axis title, the panels' titles)


def parse_panels(text: str | None) -> tuple[str, ...] | None:
    """``"map,loss,grad"`` → ("map", "loss", "grad"); ``None``/``"auto"`` → None (decide from the frame).

    ValueError for an unknown or repeated name, or a list without the map.
    """
    if text is None or text.strip().lower() == "auto":
        return None
    names = tuple(p.strip().lower() for p in text.split(",") if p.strip())
    unknown = [n for n in names if n not in PANEL_NAMES]
    if unknown:
        raise ValueError(f"unknown panel {unknown[0]!r} (known: auto, {', '.join(PANEL_NAMES)})")
    if len(set(names)) != len(names):
        raise ValueError(f"a panel is named twice in {text!r}")
    if "map" not in names:
        raise ValueError("the panels must include the map")
    return names


def _legend_height(result: Result, width: float) -> float:
    labels = [r.entry.label() for r in result.runs if r.ok]
    per_row = max(1, int((width - LEFT) // 190))
    return AXIS_BELOW + 6 + LEGEND_ROW * max(1, -(-len(labels) // per_row))


def map_aspect(result: Result) -> float:
    (x0, x1), (y0, y1) = result.config.bounds
    return (x1 - x0) / (y1 - y0)


def top_margin(map_fig: dict[str, Any]) -> float:
    """The figure's top margin: :data:`TOP`, or more when its title asks for more (a typeset formula under it)."""
    t = map_fig.get("layout", {}).get("margin", {}).get("t", 0)
    return t if isinstance(t, (int, float)) and t > TOP else TOP


def map_only_empty_share(aspect: float, width: float, height: float, bottom: float, top: float = TOP) -> float:
    """The share of a ``width × height`` frame the equal-axes map alone leaves empty."""
    aw, ah = width - LEFT - RIGHT, height - top - bottom
    if aw <= 0 or ah <= 0:
        return 1.0
    pw, ph = (aw, aw / aspect) if aw / ah < aspect else (ah * aspect, ah)
    return 1.0 - (pw * ph) / (aw * ah)


def choose_panels(
    panels: tuple[str, ...] | None, result: Result, frame: Frame, fixed: bool, top: float = TOP
) -> tuple[str, ...]:
    """The panels drawn: ``panels`` as given, or for ``auto`` the map alone unless a fixed frame would be too empty."""
    if panels is not None:
        return panels
    if not fixed:
        return ("map",)
    bottom = _legend_height(result, frame.width)
    empty = map_only_empty_share(map_aspect(result), frame.width, frame.height, bottom, top)
    return ("map",) if empty <= MAX_EMPTY else ("map", *AUTO_PANELS)


def free_height(result: Result, width: int, panels: Sequence[str], top: float = TOP) -> int:
    """The frame height a free-height preset takes: the map's shape, plus a row of panels below."""
    aspect = map_aspect(result)
    bottom = _legend_height(result, width)
    map_h = (width - LEFT - RIGHT) / aspect
    side = [p for p in panels if p != "map"]
    extra = (GAP_BELOW + max(150.0, 0.32 * map_h)) if side else 0.0
    return height_for(width, width / (top + map_h + extra + bottom))


def _retarget(trace: dict[str, Any], n: int) -> dict[str, Any]:
    out = dict(trace)
    out["xaxis"], out["yaxis"] = f"x{n}", f"y{n}"
    return out


def composed_figure(
    map_fig: dict[str, Any], result: Result, panels: Sequence[str], frame: Frame, equal_axes: bool = True
) -> dict[str, Any]:
    """``map_fig`` (the page's map, ready for print) with the diagnostic ``panels`` laid out in ``frame``.

    The top margin is :func:`top_margin`'s (room for the title, and a formula under it)."""
    fig = copy.deepcopy(map_fig)
    layout = fig["layout"]
    w, h = float(frame.width), float(frame.height)
    bottom = _legend_height(result, w)
    top = top_margin(map_fig)
    layout["margin"] = {"l": LEFT, "r": RIGHT, "t": top, "b": bottom}
    layout["legend"] = {"orientation": "h", "x": 0.0, "y": -AXIS_BELOW / (h - top - bottom), "yanchor": "top",
                        "xanchor": "left", "font": {"size": 13}}  # fmt: skip
    for name in ("xaxis", "yaxis"):  # the margins above hold the tick labels: nothing may move them
        axis = layout.setdefault(name, {})
        axis["automargin"] = False
        if isinstance(axis.get("title"), dict):
            axis["title"] = {**axis["title"], "standoff": 4}
    if not equal_axes:
        layout["yaxis"].pop("scaleanchor", None)
    side = [PANEL_KEYS[p] for p in panels if p != "map"]
    if not side:
        return fig
    aw, ah = w - LEFT - RIGHT, h - top - bottom  # the paper: what the domains are fractions of
    aspect = map_aspect(result)
    beside_w = aw - ah * aspect - GAP  # room for a column of panels if the map takes the full height
    below_h = ah - aw / aspect - GAP_BELOW  # room for a row of panels if the map takes the full width
    if beside_w / aw >= below_h / ah:
        split = max(0.35, min(0.75, (ah * aspect) / aw))  # the map's share of the width
        layout["xaxis"]["domain"], layout["yaxis"]["domain"] = [0.0, split], [0.0, 1.0]
        col0 = split + GAP / aw
        boxes = _stack([col0, 1.0], [0.0, 1.0], len(side), vertical=True, gap=GAP / ah)
    else:
        split = max(0.25, min(0.75, 1.0 - (aw / aspect) / ah))  # the panels' share of the height
        layout["xaxis"]["domain"], layout["yaxis"]["domain"] = [0.0, 1.0], [split, 1.0]
        boxes = _stack([0.0, 1.0], [0.0, max(0.05, split - GAP_BELOW / ah)], len(side), vertical=False, gap=GAP / aw)
    pages = dict(zip((k for k, _ in PAGE_PANELS), diagnostics_panels(result)))
    for n, (key, (xd, yd)) in enumerate(zip(side, boxes), start=2):
        panel = pages[key]
        fig["data"].extend(_retarget(t, n) for t in panel["data"])
        pl = panel["layout"]
        layout[f"xaxis{n}"] = {**pl["xaxis"], "domain": xd, "anchor": f"y{n}"}
        layout[f"yaxis{n}"] = {**pl["yaxis"], "domain": yd, "anchor": f"x{n}"}
        layout.setdefault("annotations", []).append({
            "text": pl["title"]["text"], "xref": "paper", "yref": "paper", "x": xd[0], "y": yd[1],
            "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 13},
        })  # fmt: skip
    return fig


def _stack(xs: list[float], ys: list[float], n: int, vertical: bool, gap: float) -> list[tuple[list[float], list[float]]]:
    """``n`` equal boxes (x domain, y domain) filling ``xs × ys``, top to bottom or left to right."""
    lo, hi = (ys if vertical else xs)
    size = max(0.02, (hi - lo - gap * (n - 1)) / n)
    out = []
    for i in range(n):
        if vertical:
            top = hi - i * (size + gap)
            out.append((list(xs), [max(0.0, top - size), top]))
        else:
            left = lo + i * (size + gap)
            out.append(([left, min(1.0, left + size)], list(ys)))
    return out


def static_figure(
    result: Result,
    map_fig: dict[str, Any],
    size: str | None,
    width: int,
    height: int,
    scale: float,
    panels: str | None = None,
    equal_axes: bool = True,
) -> tuple[dict[str, Any], Frame]:
    """The figure of a PNG/SVG/PDF export and its frame.

    ``size`` names a preset (see :mod:`app.export.sizes`); without one, ``width × height`` at
    ``scale`` is a fixed frame.  ``panels`` is :func:`parse_panels`' text.
    """
    from app.export.sizes import get_preset

    if size is None:
        frame, fixed = Frame(width, height, scale), True
    else:
        preset = get_preset(size)
        frame, fixed = preset.frame(), preset.height is not None
    top = top_margin(map_fig)
    chosen = choose_panels(parse_panels(panels), result, frame, fixed, top)
    if not fixed:
        frame = Frame(frame.width, free_height(result, frame.width, chosen, top), frame.scale)
    fig = composed_figure(map_fig, result, chosen, frame, equal_axes)
    place_labels(fig, frame.width, frame.height)
    return fig, frame
