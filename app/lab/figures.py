"""Pure figure builders for the Autoencoder lab: race data in, plotly figure dicts (plain JSON) out.

Nothing here touches Dash or the job machinery, so the functions are tested
without a browser.  Every array leaves as a plain list with ``None`` for gaps:
the figures travel through Redis as JSON (Celery) and through the browser's
progress channel, where NaN is not valid JSON.

Colours follow the race order: the i-th optimizer of the race has the i-th
colour of the Okabe–Ito palette (:data:`app.shell.style.COLORS`), the same as its
card in the form.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.shell.style import COLORS, FONT, LINE_COLOR, SURFACE_SCALE, escape

#: most points one loss curve carries (the history is strided, first and last epochs kept)
MAX_CURVE_POINTS = 150
#: the reconstruction mosaic shows at most this many features per image (non-image data is padded to a square)
MAX_SHOWN_FEATURES = 4096
GAP = 1  # pixels between tiles of the reconstruction mosaic
INK = "#1d232b"
MUTED = "#5b6472"
STATUS_WORDS = {
    "running": "running",
    "completed": "completed",
    "diverged": "diverged",
    "stalled": "stalled",
    "cancelled": "cancelled",
    "time_limit": "stopped at the time limit",
}

__all__ = [
    "MAX_CURVE_POINTS",
    "color",
    "downsample",
    "label_band",
    "landscape_figure",
    "log_ticks",
    "loss_figure",
    "message_figure",
    "mosaic",
    "psnr_rows",
    "recon_figure",
    "status_line",
    "tile_shape",
]


def message_figure(text: str, width: int = 44) -> dict[str, Any]:
    """An empty figure carrying a short message, wrapped for a half-width panel."""
    import textwrap

    lines = textwrap.wrap(str(text), width=width) or [""]
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False}, "yaxis": {"visible": False}, "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff", "margin": {"l": 16, "r": 16, "t": 16, "b": 16},
            "annotations": [{"text": "<br>".join(escape(line) for line in lines), "showarrow": False,
                             "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                             "font": {"size": 14.5, "color": MUTED, "family": FONT}}],
        },
    }  # fmt: skip


def color(i: int) -> str:
    """The colour of the i-th optimizer of a race."""
    return COLORS[i % len(COLORS)]


def _num(v: Any) -> float | None:
    """A finite float, or None (a gap in a plotly line, valid JSON)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _clean_list(a: np.ndarray) -> list[Any]:
    """Nested lists with None where ``a`` is not finite."""
    arr = np.asarray(a, dtype=np.float64)
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    return out.tolist()


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    base = {
        "margin": {"l": 60, "r": 16, "t": 44, "b": 48},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 13, "color": INK},
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
    }
    base.update(extra)
    return base


# --------------------------------------------------------------------------- loss curves


def downsample(n: int, max_points: int = MAX_CURVE_POINTS) -> list[int]:
    """At most ``max_points`` evenly strided indices of range(n), always with the first and the last."""
    if n <= 0:
        return []
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    if n <= max_points:
        return list(range(n))
    idx = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))
    return [int(i) for i in idx]


def loss_figure(runs: Sequence[Mapping[str, Any]], epochs: int, *, max_points: int = MAX_CURVE_POINTS,
                title: str = "Training and validation loss") -> dict[str, Any]:  # fmt: skip
    """Loss per epoch on a log axis: training solid, validation dashed, one colour per optimizer.

    ``runs`` are the race snapshot's runs (``label``, ``status``, ``diverged_at_epoch``,
    ``history`` of ``{epoch, train_loss, val_loss}``), in race order.  A run that
    diverged ends in a cross at its last finite epoch.
    """
    traces: list[dict[str, Any]] = []
    values: list[float] = []
    for i, run in enumerate(runs):
        hist = list(run.get("history") or [])
        keep = [hist[k] for k in downsample(len(hist), max_points)]
        x = [int(h["epoch"]) for h in keep]
        col = color(i)
        label = str(run.get("label", f"run {i + 1}"))
        for what, dash, show in (("train_loss", "solid", True), ("val_loss", "dash", False)):
            y = [v if v is not None and v > 0 else None for v in (_num(h.get(what)) for h in keep)]
            values.extend(v for v in y if v is not None)
            traces.append({
                "type": "scatter", "mode": "lines", "x": x, "y": y, "name": label, "legendgroup": f"run{i}",
                "showlegend": show, "line": {"color": col, "width": 2.4 if show else 2.0, "dash": dash},
                "hovertemplate": f"{escape(label)}<br>epoch %{{x}}<br>{'training' if show else 'validation'} "
                                 "loss %{y:.4g}<extra></extra>",
            })  # fmt: skip
        if run.get("status") == "diverged" and x:
            last = _num(keep[-1].get("train_loss"))
            traces.append({
                "type": "scatter", "mode": "markers+text", "x": [x[-1]], "y": [last], "showlegend": False,
                "legendgroup": f"run{i}", "marker": {"symbol": "x-thin-open", "size": 14, "color": col,
                                                     "line": {"width": 3, "color": col}},
                "text": ["diverged"], "textposition": "middle right", "textfont": {"color": col},
                "hovertemplate": f"{escape(label)} diverged in epoch {run.get('diverged_at_epoch')}<extra></extra>",
            })  # fmt: skip
    # the line-style key, drawn as two grey legend entries
    for name, dash in (("training", "solid"), ("validation", "dash")):
        traces.append({"type": "scatter", "mode": "lines", "x": [None], "y": [None], "name": name,
                       "line": {"color": MUTED, "dash": dash, "width": 2}, "legendgroup": f"key-{name}",
                       "hoverinfo": "skip"})  # fmt: skip
    layout = _layout(
        title,
        xaxis={"title": {"text": "epoch"}, "range": [0, max(1, int(epochs))], "gridcolor": "#eef1f4",
               "zeroline": False},
        yaxis={"title": {"text": "loss (log scale)"}, "type": "log", "gridcolor": "#eef1f4", **_log_axis(values)},
        legend={"x": 1.01, "y": 1, "xanchor": "left", "yanchor": "top", "font": {"size": 12.5}, "tracegroupgap": 2},
        showlegend=True,
        uirevision="lab-loss",
    )  # fmt: skip
    layout["margin"] = {"l": 64, "r": 8, "t": 40, "b": 44}
    return {"data": traces, "layout": layout}


def log_ticks(lo: float, hi: float, most: int = 10) -> list[float]:
    """Readable ticks for a log axis over [lo, hi]: the sparsest of 1, 1-2-5, … steps per decade
    that gives at least three ticks reaching into the lowest and the highest quarter of the range."""
    if not (lo > 0 and hi > 0 and math.isfinite(lo) and math.isfinite(hi)):
        return []
    lo, hi = min(lo, hi), max(lo, hi)
    span = math.log10(hi) - math.log10(lo)
    low_q, high_q = lo * 10 ** (0.25 * span), lo * 10 ** (0.75 * span)
    best: list[float] = []
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [float(f"{m * 10.0**k:.12g}") for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                 for m in mantissas if lo <= m * 10.0**k <= hi]  # fmt: skip
        if len(ticks) > most:
            break
        best = ticks
        if len(ticks) >= 3 and ticks[0] <= low_q and ticks[-1] >= high_q:
            break
    return best


def _log_axis(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {}
    ticks = log_ticks(min(values), max(values))
    if len(ticks) < 2:
        return {}
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def status_line(snapshot: Mapping[str, Any], time_limit: float | None = None) -> str:
    """One line for people: epoch, elapsed time and each optimizer's latest training loss."""
    epoch = int(snapshot.get("epoch", 0))
    epochs = int(snapshot.get("epochs", 0))
    elapsed = float(snapshot.get("elapsed", 0.0))
    parts = [f"Epoch {epoch} of {epochs}", f"{elapsed:.1f} s elapsed"]
    if time_limit:
        parts[-1] += f" (limit {time_limit:g} s)"
    losses = []
    for run in snapshot.get("runs") or []:
        hist = run.get("history") or []
        if hist:
            v = _num(hist[-1].get("train_loss"))
            st = run.get("status")
            state = "" if st in ("running", "completed") else f" ({STATUS_WORDS.get(st, st)})"
            losses.append(f"{run.get('label')}: {v:.4g}{state}" if v is not None else f"{run.get('label')}: –")
    if losses:
        parts.append("training loss " + "; ".join(losses))
    return " · ".join(parts)


# --------------------------------------------------------------------------- reconstructions


def tile_shape(n_features: int, image_shape: Sequence[int] | None) -> tuple[int, int]:
    """How one sample is drawn: its image shape, or (for other data) the smallest square that holds it."""
    if image_shape:
        h, w = int(image_shape[0]), int(image_shape[1])
        if h * w == n_features:
            return h, w
    d = min(int(n_features), MAX_SHOWN_FEATURES)
    side = max(1, math.isqrt(d - 1) + 1) if d > 1 else 1
    return side, side


def label_band(h: int) -> int:
    """Blank pixel rows above each mosaic row, where its label goes (about half a tile)."""
    return max(3, round(0.5 * h))


def mosaic(rows: Sequence[np.ndarray], image_shape: Sequence[int] | None, gap: int = GAP,
           band: int | None = None) -> np.ndarray:  # fmt: skip
    """Tiles: one row of images per array in ``rows`` (each n × d), each under a blank label band.

    NaN (drawn as background) fills the bands, the ``gap`` between tiles and the
    padding of non-image samples.  Row i's pixels start at ``i * (band + h) + band``.
    """
    if not rows:
        return np.zeros((0, 0))
    n = max(int(np.asarray(r).shape[0]) for r in rows)
    d = int(np.asarray(rows[0]).shape[1])
    h, w = tile_shape(d, image_shape)
    band = label_band(h) if band is None else int(band)
    out = np.full((len(rows) * (band + h), max(n, 1) * (w + gap) - gap), np.nan)
    for i, r in enumerate(rows):
        r = np.asarray(r, dtype=np.float64)
        for j in range(r.shape[0]):
            flat = np.full(h * w, np.nan)
            k = min(r.shape[1], h * w)
            flat[:k] = r[j, :k]
            y0, x0 = i * (band + h) + band, j * (w + gap)
            out[y0 : y0 + h, x0 : x0 + w] = flat.reshape(h, w)
    return out


def recon_figure(
    originals: np.ndarray,
    inputs: np.ndarray | None,
    recons: Sequence[np.ndarray],
    labels: Sequence[str],
    image_shape: Sequence[int] | None,
    *,
    input_label: str | None = None,
) -> dict[str, Any]:
    """Originals, the corrupted inputs (when denoising) and each optimizer's output as one grey mosaic.

    Each row is labelled above its images; an optimizer's label carries the mean
    PSNR (dB) of its row against the originals and its colour.  0 is black, 1 white.
    """
    originals = np.asarray(originals, dtype=np.float64)
    if originals.ndim != 2 or originals.shape[0] == 0:
        return message_figure("No validation images to show.")
    rows = [originals]
    names = ["Original"]
    colours = [INK]
    if inputs is not None:
        rows.append(np.asarray(inputs, dtype=np.float64))
        names.append(f"Input: {input_label}" if input_label else "Input")
        colours.append(INK)
    for i, (rec, lab) in enumerate(zip(recons, labels)):
        rec = np.asarray(rec, dtype=np.float64)
        rows.append(rec)
        db = _mean_psnr(originals, rec)
        names.append(f"{lab} · {db:.1f} dB" if db is not None else f"{lab} · –")
        colours.append(color(i))
    z = mosaic(rows, image_shape)
    h, _ = tile_shape(originals.shape[1], image_shape)
    band = label_band(h)
    trace = {
        "type": "heatmap", "z": _clean_list(z), "zmin": 0.0, "zmax": 1.0, "showscale": False,
        "colorscale": [[0.0, "#000000"], [1.0, "#ffffff"]], "hovertemplate": "value %{z:.2f}<extra></extra>",
        "hoverongaps": False,
    }  # fmt: skip
    notes = [
        {"text": f"<b>{escape(name)}</b>", "x": -0.5, "y": i * (band + h) + band - 0.6, "xref": "x", "yref": "y",
         "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 12.5, "color": col}}
        for i, (name, col) in enumerate(zip(names, colours))
    ]  # fmt: skip
    layout = _layout(
        "Reconstructions of validation images",
        xaxis={"visible": False, "constrain": "domain", "constraintoward": "left"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain",
               "constraintoward": "top"},
        annotations=notes,
    )  # fmt: skip
    layout["margin"] = {"l": 8, "r": 8, "t": 40, "b": 8}
    return {"data": [trace], "layout": layout}


def _mean_psnr(clean: np.ndarray, rec: np.ndarray) -> float | None:
    from autoencoder.metrics import mean_std, psnr

    if rec.shape != clean.shape or not np.all(np.isfinite(rec)):
        return None
    ms = mean_std(psnr(clean, rec))
    return None if ms is None else ms[0]


# --------------------------------------------------------------------------- PSNR table


def psnr_rows(table: Mapping[str, Any] | None) -> dict[str, Any]:
    """The PSNR table as text cells: ``columns``, ``rows`` of ``{label, cells, best}``.

    ``best[j]`` marks the optimizer with the highest mean in column j (the input
    row never counts); an undefined cell (every image unchanged) reads "—".
    """
    if not table:
        return {"columns": [], "rows": [], "samples": 0}
    columns = [str(c) for c in table.get("columns", [])]
    raw_rows = list(table.get("rows", []))
    means = [[(c or {}).get("mean") if isinstance(c, Mapping) else None for c in r.get("cells", [])] for r in raw_rows]
    best_idx: list[int | None] = []
    for j in range(len(columns)):
        cands = [(m[j], i) for i, m in enumerate(means) if i > 0 and j < len(m) and _num(m[j]) is not None]
        best_idx.append(max(cands)[1] if cands else None)
    rows = []
    for i, r in enumerate(raw_rows):
        cells = []
        for c in r.get("cells", []):
            if not isinstance(c, Mapping) or _num(c.get("mean")) is None:
                cells.append("—")
            else:
                cells.append(f"{float(c['mean']):.1f} ± {float(c.get('std') or 0.0):.1f}")
        rows.append({"label": str(r.get("label", "")), "cells": cells,
                     "best": [best_idx[j] == i for j in range(len(cells))]})  # fmt: skip
    return {"columns": columns, "rows": rows, "samples": int(table.get("samples", 0))}


# --------------------------------------------------------------------------- loss landscape


def landscape_figure(land: Mapping[str, Any], labels: Sequence[str], keys: Sequence[str]) -> dict[str, Any]:
    """Filled contours of log10(loss) on the slice, with every run's projected path.

    ``land`` is ``Landscape.to_dict()``; ``keys``/``labels`` give the runs in race
    order (colours follow it).  Epoch 0 (the common start) is a hollow circle,
    the final weights a filled one; the centre of the slice is marked with a star.
    """
    xs = [float(v) for v in land["xs"]]
    ys = [float(v) for v in land["ys"]]
    z = np.array([[np.nan if v is None else float(v) for v in row] for row in land["z"]], dtype=np.float64)
    finite = z[np.isfinite(z) & (z > 0)]
    floor = float(finite.min()) * 1e-3 if finite.size else 1e-12
    with np.errstate(invalid="ignore", divide="ignore"):
        logz = np.where(np.isfinite(z), np.log10(np.maximum(z, floor)), np.nan)
    traces: list[dict[str, Any]] = [{
        "type": "contour", "x": xs, "y": ys, "z": _clean_list(logz), "customdata": _clean_list(z),
        "colorscale": SURFACE_SCALE, "ncontours": 20, "line": {"color": LINE_COLOR, "width": 1},
        "contours": {"coloring": "fill"}, "connectgaps": False,
        "colorbar": {"title": {"text": "log₁₀ loss", "side": "right"}, "thickness": 10, "len": 0.9, "x": 1.0,
                     "xpad": 4},
        "hovertemplate": "α %{x:.3g}, β %{y:.3g}<br>loss %{customdata:.4g}<extra></extra>", "showlegend": False,
    }]  # fmt: skip
    paths = land.get("paths") or {}
    epochs = land.get("path_epochs") or {}
    for i, (key, label) in enumerate(zip(keys, labels)):
        pts = paths.get(key)
        if not pts:
            continue
        col = color(i)
        px = [_num(p[0]) for p in pts]
        py = [_num(p[1]) for p in pts]
        ep = list(epochs.get(key) or range(len(pts)))
        traces.append({
            "type": "scatter", "mode": "lines+markers", "x": px, "y": py, "name": label, "legendgroup": key,
            "line": {"color": col, "width": 2.2}, "marker": {"size": 5, "color": col},
            "customdata": ep[: len(px)],
            "hovertemplate": f"{escape(label)}<br>epoch %{{customdata}}<br>"
                             "α %{x:.3g}, β %{y:.3g}<extra></extra>",
        })  # fmt: skip
        traces.append({
            "type": "scatter", "mode": "markers", "x": [px[-1]], "y": [py[-1]], "showlegend": False,
            "legendgroup": key, "marker": {"size": 11, "color": col, "line": {"color": "#ffffff", "width": 1.5}},
            "hovertemplate": f"{escape(label)}: final weights<extra></extra>",
        })  # fmt: skip
        traces.append({
            "type": "scatter", "mode": "markers", "x": [px[0]], "y": [py[0]], "showlegend": False,
            "legendgroup": key, "marker": {"size": 11, "color": "rgba(0,0,0,0)", "symbol": "circle-open",
                                           "line": {"color": col, "width": 2}},
            "hovertemplate": "common start (epoch 0)<extra></extra>",
        })  # fmt: skip
    traces.append({"type": "scatter", "mode": "markers", "x": [0.0], "y": [0.0], "showlegend": False,
                   "marker": {"symbol": "star", "size": 15, "color": INK, "line": {"color": "#ffffff", "width": 1}},
                   "hovertemplate": "centre: final weights of the slice's run<extra></extra>"})  # fmt: skip
    method = land.get("method")
    centre_label = _label_of(str(land.get("center", "")), keys, labels)
    if method == "pca":
        ex = land.get("explained") or [None, None]
        xt = f"PC 1 ({_pct(ex[0])} of the path's variance)"
        yt = f"PC 2 ({_pct(ex[1])})"
        note = "directions: PCA of its weight path"
    else:
        xt = "random direction 1 (filter-normalised)"
        yt = "random direction 2"
        note = "random directions: nearly orthogonal to every path"
    layout = _layout(
        f"Loss around {escape(centre_label)}'s final weights",
        xaxis={"title": {"text": escape(xt)}, "range": [xs[0], xs[-1]], "zeroline": False, "showgrid": False},
        yaxis={"title": {"text": escape(yt)}, "range": [ys[0], ys[-1]], "zeroline": False, "showgrid": False},
        showlegend=False,
        annotations=[{"text": escape(note), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0,
                      "y": 1.0, "yanchor": "bottom", "xanchor": "left", "font": {"size": 12, "color": MUTED}}],
    )  # fmt: skip
    layout["margin"] = {"l": 56, "r": 8, "t": 58, "b": 44}
    layout["title"]["y"] = 0.985
    layout["title"]["yanchor"] = "top"
    return {"data": traces, "layout": layout}


def _label_of(key: str, keys: Sequence[str], labels: Sequence[str]) -> str:
    for k, lab in zip(keys, labels):
        if k == key:
            return lab
    return key


def _pct(v: Any) -> str:
    f = _num(v)
    return "?" if f is None else f"{100.0 * f:.0f}%"
