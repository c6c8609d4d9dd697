"""Finished races kept side by side: a compact record of each race, the kept list, its figure and its table.

A race that ends well leaves a **record** (:func:`race_record`): what it was set up with (its
*facets*: data, model, init, batch norm, skip, noise, …), the link to those settings, and per
optimizer its status, final losses, a strided validation-loss curve and its mean PSNR per noise
column.  The page keeps the records in the browser's session storage (nothing on the server),
newest last, at most :data:`MAX_KEPT`; what comes back from the browser is untrusted and goes
through :func:`sanitize_kept` before anything is drawn from it.

Each kept race is named by what sets it apart (:func:`race_names`): the facets that differ among
the kept races ("naive (σ = 0.01) init", "Xavier (normal) init"), so a lesson that runs the same
race twice with one setting changed reads as that comparison.  Everything here is pure.
"""

from __future__ import annotations

import math
import numbers
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

from app.lab.figures import _layout, _log_axis, color, downsample
from app.lab.limits import MAX_OPTIMIZERS
from app.lab.state import INIT_LABELS, NOISE_LABELS, SOURCES, LabSettings, share_href
from app.shell.style import escape

#: most races kept side by side (the oldest is dropped first)
MAX_KEPT = 6
#: most points of one kept validation curve
KEPT_CURVE_POINTS = 60
#: most PSNR columns a record carries, and the longest text it keeps
MAX_COLUMNS = 8
MAX_TEXT = 120
#: dash patterns that tell the optimizers of one kept race apart (the colour is the race's)
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "5px,3px,1px,3px", "1px,4px")
#: the facets a record names, in the order they are read out
FACETS = ("data", "model", "init", "bn", "skip", "noise", "epochs", "batch", "seed")


def facets(s: LabSettings) -> list[list[str]]:
    """``[[facet, text], …]``: the settings that make a race, in words (one entry per :data:`FACETS`)."""
    source = SOURCES.get(s.data, (s.data,))[0]
    model = f"{'-'.join(map(str, s.hidden))} {s.act}, {s.out} output, {s.loss.upper()}"
    noise = "no input noise" if s.noise == "none" else f"{NOISE_LABELS.get(s.noise, s.noise)} {s.level:g}"
    skip_text = {"none": "no skip", "both": "shallow and deep skips"}.get(s.skip, f"{s.skip} skip")
    words = {
        "data": f"{source}, {s.samples:,} samples", "model": model, "init": f"{INIT_LABELS.get(s.init, s.init)} init",
        "bn": "batch norm" if s.bn else "no batch norm", "skip": skip_text, "noise": noise,
        "epochs": f"{s.epochs} epochs", "batch": f"batch {s.batch}", "seed": f"seed {s.seed}",
    }  # fmt: skip
    return [[k, words[k]] for k in FACETS]


def _finite(v: Any) -> float | None:
    """A finite number as a float; None for anything else (text from the browser is not a number)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _last(history: Sequence[Mapping[str, Any]], key: str) -> float | None:
    for h in reversed(history):
        v = _finite(h.get(key))
        if v is not None:
            return v
    return None


def race_record(s: LabSettings, runs: Sequence[Mapping[str, Any]], psnr: Mapping[str, Any] | None,
                race_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The record of a finished race: ``runs`` are the race's run summaries (``label``, ``status``,
    ``history`` of ``{epoch, train_loss, val_loss}``), ``psnr`` the PSNR table as
    :func:`autoencoder.train.PSNRTable.to_dict` gives it (the input row first)."""
    columns = [str(c)[:MAX_TEXT] for c in (psnr or {}).get("columns", [])][:MAX_COLUMNS]
    psnr_rows = list((psnr or {}).get("rows", []))[1:]  # the input row is not an optimizer
    out_runs = []
    for i, run in enumerate(list(runs)[:MAX_OPTIMIZERS]):
        hist = [h for h in (run.get("history") or []) if isinstance(h, Mapping)]
        curve = [[int(hist[k].get("epoch", k)), _finite(hist[k].get("val_loss"))]
                 for k in downsample(len(hist), KEPT_CURVE_POINTS)]  # fmt: skip
        cells = psnr_rows[i].get("cells", []) if i < len(psnr_rows) else []
        means = [_finite(c.get("mean")) if isinstance(c, Mapping) else None for c in cells][: len(columns)]
        out_runs.append({
            "label": str(run.get("label", f"run {i + 1}"))[:MAX_TEXT], "status": str(run.get("status", ""))[:40],
            "final_train": _last(hist, "train_loss"), "final_val": _last(hist, "val_loss"), "val": curve,
            "psnr": means + [None] * (len(columns) - len(means)),
        })  # fmt: skip
    return {"id": race_id or secrets.token_hex(6), "facets": facets(s), "link": share_href(s), "columns": columns,
            "runs": out_runs}  # fmt: skip


def _text(v: Any, default: str = "") -> str:
    return v[:MAX_TEXT] if isinstance(v, str) else default


def _clean_record(raw: Any) -> dict[str, Any] | None:
    """One record from the browser, rebuilt from its checked parts (None: not a record)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not isinstance(raw.get("runs"), list):
        return None
    rid = raw["id"][:24]
    if not rid.isalnum():
        return None
    columns = [_text(c) for c in (raw.get("columns") if isinstance(raw.get("columns"), list) else [])][:MAX_COLUMNS]
    fac = []
    for item in (raw.get("facets") if isinstance(raw.get("facets"), list) else [])[: len(FACETS)]:
        if isinstance(item, list) and len(item) == 2 and item[0] in FACETS and isinstance(item[1], str):
            fac.append([item[0], item[1][:MAX_TEXT]])
    link = _text(raw.get("link"), "?")
    runs = []
    for r in raw["runs"][:MAX_OPTIMIZERS]:
        if not isinstance(r, Mapping):
            continue
        curve = []
        for p in (r.get("val") if isinstance(r.get("val"), list) else [])[: KEPT_CURVE_POINTS + 2]:
            if isinstance(p, list) and len(p) == 2 and _finite(p[0]) is not None:
                curve.append([int(max(0.0, min(float(p[0]), 1e7))), _finite(p[1])])
        psnr = [_finite(v) for v in (r.get("psnr") if isinstance(r.get("psnr"), list) else [])][: len(columns)]
        runs.append({"label": _text(r.get("label"), "run"), "status": _text(r.get("status"))[:40],
                     "final_train": _finite(r.get("final_train")), "final_val": _finite(r.get("final_val")),
                     "val": curve, "psnr": psnr + [None] * (len(columns) - len(psnr))})  # fmt: skip
    if not runs:
        return None
    return {"id": rid, "facets": fac, "link": link if link.startswith("?") else "?", "columns": columns, "runs": runs}


def sanitize_kept(raw: Any) -> list[dict[str, Any]]:
    """The kept list as the browser sent it, checked: at most :data:`MAX_KEPT` well-formed records, ids unique."""
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for item in raw[-MAX_KEPT * 2 :]:
        rec = _clean_record(item)
        if rec is not None and all(r["id"] != rec["id"] for r in out):
            out.append(rec)
    return out[-MAX_KEPT:]


def kept_after(kept: Any, *, add: Any = None, remove: str | None = None, clear: bool = False) -> list[dict[str, Any]]:
    """The kept list after one change: ``add`` a new record (the oldest dropped past :data:`MAX_KEPT`; a record
    already kept stays where it is), ``remove`` the record with that id, or ``clear`` them all."""
    if clear:
        return []
    races = sanitize_kept(kept)
    if remove is not None:
        return [r for r in races if r["id"] != remove]
    new = _clean_record(add)
    if new is not None and all(r["id"] != new["id"] for r in races):
        races.append(new)
    return races[-MAX_KEPT:]


def race_names(races: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each race named by the facets in which the kept races differ ("race 2" where none differ)."""
    texts = [dict((k, v) for k, v in r["facets"]) for r in races]
    differing = [k for k in FACETS if len({t.get(k) for t in texts}) > 1]
    names = []
    for i, t in enumerate(texts):
        parts = [t[k] for k in differing if t.get(k)]
        names.append(", ".join(parts) if parts else f"race {i + 1}")
    if len(set(names)) < len(names):  # same settings twice: number them
        names = [f"{n} (race {i + 1})" for i, n in enumerate(names)]
    return names


def compare_figure(races: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Validation loss per epoch of every kept run: one colour per race, one dash pattern per optimizer."""
    names = race_names(races)
    traces: list[dict[str, Any]] = []
    values: list[float] = []
    for i, (race, name) in enumerate(zip(races, names)):
        for j, run in enumerate(race["runs"]):
            x = [p[0] for p in run["val"]]
            y = [p[1] if p[1] is not None and p[1] > 0 else None for p in run["val"]]
            values.extend(v for v in y if v is not None)
            label = f"{name} · {run['label']}"
            traces.append({
                "type": "scatter", "mode": "lines", "x": x, "y": y, "name": label, "legendgroup": race["id"],
                "line": {"color": color(i), "width": 2.4, "dash": DASHES[j % len(DASHES)]},
                "hovertemplate": f"{escape(label)}<br>epoch %{{x}}<br>validation loss %{{y:.4g}}<extra></extra>",
            })  # fmt: skip
    layout = _layout("Validation loss of the kept races", xaxis={"title": {"text": "epoch"}, "rangemode": "tozero"},
                     yaxis={"title": {"text": "validation loss"}, "type": "log", **_log_axis(values)},
                     legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
                     margin={"l": 60, "r": 16, "t": 44, "b": 110})  # fmt: skip
    return {"data": traces, "layout": layout}


def _loss(v: Any) -> str:
    return "—" if v is None else f"{v:.4g}"


def _db(v: Any) -> str:
    return "—" if v is None else f"{v:.1f}"


def compare_table(races: Sequence[Mapping[str, Any]], remove_id: Any) -> Any:
    """The kept races as a table: per run its status, final losses and mean PSNR per noise column; the lowest
    validation loss in bold; each race with its settings link and a Remove button (``remove_id(race_id)``)."""
    names = race_names(races)
    columns: list[str] = []
    for r in races:
        columns += [c for c in r["columns"] if c not in columns]
    finals = [run["final_val"] for r in races for run in r["runs"] if run["final_val"] is not None]
    best = min(finals) if finals else None
    fixed = ("race", "optimizer", "status", "training loss", "validation loss")
    top = [html.Th(h, scope="col", rowSpan=2 if columns else 1) for h in fixed]
    if columns:
        top.append(html.Th("PSNR (dB)", scope="colgroup", colSpan=len(columns), className="lab-kept-group"))
    top.append(html.Th(html.Span("remove", className="lab-sr-only"), scope="col", rowSpan=2 if columns else 1))
    head = [html.Tr(top)] + ([html.Tr([html.Th(c, scope="col") for c in columns])] if columns else [])
    body = []
    for i, (race, name) in enumerate(zip(races, names)):
        for j, run in enumerate(race["runs"]):
            by_col = dict(zip(race["columns"], run["psnr"]))
            val = _loss(run["final_val"])
            cells: list[Any] = []
            if j == 0:
                swatch = html.Span(className="lab-kept-swatch", style={"background": color(i)}, **{"aria-hidden": "true"})
                cells.append(html.Th([swatch, html.A(name, href="/lab" + race["link"], title="Open these settings")],
                                     scope="rowgroup", rowSpan=len(race["runs"])))  # fmt: skip
            cells += [html.Td(run["label"], className="lab-kept-opt"), html.Td(run["status"] or "—"), html.Td(_loss(run["final_train"])),
                      html.Td(html.Strong(val) if best is not None and run["final_val"] == best else val)]
            cells += [html.Td(_db(by_col.get(c))) for c in columns]
            if j == 0:
                cells.append(html.Td(html.Button("Remove", id=remove_id(race["id"]), n_clicks=0,
                                                 className="lab-btn lab-btn-secondary lab-kept-remove",
                                                 **{"aria-label": f"Remove the kept race {name}"}),
                                     rowSpan=len(race["runs"])))  # fmt: skip
            body.append(html.Tr(cells))
    caption = ("Every finished race of this tab, newest last (up to "
               f"{MAX_KEPT}); each is named by the settings in which the kept races differ. Lowest validation loss in "
               "bold.")  # fmt: skip
    return html.Table([html.Caption(caption), html.Thead(head), html.Tbody(body)],
                      className="lab-psnr-table lab-kept-table")
