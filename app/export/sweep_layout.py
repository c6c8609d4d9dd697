"""Where each part of an exported sweep map goes: text measured in the export font, blocks that never overlap.

On the page plotly lays the map out in whatever box the browser gives it.  An export has a medium
instead (a slide, a journal column, a page), so every block is placed here, in layout pixels
(1/96 in), before plotly draws the figure:

* the *title block*: the title and the subtitle, each wrapped to the width it gets;
* the *plot block*: the y-axis title and tick labels, the plot area, the x-axis tick labels and
  title below it, and the colour bar on its right;
* the *legend*: columns of entries under the plot block (``"stack"``), or one column beside it,
  under the title (``"side"``, for a map of the plane on a wide slide).

A basin map keeps equal scales on x and y when that wastes at most :data:`MAX_WASTE` of the frame
on empty bands; otherwise (a long valley on a 4:3 slide) the plot fills the frame.  Text widths
are measured with DejaVu Sans, the first font of :data:`FONT_FAMILY` (installed with Chromium's
fonts here; elsewhere plotly falls back to Verdana, whose widths are the same, or a narrower
sans serif), and the legend's geometry is plotly's: an entry is its text plus
:data:`LEGEND_TEXT_GAP` pixels, a row is 1.3 lines of text plus 3 pixels.

Everything here is pure arithmetic on strings and numbers; :mod:`app.export.sweep_figure` applies
a :class:`Placement` to the page's figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

FONT_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")
#: plotly's line spacing (in font sizes)
LINE = 1.3
#: largest share of the frame that may be left as empty bands before equal scales are given up
MAX_WASTE = 0.15
#: a legend entry's width beyond its text (symbol and gaps), and its box beyond its rows
LEGEND_TEXT_GAP = 46.0  # plotly: 40 before the text, 5 after (and 1 to spare)
LEGEND_PAD = 11.0
LEGEND_ROW_MIN = 16.0
#: plot width ÷ height of a hyperparameter map when the height is free
FREE_ASPECT = 1.45
MIN_PLOT = 60.0
#: space between the title's last line and the subtitle (in title font sizes)
SUBTITLE_GAP = 0.15


@dataclass(frozen=True)
class Typography:
    """Font sizes (layout pixels) of the title, subtitle, axis titles, tick labels and legend."""

    title: float
    subtitle: float
    label: float
    tick: float
    legend: float


#: a slide is seen from across a room: 1280 layout pixels span a 13.3 in slide, so 21 px ≈ 16 pt
SLIDE_TYPE = Typography(title=28.0, subtitle=19.0, label=21.0, tick=18.0, legend=19.0)
#: print: 10 pt title, 9 pt axis titles, 8 pt ticks, legend and subtitle (n px print at 0.75·n pt)
PRINT_TYPE = Typography(title=40 / 3, subtitle=32 / 3, label=12.0, tick=32 / 3, legend=32 / 3)


def typography(medium: str, width: float, height: float | None) -> Typography:
    """The font sizes for ``medium`` (``slide``, ``print``, or ``screen``: scaled with an explicit size)."""
    if medium == "slide":
        return SLIDE_TYPE
    if medium == "print":
        return PRINT_TYPE
    side = min(width, 16 / 9 * height) if height else width
    f = min(max(side / 1280.0, PRINT_TYPE.tick / SLIDE_TYPE.tick), 2.5)
    return Typography(*(max(p, round(s * f, 2)) for s, p in zip(vars(SLIDE_TYPE).values(), vars(PRINT_TYPE).values())))


# --------------------------------------------------------------------------- text


@lru_cache(maxsize=64)
def _font(size: float):  # a PIL font, or None
    try:
        from PIL import ImageFont
    except ImportError:  # pragma: no cover  (Pillow is a dependency)
        return None
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return None


def text_width(text: str, size: float) -> float:
    """Width in layout pixels of one line of ``text`` at font size ``size`` (DejaVu Sans)."""
    font = _font(round(size * 4) / 4)
    if font is None:
        return 0.64 * size * len(text)
    return float(font.getlength(text))


def wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (words kept whole unless one alone is too wide)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if text_width(trial, size) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word
        while text_width(line, size) > width and len(line) > 1:  # a word wider than the line: cut it
            cut = len(line) - 1
            while cut > 1 and text_width(line[:cut], size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def widest(lines: list[str] | tuple[str, ...], size: float) -> float:
    return max((text_width(s, size) for s in lines), default=0.0)


# --------------------------------------------------------------------------- what is placed


@dataclass(frozen=True)
class Content:
    """The text of a figure and its plot's shape, as the layout needs them (plain text, not HTML)."""

    title: str
    subtitle: str
    legend: tuple[str, ...]
    x_ticks: tuple[str, ...]  # labels the x axis may show (the widest matter)
    y_ticks: tuple[str, ...]
    colorbar_ticks: tuple[str, ...] = ()  # empty: no colour bar
    colorbar_title: str = ""
    aspect: float | None = None  # plot width ÷ height at equal scales; None: free


@dataclass(frozen=True)
class Box:
    """A block of the figure: ``name`` and its corners in layout pixels, from the top left."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


@dataclass(frozen=True)
class Placement:
    """Where everything goes in a ``width`` × ``height`` frame (layout pixels, origin top left)."""

    width: int
    height: int
    mode: str  # "stack" or "side"
    equal: bool  # the plot keeps equal scales on x and y
    typo: Typography
    plot: Box  # the plot area
    title: Box
    title_lines: tuple[str, ...]
    subtitle_lines: tuple[str, ...]
    legend: Box
    legend_labels: tuple[tuple[str, ...], ...]  # each entry's lines
    legend_columns: int
    legend_entry_width: float  # text width of a horizontal legend's columns (0: one row of natural widths)
    colorbar: Box | None
    colorbar_title_lines: tuple[str, ...]  # the colour bar's title, wrapped to the bar's length
    blocks: tuple[Box, ...]  # every block, for overlap checks
    waste: float  # share of the frame in empty rows and columns

    @property
    def legend_horizontal(self) -> bool:
        return self.mode == "stack"


def band_waste(blocks: list[Box] | tuple[Box, ...], width: float, height: float) -> float:
    """Share of the frame in rows and columns that no block reaches (empty bands)."""

    def covered(spans: list[tuple[float, float]], size: float) -> float:
        total, end = 0.0, 0.0
        for a, b in sorted((max(0.0, a), min(size, b)) for a, b in spans):
            if b <= end:
                continue
            total += b - max(a, end)
            end = b
        return total

    cols = width - covered([(b.x0, b.x1) for b in blocks if b.x1 > b.x0], width)
    rows = height - covered([(b.y0, b.y1) for b in blocks if b.y1 > b.y0], height)
    return (cols * height + rows * width - cols * rows) / (width * height)


@dataclass(frozen=True)
class _Margins:
    """The plot block's sizes around the plot area, for one typography and content."""

    pad: float
    gap: float
    left: float  # y title + y tick labels
    top: float  # above the plot area (half a tick label)
    bottom: float  # x tick labels + x title
    right: float  # half the last x tick label
    colorbar: float  # the colour bar and its labels (0 without)
    bar_thickness: float


def _margins(c: Content, t: Typography, bar_lines: int = 1) -> _Margins:
    pad = max(4.0, 0.35 * t.label)
    gap = 0.3 * t.label
    left = pad + LINE * t.label + 0.6 * t.tick + widest(c.y_ticks, t.tick) + 0.8 * t.tick
    bottom = 0.5 * t.tick + 1.15 * t.tick + 0.4 * t.label + 1.2 * t.label
    right = max(pad, widest(c.x_ticks, t.tick) / 2 + 0.25 * t.tick)
    thickness = round(0.8 * t.label, 1)
    bar = 0.0
    if c.colorbar_ticks:
        bar = (
            1.2 * gap
            + thickness
            + 0.5 * t.tick
            + widest(c.colorbar_ticks, t.tick)
            + 0.6 * t.label
            + bar_lines * LINE * t.label
        )
    return _Margins(pad, gap, left, 0.5 * t.tick, bottom, right, bar, thickness)


def _title_height(t: Typography, title: list[str], subtitle: list[str]) -> float:
    h = LINE * t.title * len(title)
    if subtitle:
        h += SUBTITLE_GAP * t.title + LINE * t.subtitle * len(subtitle)
    return h


def _legend_rows(labels: list[tuple[str, ...]], size: float) -> float:
    lines = max((len(x) for x in labels), default=1)
    return max(LINE * size * lines, LEGEND_ROW_MIN) + 3.0


def _wrap_legend(c: Content, width: float, size: float) -> list[tuple[str, ...]]:
    return [tuple(wrap(label, max(width - LEGEND_TEXT_GAP, 4 * size), size)) or ("",) for label in c.legend]


@dataclass(frozen=True)
class _LegendGrid:
    """A horizontal legend as plotly lays it out: one row of natural widths, or equal columns."""

    labels: tuple[tuple[str, ...], ...]
    columns: int
    entry_width: float  # the text width of a column (0: one row of natural widths)
    width: float
    height: float


def _legend_grid(labels: list[tuple[str, ...]], size: float, max_row: float) -> _LegendGrid:
    """Rows and columns of a horizontal legend whose rows may be ``max_row`` wide (plotly: the plot's width)."""
    if not labels:
        return _LegendGrid((), 0, 0.0, 0.0, 0.0)
    widths = [1.02 * widest(lines, size) + LEGEND_TEXT_GAP for lines in labels]
    row_h = _legend_rows(labels, size)
    if sum(widths) < max_row:
        return _LegendGrid(tuple(labels), len(labels), 0.0, sum(widths), row_h + LEGEND_PAD)
    item = max(widths)
    cols = max(1, min(len(labels), int((max_row + 3) // item)))
    rows = math.ceil(len(labels) / cols)
    return _LegendGrid(tuple(labels), cols, item - LEGEND_TEXT_GAP, cols * item, rows * row_h + LEGEND_PAD)


@dataclass(frozen=True)
class _Pass:
    title_lines: list[str]
    subtitle_lines: list[str]
    title_h: float
    plot_top: float
    pw: float
    ph: float
    frame_h: float
    block_x: float


def _stack_pass(c: Content, t: Typography, m: _Margins, width: float, height: float | None, aspect: float | None,
                title_x: float, legend_h: float) -> _Pass:  # fmt: skip
    tl = wrap(c.title, width - title_x - m.pad, t.title)
    sl = wrap(c.subtitle, width - title_x - m.pad, t.subtitle) if c.subtitle else []
    title_h = _title_height(t, tl, sl)
    plot_top = 0.5 * m.pad + title_h + m.gap + m.top
    below = m.bottom + (legend_h + 0.5 * m.pad if legend_h else m.pad)  # the legend's box has its own padding
    room_w = width - m.left - m.colorbar - m.right
    if height is None:
        pw = room_w
        ph = pw / (aspect or FREE_ASPECT)
        frame_h = float(math.ceil(plot_top + ph + below))
    else:
        frame_h = float(height)
        ph = frame_h - plot_top - below
        pw = room_w
        if aspect is not None:
            pw = min(room_w, ph * aspect)
            ph = pw / aspect
    block_x = (width - (m.left + pw + m.colorbar + m.right)) / 2
    return _Pass(tl, sl, title_h, plot_top, pw, ph, frame_h, block_x)


def _stack(c: Content, t: Typography, width: float, height: float | None, equal: bool,
           bar_lines: int = 1) -> Placement | None:  # fmt: skip
    m = _margins(c, t, bar_lines)
    labels = _wrap_legend(c, width - 2 * m.pad, t.legend)
    aspect = c.aspect if equal and c.aspect else None
    title_x = m.pad
    grid = _legend_grid(labels, t.legend, width - m.left - m.colorbar - m.right)
    for _ in range(6):  # the title follows the plot block's left edge; the legend's rows follow the plot's width
        ps = _stack_pass(c, t, m, width, height, aspect, title_x, grid.height)
        new_grid = _legend_grid(labels, t.legend, ps.pw)
        new_x = max(m.pad, ps.block_x + m.pad)
        if abs(new_x - title_x) < 0.5 and new_grid == grid:
            break
        title_x, grid = new_x, new_grid
    else:  # not settled: one legend entry a row, whose height no longer depends on the plot
        grid = _legend_grid(labels, t.legend, 0.0)
        ps = _stack_pass(c, t, m, width, height, aspect, title_x, grid.height)
    if ps.pw < MIN_PLOT or ps.ph < MIN_PLOT:
        return None
    plot = Box("plot", ps.block_x + m.left, ps.plot_top, ps.block_x + m.left + ps.pw, ps.plot_top + ps.ph)
    tl, sl = ps.title_lines, ps.subtitle_lines
    title = Box("title", title_x, 0.5 * m.pad, title_x + max(widest(tl, t.title), widest(sl, t.subtitle)),
                0.5 * m.pad + ps.title_h)  # fmt: skip
    lx = min(max(m.pad, plot.x0 + ps.pw / 2 - grid.width / 2), width - m.pad - grid.width)
    ly = plot.y1 + m.bottom
    legend_box = Box("legend", lx, ly, lx + grid.width, ly + grid.height)
    return _finish(c, t, m, width, ps.frame_h, "stack", aspect is not None, plot, title, tl, sl, legend_box, labels,
                   max(1, grid.columns), grid.entry_width)  # fmt: skip


def _side(c: Content, t: Typography, width: float, height: float, bar_lines: int = 1) -> Placement | None:
    if not c.aspect:
        return None
    m = _margins(c, t, bar_lines)
    plot_top = m.pad + m.top
    ph = height - plot_top - m.bottom - m.pad
    pw = ph * c.aspect
    panel_min = 12 * t.legend
    room = width - m.left - m.colorbar - m.gap - panel_min - m.pad
    if pw > room:
        pw = room
        ph = pw / c.aspect
    if pw < MIN_PLOT or ph < MIN_PLOT:
        return None
    plot = Box("plot", m.left, plot_top, m.left + pw, plot_top + ph)
    x0 = plot.x1 + m.colorbar + max(m.gap, m.right)
    panel_w = width - m.pad - x0
    tl = wrap(c.title, panel_w, t.title)
    sl = wrap(c.subtitle, panel_w, t.subtitle) if c.subtitle else []
    title_h = _title_height(t, tl, sl)
    title = Box("title", x0, 0.5 * m.pad, x0 + max(widest(tl, t.title), widest(sl, t.subtitle)), 0.5 * m.pad + title_h)
    legend = _wrap_legend(c, panel_w, t.legend)
    text_w = max((widest(lines, t.legend) for lines in legend), default=0.0)
    legend_h = len(legend) * _legend_rows(legend, t.legend) + LEGEND_PAD if legend else 0.0
    ly = title.y1 + 2 * m.gap
    if ly + legend_h > height - m.pad:
        return None
    legend_box = Box("legend", x0, ly, x0 + (text_w + LEGEND_TEXT_GAP if legend else 0.0), ly + legend_h)
    return _finish(c, t, m, width, float(height), "side", True, plot, title, tl, sl, legend_box, legend, 1, 0.0)


def _finish(c: Content, t: Typography, m: _Margins, width: float, height: float, mode: str, equal: bool, plot: Box,
            title: Box, tl: list[str], sl: list[str], legend: Box, labels: list[tuple[str, ...]], cols: int,
            text_w: float) -> Placement:  # fmt: skip
    bar = None
    bar_title: tuple[str, ...] = ()
    if c.colorbar_ticks:
        bar_title = tuple(wrap(c.colorbar_title, 0.9 * plot_h(plot), t.label)) if c.colorbar_title else ()
        bar = Box("colorbar", plot.x1 + 1.2 * m.gap, plot.y0 + 0.05 * plot_h(plot), plot.x1 + m.colorbar,
                  plot.y1 - 0.05 * plot_h(plot))  # fmt: skip
    axes = Box("axes", plot.x0 - m.left + m.pad, plot.y0 - m.top, plot.x1 + m.right, plot.y1 + m.bottom)
    blocks = [b for b in (title, axes, legend if labels else None, bar) if b is not None]
    return Placement(
        width=round(width), height=round(height), mode=mode, equal=equal, typo=t, plot=plot, title=title,
        title_lines=tuple(tl), subtitle_lines=tuple(sl), legend=legend, legend_labels=tuple(labels),
        legend_columns=cols, legend_entry_width=text_w, colorbar=bar, colorbar_title_lines=bar_title,
        blocks=tuple(blocks),
        waste=band_waste(blocks, width, height),
    )  # fmt: skip


def plot_h(b: Box) -> float:
    return b.y1 - b.y0


def place(c: Content, t: Typography, width: int, height: int | None) -> Placement:
    """The placement of ``c`` in a frame ``width`` wide and ``height`` tall (None: as tall as it needs).

    A fixed frame gets the candidate with the least empty bands among a stacked layout and, for a
    plot with equal scales, a side layout; equal scales are given up when both waste more than
    :data:`MAX_WASTE`.  A colour bar's title longer than the bar is wrapped, and its lines get
    room beside the bar.  ValueError when nothing fits (a frame too small for its text).
    """
    found = _place(c, t, width, height, 1)
    lines = len(found.colorbar_title_lines)
    if lines > 1:
        found = _place(c, t, width, height, min(lines, 3))
    return found


def _place(c: Content, t: Typography, width: int, height: int | None, bar_lines: int) -> Placement:
    equal = c.aspect is not None
    if height is None:
        found = _stack(c, t, width, None, equal, bar_lines) or _stack(c, t, width, None, False, bar_lines)
        if found is None:
            raise ValueError(f"a map does not fit in a frame {width} pixels wide")
        return found
    candidates = [p for p in (_stack(c, t, width, height, equal, bar_lines),
                              _side(c, t, width, height, bar_lines) if equal else None) if p]  # fmt: skip
    best = min(candidates, key=lambda p: p.waste, default=None)
    if best is None or best.waste > MAX_WASTE:
        free = _stack(c, t, width, height, False, bar_lines)
        if free is not None and (best is None or free.waste < best.waste):
            best = free
    if best is None:
        raise ValueError(f"a map does not fit in a frame of {width} × {height} pixels")
    return best
