"""Maps that move with a slider: one setting dragged, the map recomputed on a coarser grid while it moves.

    GET /_descent/live-map?q=<map query>&p=<setting>&v=<value>

answers the map of the configuration ``q`` with the setting ``p`` (``opt.<key>``: a numeric
hyperparameter of the map's optimizer; ``s.<name>``: a parameter of the surface) set to ``v``,
computed at most :data:`LIVE_GRID` × :data:`LIVE_GRID` × :data:`LIVE_STEPS` (the budget that keeps
a redraw within a frame or two; a basin map coloured by minimum in float32, which draws the same
colours), with the start's run drawn over a basin map:
``{"figure": …, "status": …, "value": …}``.  When the slider is released the page asks again with
``full=1`` for the full map (computed in the request when it is small enough, :data:`SETTLE_WORK`),
and commits the value, so its fields follow and its own compute (a hit in the shared cache) keeps
the map's data for clicks and exports.

Everything from the request is untrusted: the query is sanitized like a link, the setting must be
one :func:`live_settings` offers, the value is clamped into its range, and the work of one request
is bounded by its grid and steps.  Anything malformed is answered 400 with a reason.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from app.explorer.state import OptimizerEntry
from app.maps.compute import run_request
from app.maps.run_path import trajectory_trace
from app.maps.state import MAX_QUERY_CHARS, MapConfig, build_surface, map_from_query, map_query
from app.maps.wording import first_line
from app.shell.raster import typed, untyped
from app.shell.validation import symbol_text
from surfaces.catalog import BY_NAME as SURFACE_SPECS

log = logging.getLogger(__name__)

ROUTE = "/_descent/live-map"
#: the largest map a live request computes: grid side and steps; a hyperparameter map's runs each have their own
#: hyperparameters and are stepped one at a time (no lock-step blocks), about 8× slower a step, so its side is halved
LIVE_GRID = 128
LIVE_HYPER_GRID = 64
LIVE_STEPS = 300
#: the most steps a released slider's full map is computed in the request itself (a bigger one is left to the
#: page's background job, with its progress bar)
SETTLE_WORK = 70_000_000
#: positions of the page's range input (its value is a position; the setting follows the scale)
SLIDER_POSITIONS = 200
#: the arithmetic of a preview: float32 where only its colours are drawn (which minimum each start reaches),
#: float64 where the numbers themselves are (steps to converge, final loss: float32 would change them)
PREVIEW_FLOAT32_SHOWS = ("minimum",)
_SETTING = re.compile(r"(opt|s)\.[A-Za-z][A-Za-z0-9_]{0,31}")


class BadRequest(ValueError):
    """A live request the endpoint refuses (answered 400)."""


@dataclass(frozen=True)
class LiveSetting:
    """One setting a slider can drag: ``id`` (``opt.lr``, ``s.A``), its label, range, scale and current value."""

    id: str
    label: str
    low: float
    high: float
    log: bool
    integer: bool
    value: float

    def clamp(self, v: float) -> float:
        c = min(max(float(v), self.low), self.high)
        return float(round(c)) if self.integer else c

    def position(self) -> int:
        """The slider position (0 … SLIDER_POSITIONS) of the current value, on the setting's scale."""
        if self.high <= self.low:
            return 0
        if self.log:
            f = (math.log(self.value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            f = (self.value - self.low) / (self.high - self.low)
        return round(min(max(f, 0.0), 1.0) * SLIDER_POSITIONS)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "low": self.low, "high": self.high, "log": self.log,
                "integer": self.integer, "value": self.value}  # fmt: skip


def live_settings(cfg: MapConfig) -> list[LiveSetting]:
    """The settings of ``cfg`` a slider may drag: the optimizer's numeric hyperparameters (those not on a
    hyperparameter map's axes) with their slider ranges, then the surface's parameters."""
    out = []
    swept = set(cfg.swept())
    for p in cfg.spec.params:
        if p.kind not in ("float", "int") or p.key in swept:
            continue
        lo, hi = p.slider_range()
        log = bool(p.log) and lo > 0
        value = float(cfg.entry.value(p.key))
        out.append(LiveSetting(f"opt.{p.key}", f"{symbol_text(p)} ({p.key})", float(lo), float(hi), log, p.kind == "int",
                               min(max(value, float(lo)), float(hi))))  # fmt: skip
    spec = SURFACE_SPECS.get(cfg.base.surface)
    if spec is not None:
        current = dict(cfg.base.surface_params)
        for sp in spec.params:
            log = bool(sp.log) and sp.low > 0
            out.append(LiveSetting(f"s.{sp.name}", f"{sp.name}: {sp.description}", float(sp.low), float(sp.high), log,
                                   bool(sp.integer), float(current.get(sp.name, sp.default))))  # fmt: skip
    return out


def with_setting(cfg: MapConfig, setting: str, value: float) -> MapConfig:
    """``cfg`` with ``setting`` (one of :func:`live_settings`) set to ``value`` clamped into its range."""
    found = {s.id: s for s in live_settings(cfg)}.get(setting)
    if found is None:
        raise BadRequest(f"{setting!r} is not a setting this map can drag")
    if not math.isfinite(value):
        raise BadRequest("the value must be a finite number")
    v = found.clamp(value)
    kind, key = setting.split(".", 1)
    if kind == "opt":
        e = cfg.entry
        p = e.spec.param(key)
        new = p.coerce(int(v) if p.kind == "int" else v)
        entry = OptimizerEntry(e.name, tuple((k, new if k == key else old) for k, old in e.values), e.color)
        return replace(cfg, base=replace(cfg.base, optimizers=(entry,)))
    params = tuple((k, v if k == key else old) for k, old in cfg.base.surface_params)
    return replace(cfg, base=replace(cfg.base, surface_params=params))


def coarse(cfg: MapConfig) -> MapConfig:
    """The live version of ``cfg``: at most :data:`LIVE_GRID` (a hyperparameter map :data:`LIVE_HYPER_GRID`) per side
    and :data:`LIVE_STEPS` steps."""
    side = LIVE_GRID if cfg.kind == "basin" else LIVE_HYPER_GRID
    return replace(cfg, grid=min(cfg.grid, side), base=replace(cfg.base, steps=min(cfg.base.steps, LIVE_STEPS)))


def requested(args: Mapping[str, Any]) -> tuple[MapConfig, str, float]:
    """The full configuration a live request asks for, the setting and its clamped value; BadRequest if malformed."""
    q = args.get("q", "")
    setting = args.get("p", "")
    if not isinstance(q, str) or len(q) > MAX_QUERY_CHARS:
        raise BadRequest("q must be a map query")
    if not isinstance(setting, str) or not _SETTING.fullmatch(setting):
        raise BadRequest("p must name a setting, e.g. opt.lr or s.A")
    try:
        value = float(args.get("v", ""))
    except (TypeError, ValueError):
        raise BadRequest("v must be a number") from None
    cfg = with_setting(map_from_query(q), setting, value)
    return cfg, setting, {s.id: s for s in live_settings(cfg)}[setting].value


def compact_trace(trace: dict[str, Any]) -> dict[str, Any]:
    """A trace as a live answer sends it: a heatmap's z as a typed array (plotly.js's ``{dtype, bdata, shape}``:
    int8 for class indices, float32 otherwise, NaN kept as a gap)."""
    if trace.get("type") != "heatmap" or trace.get("z") is None:
        return trace
    z = untyped(trace["z"])
    small_ints = np.isfinite(z).all() and np.array_equal(z, np.round(z)) and (z.size == 0 or np.abs(z).max() <= 127)
    return {**trace, "z": typed(z, "i1" if small_ints else "f4")}


def live_answer(args: Mapping[str, Any], clock: Any = time.monotonic,
                later: list[Callable[[], None]] | None = None) -> dict[str, Any]:  # fmt: skip
    """The live map a request asks for (see the module docstring); BadRequest if the request is malformed.

    ``later``: where a settled map leaves the work that can wait until it has been answered (see
    :func:`settled_answer`)."""
    from app.maps.map_figure import map_figure
    from app.maps.sweep import run_sweep

    full, setting, value = requested(args)
    if args.get("full") == "1":
        return settled_answer(full, value, reuse_contours=setting.startswith("opt."), later=later)
    cfg = coarse(full)
    problem = cfg.problem()
    if problem is not None:
        return {"error": problem, "value": value}
    reuse = setting.startswith("opt.")  # the surface is unchanged: the page keeps the contour lines it has
    t0 = clock()
    try:
        surface = build_surface(cfg)
        precision = "float32" if cfg.kind == "basin" and cfg.show in PREVIEW_FLOAT32_SHOWS else "float64"
        smap = run_sweep(cfg, surface, precision=precision)  # one chunk: the work is bounded by coarse()
    except ValueError as exc:
        return {"error": first_line(exc), "value": value}
    fig = map_figure(cfg, smap, surface, contours=not reuse)
    path = trajectory_trace(cfg, surface)
    traces = [*fig["data"], path] if path is not None else list(fig["data"])
    if reuse and cfg.kind == "basin":  # where the figure builder puts them: just below the minima
        at = next((i for i, t in enumerate(traces) if t.get("name") == "minima"), len(traces))
        traces.insert(at, {"name": "contours", "reuse": True})
    fig["data"] = [compact_trace(t) for t in traces]
    ms = 1000.0 * (clock() - t0)  # sweep, figure and the start's run
    arithmetic = " (float32)" if smap.precision == "float32" else ""
    return {"figure": fig, "value": value, "query": map_query(full),
            "status": f"preview {cfg.grid}×{cfg.grid} × {cfg.base.steps} steps in {ms:.0f} ms{arithmetic}"}


def live_info(store: Any, chosen: Any) -> dict[str, Any]:
    """The live panel for the state store's map: the setting options, the one dragged (``chosen`` while it is
    still offered, else the learning rate or the first), and its info for the page's slider (with the query)."""
    from app.maps.state import config_from_store

    cfg = config_from_store(store)
    settings = live_settings(cfg) if cfg is not None else []
    if not settings:
        return {"options": [], "value": None, "info": None, "position": SLIDER_POSITIONS // 2}
    by_id = {s.id: s for s in settings}
    pick = chosen if isinstance(chosen, str) and chosen in by_id else ("opt.lr" if "opt.lr" in by_id else settings[0].id)
    info = {**by_id[pick].to_dict(), "q": map_query(cfg), "positions": SLIDER_POSITIONS}
    return {"options": [{"label": s.label, "value": s.id} for s in settings], "value": pick, "info": info,
            "position": by_id[pick].position()}


def committed(store: Any, commit: Any) -> MapConfig | None:
    """The state store's map with a released slider value (``{"p": setting, "v": value}``) applied at full size,
    or None when the commit is not usable (the state has moved on, or the browser sent something else)."""
    from app.maps.state import config_from_store

    cfg = config_from_store(store)
    if cfg is None or not isinstance(commit, Mapping):
        return None
    p, v = commit.get("p"), commit.get("v")
    if not isinstance(p, str) or not _SETTING.fullmatch(p) or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return with_setting(cfg, p, float(v))
    except (BadRequest, ValueError):
        return None


def settled_answer(full: MapConfig, value: float, reuse_contours: bool = False,
                   later: list[Callable[[], None]] | None = None) -> dict[str, Any]:  # fmt: skip
    """The full map of a released slider, computed here (through the shared result cache, so the page's own
    compute that follows is a hit) when it is at most :data:`SETTLE_WORK` steps; else ``{"defer": true}``.

    ``reuse_contours`` (an optimizer's setting: the surface is unchanged) sends the contour lines as
    ``{"name": "contours", "reuse": true}``, the page's own (about 40 % of a 256 × 256 map's answer).
    With ``later`` (a list), storing the map's data for exports (a 256 × 256 map's 2.7 MB of JSON, about a
    quarter of the answer's time) is appended to it, for the caller to run once the map has been sent."""
    from app.maps.state import request_data

    if full.work > SETTLE_WORK:
        return {"defer": True, "value": value}
    out = run_request(request_data(full), later=later)
    if out.meta is None:  # refused: the page's compute says why
        return {"defer": True, "value": value}
    traces = [compact_trace(t) for t in out.figure["data"]]
    if reuse_contours:
        traces = [{"name": "contours", "reuse": True} if t.get("name") == "contours" else t for t in traces]
    fig = {**out.figure, "data": traces}
    return {"figure": fig, "status": out.status, "value": value, "query": map_query(full), "settled": True}


def register(server: Any) -> None:
    """Add the live-map route to the Flask server."""
    import plotly.utils
    from flask import Response, request

    @server.get(ROUTE)
    def live_map() -> Any:
        later: list[Callable[[], None]] = []
        try:
            answer = live_answer(request.args, later=later)
        except BadRequest as exc:
            return {"error": "bad request", "reason": str(exc)}, 400
        text = plotly.utils.PlotlyJSONEncoder().encode(answer)  # arrays as lists, NaN as null
        response = Response(text, mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        response.call_on_close(lambda: run_later(later))  # once the answer has been sent
        return response


def run_later(work: list[Callable[[], None]]) -> None:
    """Run the work a request left for after its answer; one that fails is logged and the rest still run."""
    for job in work:
        try:
            job()
        except Exception:  # the answer has gone: a failure here can only be logged
            log.exception("live map: work after the answer failed")
