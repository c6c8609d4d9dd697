"""What the Explorer's view shows for a configuration: the race's payload and the map behind it.

:func:`views_for` is what the ``collect`` callback returns (stores, payload,
map figure); :func:`app.explorer.layout.page` puts the same into the served
page.  Both parts come from the shared result cache
(:mod:`app.hosting.result_cache`): the race keyed by the canonical query
(:func:`cached_race_text`, also what the fast path serves), the map's background
by what it shows.

A new figure of the view is built in :mod:`app.explorer.figures` (the map) or
:mod:`app.explorer.diagnostics` (the panels under it) and travels in the race's
payload (:func:`race_entry`), which ``assets/explorer.js`` draws.
"""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html, no_update

from app.explorer import compute
from app.explorer import data_view
from app.explorer import diagnostics
from app.explorer import figures
from app.explorer.compute import Result
from app.explorer.config import ExplorerConfig
from app.explorer.ids import Ids
from app.explorer.query import state_key, to_query
from app.hosting import result_cache
from app.shell import style
from app.shell import surface_grid


def outcome(run: Any) -> dict[str, Any]:
    """What the card and the race board say about a run: text and kind (ok | warn)."""
    if not run.ok:
        return {"text": run.error, "kind": "warn"}
    t = run.trajectory
    cg = cg_text(t)
    if t.status in ("diverged", "stalled"):
        return {"text": t.message + cg, "kind": "warn"}
    return {"text": run.status_text + cg, "kind": "ok"}


def cg_text(t: Any) -> str:
    """A Hessian-free run's CG iterations per step (' · CG 2.4/step, max 3'); '' for every other run."""
    its = getattr(t, "cg_iterations", None)
    if its is None or its.size < 2:
        return ""
    steps = its[1:]
    return f" · CG {steps.mean():.1f}/step, max {int(steps.max())}"


def two_points(run: Any) -> str | None:
    """What the map's two paths of a schedule-free run are (the race board says it under the run); else None."""
    t = run.trajectory
    return compute.TWO_POINTS if t is not None and t.averaged is not None else None


def surface_info(surface: dict[str, str] | None, with_tex: bool = True) -> list[Any]:
    """The formula and description under the map (``surface``: its ``latex`` and ``description``)."""
    if not surface:
        return []
    return [
        html.Div(surface_tex(surface["latex"]) if with_tex else None, id=Ids.SURFACE_TEX),
        html.P(surface["description"], className="surface-desc"),
    ]


def surface_tex(latex: str) -> Any:
    return dcc.Markdown("$$" + latex + "$$", mathjax=True, className="surface-tex")


def views_for(cfg: ExplorerConfig, map_meta: Any, rev: str, with_tex: bool = True) -> dict[str, Any]:
    """Everything collect returns (``no_update`` where nothing changed).

    The map figure is rebuilt only when what it shows behind the trajectories
    changes (surface, parameters, box, view); otherwise the animation engine moves
    the trajectories from the payload, which also carries the diagnostics figure
    and the texts of the cards and the race board.

    Both parts come from the shared result cache (:mod:`app.hosting.result_cache`): the
    race keyed by the canonical query, the map's background by what it shows, so
    a class opening the same link computes it once.
    """
    result = computed_once(cfg)  # only on a cache miss, at most once per request
    query = to_query(cfg)
    race = cached_race(cfg, result)
    key = cfg.surface_key()
    ok = bool(race["ok"])
    previous = map_meta if isinstance(map_meta, dict) else {}
    redraw = previous.get("key") != key or previous.get("ok") != ok
    fig_rev = rev if redraw else previous.get("rev")
    payload = race["payload"]
    payload["index"]["rev"] = fig_rev
    out: dict[str, Any] = {
        "store": {"cfg": cfg.to_dict(), "query": query, "key": state_key(cfg)},
        "payload": payload,
        "map": no_update,
        "meta": no_update,
        "surface_info": no_update,
        "formula_error": race["error"],
        "batch_info": data_view.batch_info(cfg),
    }
    if redraw:
        if ok:
            fig = map_entry(cfg, result)["figure"]
        else:
            fig = style.message_figure(race["error"])
        fig["layout"]["meta"] = {"rev": rev}
        out["map"] = fig
        out["meta"] = {"key": key, "ok": ok, "rev": rev, "z": race["z"]}
        out["surface_info"] = surface_info(race["surface"], with_tex)
    return out


def computed_once(cfg: ExplorerConfig) -> Any:
    """A function giving ``compute.compute(cfg)``, computed on its first call only."""
    computed: list[Result] = []

    def result() -> Result:
        if not computed:
            computed.append(compute.compute(cfg))
        return computed[0]

    return result


def cached_race(cfg: ExplorerConfig, result: Any = None) -> dict[str, Any]:
    """:func:`race_entry` of ``cfg`` through the shared result cache (keyed by the canonical query).

    ``result()`` gives the computed configuration (default: computed on a miss)."""
    return json.loads(cached_race_text(cfg, result))


def cached_race_text(cfg: ExplorerConfig, result: Any = None) -> str:
    """:func:`cached_race` as the JSON text the cache holds (served as is by the fast path)."""
    result = result or computed_once(cfg)
    return result_cache.fetch_text("race", state_key(cfg), lambda: race_entry(cfg, result))[0]


def map_entry(cfg: ExplorerConfig, result: Any) -> dict[str, Any]:
    """The map behind the runs, from the shared cache: ``{"figure", "z"}`` (z: the colour scale).

    Keyed by what the background shows; the 3-D view also draws the runs, so it is
    keyed by the whole query.  ``result()`` gives the computed configuration.
    """
    key = cfg.surface_key() if cfg.view != "3d" else state_key(cfg)

    def build() -> dict[str, Any]:
        res = result()
        grid = figures.background_grid(res.surface, cfg.view)
        return {"figure": figures.map_figure(res, grid, with_runs=False), "z": grid.scale.to_dict()}

    entry, _ = result_cache.fetch("map", key, build)
    return entry


def z_scale(cfg: ExplorerConfig, result: Any) -> dict[str, Any]:
    """The colour scale of the map's background: in 2-D the cached map's (:func:`map_entry`, keyed like the
    background), so a moved hyperparameter does not resample the surface (a data surface's 200 × 200 samples
    cost n points each); in 3-D sampled here."""
    if cfg.view != "3d":
        return map_entry(cfg, result)["z"]
    return figures.background_grid(result().surface, cfg.view).scale.to_dict()


def race_entry(cfg: ExplorerConfig, result: Any) -> dict[str, Any]:
    """Everything about the runs of ``cfg`` the page shows, as JSON: the engine's payload (its
    ``index.rev`` left for the caller), the notes, the error, the colour scale and the surface's text."""
    res = result()
    ok = res.surface is not None
    z = z_scale(cfg, result) if ok else None  # the map's colour scale
    scale = surface_grid.ZScale(**z) if z else None
    payload = compute.payload(res, {**figures.TRACE_INDEX, "rev": None}, scale)
    payload["query"] = to_query(cfg)
    payload["palette"] = list(style.COLORS)
    payload["diagnostics"] = diagnostics.diagnostics_panels(res)
    payload["notes"] = [{"color": r.entry.color, "label": r.entry.label(), **outcome(r), "paths": two_points(r)}
                        for r in res.runs]  # fmt: skip
    payload["error"] = res.error or ""
    payload["data"] = data_view.data_payload(res)
    surface = {"latex": res.surface.latex, "description": res.surface.description} if ok else None
    return {"ok": ok, "error": res.error or "", "payload": payload, "z": z, "surface": surface}

