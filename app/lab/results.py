"""The race's result panels: the loss curves, the reconstructions, the loss landscape, the PSNR table and
the linear autoencoder's comparison with PCA.

``results_view()`` lays the panels out (with what they say before the first race), and
``result_outputs`` turns :func:`app.lab.jobs.run_job`'s result into the race callback's outputs.
A new metric panel goes here (its place in the view and its entry in ``result_outputs``), with
its figure builder in :mod:`app.lab.figures`, its measurement in ``jobs._train_and_measure`` and
its output in the race callback (:mod:`app.lab.callbacks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dash import dcc, html, no_update

from app.lab import figures as lab_figures
from app.lab.compare import compare_figure, compare_table, sanitize_kept
from app.lab.ids import KEPT_REMOVE, Ids, card_id

#: the graphs' plotly config
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def psnr_table(rows: Mapping[str, Any] | None) -> Any:
    """The PSNR table (mean ± std in dB) as HTML; the best optimizer per column in bold."""
    if not rows or not rows.get("rows"):
        return html.P("No PSNR table for this race.", className="lab-hint")
    head = html.Tr([html.Th("PSNR (dB), mean ± std", scope="col")]
                   + [html.Th(c, scope="col") for c in rows["columns"]])  # fmt: skip
    body = []
    for i, r in enumerate(rows["rows"]):
        cells = [html.Th(r["label"], scope="row", className="lab-input-row" if i == 0 else None)]
        for text, best in zip(r["cells"], r["best"]):
            cells.append(html.Td(html.Strong(text) if best else text, className="lab-best" if best else None))
        body.append(html.Tr(cells))
    caption = (f"Each column corrupts {rows.get('samples', 0)} validation images once; the input row compares the "
               "corrupted images with the clean ones, the others each optimizer's reconstruction. Higher is better; "
               "bold marks the best optimizer per column.")  # fmt: skip
    return html.Table([html.Caption(caption), html.Thead(head), html.Tbody(body)], className="lab-psnr-table")


def _deg(v: Any) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.2f}°"


def _mse(v: Any) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.4g}"


def pca_table(info: Mapping[str, Any] | None) -> Any:
    """The linear autoencoder against PCA (:func:`autoencoder.pca_baseline.pca_baseline`), or why not."""
    if not info:
        return html.P(WAITING["pca"], className="lab-hint")
    if info.get("why"):
        return html.P(f"Linear autoencoder = PCA: not for this model ({info['why']}). {PCA_HOW}", className="lab-hint")
    k = info["k"]
    head = html.Tr([html.Th("run", scope="col"), html.Th("largest angle", scope="col"),
                    html.Th(f"all {k} principal angles", scope="col"), html.Th("validation MSE", scope="col")])
    body = [html.Tr([html.Th(r["label"], scope="row"), html.Td(_deg(r["angles_deg"][0])),
                     html.Td(", ".join(_deg(a) for a in r["angles_deg"])), html.Td(_mse(r["val_mse"]))])
            for r in info["rows"]]
    body.append(html.Tr([html.Th(f"PCA (top {k})", scope="row"), html.Td("0°"), html.Td("—"),
                         html.Td(_mse(info["pca_val_mse"]))], className="lab-pca-row"))
    caption = (f"Linear autoencoder = PCA: the angles between each decoder's {k}-dimensional subspace and the top-{k} "
               "principal subspace of the training rows (0° everywhere: the same subspace; the weights themselves "
               "need not be the principal directions), and each reconstruction's mean squared error on the validation "
               "rows beside PCA's.")
    return html.Table([html.Caption(caption), html.Thead(head), html.Tbody(body)], className="lab-psnr-table lab-pca-table")  # fmt: skip


#: how to set the lab up for the comparison
PCA_HOW = "Choose activation and output “linear”, no batch norm or skip connection, and mean squared error."

#: what the result panels say before the first race
WAITING = {
    "recon": "Reconstructions of validation images appear here after a race.",
    "landscape": "The loss landscape around the final weights appears here after a race.",
    "psnr": "The denoising PSNR table (input and each optimizer, per noise type) appears here after a race.",
    "pca": "After a race of a linear autoencoder, its subspace is compared here with PCA's.",
    "kept": ("Every race that finishes is kept here, up to six, so races with different settings (init, batch norm, "
             "skip connection, noise) can be compared side by side."),
    "curvature": "Each optimizer's top and bottom Hessian eigenvalues at its final weights appear here after a race.",
}


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.3g}"


def curvature_links(curv: Mapping[str, Any] | None) -> Any:
    """Per optimizer: λ_max, λ_min, κ and the link to the 2-D quadratic with the same κ and η·λ_max."""
    rows = (curv or {}).get("rows") or []
    if not rows:
        return html.P(WAITING["curvature"], className="lab-hint")
    items = []
    for r in rows:
        rep, link = r.get("report"), r.get("link") or {}
        if not rep:
            items.append(html.Li([html.Strong(r["label"]), f": {r.get('message') or 'no curvature report.'}"]))
            continue
        head = (f": λ_max = {_fmt(rep['lambda_max'])}, λ_min = {_fmt(rep['bottom'][0])}, κ = {_fmt(rep['kappa'])}"
                f" ({rep['iterations']} Lanczos steps on {rep['samples']} training rows). ")  # fmt: skip
        parts: list[Any] = [html.Strong(r["label"]), head]
        if link.get("href"):
            parts += [html.A("Open " + link["text"].split(":")[0], href=link["href"], className="lab-quad-link"),
                      ": " + link["text"].split(": ", 1)[1]]  # fmt: skip
        else:
            parts.append(link.get("text", ""))
        if not rep.get("definite"):
            parts.append(html.Span(" " + rep["note"], className="lab-hint"))
        items.append(html.Li(parts))
    return html.Ul(items, className="lab-curv-list")


def kept_view(kept: Any) -> dict[str, Any]:
    """The kept races' comparison (figure, table, whether Clear is usable) for the kept list as the browser sent it."""
    races = sanitize_kept(kept)
    if not races:
        return {"figure": lab_figures.message_figure(WAITING["kept"], width=70),
                "table": html.P(WAITING["kept"], className="lab-hint"), "clear_disabled": True}
    return {"figure": compare_figure(races), "table": compare_table(races, lambda rid: card_id(KEPT_REMOVE, rid)),
            "clear_disabled": False}


def result_outputs(out: Mapping[str, Any]) -> dict[str, Any]:
    """The race callback's outputs for ``run_job``'s result (a failed race clears the panels with its reason)."""
    if not out.get("ok"):
        why = f"No results: {out.get('status', 'the race did not run')}"
        msg = lab_figures.message_figure(why)
        return {"recon": msg, "psnr": html.P(why, className="lab-hint"), "pca": html.P(why, className="lab-hint"),
                "land": {"pca": msg, "random": msg},
                "summary": "", "spectrum": msg, "curv_links": html.P(why, className="lab-hint"),
                "record": no_update}  # fmt: skip
    curv = out.get("curvature") or {}
    return {"recon": out["recon"], "psnr": psnr_table(out["psnr"]), "pca": pca_table(out.get("pca")),
            "land": out["landscapes"],
            "summary": out["summary"],
            "spectrum": curv.get("figure") or lab_figures.message_figure("No curvature report for this race."),
            "curv_links": curvature_links(curv),
            "record": out.get("record") or no_update}  # fmt: skip


def results_view() -> list[Any]:
    """The loss curves (drawn while the race runs) and the results section (filled when it ends)."""
    graph_config = GRAPH_CONFIG
    return [
        html.Div(dcc.Graph(id=Ids.LOSS_GRAPH, config=graph_config, style={"height": "100%"},
                           figure=lab_figures.message_figure("The loss curves appear here while the race runs.")),
                 className="lab-loss-wrap"),
        html.Section(id=Ids.RESULTS, className="lab-results", **{"aria-label": "Results of the race"}, children=[
            html.P(id=Ids.SUMMARY, className="lab-summary"),
            html.Div(className="lab-results-grid", children=[
                html.Div(className="lab-card", children=[
                    html.Div(dcc.Graph(id=Ids.RECON, config=graph_config, style={"height": "100%"},
                                       figure=lab_figures.message_figure(WAITING["recon"])),
                             className="lab-recon-wrap"),
                ]),
                html.Div(className="lab-card", children=[
                    html.Div(className="lab-land-head", children=[
                        html.Span("Loss landscape directions:", className="lab-hint"),
                        dcc.RadioItems(id=Ids.LAND_METHOD, value="pca", inline=True, className="lab-radios",
                                       options=[{"label": "PCA of the trajectory", "value": "pca"},
                                                {"label": "random (filter-normalised)", "value": "random"}]),
                    ]),
                    html.Div(dcc.Graph(id=Ids.LAND_GRAPH, config=graph_config, style={"height": "100%"},
                                       figure=lab_figures.message_figure(WAITING["landscape"])),
                             className="lab-land-wrap"),
                ]),
            ]),
            # a region that scrolls sideways on a phone: focusable, so a keyboard can scroll it
            html.Div(html.P(WAITING["psnr"], className="lab-hint"), id=Ids.PSNR, className="lab-card lab-psnr",
                     tabIndex=0, role="region", **{"aria-label": "PSNR table"}),
            html.Div(html.P(WAITING["pca"], className="lab-hint"), id=Ids.PCA, className="lab-card lab-psnr",
                     tabIndex=0, role="region", **{"aria-label": "Linear autoencoder and PCA"}),
            html.Section(id=Ids.KEPT_SECTION, className="lab-card lab-kept", **{"aria-label": "Kept races"}, children=[
                html.Div(className="lab-kept-head", children=[
                    html.H3("Kept races, side by side"),
                    html.Button("Clear kept races", id=Ids.KEPT_CLEAR, n_clicks=0, disabled=True,
                                className="lab-btn lab-btn-secondary"),
                ]),
                html.Div(dcc.Graph(id=Ids.KEPT_GRAPH, config=graph_config, style={"height": "100%"},
                                   figure=lab_figures.message_figure(WAITING["kept"], width=70)),
                         className="lab-kept-wrap"),
                html.Div(html.P(WAITING["kept"], className="lab-hint"), id=Ids.KEPT_TABLE, className="lab-psnr",
                         tabIndex=0, role="region", **{"aria-label": "Kept races table"}),
            ]),
            html.Section(className="lab-card lab-curvature", **{"aria-label": "Curvature at the final weights"}, children=[
                html.Div(dcc.Graph(id=Ids.SPECTRUM, config=graph_config, style={"height": "100%"},
                                   figure=lab_figures.message_figure(WAITING["curvature"])),
                         className="lab-spectrum-wrap"),
                html.Div(html.P(WAITING["curvature"], className="lab-hint"), id=Ids.CURV_LINKS),
            ]),
        ]),
    ]  # fmt: skip
