"""Export an Explorer view: PNG/SVG/PDF, standalone HTML, animated GIF/MP4, CSV/JSON.

* PNG, SVG and PDF are rendered by kaleido with the system Chromium; one
  export browser (:mod:`app.export.browser`) is started per process on first
  use and reused (a fresh browser per image costs ~3 s, a warm one ~0.3 s).
* HTML is one self-contained file (plotly.js inline, works offline) with the
  race animated by Plotly frames that move only the balls.
* GIF (and MP4 when ffmpeg is installed) is drawn with Pillow from the same
  background raster and contour lines as the page, so it needs no browser
  (:mod:`app.export.animation`, which also keeps its text from overlapping).
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
from dataclasses import dataclass, replace
from typing import Any

from app.explorer.compute import Result, compute
from app.explorer.figures import map_figure
from app.shell.style import color
from app.explorer.state import ExplorerConfig, from_query, to_query
from app.export.animation import animation_frames, frame_steps, gif_bytes, mp4_bytes  # noqa: F401 - also imported from here
from app.export.errors import ExportError
from app.export import mathjax
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
HTML_BUTTONS = 34  # CSS px of the HTML export's play and pause buttons
CHROMIUM_HINT = (
    "static export (PNG/SVG/PDF) needs Chromium: install it with 'sudo apt-get install chromium' "
    "(GIF, HTML, CSV and JSON export work without it)"
)


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
    title_formula: bool | None = None  # the formula typeset under the title (PNG/SVG/PDF, HTML); None: if MathJax is there

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
        if self.title_formula not in (None, True, False):
            raise ValueError(f"title_formula must be True, False or None, got {self.title_formula!r}")
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
        fig, frame = static_export_figure(result, opts)
        sized = replace(opts, width=frame.width, height=frame.height, scale=frame.scale, size=None)
        return embed(fmt, static_image(fig, fmt, sized), settings)
    if fmt == "html":
        return embed(fmt, html_document(result, formula=mathjax.wanted(opts.title_formula)), settings)
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


def export_map_figure(result: Result, with_formula: bool, width: float | None = None) -> dict[str, Any]:
    """:func:`publication_figure`, with the surface's formula as the title's subtitle when ``with_formula``
    (``$...$``: typeset by MathJax, sized for a layout ``width``; see :mod:`app.export.mathjax`)."""
    fig = publication_figure(result)
    return mathjax.with_formula_title(fig, result.surface.latex, width) if with_formula else fig


def static_export_figure(result: Result, options: ExportOptions) -> tuple[dict[str, Any], Any]:
    """The figure a PNG/SVG/PDF export draws and its frame (pure: no browser)."""
    width = get_size_preset(options.size).frame(1.0).width if options.size else options.width
    fig = export_map_figure(result, mathjax.wanted(options.title_formula), width)
    return static_figure(result, fig, options.size, options.width, options.height, options.scale, options.panels,
                         options.equal_axes)  # fmt: skip


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


def html_document(result: Result, n_frames: int = 120, formula: bool = False) -> bytes:
    """A standalone page: the map, complete faint paths, and balls animated by Plotly frames.

    With ``formula`` (and MathJax installed) the title has the typeset formula under it, and the page
    carries MathJax inline, so it still works offline."""
    import plotly.graph_objects as go

    script = mathjax.inline_script() if formula else None
    fig = export_map_figure(result, script is not None)
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
    steps = frame_steps(result, n_frames)
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
    if mathjax.has_formula(fig):  # the buttons go under the formula, just above the map
        layout["margin"] = {**layout.get("margin", {}), "t": mathjax.TOP_WITH_FORMULA + HTML_BUTTONS}
        layout["updatemenus"][0].update(y=1.0, yanchor="bottom", pad={"b": 4})
    layout["sliders"] = [{
        "currentvalue": {"prefix": "step "}, "pad": {"t": 40},
        "steps": [{"label": f["name"], "method": "animate",
                   "args": [[f["name"]], {"mode": "immediate", "frame": {"duration": 0, "redraw": False}}]}
                  for f in frames],
    }]  # fmt: skip
    figure = go.Figure(data=fig["data"], layout=layout, frames=frames)
    html = figure.to_html(include_plotlyjs=True, full_html=True, auto_play=False, config={"displaylogo": False})
    if script is not None:  # before plotly.js, as plotly's own include_mathjax puts it
        html = html.replace("<body>", f"<body>\n<script>{script}</script>", 1)
    return html.replace("</body>", diagnostics_html(result) + "</body>", 1).encode("utf-8")



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
