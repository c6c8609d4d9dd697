"""Export an Explorer view: PNG/SVG/PDF, standalone HTML, animated GIF/MP4, CSV/JSON.

* PNG, SVG and PDF are rendered by kaleido with the system Chromium; one
  export browser (:mod:`app.export.browser`) is started per process on first
  use and reused (a fresh browser per image costs ~3 s, a warm one ~0.3 s).
* HTML is one self-contained file (plotly.js inline, works offline) with the
  race animated by Plotly frames that move only the balls.
* GIF (and MP4 when ffmpeg is installed) is drawn with Pillow from the same
  background raster and contour lines as the page, so it needs no browser.
* JSON carries everything needed to reproduce the numbers — the Explorer
  query (surface, start, every optimizer's settings, modifiers, seed), each
  optimizer's convention, the project version — and every recorded step;
  ``descent-lab export --from FILE`` re-runs it.  CSV is the long table.

All functions are pure (configuration in, bytes out) apart from the shared
export browser.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.explorer.compute import Result, compute
from app.explorer.figures import background_grid, map_figure
from app.shell.contours import contour_lines, levels_for
from app.shell.raster import colorize
from app.shell.style import color
from app.explorer.state import ExplorerConfig, from_query, to_query
from app.export.html_panels import diagnostics_html
from app.export.metadata import embed, settings_text
from app.export.panels import parse_panels, static_figure
from app.export.sizes import get_preset as get_size_preset
from app.export.svg_text import EXPORT_FAMILY, SVG_TEXT_MODES, FontMissing, finish_svg
from app.export.tables import trajectory_table
from app.version import version

STATIC = ("png", "svg", "pdf")
ANIMATED = ("gif", "mp4")
FORMATS = STATIC + ("html",) + ANIMATED + ("csv", "json")
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "csv": "text/csv",
    "json": "application/json",
}
#: slide-friendly defaults and hard limits
DEFAULT_SIZE = (1000, 800)
SIZE_LIMITS = (200, 4000)
SCALE_LIMITS = (0.25, 6.0)
MAX_FRAMES = 400
DEFAULT_FRAMES = 100
CHROMIUM_HINT = (
    "static export (PNG/SVG/PDF) needs Chromium: install it with 'sudo apt-get install chromium' "
    "(GIF, HTML, CSV and JSON export work without it)"
)


class ExportError(Exception):
    """An export that cannot be produced, with a one-line reason for the user."""


@dataclass(frozen=True)
class ExportOptions:
    """Size (pixels), scale (pixel density for raster formats) and animation frames."""

    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    scale: float = 2.0
    frames: int = DEFAULT_FRAMES
    fps: float = 20.0
    size: str | None = None  # a size preset (slide, slide43, column, page): overrides width/height/scale
    panels: str | None = None  # "auto" (None) or e.g. "map,loss,grad" (see app.export.panels)
    equal_axes: bool = True
    svg_text: str = "font"  # "font": the subset font embedded; "paths": text as outlines (app.export.svg_text)

    def __post_init__(self) -> None:
        lo, hi = SIZE_LIMITS
        for name in ("width", "height"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or not lo <= v <= hi:
                raise ValueError(f"{name} must be a whole number of pixels in [{lo}, {hi}], got {v!r}")
        if not SCALE_LIMITS[0] <= self.scale <= SCALE_LIMITS[1]:
            raise ValueError(f"scale must be in [{SCALE_LIMITS[0]:g}, {SCALE_LIMITS[1]:g}], got {self.scale!r}")
        if isinstance(self.frames, bool) or int(self.frames) != self.frames or not 2 <= self.frames <= MAX_FRAMES:
            raise ValueError(f"frames must be a whole number in [2, {MAX_FRAMES}], got {self.frames!r}")
        if not 1.0 <= self.fps <= 60.0:
            raise ValueError(f"fps must be in [1, 60], got {self.fps!r}")
        if self.size is not None:
            get_size_preset(self.size)
        parse_panels(self.panels)
        if self.svg_text not in SVG_TEXT_MODES:
            raise ValueError(f"svg_text must be one of {', '.join(SVG_TEXT_MODES)}, got {self.svg_text!r}")


def export(cfg: ExplorerConfig, fmt: str, options: ExportOptions | None = None, result: Result | None = None) -> bytes:
    """The view ``cfg`` describes, in format ``fmt``; ExportError/ValueError on failure."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    opts = options or ExportOptions()
    result = result or compute(cfg)
    if result.surface is None:
        raise ExportError(result.error or "the surface could not be built")
    settings = settings_document(result.config)
    if fmt in STATIC:
        fig, frame = static_figure(result, publication_figure(result), opts.size, opts.width, opts.height,
                                   opts.scale, opts.panels, opts.equal_axes)  # fmt: skip
        sized = replace(opts, width=frame.width, height=frame.height, scale=frame.scale, size=None)
        return embed(fmt, static_image(fig, fmt, sized), settings)
    if fmt == "html":
        return embed(fmt, html_document(result), settings)
    if fmt == "gif":
        return gif_bytes(result, opts, comment=settings_text(settings))
    if fmt == "mp4":
        return mp4_bytes(result, opts)
    if fmt == "csv":
        return data_csv(result)
    return data_json(result)


def settings_document(cfg: ExplorerConfig) -> dict[str, Any]:
    """What a picture carries to be re-run: the Explorer link of its view and the version (see metadata)."""
    return {"descent_lab_version": version(), "explorer_query": to_query(cfg)}


def filename(cfg: ExplorerConfig, fmt: str) -> str:
    """A download name such as ``descent-lab-beale.png``."""
    base = cfg.surface if cfg.surface != "formula" else "formula"
    return f"descent-lab-{base}.{fmt}"


# --------------------------------------------------------------------------- static figures


def publication_figure(result: Result) -> dict[str, Any]:
    """The map with every run complete and a legend (for print: no interactive chrome)."""
    fig = map_figure(result, with_runs=True)
    labels = {r.entry.label() for r in result.runs if r.ok}
    seen: set[str] = set()
    for tr in fig["data"]:
        name = tr.get("name")
        if tr.get("mode") == "lines" and name in labels and name not in seen:
            tr["showlegend"] = True
            seen.add(name)
    layout = fig["layout"]
    layout["showlegend"] = True
    layout["legend"] = {"orientation": "h", "x": 0.0, "y": -0.12, "yanchor": "top", "font": {"size": 13}}
    layout["paper_bgcolor"] = "#ffffff"
    layout["plot_bgcolor"] = "#ffffff"
    layout.pop("dragmode", None)
    return fig


def chromium_available() -> bool:
    return any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome"))


@functools.lru_cache(maxsize=4)
def _template(name: str | None) -> dict[str, Any] | None:
    import plotly.io as pio

    return pio.templates[name].to_plotly_json() if name else None


def _render_spec(fig: dict[str, Any]) -> dict[str, Any]:
    """The figure as plotly.io would send it (with the default template), without re-validating it.

    plotly.io builds a ``go.Figure`` from the dict and serialises it back: for
    these figures that only adds the default template, so this adds it directly.
    """
    import plotly.io as pio

    layout = fig.get("layout", {})
    template = _template(pio.templates.default)
    if template is None or "template" in layout:
        return fig
    return {**fig, "layout": {**layout, "template": template}}


def export_fonts(node: Any) -> Any:
    """The figure with every font family naming the export face first (the face an SVG embeds)."""
    if isinstance(node, dict):
        out = {k: export_fonts(v) for k, v in node.items()}
        if isinstance(out.get("family"), str) and not out["family"].startswith(f"'{EXPORT_FAMILY}'"):
            out["family"] = f"'{EXPORT_FAMILY}', {out['family']}"
        return out
    if isinstance(node, list):
        return [export_fonts(v) for v in node]
    return node


def static_image(fig: dict[str, Any], fmt: str, options: ExportOptions) -> bytes:
    """PNG/SVG/PDF bytes of a figure through the shared export browser, drawn in the export face.

    An SVG's text is made portable as ``options.svg_text`` says (:func:`app.export.svg_text.finish_svg`)."""
    if not chromium_available():
        raise ExportError(CHROMIUM_HINT)
    from app.export import browser as export_browser

    layout = fig.get("layout", {})
    font = layout.get("font", {})
    if not font.get("family"):  # plotly's default would be Open Sans, which is seldom installed
        fig = {**fig, "layout": {**layout, "font": {**font, "family": "sans-serif"}}}
    spec = _render_spec(export_fonts(fig))
    try:
        image = export_browser.render(spec, fmt, options.width, options.height, options.scale)
    except Exception as exc:  # kaleido reports browser problems with assorted exception types
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"static export failed: {reason[:200]}") from None
    if fmt != "svg":
        return image
    try:
        return finish_svg(image, options.svg_text)
    except FontMissing as exc:
        raise ExportError(f"SVG export cannot embed its font: {exc}") from None


# --------------------------------------------------------------------------- HTML


def _frame_steps(result: Result, n_frames: int) -> np.ndarray:
    longest = max((r.trajectory.steps for r in result.runs if r.ok), default=0)
    return np.unique(np.round(np.linspace(0, longest, n_frames)).astype(int))


def html_document(result: Result, n_frames: int = 120) -> bytes:
    """A standalone page: the map, complete faint paths, and balls animated by Plotly frames."""
    import plotly.graph_objects as go

    fig = publication_figure(result)
    for tr in fig["data"]:
        if tr.get("mode") == "lines" and tr.get("showlegend") is not None:
            tr["opacity"] = 0.55
    runs = [r for r in result.runs if r.ok]
    first = len(fig["data"])
    for r in runs:
        p = r.trajectory.positions
        fig["data"].append({
            "type": "scatter", "mode": "markers", "x": [float(p[0, 0])], "y": [float(p[0, 1])],
            "marker": {"color": color(r.entry.color), "size": 15, "line": {"color": "#fff", "width": 2}},
            "name": r.entry.label(), "showlegend": False, "hoverinfo": "skip",
        })  # fmt: skip
    indices = list(range(first, first + len(runs)))
    frames = []
    steps = _frame_steps(result, n_frames)
    for k in steps:
        data = []
        for r in runs:
            p = r.trajectory.positions[min(int(k), r.trajectory.steps)]
            data.append({"x": [float(p[0])], "y": [float(p[1])]})
        frames.append({"name": str(int(k)), "data": data, "traces": indices})
    play = {"frame": {"duration": 40, "redraw": False}, "fromcurrent": True, "transition": {"duration": 0}}
    layout = fig["layout"]
    layout["updatemenus"] = [{
        "type": "buttons", "showactive": False, "x": 0.0, "y": 1.08, "xanchor": "left", "direction": "left",
        "buttons": [
            {"label": "▶ Play", "method": "animate", "args": [None, play]},
            {"label": "❚❚ Pause", "method": "animate",
             "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}]},
        ],
    }]  # fmt: skip
    layout["sliders"] = [{
        "currentvalue": {"prefix": "step "}, "pad": {"t": 40},
        "steps": [{"label": f["name"], "method": "animate",
                   "args": [[f["name"]], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}]}
                  for f in frames],
    }]  # fmt: skip
    figure = go.Figure(data=fig["data"], layout=layout, frames=frames)
    html = figure.to_html(include_plotlyjs=True, full_html=True, auto_play=False, config={"displaylogo": False})
    return html.replace("</body>", diagnostics_html(result) + "</body>", 1).encode("utf-8")



# --------------------------------------------------------------------------- GIF / MP4


@dataclass(frozen=True)
class _Canvas:
    """Pixel geometry of the plot area: data box → pixels with equal aspect."""

    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    x0: float
    x1: float
    y0: float
    y1: float

    @classmethod
    def fit(cls, width: int, height: int, bounds) -> _Canvas:
        (x0, x1), (y0, y1) = bounds
        margin_l, margin_r, margin_t, margin_b = 50, 20, 44, 64
        aw, ah = width - margin_l - margin_r, height - margin_t - margin_b
        ratio = (x1 - x0) / (y1 - y0)
        pw, ph = (aw, int(aw / ratio)) if aw / ah < ratio else (int(ah * ratio), ah)
        left = margin_l + (aw - pw) // 2
        top = margin_t + (ah - ph) // 2
        return cls(width, height, left, top, max(pw, 1), max(ph, 1), x0, x1, y0, y1)

    def px(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self.left + (np.asarray(x) - self.x0) / (self.x1 - self.x0) * self.plot_w
        v = self.top + (self.y1 - np.asarray(y)) / (self.y1 - self.y0) * self.plot_h
        return u, v


def _polyline(u: np.ndarray, v: np.ndarray, lo: float = -1e4, hi: float = 1e4) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in zip(np.clip(u, lo, hi), np.clip(v, lo, hi))]


_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


def _font(size: int):
    """DejaVu Sans when installed (it has η, β, ·, −), else Pillow's built-in font."""
    from PIL import ImageFont

    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _background(result: Result, cv: _Canvas):
    """The surface raster, contour lines, frame and axis labels (a PIL image)."""
    from PIL import Image, ImageDraw

    grid = background_grid(result.surface, "2d")
    sc = grid.scale
    high = sc.cap if sc.cap > sc.low else sc.low + 1.0
    raster = Image.fromarray(np.ascontiguousarray(colorize(grid.z, sc.low, high)[::-1]), "RGB")
    img = Image.new("RGB", (cv.width, cv.height), "white")
    img.paste(raster.resize((cv.plot_w, cv.plot_h), Image.BILINEAR), (cv.left, cv.top))
    draw = ImageDraw.Draw(img)
    lx, ly = contour_lines(grid.xs, grid.ys, grid.z, levels_for(sc))
    breaks = np.flatnonzero(~np.isfinite(np.asarray(lx, dtype=float)))
    start = 0
    lx = np.asarray(lx, dtype=float)
    ly = np.asarray(ly, dtype=float)
    for end in list(breaks) + [lx.size]:
        if end - start >= 2:
            u, v = cv.px(lx[start:end], ly[start:end])
            draw.line(_polyline(u, v), fill=(120, 130, 146), width=1)
        start = end + 1
    draw.rectangle([cv.left, cv.top, cv.left + cv.plot_w, cv.top + cv.plot_h], outline=(80, 80, 80))
    for m in result.surface.minima:
        u, v = (float(c) for c in cv.px(m.x, m.y))
        draw.line([(u - 6, v - 6), (u + 6, v + 6)], fill=(20, 20, 20), width=2)
        draw.line([(u - 6, v + 6), (u + 6, v - 6)], fill=(20, 20, 20), width=2)
    draw.text((cv.left, 10), result.surface.display_name, fill=(20, 20, 20), font=_font(20))
    draw.text((cv.left, cv.top + cv.plot_h + 6), f"x from {cv.x0:g} to {cv.x1:g},  y from {cv.y0:g} to {cv.y1:g}",
              fill=(60, 60, 60), font=_font(13))  # fmt: skip
    return img


def animation_frames(result: Result, options: ExportOptions) -> list:
    """RGB PIL images of the race, one per frame: trails so far, balls, a legend and the step."""
    from PIL import ImageDraw

    cv = _Canvas.fit(options.width, options.height, result.config.bounds)
    base = _background(result, cv)
    runs = [r for r in result.runs if r.ok]
    pix = [cv.px(r.trajectory.positions[:, 0], r.trajectory.positions[:, 1]) for r in runs]
    font = _font(15)
    frames = []
    for k in _frame_steps(result, options.frames):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for r, (u, v) in zip(runs, pix):
            n = min(int(k), r.trajectory.steps)
            rgb = color(r.entry.color)
            if n >= 1:
                draw.line(_polyline(u[: n + 1], v[: n + 1]), fill=rgb, width=3)
            cu, cvv = float(np.clip(u[n], -50, 1e4)), float(np.clip(v[n], -50, 1e4))
            draw.ellipse([cu - 7, cvv - 7, cu + 7, cvv + 7], fill=rgb, outline="white", width=2)
            if n == r.trajectory.steps and r.trajectory.status == "diverged":
                draw.text((cu + 9, cvv - 7), f"diverged at step {r.trajectory.stop_step}", fill=rgb, font=font)
        ly = cv.height - 44
        lx = cv.left
        for r in runs:
            rgb = color(r.entry.color)
            label = r.entry.label()
            draw.rectangle([lx, ly + 3, lx + 10, ly + 13], fill=rgb)
            draw.text((lx + 14, ly - 2), label, fill=(20, 20, 20), font=font)
            lx += 24 + int(draw.textlength(label, font=font))
            if lx > cv.width - 120:
                lx, ly = cv.left, ly + 18
        draw.text((cv.width - 120, 10), f"step {int(k)}", fill=(20, 20, 20), font=_font(20))
        frames.append(img)
    return frames


def gif_bytes(result: Result, options: ExportOptions, comment: str = "") -> bytes:
    """An animated GIF of the race (loops forever), with ``comment`` in its comment extension."""
    frames = animation_frames(result, options)
    buf = io.BytesIO()
    paletted = [f.quantize(colors=255, method=2, dither=0) for f in frames]  # median cut, no dither: crisp lines
    duration = int(round(1000.0 / options.fps))
    paletted[0].save(buf, format="GIF", save_all=True, append_images=paletted[1:], duration=duration, loop=0,
                     comment=comment.encode("ascii"))  # fmt: skip
    return buf.getvalue()


def mp4_bytes(result: Result, options: ExportOptions) -> bytes:
    """An MP4 of the race through ffmpeg (when installed)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ExportError("MP4 export needs ffmpeg: install it with 'sudo apt-get install ffmpeg' (GIF works without it)")
    frames = animation_frames(result, options)
    w, h = frames[0].size
    w2, h2 = w - w % 2, h - h % 2
    raw = b"".join(f.crop((0, 0, w2, h2)).tobytes() for f in frames)
    cmd = [exe, "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w2}x{h2}",
           "-r", f"{options.fps:g}", "-i", "-", "-pix_fmt", "yuv420p", "-movflags", "frag_keyframe+empty_moov",
           "-f", "mp4", "-"]  # fmt: skip
    proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise ExportError(f"ffmpeg failed: {proc.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return proc.stdout


# --------------------------------------------------------------------------- data


def data_document(result: Result) -> dict[str, Any]:
    """Everything needed to reproduce the view, and every recorded step of every run."""
    cfg = result.config
    runs = []
    for r in result.runs:
        item: dict[str, Any] = {"label": r.entry.label(), "optimizer": r.entry.name,
                                "hyperparameters": dict(r.entry.values), "color": color(r.entry.color)}  # fmt: skip
        if r.ok:
            t = r.trajectory
            cols, rows = trajectory_table(t)
            item.update(convention=t.config.spec.convention, status=t.status, stop_step=t.stop_step,
                        message=t.message, columns=cols, rows=rows)  # fmt: skip
        else:
            item.update(status="error", message=r.error)
        runs.append(item)
    return {
        "descent_lab_version": version(),
        "explorer_query": to_query(cfg),
        "surface": result.surface.to_dict(),
        "start": list(cfg.start),
        "steps_requested": cfg.steps,
        "modifiers": cfg.modifiers().to_dict(),
        "runs": runs,
    }


def data_json(result: Result) -> bytes:
    return (json.dumps(data_document(result), allow_nan=False) + "\n").encode("utf-8")


def data_csv(result: Result) -> bytes:
    """One row per optimizer and step: run, label, then the trajectory columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header_written = False
    for i, r in enumerate(result.runs):
        if not r.ok:
            continue
        cols, rows = trajectory_table(r.trajectory)
        base = cols[:10]
        if not header_written:
            writer.writerow(["run", "label", *base])
            header_written = True
        for row in rows:
            writer.writerow([i, r.entry.label(), row[0], *(repr(float(v)) for v in row[1:10])])
    return buf.getvalue().encode("utf-8")


def config_from_document(doc: Any) -> ExplorerConfig:
    """The Explorer configuration of a JSON export (ValueError if it is not one)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("explorer_query"), str):
        raise ValueError("not a Descent Lab export: it has no 'explorer_query'")
    return from_query(doc["explorer_query"])
