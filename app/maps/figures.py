"""Pure figure builders of the Sweep maps page: a :class:`~optimizers.maps.SweepMap` in, a plotly figure dict out.

A map is drawn as heatmaps (so a click reports the pixel it hit):

* coloured by the minimum reached: one categorical heatmap, a colour per
  minimum from the Okabe–Ito palette, light grey for "no known minimum",
  black for "diverged";
* coloured by steps to converge or by final loss: a heatmap on a sequential
  scale (viridis without its darkest end, so it never looks like the black of
  "diverged"), with two single-colour heatmaps on top for the starts that did
  not converge (light grey) and those that diverged (black).

Every colour that appears has a legend entry (an invisible marker trace named
after the category, with its share of the map).  A basin map lies over the
surface's contour lines (:func:`app.shell.contours.contour_lines`, as in the Explorer);
a hyperparameter map of heavy-ball momentum or SGD on the quadratic can carry
the analytic stability boundary as a line (:func:`stability_boundary`).  The figure of a
whole map configuration (titles, background, bound) is put together in :mod:`app.maps.map_figure`.

Nothing here touches Dash; the functions are unit-tested without a browser.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.export.imaging import OKABE_ITO, RAMP
from app.shell.contours import contour_lines
from app.shell.raster import typed
from app.shell.style import FONT, escape, message_figure
from optimizers.maps import DIVERGED, NO_MINIMUM, SweepMap

__all__ = [
    "BASIN_COLORS",
    "DIVERGED_COLOR",
    "NONE_COLOR",
    "SEQUENTIAL_SCALE",
    "SHOWS",
    "SHOW_LABELS",
    "basin_figure",
    "hyper_figure",
    "legend_entries",
    "message_figure",
    "stability_boundary",
]

#: colouring of a map: by the minimum reached, steps to converge, or final loss
SHOWS = ("minimum", "steps", "loss")
#: how the page names each colouring (its radio items, the figure's subtitle)
SHOW_LABELS = {"minimum": "minimum reached", "steps": "steps to converge", "loss": "final loss"}
#: one colour per minimum (Okabe & Ito, colour-blind safe; the same order as the command line's PNGs)
BASIN_COLORS = OKABE_ITO
DIVERGED_COLOR = "#000000"
NONE_COLOR = "#dddddd"  # reached no known minimum / did not converge
#: viridis without its darkest stop (which would read as "diverged")
SEQUENTIAL_SCALE = [[i / (len(RAMP) - 2), "#%02x%02x%02x" % c] for i, c in enumerate(RAMP[1:])]
BOUND_COLOR = "#000000"
CONTOUR_COLOR = "rgba(20,20,20,0.38)"
MAX_LEGEND_MINIMA = 8
LOSS_FLOOR = 1e-16


# --------------------------------------------------------------------------- classes of pixels


def discrete_scale(colors: Sequence[str]) -> list[list[Any]]:
    """A plotly colorscale giving integer z = 0 … n−1 the n colours (with zmin −0.5, zmax n − 0.5)."""
    n = len(colors)
    out: list[list[Any]] = []
    for k, c in enumerate(colors):
        out.append([k / n, c])
        out.append([(k + 1) / n, c])
    return out


def _share(mask: np.ndarray) -> str:
    p = 100.0 * float(mask.mean()) if mask.size else 0.0
    if p == 0.0:
        return "0 %"
    if p < 1:
        return "< 1 %"
    return f"{p:.0f} %"


def _fmt_point(x: float, y: float) -> str:
    return f"({x:.3g}, {y:.3g})"


def not_converged(smap: SweepMap) -> np.ndarray:
    """Starts that neither converged nor diverged within the steps (ran out of steps, or stalled)."""
    return ~smap.converged & ~smap.diverged


def legend_entries(smap: SweepMap, show: str, steps: int | None = None) -> list[tuple[str, str]]:
    """(label, colour) of every colour the map shows, in legend order; ``steps`` is the runs' step budget."""
    out: list[tuple[str, str]] = []
    if show == "minimum":
        counts = [(k, smap.basin == k) for k in range(len(smap.minima))]
        shown = [(k, m) for k, m in counts if m.any()]
        for k, m in shown[:MAX_LEGEND_MINIMA]:
            x, y = smap.minima[k]
            out.append((f"minimum {k + 1} {_fmt_point(x, y)} · {_share(m)}", BASIN_COLORS[k % len(BASIN_COLORS)]))
        if len(shown) > MAX_LEGEND_MINIMA:
            rest = np.isin(smap.basin, [k for k, _ in shown[MAX_LEGEND_MINIMA:]])
            out.append((f"{len(shown) - MAX_LEGEND_MINIMA} more minima (colours repeat) · {_share(rest)}", "#ffffff"))
        none = smap.basin == NO_MINIMUM
        if none.any():
            out.append((f"no known minimum · {_share(none)}", NONE_COLOR))
    else:
        nc = not_converged(smap)
        if show == "steps" and nc.any():
            within = f" in {steps} steps" if steps else ""
            out.append((f"not converged{within} · {_share(nc)}", NONE_COLOR))
    if smap.diverged.any():
        out.append((f"diverged · {_share(smap.diverged)}", DIVERGED_COLOR))
    return out


def basin_classes(smap: SweepMap) -> tuple[np.ndarray, list[str]]:
    """Integer class of every pixel for the 'minimum' colouring, and the colour of each class.

    Classes 0 … K−1 are the minima, K is "no known minimum", K + 1 is "diverged".
    """
    k = len(smap.minima)
    z = np.where(smap.basin >= 0, smap.basin, k).astype(np.float64)
    z[smap.basin == DIVERGED] = k + 1
    colors = [BASIN_COLORS[i % len(BASIN_COLORS)] for i in range(k)] + [NONE_COLOR, DIVERGED_COLOR]
    return z, colors


def loss_values(smap: SweepMap, f_star: float | None) -> tuple[np.ndarray, float]:
    """log10(f − f*) of every pixel that did not diverge (NaN where it did), and the f* used.

    f* is the surface's lowest known minimum value, or the lowest final loss on
    the map when no minimum is known.
    """
    loss = np.where(np.isfinite(smap.final_loss) & ~smap.diverged, smap.final_loss, np.nan)
    if f_star is None or not math.isfinite(f_star):
        finite = loss[np.isfinite(loss)]
        f_star = float(finite.min()) if finite.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.log10(np.maximum(loss - f_star, LOSS_FLOOR))
    return z, float(f_star)


# --------------------------------------------------------------------------- traces


def _axis_arg(values: np.ndarray, log: bool) -> Any:
    """Heatmap coordinates: cell centres on a linear axis, cell edges (geometric midpoints) on a log axis."""
    v = np.asarray(values, dtype=np.float64)
    if not log or v.size < 2 or np.any(v <= 0):
        return typed(v)
    lv = np.log10(v)
    mids = (lv[1:] + lv[:-1]) / 2
    edges = np.concatenate([[lv[0] - (mids[0] - lv[0])], mids, [lv[-1] + (lv[-1] - mids[-1])]])
    return typed(10.0**edges)


def _heatmap(smap: SweepMap, z: np.ndarray, name: str, hover: str, **kw: Any) -> dict[str, Any]:
    return {
        "type": "heatmap",
        "name": name,
        "x": _axis_arg(smap.xs, smap.log_x),
        "y": _axis_arg(smap.ys, smap.log_y),
        "z": typed(z, "f4"),
        "hoverongaps": False,
        "hovertemplate": hover + "<extra></extra>",
        "showlegend": False,
        **kw,
    }


def _legend_trace(label: str, color: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [None],
        "y": [None],
        "name": escape(label),
        "marker": {"symbol": "square", "size": 13, "color": color, "line": {"color": "#444444", "width": 1}},
        "hoverinfo": "skip",
        "showlegend": True,
    }


def value_traces(
    smap: SweepMap, show: str, f_star: float | None, where: str, steps: int | None = None
) -> list[dict[str, Any]]:
    """The heatmap(s) of a map for one colouring and the legend entries of its colours.

    ``where`` is the hover text naming a pixel (e.g. ``"start (%{x:.3g}, %{y:.3g})"``).
    """
    if show not in SHOWS:
        raise ValueError(f"show must be one of {', '.join(SHOWS)}, got {show!r}")
    traces: list[dict[str, Any]] = []
    if show == "minimum":
        z, colors = basin_classes(smap)
        traces.append(
            _heatmap(smap, z, "minimum reached", where + "<br>click for this run", colorscale=discrete_scale(colors),
                     zmin=-0.5, zmax=len(colors) - 0.5, showscale=False)
        )  # fmt: skip
    else:
        if show == "steps":
            z = np.where(smap.converged, smap.steps, np.nan).astype(np.float64)
            title, fmt = "steps to converge", "%{z:.0f}"
        else:
            z, _ = loss_values(smap, f_star)
            title, fmt = "log₁₀(f − f*)", "%{z:.2f}"
        finite = z[np.isfinite(z)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        traces.append(
            _heatmap(smap, z, title, f"{where}<br>{title}: {fmt}", colorscale=SEQUENTIAL_SCALE, zmin=lo, zmax=hi,
                     showscale=True,
                     colorbar={"title": {"text": title, "side": "right"}, "thickness": 14, "len": 0.8,
                               "outlinewidth": 0})
        )  # fmt: skip
        overlays = [(smap.diverged, DIVERGED_COLOR, "diverged")]
        if show == "steps":
            overlays.insert(0, (not_converged(smap), NONE_COLOR, "did not converge"))
        for mask, color, what in overlays:
            if mask.any():
                traces.append(
                    _heatmap(smap, np.where(mask, 1.0, np.nan), what, f"{where}<br>{what}",
                             colorscale=[[0, color], [1, color]], zmin=0, zmax=1, showscale=False)
                )  # fmt: skip
    traces += [_legend_trace(label, color) for label, color in legend_entries(smap, show, steps)]
    return traces


def contour_trace(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: Any) -> dict[str, Any]:
    """The surface's contour lines (drawn over the map)."""
    lx, ly = contour_lines(xs, ys, z, levels)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": typed(lx, "f4"),
        "y": typed(ly, "f4"),
        "line": {"color": CONTOUR_COLOR, "width": 1},
        "hoverinfo": "skip",
        "showlegend": False,
        "name": "contours",
    }


def minima_trace(minima: Sequence[tuple[float, float]], bounds: tuple[tuple[float, float], tuple[float, float]]) -> dict[str, Any]:
    """Numbered stars at the minima inside the box (numbers as in the legend)."""
    (x0, x1), (y0, y1) = bounds
    pts = [(k, x, y) for k, (x, y) in enumerate(minima) if x0 <= x <= x1 and y0 <= y <= y1]
    return {
        "type": "scatter",
        "mode": "markers+text",
        "x": [x for _, x, _ in pts],
        "y": [y for _, _, y in pts],
        "text": [str(k + 1) for k, _, _ in pts],
        "textposition": "top right",
        "textfont": {"size": 14, "color": "#111111"},
        "marker": {"symbol": "star", "size": 15, "color": "#ffffff", "line": {"color": "#111111", "width": 1.5}},
        "hovertemplate": "minimum %{text} (%{x:.4g}, %{y:.4g})<extra></extra>",
        "showlegend": False,
        "name": "minima",
        "cliponaxis": False,
    }


def _layout(title: str, subtitle: str = "") -> dict[str, Any]:
    t: dict[str, Any] = {"text": escape(title), "x": 0.01, "xanchor": "left", "font": {"size": 15}}
    if subtitle:
        t["subtitle"] = {"text": escape(subtitle), "font": {"size": 12.5, "color": "#4a5260"}}
    return {
        "margin": {"l": 64, "r": 16, "t": 58 if subtitle else 40, "b": 10},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 13.5, "color": "#1d232b"},
        "title": t,
        "showlegend": True,
        # below the plot, referenced to the container so it pushes the plot up instead of covering the x title;
        # centred, because plotly wraps a horizontal legend at the full plot width while a map of the plane
        # (equal axis scales) may be narrower and centred in it
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "yref": "container", "y": 0.005,
                   "yanchor": "bottom", "font": {"size": 12.5}, "itemclick": False, "itemdoubleclick": False},
        "hovermode": "closest",
        "dragmode": "zoom",
    }  # fmt: skip


# --------------------------------------------------------------------------- figures


def basin_figure(
    smap: SweepMap,
    show: str,
    *,
    title: str,
    subtitle: str = "",
    f_star: float | None = None,
    steps: int | None = None,
    contours: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A basin map over the plotting box: each start coloured by ``show``; contours and minima on top.

    ``contours`` is the surface's contour-line trace (:func:`contour_trace`), or None for none.
    """
    where = "start (%{x:.3g}, %{y:.3g})"
    traces = value_traces(smap, show, f_star, where, steps)
    if contours is not None:
        traces.append(contours)
    x0, x1 = float(smap.xs[0]), float(smap.xs[-1])
    y0, y1 = float(smap.ys[0]), float(smap.ys[-1])
    traces.append(minima_trace(smap.minima, ((x0, x1), (y0, y1))))
    dx = (x1 - x0) / max(smap.xs.size - 1, 1) / 2
    dy = (y1 - y0) / max(smap.ys.size - 1, 1) / 2
    layout = _layout(title, subtitle)
    layout.update(
        {
            "xaxis": {"range": [x0 - dx, x1 + dx], "title": {"text": "start x₀"}, "showgrid": False,
                      "zeroline": False, "constrain": "domain", "automargin": True},
            "yaxis": {"range": [y0 - dy, y1 + dy], "title": {"text": "start y₀"}, "showgrid": False,
                      "zeroline": False, "scaleanchor": "x", "scaleratio": 1, "constrain": "domain",
                      "automargin": True},
        }
    )  # fmt: skip
    return {"data": traces, "layout": layout}


def hyper_figure(
    smap: SweepMap,
    show: str,
    *,
    title: str,
    subtitle: str = "",
    x_title: str,
    y_title: str,
    x_symbol: str = "x",
    y_symbol: str = "y",
    f_star: float | None = None,
    steps: int | None = None,
    bound: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> dict[str, Any]:
    """A hyperparameter map: one pixel per pair of values, coloured by ``show``.

    ``bound`` is (xs, ys, label) of an analytic stability boundary drawn over
    the map (NaN separates pieces), or None.
    """
    where = f"{escape(x_symbol)} = %{{x:.4g}}, {escape(y_symbol)} = %{{y:.4g}}"
    traces = value_traces(smap, show, f_star, where, steps)
    if bound is not None:
        bx, by, label = bound
        # a white halo under a black line: visible on every colour of the map
        common = {"type": "scatter", "mode": "lines", "x": typed(bx), "y": typed(by), "hoverinfo": "skip"}
        traces.append({**common, "line": {"color": "#ffffff", "width": 6}, "showlegend": False, "name": "bound halo"})
        traces.append({**common, "line": {"color": BOUND_COLOR, "width": 2.5, "dash": "dash"}, "showlegend": True,
                       "name": escape(label)})  # fmt: skip
    layout = _layout(title, subtitle)
    layout.update(
        {
            "xaxis": _hyper_axis(smap.xs, smap.log_x, x_title),
            "yaxis": _hyper_axis(smap.ys, smap.log_y, y_title),
        }
    )
    return {"data": traces, "layout": layout}


def _hyper_axis(values: np.ndarray, log: bool, label: str) -> dict[str, Any]:
    v = np.asarray(values, dtype=np.float64)
    if log and v.size > 1 and np.all(v > 0):
        lv = np.log10(v)
        h = (lv[1] - lv[0]) / 2
        rng = [float(lv[0] - h), float(lv[-1] + h)]
        kind = "log"
    else:
        h = (v[-1] - v[0]) / max(v.size - 1, 1) / 2
        rng = [float(v[0] - h), float(v[-1] + h)]
        kind = "linear"
    return {"type": kind, "range": rng, "title": {"text": escape(label)}, "showgrid": False, "zeroline": False,
            "automargin": True, "exponentformat": "power" if kind == "log" else "B"}  # fmt: skip


# --------------------------------------------------------------------------- analytic boundary


def stability_boundary(
    stable: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    log_x: bool = False,
    log_y: bool = False,
    n: int = 241,
    iterations: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """Where ``stable(x, y)`` changes along x, for ``n`` values of y across ``y_range``.

    ``stable`` is a vectorised predicate that is monotone in x for each y (true
    for x below a limit, or above one).  Each crossing is found by bisection
    (in log10 x on a log axis); a y without a crossing inside ``x_range`` gives
    NaN, which breaks the line.  Returns the points (x, y).
    """
    (xa, xb), (ya, yb) = x_range, y_range
    ys = np.geomspace(ya, yb, n) if log_y and ya > 0 else np.linspace(ya, yb, n)
    to = (lambda u: 10.0**u) if log_x and xa > 0 else (lambda u: u)
    lo = np.full(n, math.log10(xa) if log_x and xa > 0 else xa, dtype=np.float64)
    hi = np.full(n, math.log10(xb) if log_x and xa > 0 else xb, dtype=np.float64)
    s_lo = np.asarray(stable(to(lo), ys), dtype=bool)
    s_hi = np.asarray(stable(to(hi), ys), dtype=bool)
    cross = s_lo != s_hi
    for _ in range(iterations):
        mid = (lo + hi) / 2
        s_mid = np.asarray(stable(to(mid), ys), dtype=bool)
        same = s_mid == s_lo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    xs = np.where(cross, to((lo + hi) / 2), np.nan)
    return xs, ys
