"""The Explorer's export bar: download the current view as an image, a page, an animation or data.

The bar reads the validated configuration the Explorer keeps in its store, so
the file describes exactly what is on screen (and its JSON re-runs to the same
numbers with ``descent-lab export --from``).
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html, no_update

from app.explorer.actions import config_from_store
from app.explorer.ids import Ids
from app.export.formats import MEDIA_TYPES, ExportError, ExportOptions, export, filename
from app.export.sizes import SIZE_PRESETS


class ExportIds:
    FORMAT = "export-format"
    SIZE = "export-size"
    PANELS = "export-panels"
    BUTTON = "export-button"
    DOWNLOAD = "export-download"
    STATUS = "export-status"


CHOICES = (
    ("png", "PNG image (slides)"),
    ("svg", "SVG (vector)"),
    ("pdf", "PDF (papers)"),
    ("html", "HTML page (interactive, offline)"),
    ("gif", "GIF animation"),
    ("mp4", "MP4 video"),
    ("csv", "CSV data"),
    ("json", "JSON (reproducible)"),
)


#: picture sizes (value "" = the default 1000 × 800 frame at 2×)
SIZES = (("", "1000 × 800"), *((name, preset.label) for name, preset in SIZE_PRESETS.items()))
PANEL_CHOICES = (
    ("auto", "Automatic"),
    ("map", "Map only"),
    ("map,loss,grad", "Map, loss, ‖∇f‖"),
    ("map,loss,curvature", "Map, loss, stability η·λ"),
    ("map,curvature,errors", "Map, stability, error split"),
    ("map,loss,grad,dist,lr", "Map + every panel"),
)


def _picker(cid: str, label: str, choices: Any, value: str, width: str) -> list[Any]:
    return [
        html.Label(label, htmlFor=cid, className="export-label"),
        dcc.Dropdown(id=cid, options=[{"label": text, "value": v} for v, text in choices], value=value,
                     clearable=False, searchable=False, style={"minWidth": width}),  # fmt: skip
    ]


def export_bar() -> Any:
    """Format, size and panel pickers (size and panels apply to PNG/SVG/PDF), a download button, a status line."""
    return html.Div(
        className="export-bar",
        children=[
            *_picker(ExportIds.FORMAT, "Export", CHOICES, "png", "13rem"),
            *_picker(ExportIds.SIZE, "Size", SIZES, "", "9.5rem"),
            *_picker(ExportIds.PANELS, "Panels", PANEL_CHOICES, "auto", "10rem"),
            html.Button("Download", id=ExportIds.BUTTON, n_clicks=0, className="btn"),
            dcc.Loading(html.Span(id=ExportIds.STATUS, className="export-status", role="status"), type="dot"),
            dcc.Download(id=ExportIds.DOWNLOAD),
        ],
    )


NOT_READY = "The view is still being drawn: try again in a moment."


def export_options(size: Any, panels: Any) -> ExportOptions:
    """The options the pickers chose (anything else the browser sends falls back to the defaults)."""
    sizes = {v for v, _ in SIZES}
    return ExportOptions(
        size=(size or None) if isinstance(size, str) and size in sizes else None,
        panels=panels if isinstance(panels, str) and panels in {v for v, _ in PANEL_CHOICES} else None,
    )


def make_download(fmt: Any, store: Any, size: Any = None, panels: Any = None) -> tuple[Any, str]:
    """(dcc.send_bytes payload or no_update, status text) for the view in ``store``.

    ``store`` is the Explorer's configuration store, ``{"cfg": …, "query": …}`` (untrusted: its
    ``cfg`` is sanitized again); without a usable one nothing is exported.
    """
    if not isinstance(fmt, str) or fmt not in MEDIA_TYPES:
        return no_update, "Choose a format."
    cfg = config_from_store(store)
    if cfg is None:
        return no_update, NOT_READY
    try:
        data = export(cfg, fmt, export_options(size, panels))
    except (ExportError, ValueError) as exc:
        return no_update, f"Could not export: {exc}"
    name = filename(cfg, fmt)
    return dcc.send_bytes(data, name, type=MEDIA_TYPES[fmt]), f"{name} ({len(data) / 1024:,.0f} kB)"


def register_export_callbacks(app: Any) -> None:
    @app.callback(
        output=dict(download=Output(ExportIds.DOWNLOAD, "data"), status=Output(ExportIds.STATUS, "children")),
        inputs=dict(clicks=Input(ExportIds.BUTTON, "n_clicks")),
        state=dict(fmt=State(ExportIds.FORMAT, "value"), store=State(Ids.CONFIG, "data"),
                   size=State(ExportIds.SIZE, "value"), panels=State(ExportIds.PANELS, "value")),
        prevent_initial_call=True,
    )
    def download(clicks: Any, fmt: Any, store: Any, size: Any, panels: Any) -> dict[str, Any]:
        payload, status = make_download(fmt, store, size, panels)
        return {"download": payload, "status": status}
