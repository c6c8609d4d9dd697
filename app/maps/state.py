"""The Sweep maps page's state: a validated :class:`MapConfig` and its URL query codec.

A map runs one optimizer many times (:mod:`optimizers.maps`): from every start of a grid over
the plotting box (a *basin map*), or from one start for every pair of values of two
hyperparameters (a *hyperparameter map*).  Its whole configuration is an Explorer configuration
(the surface, start, steps, the one optimizer and the modifiers) plus the map's kind, grid,
colouring and axes.  It travels in the URL::

    /maps?kind=hyper&surface=quadratic&start=-9,4&steps=1000&opt=momentum,color=0
         &grid=128&show=steps&ax=lr,0.01,10,log&ay=momentum,0,0.99,lin

Everything from a URL or a browser store is untrusted: :func:`sanitize_map`,
:func:`map_from_query` and :func:`config_from_store` repair what they cannot use (each repair
becomes a notice) and never raise.  :data:`DEFAULT_MAP` is what a bare link opens.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np

from app.explorer.state import FORMULA, ExplorerConfig, OptimizerEntry, from_query, sanitize, to_query
from app.maps.figures import SHOWS
from app.maps.wording import millions, short_value
from app.shell.theme import QUERY_KEY as THEME_KEY
from app.shell.validation import Notes, parse_number, query_number, shown
from optimizers.maps import MAX_GRID, MAX_MAP_STEPS, axis_values
from optimizers.registry import HyperParam, OptimizerSpec
from surfaces.catalog import BY_NAME as SURFACE_SPECS

KINDS = ("basin", "hyper")
KIND_LABELS = {"basin": "Basins of attraction (a run from every start)",
               "hyper": "Hyperparameter map (two settings × one start)"}  # fmt: skip
#: most runs × steps one map may ask for
WORK_BUDGET = 160_000_000
MAX_QUERY_CHARS = 4000
MAX_QUERY_FIELDS = 60
#: keys of the map's own settings in the query (the rest is the Explorer's codec)
MAP_KEYS = ("kind", "grid", "show", "ax", "ay")
#: second choices for the y axis of a hyperparameter map, in order of preference
Y_AXIS_PREFERENCE = ("momentum", "beta1", "rho", "eta_minus", "gain_step", "damping", "history", "weight_decay")


@dataclass(frozen=True)
class Axis:
    """One axis of a hyperparameter map: which hyperparameter, its range, log or linear spacing."""

    key: str
    low: float
    high: float
    log: bool

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "low": self.low, "high": self.high, "log": self.log}

    def encode(self) -> str:
        return f"{self.key},{query_number(self.low)},{query_number(self.high)},{'log' if self.log else 'lin'}"


@dataclass(frozen=True)
class MapConfig:
    """Everything a map shows (see the module docstring); valid by construction."""

    kind: str
    base: ExplorerConfig  # surface, box, start, steps, exactly one optimizer (colour 0), modifiers
    grid: int
    show: str
    x_axis: Axis
    y_axis: Axis
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.show not in SHOWS:
            raise ValueError(f"show must be one of {SHOWS}, got {self.show!r}")
        if not (isinstance(self.grid, int) and 2 <= self.grid <= MAX_GRID):
            raise ValueError(f"grid must be an integer in [2, {MAX_GRID}], got {self.grid!r}")
        if len(self.base.optimizers) != 1 or self.base.optimizers[0].color != 0:
            raise ValueError("a map runs exactly one optimizer, in colour slot 0")
        if not 1 <= self.base.steps <= MAX_MAP_STEPS:
            raise ValueError(f"steps must be in [1, {MAX_MAP_STEPS}]")
        spec = self.spec
        for ax in (self.x_axis, self.y_axis):
            p = spec.param(ax.key)
            if p.kind not in ("float", "int"):
                raise ValueError(f"{ax.key} is not numeric and cannot be an axis")
            p.coerce(ax.low)
            p.coerce(ax.high)
            if not ax.low < ax.high or (ax.log and ax.low <= 0):
                raise ValueError(f"bad range for the {ax.key} axis: {ax!r}")
        if self.x_axis.key == self.y_axis.key:
            raise ValueError("the two axes must be different hyperparameters")

    @property
    def entry(self) -> OptimizerEntry:
        return self.base.optimizers[0]

    @property
    def spec(self) -> OptimizerSpec:
        return self.entry.spec

    @property
    def runs(self) -> int:
        return self.grid * self.grid

    @property
    def work(self) -> int:
        """Runs × steps: the most optimizer steps this map can take."""
        return self.runs * self.base.steps

    def problem(self) -> str | None:
        """Why this map cannot be computed, or None."""
        if self.work > WORK_BUDGET:
            return (f"{self.grid}×{self.grid} runs × {self.base.steps} steps = {millions(self.work)} steps is over "
                    f"the limit of {millions(WORK_BUDGET)}: lower the grid or the steps.")  # fmt: skip
        bad = self.entry.problem()
        if bad:
            return f"{self.spec.display_name}: {bad}."
        return None

    def swept(self) -> tuple[str, ...]:
        """The hyperparameters the map varies (none for a basin map)."""
        return (self.x_axis.key, self.y_axis.key) if self.kind == "hyper" else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "explorer": self.base.to_dict(),
            "grid": self.grid,
            "show": self.show,
            "x_axis": self.x_axis.to_dict(),
            "y_axis": self.y_axis.to_dict(),
        }


# -- axes ------------------------------------------------------------------------


def numeric_params(spec: OptimizerSpec) -> list[HyperParam]:
    """The hyperparameters of ``spec`` an axis can vary (floats and ints)."""
    return [p for p in spec.params if p.kind in ("float", "int")]


def _valid_interval(p: HyperParam) -> tuple[float, float]:
    """The closed interval of values an axis of ``p`` may span (open ends nudged inside)."""
    lo, hi = float(p.low), float(p.high)
    if p.low_open:
        lo = float(p.ui_low) if p.ui_low is not None and p.ui_low > lo else lo + max(abs(lo), 1.0) * 1e-12
    if p.high_open:
        hi = float(p.ui_high) if p.ui_high is not None and p.ui_high < hi else hi - max(abs(hi), 1.0) * 1e-12
    return lo, hi


def default_axis(p: HyperParam) -> Axis:
    """The axis of ``p`` over its slider range (inside its valid interval), log where the slider is."""
    lo, hi = p.slider_range()
    vlo, vhi = _valid_interval(p)
    lo, hi = max(float(lo), vlo), min(float(hi), vhi)
    if p.kind == "int":
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
    log = bool(p.log and lo > 0)
    return Axis(p.key, lo, hi, log)


def default_axes(spec: OptimizerSpec) -> tuple[Axis, Axis]:
    """x: the learning rate; y: the optimizer's most telling second setting (momentum, β₁, ρ …)."""
    nums = numeric_params(spec)
    keys = [p.key for p in nums]
    x = "lr" if "lr" in keys else keys[0]
    y = next((k for k in Y_AXIS_PREFERENCE if k in keys and k != x), None)
    if y is None:
        y = next(k for k in keys if k != x)
    return default_axis(spec.param(x)), default_axis(spec.param(y))


def sanitize_axis(raw: Any, spec: OptimizerSpec, default: Axis, what: str, notes: Notes) -> Axis:
    """A valid axis of ``spec`` from an untrusted mapping {key, low, high, log}; repairs are noted."""
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        notes.add(f"{what}: {shown(raw)} is not an axis; using {default.key}")
        return default
    key = raw.get("key", default.key)
    nums = {p.key: p for p in numeric_params(spec)}
    if key not in nums:
        notes.add(f"{what}: {spec.display_name} has no numeric setting {shown(key)}; using {default.key}")
        return default
    p = nums[key]
    what = f"{what} ({key})"
    fallback = default if default.key == key else default_axis(p)
    vlo, vhi = _valid_interval(p)
    ends = []
    for end, raw_v, dflt in (("from", raw.get("low"), fallback.low), ("to", raw.get("high"), fallback.high)):
        if raw_v is None:
            ends.append(dflt)
            continue
        v = parse_number(raw_v)
        if v is None:
            notes.add(f"{what} {end}: {shown(raw_v)} is not a number; using {query_number(dflt)}")
            ends.append(dflt)
            continue
        c = min(max(v, vlo), vhi)
        if p.kind == "int":
            c = float(round(c))
        if c != v:
            notes.add(f"{what} {end}: {short_value(v)} is outside [{short_value(vlo)}, {short_value(vhi)}]; using {short_value(c)}")
        ends.append(c)
    lo, hi = ends
    if not lo < hi:
        notes.add(f"{what}: the range needs from < to; using {query_number(fallback.low)} to {query_number(fallback.high)}")
        lo, hi = fallback.low, fallback.high
    log_raw = raw.get("log", fallback.log)
    if isinstance(log_raw, str):
        log = log_raw.strip().lower() in ("log", "true", "1", "yes", "on")
    elif isinstance(log_raw, (list, tuple)):  # a checklist's value
        log = len(log_raw) > 0
    else:
        log = bool(log_raw) if isinstance(log_raw, (bool, int)) else fallback.log
    if log and lo <= 0:
        notes.add(f"{what}: a log axis needs positive values; using a linear axis")
        log = False
    return Axis(key, float(lo), float(hi), log)


# -- the whole configuration -------------------------------------------------------


def map_entry(name: str, **values: Any) -> OptimizerEntry:
    """The map's one optimizer: ``name`` with its defaults but ``values``, in colour slot 0."""
    return OptimizerEntry.default(name, 0, **values)


def map_base(surface: str, start: tuple[float, float], steps: int, entry: OptimizerEntry,
             params: Mapping[str, float] | None = None) -> ExplorerConfig:  # fmt: skip
    """The Explorer configuration a map runs on: a built-in surface (its defaults but ``params``) and one optimizer."""
    spec = SURFACE_SPECS[surface]
    vals = {p.name: float(p.default) for p in spec.params}
    vals.update(params or {})
    return ExplorerConfig(
        surface=surface,
        surface_params=tuple((p.name, vals[p.name]) for p in spec.params),
        start=start,
        steps=steps,
        optimizers=(entry,),
        arrows=0,
    )


def map_config(kind: str, base: ExplorerConfig, grid: int, show: str, x: Axis | None = None,
               y: Axis | None = None) -> MapConfig:  # fmt: skip
    """A map of ``base``; the axes default to the optimizer's (:func:`default_axes`)."""
    dx, dy = default_axes(base.optimizers[0].spec)
    return MapConfig(kind, base, grid, show, x or dx, y or dy)


#: the map a bare link opens (the first lesson, :mod:`app.maps.presets`): Adam's basins on Himmelblau
DEFAULT_MAP: MapConfig = map_config("basin", map_base("himmelblau", (-0.27, -0.92), 1000, map_entry("adam", lr=0.5)),
                                    200, "minimum")  # fmt: skip


def sanitize_map(raw: Any, fallback: MapConfig | None = None) -> MapConfig:
    """A valid map configuration from an untrusted mapping (the shape of ``MapConfig.to_dict``).

    Missing fields come from ``fallback`` (default: :data:`DEFAULT_MAP`); unusable
    ones are repaired and listed in ``notes``.  Never raises.
    """
    fallback = fallback or DEFAULT_MAP
    notes = Notes()
    if not isinstance(raw, Mapping):
        notes.add("the map settings were not understood; showing the default map")
        return replace(fallback, notes=notes.result())
    try:
        return _sanitize_map(raw, fallback, notes)
    except Exception:  # noqa: BLE001  (a last guard: hostile input never breaks the page)
        return replace(DEFAULT_MAP, notes=("the map settings could not be read; showing the default map",))


def _sanitize_map(raw: Mapping[str, Any], fallback: MapConfig, notes: Notes) -> MapConfig:
    kind = raw.get("kind", fallback.kind)
    if kind not in KINDS:
        notes.add(f"map kind {shown(kind)} is not basin or hyper; using {fallback.kind}")
        kind = fallback.kind

    ex_raw = raw.get("explorer")
    if ex_raw is None:
        ex = fallback.base
    else:
        ex = sanitize(ex_raw, base=fallback.base)
        for n in ex.notes:
            notes.add(n)
    entries = ex.optimizers
    if not entries:
        notes.add(f"a map needs an optimizer; using {fallback.spec.display_name}")
        entry = fallback.entry
    else:
        if len(entries) > 1:
            notes.add(f"a map runs one optimizer; kept {entries[0].spec.display_name}")
        entry = OptimizerEntry(entries[0].name, entries[0].values, 0)
    steps = ex.steps
    if steps > MAX_MAP_STEPS:
        notes.add(f"steps: a map runs at most {MAX_MAP_STEPS} steps per run")
        steps = MAX_MAP_STEPS
    ex = replace(ex, optimizers=(entry,), arrows=0, view="2d", steps=steps, notes=())

    grid_raw = raw.get("grid", fallback.grid)
    g = parse_number(grid_raw)
    if g is None:
        notes.add(f"grid: {shown(grid_raw)} is not a number; using {fallback.grid}")
        grid = fallback.grid
    else:
        grid = int(round(min(max(g, 2.0), float(MAX_GRID))))
        if grid != g:
            notes.add(f"grid: {query_number(g)} is not a whole number in [2, {MAX_GRID}]; using {grid}")

    show = raw.get("show", fallback.show)
    if show not in SHOWS:
        notes.add(f"colouring {shown(show)} is not one of {', '.join(SHOWS)}; using {fallback.show}")
        show = fallback.show

    spec = entry.spec
    if spec.name == fallback.spec.name:
        dx, dy = fallback.x_axis, fallback.y_axis
    else:
        dx, dy = default_axes(spec)
    x = sanitize_axis(raw.get("x_axis"), spec, dx, "x axis", notes)
    y = sanitize_axis(raw.get("y_axis"), spec, dy if dy.key != x.key else _other_axis(spec, x.key), "y axis", notes)
    if y.key == x.key:
        notes.add(f"the two axes must differ; the y axis shows {_other_axis(spec, x.key).key}")
        y = _other_axis(spec, x.key)
    return MapConfig(kind, ex, grid, show, x, y, notes=notes.result())


def _other_axis(spec: OptimizerSpec, key: str) -> Axis:
    dx, dy = default_axes(spec)
    for a in (dy, dx):
        if a.key != key:
            return a
    return default_axis(next(p for p in numeric_params(spec) if p.key != key))


# -- URL codec ---------------------------------------------------------------------


def map_query(cfg: MapConfig) -> str:
    """The query string (with '?') that reproduces ``cfg``."""
    ex = to_query(cfg.base).lstrip("?")
    pairs = [("kind", cfg.kind)]
    tail = [("grid", str(cfg.grid)), ("show", cfg.show)]
    if cfg.kind == "hyper" or (cfg.x_axis, cfg.y_axis) != default_axes(cfg.spec):
        tail += [("ax", cfg.x_axis.encode()), ("ay", cfg.y_axis.encode())]
    head = "&".join(f"{k}={quote(v, safe=',=.-_')}" for k, v in pairs)
    rest = "&".join(f"{k}={quote(v, safe=',=.-_')}" for k, v in tail)
    return f"?{head}&{ex}&{rest}"


def _axis_from_text(text: str) -> dict[str, Any] | str:
    parts = text.split(",")
    if len(parts) != 4:
        return text
    return {"key": parts[0].strip(), "low": parts[1], "high": parts[2], "log": parts[3]}


def map_from_query(query: Mapping[str, Any] | str | None) -> MapConfig:
    """The map a URL's query describes (a plain dict, or the raw query string); never raises.

    An empty query gives :data:`DEFAULT_MAP`.  Everything else is validated and
    clamped; each repair becomes a notice, and an unreadable query falls back
    to the default map with a notice.
    """
    try:
        return _map_from_query(query)
    except Exception:  # noqa: BLE001  (a last guard: a link never breaks the page)
        return replace(DEFAULT_MAP, notes=("the link could not be read; showing the default map",))


def _map_from_query(query: Mapping[str, Any] | str | None) -> MapConfig:
    notes = Notes()
    if query is None:
        return DEFAULT_MAP
    if isinstance(query, str):
        text = query.lstrip("?")
        if len(text) > MAX_QUERY_CHARS:
            return replace(DEFAULT_MAP, notes=("the link's settings are too long; showing the default map",))
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            return replace(DEFAULT_MAP, notes=("the link has too many settings; showing the default map",))
    elif isinstance(query, Mapping):
        if len(query) > MAX_QUERY_FIELDS:
            return replace(DEFAULT_MAP, notes=("the link has too many settings; showing the default map",))
        pairs = []
        for k, v in query.items():
            if not isinstance(k, str):
                notes.add(f"ignored a setting named {shown(k)}")
                continue
            if isinstance(v, (list, tuple)):  # e.g. a parse_qs result
                pairs += [(k, str(x)) for x in v if isinstance(x, (str, int, float))]
            elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
                pairs.append((k, str(v)))
            else:
                notes.add(f"ignored {shown(k)}: its value is not text")
    else:
        return replace(DEFAULT_MAP, notes=("the link was not understood; showing the default map",))
    if not pairs:
        return replace(DEFAULT_MAP, notes=notes.result()) if notes.items else DEFAULT_MAP
    if sum(len(k) + len(v) for k, v in pairs) > MAX_QUERY_CHARS:
        return replace(DEFAULT_MAP, notes=("the link's settings are too long; showing the default map",))

    mine: dict[str, str] = {}
    explorer: list[tuple[str, str]] = []
    for k, v in pairs:
        if k in MAP_KEYS:
            mine[k] = v
        elif k == THEME_KEY:
            continue  # the page's theme: read by the browser (assets/theme.js), not part of the map
        else:
            explorer.append((k, v))
    surface = next((v for k, v in explorer if k == "surface"), None)
    if surface is not None and surface != FORMULA and surface not in SURFACE_SPECS:
        notes.add(f"unknown surface {shown(surface)}; using {DEFAULT_MAP.base.surface_spec.display_name}")
        explorer = [(k, v) for k, v in explorer if k not in ("surface", "f", "box", "start") and not k.startswith("s.")]
    keys = {k for k, _ in explorer}
    # what the link leaves out comes from the default map, not from the Explorer's default race
    default_pairs = parse_qsl(to_query(DEFAULT_MAP.base).lstrip("?"))
    if "surface" not in keys:
        explorer += [(k, v) for k, v in default_pairs if k in ("surface", "f", "box", "start") or k.startswith("s.")]
    if "opt" not in keys:
        explorer += [(k, v) for k, v in default_pairs if k == "opt"]
    if "steps" not in keys:
        explorer += [(k, v) for k, v in default_pairs if k == "steps"]
    if len([1 for k, _ in explorer if k == "opt"]) > 1:
        notes.add("a map runs one optimizer; kept the first")
        first = next(i for i, (k, _) in enumerate(explorer) if k == "opt")
        explorer = [(k, v) for i, (k, v) in enumerate(explorer) if k != "opt" or i == first]
    ex = from_query(urlencode(explorer))
    for n in ex.notes:
        notes.add(n)

    raw: dict[str, Any] = {"explorer": ex.to_dict()}
    for key in ("kind", "grid", "show"):
        if key in mine:
            raw[key] = mine[key]
    for key, field_name in (("ax", "x_axis"), ("ay", "y_axis")):
        if key in mine:
            raw[field_name] = _axis_from_text(mine[key])
    cfg = sanitize_map(raw)
    for n in cfg.notes:
        notes.add(n)
    return replace(cfg, notes=notes.result())


def config_from_store(data: Any) -> MapConfig | None:
    """The configuration kept in a browser store (untrusted: sanitized again)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("cfg"), Mapping):
        return None
    return sanitize_map(data["cfg"])


def state_data(cfg: MapConfig) -> dict[str, Any]:
    """The state store's data: the configuration and the query that reproduces it."""
    return {"cfg": cfg.to_dict(), "query": map_query(cfg)}


def request_data(cfg: MapConfig, nonce: Any = None) -> dict[str, Any]:
    """The request store's data: the configuration to compute, and a nonce that makes every request new."""
    return {"cfg": cfg.to_dict(), "nonce": nonce if nonce is not None else time.time_ns()}


# -- what a configuration runs on ----------------------------------------------------


def build_surface(cfg: MapConfig) -> Any:
    """The surface of the map, exactly as the Explorer builds it for the same settings (a data surface with
    its edited points and the catalogue's box), so a pixel opens the very run it shows; a formula that does
    not parse raises ValueError."""
    from app.explorer.compute import build_surface as explorer_surface

    return explorer_surface(cfg.base)


def map_axes(cfg: MapConfig) -> tuple[np.ndarray, np.ndarray]:
    """The x and y values of the map's columns and rows, exactly as the engine lays them out."""
    if cfg.kind == "basin":
        (x0, x1), (y0, y1) = cfg.base.bounds
        return np.linspace(x0, x1, cfg.grid), np.linspace(y0, y1, cfg.grid)
    spec = cfg.spec
    xa, ya = cfg.x_axis, cfg.y_axis
    return (axis_values(spec.param(xa.key), xa.low, xa.high, cfg.grid, xa.log),
            axis_values(spec.param(ya.key), ya.low, ya.high, cfg.grid, ya.log))  # fmt: skip
