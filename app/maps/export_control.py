"""The Sweep maps page's export control: the map on screen as PNG, SVG or PDF at a size preset, or as CSV or NPZ.

The control reads the map's configuration from the page's meta store (written when a map
arrives, so it is the map on screen, not the form's unsaved settings), takes the map's data from
the shared result cache (stored there when the map was computed; computed again, within the
page's time limit, if the store lost it) and writes the file with
:func:`app.export.sweep_export.export_map`: the same file ``descent-lab sweep`` writes for the
same settings.  Format and size come from the browser and are checked against the known ones.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html, no_update

from app.export.formats import ExportError
from app.export.sizes import SIZE_PRESETS
from app.export.sweep_export import FIGURES, FORMATS, MEDIA_TYPES, MapSize, export_map, filename
from app.maps.compute import map_data
from app.maps.ids import Ids
from app.maps.state import build_surface, config_from_store
from app.maps.wording import first_line

FORMAT_LABELS = {"png": "PNG image", "svg": "SVG (vector)", "pdf": "PDF (print, LaTeX)", "csv": "CSV data",
                 "npz": "NPZ arrays (NumPy)"}  # fmt: skip
SIZE_LABELS = {"slide": "Slide 16:9 (1920 × 1080)", "slide43": "Slide 4:3 (1440 × 1080)",
               "column": "Journal column (3.5 in)", "page": "Page width (7 in)"}  # fmt: skip
DEFAULT_FORMAT = "png"
DEFAULT_SIZE = "slide"
NO_MAP = "Compute a map first: the export is the map on screen."


def _row(label: str, cid: Ids, control: object) -> html.Div:
    return html.Div(
        className="maps-row", children=[html.Label(label, htmlFor=str(cid), className="maps-label"), control]
    )


def export_control() -> html.Details:
    """The sidebar's Export panel: format and size pickers (each with a visible label), Download, a status line.

    It sits in the sidebar, which stays on screen at a phone's width.
    """
    formats = [{"label": v, "value": k} for k, v in FORMAT_LABELS.items()]
    sizes = [{"label": SIZE_LABELS.get(k, p.description), "value": k} for k, p in SIZE_PRESETS.items()]
    return html.Details(id=Ids.EXPORT_BOX, open=True, className="maps-panel", children=[
        html.Summary("Export"),
        _row("format", Ids.EXPORT_FORMAT, dcc.Dropdown(id=Ids.EXPORT_FORMAT, options=formats, value=DEFAULT_FORMAT,
                                                       clearable=False, searchable=False)),
        _row("size", Ids.EXPORT_SIZE, dcc.Dropdown(id=Ids.EXPORT_SIZE, options=sizes, value=DEFAULT_SIZE,
                                                   clearable=False, searchable=False)),
        html.Div(className="maps-row", children=[
            html.Button("Download", id=Ids.EXPORT, n_clicks=0, className="maps-btn secondary",
                        title="Download the map on screen in this format and size"),
            dcc.Loading(html.Span(id=Ids.EXPORT_STATUS, className="maps-status", role="status"), type="dot"),
        ]),
        html.P("The map on screen, with its settings inside (PNG, SVG, PDF, NPZ); the size applies to images.",
               className="maps-hint"),
        dcc.Download(id=Ids.EXPORT_DOWNLOAD),
    ])  # fmt: skip


def export_download(meta: Any, fmt: Any, size: Any) -> tuple[Any, str]:
    """(a dcc.Download payload or no_update, the status text) for the map in the meta store ``meta``.

    ``fmt`` and ``size`` are the pickers' values (untrusted); the size matters for figures only.
    """
    if not isinstance(fmt, str) or fmt not in FORMATS:
        return no_update, "Choose a format."
    if fmt in FIGURES and (not isinstance(size, str) or size not in SIZE_PRESETS):
        return no_update, "Choose a size."
    cfg = config_from_store(meta)
    if cfg is None:
        return no_update, NO_MAP
    try:
        surface = build_surface(cfg)
        smap = map_data(cfg, surface)
        data = export_map(cfg, smap, surface, fmt, MapSize(preset=size if fmt in FIGURES else "page"))
    except (ExportError, ValueError) as exc:
        return no_update, f"Could not export: {first_line(exc)}"
    name = filename(cfg, fmt)
    return dcc.send_bytes(data, name, type=MEDIA_TYPES[fmt]), f"{name} ({len(data) / 1024:,.0f} kB)"
