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


class ExportIds:
    FORMAT = "export-format"
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


def export_bar() -> Any:
    """A format picker, a download button and a status line."""
    return html.Div(
        className="export-bar",
        children=[
            html.Label("Export", htmlFor=ExportIds.FORMAT, className="export-label"),
            dcc.Dropdown(
                id=ExportIds.FORMAT,
                options=[{"label": label, "value": value} for value, label in CHOICES],
                value="png",
                clearable=False,
                searchable=False,
                style={"minWidth": "15rem"},
            ),
            html.Button("Download", id=ExportIds.BUTTON, n_clicks=0, className="btn"),
            dcc.Loading(html.Span(id=ExportIds.STATUS, className="export-status", role="status"), type="dot"),
            dcc.Download(id=ExportIds.DOWNLOAD),
        ],
    )


NOT_READY = "The view is still being drawn: try again in a moment."


def make_download(fmt: Any, store: Any) -> tuple[Any, str]:
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
        data = export(cfg, fmt, ExportOptions())
    except (ExportError, ValueError) as exc:
        return no_update, f"Could not export: {exc}"
    name = filename(cfg, fmt)
    return dcc.send_bytes(data, name, type=MEDIA_TYPES[fmt]), f"{name} ({len(data) / 1024:,.0f} kB)"


def register_export_callbacks(app: Any) -> None:
    @app.callback(
        output=dict(download=Output(ExportIds.DOWNLOAD, "data"), status=Output(ExportIds.STATUS, "children")),
        inputs=dict(clicks=Input(ExportIds.BUTTON, "n_clicks")),
        state=dict(fmt=State(ExportIds.FORMAT, "value"), store=State(Ids.CONFIG, "data")),
        prevent_initial_call=True,
    )
    def download(clicks: Any, fmt: Any, store: Any) -> dict[str, Any]:
        payload, status = make_download(fmt, store)
        return {"download": payload, "status": status}
