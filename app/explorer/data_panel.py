"""The Explorer's data controls: the batch-size row of the shared modifiers, and the data panel under the map.

Both are shown on data surfaces only (``linreg``, ``logreg``, ``tiny_net``).  The panel's plot is drawn
and edited in the browser (``assets/data_panel.js``) from the race's payload (its ``data`` part, see
:mod:`app.explorer.data_view`): drag a point to move it, click empty space to add one, shift-click (or
switch on the delete mode) to remove one; the keyboard adds a point by its coordinates and removes the
last.  Every edit becomes the points store (:data:`~app.explorer.ids.Ids.POINTS`), which the ``collect``
callback reads like any other control.  A CSV file is read on the server (:func:`app.explorer.data_view.upload_answer`).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from app.explorer.ids import Ids
from surfaces.data import MAX_CSV_BYTES

GESTURES = ("Drag a point to move it · click (or tap) empty space to add one · shift-click a point, or switch "
            "on delete mode and click it, to remove it. On logistic regression a new point takes the class in the "
            "label field (1 unless it says 0).")  # fmt: skip


def batch_row() -> html.Div:
    """Batch size B with the regime it gives (hidden off data surfaces)."""
    return html.Div(
        id=Ids.BATCH_ROW,
        className="mod-row batch-row",
        hidden=True,
        children=[
            html.Label("batch size B", htmlFor=Ids.BATCH, className="num-label"),
            html.Div(dcc.Input(id=Ids.BATCH, type="number", step=1, debounce=True, className="num-input"),
                     title="points per step's gradient (first-order methods); 0: the full batch"),
            html.Span(id=Ids.BATCH_INFO, className="batch-info", role="status"),
        ],
    )  # fmt: skip


def _coordinate(name: str, label: str) -> list[Any]:
    cid = f"{Ids.DATA_PANEL}-add-{name}"
    return [html.Span(id=f"{cid}-field", className="add-field", children=[
        html.Label(label, htmlFor=cid, id=f"{cid}-label"),
        dcc.Input(id=cid, type="number", step="any", className="num-input")])]  # fmt: skip


def data_panel() -> html.Section:
    """The data panel: the points and the current fit, the editing tools, upload and download."""
    return html.Section(
        id=Ids.DATA_PANEL,
        className="data-panel",
        hidden=True,
        **{"aria-label": "Data points"},
        children=[
            html.Div(className="data-head", children=[
                html.H2("Data", className="data-title"),
                html.Span(id=Ids.DATA_NOTE, className="data-note", role="status"),
            ]),
            html.Div(className="data-body", children=[
                html.Div(id=Ids.DATA_PLOT, className="data-plot", role="img",
                         **{"aria-label": "The data points and the fit of the selected run at the current step. "
                                          + GESTURES + " Keyboard: use the fields beside the plot."}),
                html.Div(className="data-tools", children=[
                    html.P(GESTURES, className="hint"),
                    dcc.Checklist(id=Ids.DELETE_MODE, options=[{"label": "delete mode", "value": "on"}], value=[],
                                  inline=True, className="delete-mode"),
                    html.Fieldset(className="add-point", children=[
                        html.Legend("Add a point"),
                        *_coordinate("c0", "u"), *_coordinate("c1", "v"), *_coordinate("c2", "label"),
                        html.Button("Add", id=f"{Ids.DATA_PANEL}-add", className="btn", type="button"),
                    ]),
                    html.Div(className="data-buttons", children=[
                        html.Button("Remove last point", id=Ids.REMOVE_LAST, className="btn", type="button"),
                        html.Button("Reset to generated", id=Ids.RESET_POINTS, className="btn", type="button"),
                        html.Button("Download CSV", id=Ids.DOWNLOAD_BUTTON, className="btn", type="button"),
                    ]),
                    html.Details(className="points-table", children=[
                        html.Summary("Edit the points as numbers"),
                        html.Div(id=Ids.POINTS_TABLE, className="points-table-body"),
                    ]),
                    dcc.Upload(id=Ids.UPLOAD, max_size=MAX_CSV_BYTES, accept=".csv,.txt,text/csv,text/plain",
                               className="upload", children=html.Div(
                                   ["Upload a CSV of points (", html.Span(id=f"{Ids.DATA_PANEL}-columns"),
                                    f"; at most {MAX_CSV_BYTES // 1024} kB)"])),
                    html.Div(id=Ids.UPLOAD_ERROR, className="upload-error", role="alert"),
                    dcc.Download(id=Ids.DOWNLOAD),
                ]),
            ]),
        ],
    )  # fmt: skip
