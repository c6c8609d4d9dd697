"""The race's curvature report: each optimizer's extreme Hessian eigenvalues, and the 2-D quadratic that matches them.

Pure functions (no Dash): :func:`spectrum_figure` draws the top and bottom eigenvalues
(Lanczos on exact Hessian–vector products, see ``autoencoder.lanczos.curvature_report``) per
optimizer on a log-|λ| axis, positive eigenvalues as filled circles and negative ones as open
down-triangles; :func:`quadratic_link` builds the Explorer link for the surface ``quadratic``,
½(u²/κ + v²), whose Hessian's eigenvalues are 1/κ and 1: so λ_max is 1, its κ is set to the
network's λ_max/λ_small, and the learning rate to the network's η·λ_max, which puts the
optimizer at the same point of its stability range (plain gradient descent diverges above 2).

η·λ_max means that only for a rule that steps η times a fixed linear function of the gradients
(SGD, heavy-ball momentum, Nesterov); adaptive rules rescale each coordinate, and line searches and
Newton choose their own steps, so their links carry κ and the race's own hyperparameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.explorer.state import ExplorerConfig, OptimizerEntry, to_query
from app.lab.figures import INK, MUTED, color
from app.shell.style import FONT
from surfaces.catalog import BY_NAME as SURFACE_SPECS

#: rules whose step is η × a fixed linear function of the gradients: η·λ_max is their stability number
ETA_RULES = ("sgd", "momentum", "nesterov")
#: the Explorer's start and step count for the quadratic link
QUAD_STEPS = 300
NEGATIVE_COLOR = "#b2182b"


def _kappa_range() -> tuple[float, float]:
    p = next(p for p in SURFACE_SPECS["quadratic"].params if p.name == "kappa")
    return float(p.low), float(p.high)


def quadratic_link(optimizer: Mapping[str, Any], report: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"href", "kappa", "lr", "eta_lmax", "text"}`` for one optimizer's run (href None when there is no link).

    ``optimizer`` is the run's ``{"name", "hyperparameters"}``; ``report`` its curvature report.
    """
    out: dict[str, Any] = {"href": None, "kappa": None, "lr": None, "eta_lmax": None, "text": ""}
    if not report or report.get("kappa") is None or not report.get("lambda_max", 0.0) > 0.0:
        out["text"] = "No link: no positive curvature was found."
        return out
    name = str(optimizer.get("name", ""))
    hyper = dict(optimizer.get("hyperparameters") or {})
    lam_max = float(report["lambda_max"])
    lo, hi = _kappa_range()
    kappa = float(report["kappa"])
    kq = min(max(float(f"{kappa:.4g}"), lo), hi)
    notes = [] if lo <= kappa <= hi else [f"κ = {kappa:.3g} is outside the quadratic's range, shown as {kq:g}"]
    values = dict(hyper)
    if name in ETA_RULES and "lr" in hyper:
        eta_l = float(hyper["lr"]) * lam_max
        values["lr"] = float(f"{eta_l:.6g}")
        out["eta_lmax"] = eta_l
        notes.insert(0, f"η·λ_max = {eta_l:.3g}, the quadratic's η (its λ_max is 1)")
    else:
        notes.insert(0, f"η·λ_max is not meaningful for {name or 'this rule'} (it does not step a single η times "
                        "the gradient); the link keeps the race's hyperparameters")  # fmt: skip
    spec = SURFACE_SPECS["quadratic"]
    params = tuple((p.name, kq if p.name == "kappa" else float(p.default)) for p in spec.params)
    try:
        entry = OptimizerEntry.default(name, 0, **values)
        cfg = ExplorerConfig(surface="quadratic", surface_params=params, start=tuple(spec.starts[0]),
                             steps=QUAD_STEPS, optimizers=(entry,), arrows=0)  # fmt: skip
    except (KeyError, ValueError) as exc:
        out["text"] = f"No link: {exc}."
        return out
    out.update(href="/" + to_query(cfg), kappa=kq, lr=values.get("lr"),
               text=f"the 2-D quadratic with κ = {kq:.3g}: " + "; ".join(notes) + ".")  # fmt: skip
    return out


def _abs_log_ticks(values: Sequence[float]) -> dict[str, Any]:
    lo = min(values)
    hi = max(values)
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if a == b:
        a, b = a - 1, b + 1
    tick = [10.0**e for e in range(a, b + 1)]
    return {"type": "log", "tickvals": tick, "ticktext": [f"1e{e}" for e in range(a, b + 1)],
            "range": [a - 0.15, b + 0.15]}  # fmt: skip


def spectrum_figure(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Eigenvalues per optimizer on a log-|λ| axis: filled circles λ > 0, open red-edged down-triangles λ < 0.

    ``entries`` are ``{"label", "report"}`` in race order (a report may be None: not computed).
    """
    traces: list[dict[str, Any]] = []
    labels = [str(e.get("label", "")) for e in entries]
    mags: list[float] = []
    shown_neg = shown_pos = False
    for i, e in enumerate(entries):
        rep = e.get("report")
        if not rep:
            continue
        vals = sorted(set(list(rep.get("top", [])) + list(rep.get("bottom", []))), reverse=True)
        vals = [float(v) for v in vals if math.isfinite(v) and v != 0.0]
        pos = [v for v in vals if v > 0.0]
        neg = [v for v in vals if v < 0.0]
        mags += [abs(v) for v in vals]
        col = color(i)
        if pos:
            traces.append({"type": "scatter", "mode": "markers", "x": [labels[i]] * len(pos), "y": pos,
                           "name": "λ > 0", "legendgroup": "pos", "showlegend": not shown_pos,
                           "marker": {"symbol": "circle", "size": 10, "color": col, "line": {"color": INK, "width": 1}},
                           "customdata": pos, "hovertemplate": f"{labels[i]}<br>λ = %{{customdata:.4g}}<extra></extra>"})  # fmt: skip
            shown_pos = True
        if neg:
            traces.append({"type": "scatter", "mode": "markers", "x": [labels[i]] * len(neg), "y": [-v for v in neg],
                           "name": "λ < 0 (plotted as |λ|)", "legendgroup": "neg", "showlegend": not shown_neg,
                           "marker": {"symbol": "triangle-down-open", "size": 11, "color": NEGATIVE_COLOR,
                                      "line": {"width": 2}},
                           "customdata": neg, "hovertemplate": f"{labels[i]}<br>λ = %{{customdata:.4g}} (negative)<extra></extra>"})  # fmt: skip
            shown_neg = True
    if not mags:
        return {"data": [], "layout": {
            "xaxis": {"visible": False}, "yaxis": {"visible": False}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff", "margin": {"l": 16, "r": 16, "t": 16, "b": 16},
            "annotations": [{"text": "No curvature report for this race.", "showarrow": False,
                             "font": {"size": 14.5, "color": MUTED, "family": FONT}}]}}  # fmt: skip
    layout = {
        "margin": {"l": 64, "r": 16, "t": 44, "b": 64}, "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 13, "color": INK},
        "title": {"text": "Hessian eigenvalues at the final weights (top and bottom, Lanczos)", "x": 0.01,
                  "xanchor": "left", "font": {"size": 15}},
        "xaxis": {"type": "category", "categoryorder": "array", "categoryarray": labels, "automargin": True},
        "yaxis": {"title": {"text": "|λ| (log scale; sign by marker)"}, **_abs_log_ticks(mags),
                  "gridcolor": "#e3e6ea"},
        "legend": {"orientation": "h", "y": -0.22, "x": 0.0},
        "hovermode": "closest",
    }  # fmt: skip
    return {"data": traces, "layout": layout}
