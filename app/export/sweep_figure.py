"""The sweep map as an exported figure: the page's own figure, laid out for a slide, a column or a page.

:func:`export_figure` takes the figure the ``/maps`` page draws (:func:`app.maps.map_figure.map_figure`:
the same heatmaps, legend entries, colour bar, titles, contours, minima and stability bound) and
changes only what an export needs:

* every block is placed by :mod:`app.export.sweep_layout` for the frame (title and subtitle
  wrapped to their width, the legend in columns under the plot or in a column beside it, the
  colour bar beside the plot), so no two labels collide and no label leaves the picture;
* fonts, markers and lines are sized for the medium, in the export font;
* white paper, no hover, zoom or other interactive settings.

:func:`export_size` turns a size request (a preset of :mod:`app.export.sizes`, or explicit
pixels) into the frame and the typography.  Everything here is pure (figure dict in, figure
dict out); rendering is :func:`app.export.formats.static_image`.
"""

from __future__ import annotations

import copy
import html
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.export.sizes import SIZE_PRESETS, get_preset, height_for
from app.export.sweep_layout import (
    FONT_FAMILY,
    LINE,
    SUBTITLE_GAP,
    Content,
    Placement,
    Typography,
    place,
    text_width,
    typography,
    wrap,
)
from app.shell.style import escape

#: the page's sizes these are scaled from (app.maps.figures)
PAGE_LEGEND_MARKER = 13.0
PAGE_TICK = 13.5
SLIDE_PRESETS = ("slide", "slide43")
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True)
class MapSize:
    """What size an export asks for: a preset name, or an explicit width (and height) in pixels.

    Explicit sizes are layout pixels drawn at scale 1, so a PNG is exactly ``width × height``
    pixels (and an SVG or PDF ``width`` / 96 inches wide); a missing height follows the content.
    """

    preset: str | None = "page"
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if self.width is None:
            if self.height is not None:
                raise ValueError("a height needs a width")
            get_preset(self.preset or "")  # ValueError naming the presets
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 200 <= v <= 4000):
                raise ValueError(f"{name} must be a whole number of pixels in [200, 4000], got {v!r}")


@dataclass(frozen=True)
class ExportFrame:
    """The frame an export is drawn in: layout size, pixel density, typography and placement."""

    width: int
    height: int
    scale: float
    placement: Placement

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.width * self.scale), round(self.height * self.scale)


def medium_of(size: MapSize) -> str:
    if size.width is not None:
        return "screen"
    return "slide" if size.preset in SLIDE_PRESETS else "print"


def whole_pixels(height: int, scale: float) -> int:
    """The smallest layout height ≥ ``height`` that is a whole number of pixels at ``scale`` (3.125: a multiple of 8)."""
    step = Fraction(scale).limit_denominator(1000).denominator
    return -(-height // step) * step


def export_size(size: MapSize, content: Content) -> ExportFrame:
    """The frame for ``content`` at ``size``: a fixed frame, or the height the content asks for.

    A free height (the print presets, or a width alone) is the content's, clamped by the aspect
    and size limits of :mod:`app.export.sizes` and rounded up to whole pixels; the layout is then
    redone for that frame.
    """
    if size.width is not None:
        width, fixed, scale = size.width, size.height, 1.0
        typo = typography("screen", size.width, size.height)
    else:
        preset = SIZE_PRESETS[size.preset or ""]
        width, fixed, scale = preset.width, preset.height, preset.scale
        typo = typography(medium_of(size), preset.width, preset.height)
    if fixed is not None:
        return ExportFrame(width, fixed, scale, place(content, typo, width, fixed))
    wanted = place(content, typo, width, None)
    height = whole_pixels(height_for(width, width / wanted.height), scale)
    p = wanted if height == wanted.height else place(content, typo, width, height)
    return ExportFrame(width, height, scale, p)


# --------------------------------------------------------------------------- reading the page's figure


def _plain(text: Any) -> str:
    return html.unescape(str(text or "")).replace("<br>", " ")


def _number(v: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    text = f"{v:.{decimals}f}"
    return text.replace("-", "−")


def tick_labels(lo: float, hi: float, log: bool) -> tuple[str, ...]:
    """Labels an axis over [lo, hi] may show (plotly's choice varies with length; the widest matter).

    ``lo`` and ``hi`` are data values, or log10 of them on a log axis (as plotly's range is).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return ("0",)
    if log:
        exps = range(math.floor(lo), math.ceil(hi) + 1)
        return tuple(("1" if e == 0 else "10" if e == 1 else "10" + str(e).translate(SUPERSCRIPT)) for e in exps) + (
            "5",
        )
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw))
    out: list[str] = []
    for step in (mag, 2 * mag, 2.5 * mag, 5 * mag, 10 * mag):
        first = math.ceil(lo / step)
        out += [_number(k * step, step) for k in range(first, first + int((hi - lo) / step) + 1)][:12]
    return tuple(dict.fromkeys(out))


def _value_heatmap(fig: dict[str, Any]) -> dict[str, Any] | None:
    return next((t for t in fig["data"] if t.get("type") == "heatmap" and t.get("showscale")), None)


def content_of(fig: dict[str, Any]) -> Content:
    """The text and plot shape of a map figure (as :func:`app.maps.map_figure.map_figure` builds it)."""
    lay = fig["layout"]
    title = lay.get("title", {})
    xa, ya = lay["xaxis"], lay["yaxis"]
    (x0, x1), (y0, y1) = xa["range"], ya["range"]
    aspect = None
    if ya.get("scaleanchor") == "x":  # a map of the plane: equal scales
        aspect = (x1 - x0) / (y1 - y0) / float(ya.get("scaleratio", 1.0))
    bar = _value_heatmap(fig)
    bar_ticks: tuple[str, ...] = ()
    if bar is not None:
        bar_ticks = tick_labels(float(bar["zmin"]), float(bar["zmax"]), False)
    return Content(
        title=_plain(title.get("text")),
        subtitle=_plain(title.get("subtitle", {}).get("text")),
        legend=tuple(_plain(t.get("name")) for t in fig["data"] if t.get("showlegend")),
        x_ticks=tick_labels(float(x0), float(x1), xa.get("type") == "log"),
        y_ticks=tick_labels(float(y0), float(y1), ya.get("type") == "log"),
        colorbar_ticks=bar_ticks,
        colorbar_title=_plain(bar.get("colorbar", {}).get("title", {}).get("text")) if bar is not None else "",
        aspect=aspect,
    )


# --------------------------------------------------------------------------- the export's figure


def _lines(lines: tuple[str, ...]) -> str:
    return "<br>".join(escape(s) for s in lines)


def log_dtick(lo: float, hi: float, length: float, label: float) -> int:
    """Decades between labelled ticks of a log axis over [lo, hi] (log10), ``length`` pixels long, whose labels
    are ``label`` pixels long (width on x, height on y): 1, or more when labels a decade apart would touch.

    (Plotly's own choice labels 2, 3 … 9 between decades in a smaller font and sets the decades lower,
    where they can meet the axis title; an export labels decades only, with unlabelled minor ticks.)
    """
    per = length / max(hi - lo, 1e-9)
    return max(1, math.ceil(1.5 * label / per))


def _axis(axis: dict[str, Any], t: Typography, length: float, vertical: bool) -> dict[str, Any]:
    out = {k: v for k, v in axis.items() if k not in ("scaleanchor", "scaleratio", "constrain")}
    if axis.get("type") == "log":
        lo, hi = axis["range"]
        label = LINE * t.tick if vertical else max(text_width(s, t.tick) for s in tick_labels(lo, hi, True))
        step = log_dtick(lo, hi, length, label)
        out.update(dtick=step, tick0=0)
        if step == 1 and length / max(hi - lo, 1e-9) >= 4 * t.tick:
            out["minor"] = {"dtick": "D1", "ticks": "outside", "ticklen": round(0.2 * t.tick), "tickcolor": "#9aa1ab"}
    out.update(automargin=False, tickfont={"size": t.tick}, ticks="outside", ticklen=round(0.3 * t.tick),
               tickcolor="#6b7380", showline=True, linecolor="#6b7380", linewidth=1, mirror=True)  # fmt: skip
    out["title"] = {**axis.get("title", {}), "font": {"size": t.label}, "standoff": round(0.4 * t.label)}
    return out


def _at(p: Placement, x: float, y: float) -> tuple[float, float]:
    """Paper coordinates (0–1 across the plot area, y upwards) of the layout pixel (x, y)."""
    pw, ph = p.plot.x1 - p.plot.x0, p.plot.y1 - p.plot.y0
    return (x - p.plot.x0) / pw, (p.plot.y1 - y) / ph


def title_annotations(p: Placement, old: dict[str, Any]) -> list[dict[str, Any]]:
    """The title and subtitle as annotations anchored at their tops (plotly anchors a multi-line title by its
    first baseline, which would push its first line out of the picture)."""
    t = p.typo
    common = {"xref": "paper", "yref": "paper", "xanchor": "left", "yanchor": "top", "align": "left",
              "showarrow": False, "borderpad": 0}  # fmt: skip
    x, y = _at(p, p.title.x0, p.title.y0)
    out = [{**common, "name": "title", "text": _lines(p.title_lines), "x": x, "y": y,
            "font": {**old.get("font", {}), "size": t.title}}]  # fmt: skip
    if p.subtitle_lines:
        top = p.title.y0 + LINE * t.title * len(p.title_lines) + SUBTITLE_GAP * t.title
        x, y = _at(p, p.title.x0, top)
        sub = old.get("subtitle", {})
        out.append({**common, "name": "subtitle", "text": _lines(p.subtitle_lines), "x": x, "y": y,
                    "font": {**sub.get("font", {}), "size": t.subtitle}})  # fmt: skip
    return out


def apply_placement(fig: dict[str, Any], p: Placement) -> dict[str, Any]:
    """A copy of the page's ``fig`` laid out as ``p`` says (see the module docstring)."""
    out = copy.deepcopy(fig)
    t = p.typo
    w, h = p.width, p.height
    grow = max(1.0, t.tick / PAGE_TICK)
    lay = out["layout"]
    for key in ("dragmode", "hovermode", "clickmode", "uirevision"):
        lay.pop(key, None)
    lay.update(
        width=w, height=h, paper_bgcolor="#ffffff", plot_bgcolor="#ffffff", hovermode=False,
        font={**lay.get("font", {}), "family": FONT_FAMILY, "size": t.tick},
        margin={"l": p.plot.x0, "r": w - p.plot.x1, "t": p.plot.y0, "b": h - p.plot.y1, "pad": 0, "autoexpand": False},
        xaxis=_axis(lay["xaxis"], t, p.plot.x1 - p.plot.x0, False),
        yaxis=_axis(lay["yaxis"], t, p.plot.y1 - p.plot.y0, True),
    )  # fmt: skip
    old_title = lay.pop("title", {})
    lay["annotations"] = list(lay.get("annotations", [])) + title_annotations(p, old_title)
    legend = {**lay.get("legend", {}), "x": p.legend.x0 / w, "xref": "container", "xanchor": "left",
              "y": 1 - p.legend.y0 / h, "yref": "container", "yanchor": "top", "font": {"size": t.legend},
              "orientation": "h" if p.legend_horizontal else "v", "bgcolor": "rgba(255,255,255,0)"}  # fmt: skip
    legend.pop("entrywidth", None)
    legend["maxheight"] = h  # plotly's default (half the figure) would make a long legend scroll
    if p.legend_horizontal and p.legend_entry_width > 0:
        legend.update(entrywidth=p.legend_entry_width, entrywidthmode="pixels")
    lay["legend"] = legend
    labels = iter(p.legend_labels)
    for tr in out["data"]:
        tr.pop("hovertemplate", None)
        tr["hoverinfo"] = "skip"
        if tr.get("showlegend"):
            tr["name"] = _lines(next(labels, ("",)))
            if "marker" in tr and tr.get("mode") == "markers":
                tr["marker"] = {**tr["marker"], "size": round(PAGE_LEGEND_MARKER * t.legend / 12.5)}
        if tr.get("type") == "heatmap" and tr.get("showscale"):
            ph = p.plot.y1 - p.plot.y0
            tr["colorbar"] = {**tr.get("colorbar", {}), "x": 1 + (p.colorbar.x0 - p.plot.x1) / (p.plot.x1 - p.plot.x0),
                              "xref": "paper", "xanchor": "left", "y": 0.5, "yref": "paper", "yanchor": "middle",
                              "len": (p.colorbar.y1 - p.colorbar.y0) / ph, "lenmode": "fraction",
                              "thickness": round(0.8 * t.label, 1),
                              "tickfont": {"size": t.tick}, "ticklen": round(0.25 * t.tick),
                              "nticks": max(2, int((p.colorbar.y1 - p.colorbar.y0) // (2.2 * LINE * t.tick))),
                              "title": {**tr.get("colorbar", {}).get("title", {}), "text": _lines(p.colorbar_title_lines),
                                        "font": {"size": t.label}}}  # fmt: skip
        if tr.get("name") == "minima":
            tr["textfont"] = {**tr.get("textfont", {}), "size": round(14 * grow, 1)}
            tr["marker"] = {**tr["marker"], "size": round(15 * grow, 1)}
        if tr.get("mode") == "lines" and "line" in tr:
            tr["line"] = {**tr["line"], "width": round(tr["line"].get("width", 1) * grow, 2)}
    return out


def export_figure(fig: dict[str, Any], size: MapSize) -> tuple[dict[str, Any], ExportFrame]:
    """The page's map figure ``fig`` laid out for ``size``, and the frame to render it in."""
    frame = export_size(size, content_of(fig))
    return apply_placement(fig, frame.placement), frame


__all__ = ["ExportFrame", "MapSize", "apply_placement", "content_of", "export_figure", "export_size", "tick_labels",
           "wrap"]  # fmt: skip
