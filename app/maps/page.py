"""The "Sweep maps" page: basins of attraction and hyperparameter stability maps.

A map runs one optimizer many times (``optimizers.maps``): from every start of
a grid over the plotting box (a *basin map*), or from one start for every pair
of values of two hyperparameters (a *hyperparameter map*), and colours each
pixel by the minimum reached, the steps to converge or the final loss.
Clicking a pixel links to that single run in the Explorer.

The page's whole state is a :class:`MapConfig`: an Explorer configuration
holding the surface, start, steps, the one optimizer and the modifiers, plus
the map's kind, grid, colouring and axes.  It travels in the URL::

    /maps?kind=hyper&surface=quadratic&start=-9,4&steps=1000&opt=momentum,color=0
         &grid=128&show=steps&ax=lr,0.01,10,log&ay=momentum,0,0.99,lin

Data flow (no server-side state; everything lives in the browser)::

    structural controls (map kind, surface, optimizer, axis keys) / lessons
        └─ render ──> every control's value, parameter rows          (server)
    any control ──> collect ──> state store, notice, work estimate      (server)
    state store ──> the URL (history.replaceState)                     (browser)
    Compute ──> request store ──> compute_map: the map, in a background job
                 with progress, a Cancel button and a time limit         (worker)
    click on a pixel / typed values ──> that run, and its Explorer link  (server)

The functions above ``register_callbacks`` are plain functions of plain
values; the tests call them directly.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np
from dash import dcc, html, no_update

from app.explorer.state import FORMULA, ExplorerConfig, OptimizerEntry, from_query, sanitize, to_query
from app.hosting import result_cache
from app.maps import figures as maps_figures
from app.shell import style
from app.shell.header import page_links
from app.shell.tree import fill
from app.shell.validation import Notes, parse_number, shown, symbol_text
from optimizers.maps import MAX_GRID, MAX_MAP_STEPS, Cancelled, SweepMap
from optimizers.modifiers import CLIP_MODES
from optimizers.registry import BY_NAME as OPTIMIZER_SPECS
from optimizers.registry import SPECS as OPTIMIZER_LIST
from optimizers.registry import HyperParam, OptimizerSpec
from surfaces.catalog import BY_NAME as SURFACE_SPECS
from surfaces.catalog import SPECS as SURFACE_LIST

PATH = "/maps"
TITLE = "Sweep maps"

KINDS = ("basin", "hyper")
KIND_LABELS = {"basin": "Basins of attraction (a run from every start)",
               "hyper": "Hyperparameter map (two settings × one start)"}  # fmt: skip
SHOW_LABELS = {"minimum": "minimum reached", "steps": "steps to converge", "loss": "final loss"}
#: most runs × steps one map may ask for
WORK_BUDGET = 160_000_000
#: a map that has not finished after this many seconds stops itself
TIME_LIMIT = 120.0
DEFAULT_GRID = 128
MAX_QUERY_CHARS = 4000
MAX_QUERY_FIELDS = 60
#: keys of the map's own settings in the query (the rest is the Explorer's codec)
MAP_KEYS = ("kind", "grid", "show", "ax", "ay")
#: second choices for the y axis of a hyperparameter map, in order of preference
Y_AXIS_PREFERENCE = ("momentum", "beta1", "rho", "eta_minus", "gain_step", "damping", "history", "weight_decay")
BOUND_KEYS = frozenset({"lr", "momentum", "weight_decay"})


class Ids(StrEnum):
    """Component ids of the page (all prefixed ``maps-``; the Explorer's ids never are)."""

    ROOT = "maps-root"
    STATE = "maps-state"  # the current, validated configuration (+ its query)
    REQUEST = "maps-request"  # the configuration to compute (written by Compute and the lessons)
    META = "maps-meta"  # the configuration of the map on screen (for clicks)
    URL_SINK = "maps-url-sink"
    NOTICE = "maps-notice"
    LESSON = "maps-lesson"
    PRESETS = "maps-presets"

    KIND = "maps-kind"
    SHOW = "maps-show"
    GRID = "maps-grid"
    STEPS = "maps-steps"
    WORK = "maps-work"

    SURFACE = "maps-surface"
    SURFACE_PARAMS = "maps-surface-params"
    FORMULA_BOX = "maps-formula-box"
    FORMULA = "maps-formula"
    XMIN = "maps-xmin"
    XMAX = "maps-xmax"
    YMIN = "maps-ymin"
    YMAX = "maps-ymax"

    OPTIMIZER = "maps-optimizer"
    HYPER = "maps-hyper"
    CONVENTION = "maps-convention"

    AXES_BOX = "maps-axes-box"
    AX_KEY = "maps-ax-key"
    AX_LOW = "maps-ax-low"
    AX_HIGH = "maps-ax-high"
    AX_LOG = "maps-ax-log"
    AY_KEY = "maps-ay-key"
    AY_LOW = "maps-ay-low"
    AY_HIGH = "maps-ay-high"
    AY_LOG = "maps-ay-log"
    START_X = "maps-start-x"
    START_Y = "maps-start-y"

    NOISE = "maps-noise"
    SEED = "maps-seed"
    CLIP = "maps-clip"
    CLIP_VALUE = "maps-clip-value"
    SCHEDULE_NOTE = "maps-schedule-note"

    RUN = "maps-run"
    CANCEL = "maps-cancel"
    PROGRESS_BOX = "maps-progress-box"
    PROGRESS = "maps-progress"
    PROGRESS_TEXT = "maps-progress-text"
    STATUS = "maps-status"
    GRAPH = "maps-graph"
    EXPLAIN = "maps-explain"
    PIXEL = "maps-pixel"
    PICK_X = "maps-pick-x"
    PICK_Y = "maps-pick-y"
    PICK = "maps-pick"
    PICK_LABEL_X = "maps-pick-label-x"
    PICK_LABEL_Y = "maps-pick-label-y"


class Kind(StrEnum):
    """``type`` of the page's pattern-matching ids."""

    SURFACE_PARAM = "maps-sp"  # number input of a surface parameter
    HYPER_NUM = "maps-hp"  # number input of a numeric hyperparameter
    HYPER_FLAG = "maps-hf"  # checklist (bool) or radio items (choice) of a hyperparameter
    PRESET = "maps-preset"


def sp_id(key: str) -> dict[str, str]:
    return {"type": Kind.SURFACE_PARAM.value, "key": key}


def hp_id(key: str) -> dict[str, str]:
    return {"type": Kind.HYPER_NUM.value, "key": key}


def hf_id(key: str) -> dict[str, str]:
    return {"type": Kind.HYPER_FLAG.value, "key": key}


def preset_id(name: str) -> dict[str, str]:
    return {"type": Kind.PRESET.value, "name": name}


# --------------------------------------------------------------------------- configuration


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
        return f"{self.key},{_num(self.low)},{_num(self.high)},{'log' if self.log else 'lin'}"


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
        if self.show not in maps_figures.SHOWS:
            raise ValueError(f"show must be one of {maps_figures.SHOWS}, got {self.show!r}")
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
            return (f"{self.grid}×{self.grid} runs × {self.base.steps} steps = {_millions(self.work)} steps is over "
                    f"the limit of {_millions(WORK_BUDGET)}: lower the grid or the steps.")  # fmt: skip
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


def _num(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _millions(n: int) -> str:
    return f"{n / 1e6:.0f} M" if n >= 1e7 else f"{n / 1e6:.1f} M"


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u2009")


# -- axes ------------------------------------------------------------------------


def numeric_params(spec: OptimizerSpec) -> list[HyperParam]:
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
            notes.add(f"{what} {end}: {shown(raw_v)} is not a number; using {_num(dflt)}")
            ends.append(dflt)
            continue
        c = min(max(v, vlo), vhi)
        if p.kind == "int":
            c = float(round(c))
        if c != v:
            notes.add(f"{what} {end}: {_fmt(v)} is outside [{_fmt(vlo)}, {_fmt(vhi)}]; using {_fmt(c)}")
        ends.append(c)
    lo, hi = ends
    if not lo < hi:
        notes.add(f"{what}: the range needs from < to; using {_num(fallback.low)} to {_num(fallback.high)}")
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


def _entry_for(name: str, **values: Any) -> OptimizerEntry:
    return OptimizerEntry.default(name, 0, **values)


def _explorer(surface: str, start: tuple[float, float], steps: int, entry: OptimizerEntry,
              params: Mapping[str, float] | None = None) -> ExplorerConfig:  # fmt: skip
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


def _map(kind: str, base: ExplorerConfig, grid: int, show: str, x: Axis | None = None,
         y: Axis | None = None) -> MapConfig:  # fmt: skip
    dx, dy = default_axes(base.optimizers[0].spec)
    return MapConfig(kind, base, grid, show, x or dx, y or dy)


def sanitize_map(raw: Any, base: MapConfig | None = None) -> MapConfig:
    """A valid map configuration from an untrusted mapping (the shape of ``MapConfig.to_dict``).

    Missing fields come from ``base`` (default: :data:`DEFAULT_MAP`); unusable
    ones are repaired and listed in ``notes``.  Never raises.
    """
    base = base or DEFAULT_MAP
    notes = Notes()
    if not isinstance(raw, Mapping):
        notes.add("the map settings were not understood; showing the default map")
        return replace(base, notes=notes.result())
    try:
        return _sanitize_map(raw, base, notes)
    except Exception:  # noqa: BLE001  (a last guard: hostile input never breaks the page)
        return replace(DEFAULT_MAP, notes=("the map settings could not be read; showing the default map",))


def _sanitize_map(raw: Mapping[str, Any], base: MapConfig, notes: Notes) -> MapConfig:
    kind = raw.get("kind", base.kind)
    if kind not in KINDS:
        notes.add(f"map kind {shown(kind)} is not basin or hyper; using {base.kind}")
        kind = base.kind

    ex_raw = raw.get("explorer")
    if ex_raw is None:
        ex = base.base
    else:
        ex = sanitize(ex_raw, base=base.base)
        for n in ex.notes:
            notes.add(n)
    entries = ex.optimizers
    if not entries:
        notes.add(f"a map needs an optimizer; using {base.spec.display_name}")
        entry = base.entry
    else:
        if len(entries) > 1:
            notes.add(f"a map runs one optimizer; kept {entries[0].spec.display_name}")
        entry = OptimizerEntry(entries[0].name, entries[0].values, 0)
    steps = ex.steps
    if steps > MAX_MAP_STEPS:
        notes.add(f"steps: a map runs at most {MAX_MAP_STEPS} steps per run")
        steps = MAX_MAP_STEPS
    ex = replace(ex, optimizers=(entry,), arrows=0, view="2d", steps=steps, notes=())

    grid_raw = raw.get("grid", base.grid)
    g = parse_number(grid_raw)
    if g is None:
        notes.add(f"grid: {shown(grid_raw)} is not a number; using {base.grid}")
        grid = base.grid
    else:
        grid = int(round(min(max(g, 2.0), float(MAX_GRID))))
        if grid != g:
            notes.add(f"grid: {_num(g)} is not a whole number in [2, {MAX_GRID}]; using {grid}")

    show = raw.get("show", base.show)
    if show not in maps_figures.SHOWS:
        notes.add(f"colouring {shown(show)} is not one of {', '.join(maps_figures.SHOWS)}; using {base.show}")
        show = base.show

    spec = entry.spec
    if spec.name == base.spec.name:
        dx, dy = base.x_axis, base.y_axis
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


# --------------------------------------------------------------------------- lessons


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    lesson: str
    config: MapConfig


def _presets() -> tuple[Preset, ...]:
    quad = {"kappa": 10.0, "angle": 0.0}
    return (
        Preset(
            "himmelblau_adam",
            "Himmelblau basins (Adam)",
            "Each start is coloured by the minimum Adam reaches from it. A basin is not simply the region "
            "nearest its minimum: Adam's first steps are about η long in each coordinate whatever the slope, "
            "so some starts are carried over a ridge (the tongues of colour at the bottom right). Click a "
            "pixel to watch that run.",
            _map("basin", _explorer("himmelblau", (-0.27, -0.92), 1000, _entry_for("adam", lr=0.5)), 200,
                 "minimum"),
        ),  # fmt: skip
        Preset(
            "momentum_quadratic",
            "Momentum stability on the quadratic (η × μ)",
            "Heavy-ball momentum on the κ = 10 quadratic. Black: diverged; the dashed line is the analytic "
            "limit η = 2(1 + μ). Momentum widens the stable range of η, and a well-chosen μ converges in about "
            "a third of the steps plain gradient descent needs (the bottom row, μ = 0).",
            _map("hyper", _explorer("quadratic", (-9.0, 4.0), 1000, _entry_for("momentum", lr=0.1, momentum=0.5),
                                    quad), 128, "steps",
                 Axis("lr", 0.01, 10.0, True), Axis("momentum", 0.0, 0.99, False)),
        ),  # fmt: skip
        Preset(
            "adam_beale",
            "Adam η × β1 on Beale",
            "Final loss of Adam on Beale's function from (1, 1.5) after 1000 steps, for each learning rate η "
            "and first-moment decay β₁. With η below about 0.05 the run has not arrived yet; from η ≈ 0.1 it "
            "reaches the minimum. With large η and small β₁ (bottom right) little momentum averages the "
            "nearly sign-sized steps, and the run keeps rattling around the valley without settling.",
            _map("hyper", _explorer("beale", (1.0, 1.5), 1000, _entry_for("adam", lr=0.01)), 128, "loss",
                 Axis("lr", 0.001, 1.0, True), Axis("beta1", 0.0, 0.99, False)),
        ),  # fmt: skip
        Preset(
            "gd_quadratic",
            "GD η on the quadratic (η < 2/L)",
            "Gradient descent converges exactly when η < 2/L, with L = 1 the largest curvature; past the "
            "dashed line every run diverges. L2 weight decay λ adds to every curvature, so the limit falls "
            "to η < 2/(1 + λ). It raises the shallow curvature 1/κ as well, which is why the runs near the top "
            "converge in fewer steps.",
            _map("hyper", _explorer("quadratic", (-9.0, 4.0), 1000, _entry_for("sgd", lr=0.5), quad), 128,
                 "steps", Axis("lr", 0.05, 3.0, False), Axis("weight_decay", 0.0, 1.0, False)),
        ),  # fmt: skip
    )


PRESETS: tuple[Preset, ...] = _presets()
#: the map a bare link opens: the first lesson
DEFAULT_MAP: MapConfig = PRESETS[0].config
PRESETS_BY_NAME: Mapping[str, Preset] = MappingProxyType({p.name: p for p in PRESETS})


def lesson_for(cfg: MapConfig) -> str:
    for p in PRESETS:
        if p.config == cfg:
            return p.lesson
    if cfg.kind == "basin":
        return ("Each pixel is a run started there; its colour says how the run ended. "
                "Click a pixel to watch that run in the Explorer.")  # fmt: skip
    return ("Each pixel is a run from the same start with the two settings of its column and row. "
            "Click a pixel to watch that run in the Explorer.")  # fmt: skip


# --------------------------------------------------------------------------- computing a map


def build_surface(cfg: MapConfig) -> Any:
    from surfaces import get_surface

    name, kwargs = cfg.base.surface_args()
    return get_surface(name, **kwargs)


def map_axes(cfg: MapConfig) -> tuple[np.ndarray, np.ndarray]:
    """The x and y values of the map's columns and rows, exactly as the engine lays them out."""
    from optimizers.maps import axis_values

    if cfg.kind == "basin":
        (x0, x1), (y0, y1) = cfg.base.bounds
        return np.linspace(x0, x1, cfg.grid), np.linspace(y0, y1, cfg.grid)
    spec = cfg.spec
    xa, ya = cfg.x_axis, cfg.y_axis
    return (axis_values(spec.param(xa.key), xa.low, xa.high, cfg.grid, xa.log),
            axis_values(spec.param(ya.key), ya.low, ya.high, cfg.grid, ya.log))  # fmt: skip


def heavy_ball_bound(cfg: MapConfig) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str] | None:
    """The analytic stability test of this hyperparameter map, if it has one, and its legend label.

    Heavy-ball momentum (and SGD without Nesterov) with no dampening on the
    quadratic ½(u²/κ + v²): curvatures 1/κ and 1, each raised by the weight
    decay λ; stable exactly when η(c + λ) < 2(1 + μ) for both.  Applies when
    both axes are among η, μ and λ, with no clipping and a constant learning
    rate (gradient noise leaves the condition unchanged).
    """
    if cfg.kind != "hyper" or cfg.base.surface != "quadratic":
        return None
    if cfg.base.clip != "none" or cfg.base.schedule != "constant":  # the iteration is no longer this linear one
        return None
    vals = dict(cfg.entry.values)
    name = cfg.entry.name
    heavy = (name == "momentum" or (name == "sgd" and not vals.get("nesterov"))) and vals.get("dampening", 0) == 0
    keys = {cfg.x_axis.key, cfg.y_axis.key}
    if not heavy or not keys <= BOUND_KEYS:
        return None
    from optimizers.maps import heavy_ball_stable

    kappa = dict(cfg.base.surface_params)["kappa"]
    xk, yk = cfg.x_axis.key, cfg.y_axis.key

    def stable(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        v = {k: np.asarray(vals[k], dtype=float) for k in BOUND_KEYS}
        v[xk], v[yk] = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        wd = v["weight_decay"]
        return heavy_ball_stable(v["lr"], v["momentum"], [1.0 / kappa + wd, 1.0 + wd])

    lam = "(1 + λ)" if "weight_decay" in keys or vals["weight_decay"] else ""
    mu = "2(1 + μ)" if "momentum" in keys or vals["momentum"] else "2"
    return stable, f"analytic limit η{lam} = {mu}"


BOUND_EXPLANATION = (
    "Dashed line: on ½(u²/κ + v²) heavy-ball momentum is stable exactly when η·(c + λ) < 2(1 + μ) for both "
    "curvatures c = 1/κ and c = 1 (λ: weight decay); the steeper one binds. With μ = λ = 0 this is gradient "
    "descent's η < 2/L."
)


def f_star_of(surface: Any) -> float | None:
    return min(m.value for m in surface.minima) if surface.minima else None


def _surface_title(cfg: MapConfig, surface: Any) -> str:
    if cfg.base.is_formula:
        text = cfg.base.formula
        return "f = " + (text if len(text) <= 40 else text[:39] + "…")
    return surface.display_name


def _axis_title(p: HyperParam) -> str:
    sym = symbol_text(p)
    return f"{sym} ({p.key})" if sym != p.key else p.key


def map_figure(cfg: MapConfig, smap: SweepMap, surface: Any) -> dict[str, Any]:
    """The figure of a computed map (calls the pure builders of :mod:`app.maps.figures`)."""
    label = cfg.entry.label()
    fs = f_star_of(surface)
    what = SHOW_LABELS[cfg.show]
    steps = cfg.base.steps
    if cfg.kind == "basin":
        from app.shell.surface_grid import sample
        from app.shell.contours import levels_for

        g = sample(surface, 200)
        return maps_figures.basin_figure(
            smap, cfg.show, title=f"Basins of attraction · {label} on {_surface_title(cfg, surface)}",
            subtitle=f"{cfg.grid}×{cfg.grid} starts × up to {steps} steps · colour: {what}",
            f_star=fs, steps=steps, background=(g.xs, g.ys, g.z, levels_for(g.scale)),
        )  # fmt: skip
    spec = cfg.spec
    px, py = spec.param(cfg.x_axis.key), spec.param(cfg.y_axis.key)
    bound = None
    hb = heavy_ball_bound(cfg)
    if hb is not None:
        stable, bound_label = hb
        bx, by = maps_figures.stability_boundary(
            stable, (float(smap.xs[0]), float(smap.xs[-1])), (float(smap.ys[0]), float(smap.ys[-1])),
            smap.log_x, smap.log_y,
        )  # fmt: skip
        bound = (bx, by, bound_label)
    others = [(k, v) for k, v in cfg.entry.changed().items() if k not in cfg.swept()]
    rest = ", ".join(f"{symbol_text(spec.param(k))} = {_fmt(v)}" for k, v in others[:3]) or "defaults"
    rest += ", …" if len(others) > 3 else ""
    sx, sy = cfg.base.start
    return maps_figures.hyper_figure(
        smap, cfg.show, title=f"{spec.display_name} on {_surface_title(cfg, surface)}",
        subtitle=f"from ({_fmt(sx)}, {_fmt(sy)}) · {cfg.grid}×{cfg.grid} settings × up to {steps} steps · "
                 f"other settings: {rest}",
        x_title=_axis_title(px), y_title=_axis_title(py), x_symbol=symbol_text(px), y_symbol=symbol_text(py),
        f_star=fs, steps=steps, bound=bound,
    )  # fmt: skip


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@dataclass(frozen=True)
class Outcome:
    """What the compute callback returns: figure, the map's metadata (for clicks), status, explanation."""

    figure: Any
    meta: Any
    status: str
    explain: str


def run_request(
    request: Any,
    report: Callable[[tuple[str, str]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Compute the map a request store asks for, reporting progress as (percent, text).

    The request is untrusted (sanitized again).  A map over the work budget, an
    optimizer setting that is refused, or a formula that does not parse gives a
    message instead of a map.  ``should_stop`` returning True stops the
    computation (the previous map stays on screen).
    """
    cfg = config_from_store(request)
    if cfg is None:
        return Outcome(no_update, no_update, "", no_update)
    why = cfg.problem()
    if why:
        return Outcome(style.message_figure(why), None, why, "")
    try:
        surface = build_surface(cfg)
    except ValueError as exc:
        msg = f"The surface cannot be built: {_one_line(exc)}"
        return Outcome(style.message_figure(msg), None, msg, "")
    try:
        entry, cached = result_cache.fetch(
            "sweep", json.dumps(cfg.to_dict(), sort_keys=True),
            lambda: _compute_map(cfg, surface, report, should_stop, clock),
            lease=TIME_LIMIT + 30.0, wait=TIME_LIMIT + 30.0, stop=should_stop,
            on_wait=lambda: report(("0", "The same map is being computed for someone else; waiting for it…"))
            if report is not None else None,
        )  # fmt: skip
    except _NotStored as stop:
        return stop.outcome
    status = entry["status"] + (" (computed earlier for the same settings)" if cached else "")
    return Outcome(entry["figure"], entry["meta"], status, entry["explain"])


class _NotStored(Exception):
    """A map that was stopped or refused: its outcome is shown but never cached."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def _compute_map(cfg: MapConfig, surface: Any, report: Callable[[tuple[str, str]], None] | None,
                 should_stop: Callable[[], bool] | None, clock: Callable[[], float]) -> dict[str, Any]:  # fmt: skip
    """Run the sweep of a valid map configuration: the cacheable outcome, or :class:`_NotStored`."""
    from optimizers.maps import basin_map, hyper_map

    config = cfg.entry.config()
    mods = cfg.base.modifiers()
    steps = cfg.base.steps
    total = cfg.runs
    t0 = clock()

    def progress(fraction: float) -> None:
        if report is not None:
            done = int(round(fraction * total))
            report((f"{100.0 * fraction:.0f}", f"{100.0 * fraction:.0f} % · {_thousands(done)} of {_thousands(total)} runs"))

    def stop() -> bool:
        return (should_stop is not None and should_stop()) or clock() - t0 > TIME_LIMIT

    progress(0.0)
    try:
        if cfg.kind == "basin":
            smap = basin_map(surface, config, cfg.grid, steps, mods, progress=progress, should_stop=stop)
        else:
            xs, ys = map_axes(cfg)
            smap = hyper_map(surface, config, cfg.base.start, (cfg.x_axis.key, xs), (cfg.y_axis.key, ys), steps,
                             mods, progress=progress, should_stop=stop)  # fmt: skip
    except Cancelled:
        over = clock() - t0 > TIME_LIMIT
        why = f"stopped after {TIME_LIMIT:.0f} s (the time limit)" if over else "stopped"
        raise _NotStored(Outcome(no_update, no_update, f"The map was {why}; lower the grid or the steps.", no_update)) from None
    except ValueError as exc:
        msg = f"The map cannot be computed: {_one_line(exc)}"
        raise _NotStored(Outcome(style.message_figure(msg), None, msg, "")) from None
    seconds = clock() - t0
    fig = map_figure(cfg, smap, surface)
    meta = {"cfg": cfg.to_dict(), "minima": [list(m) for m in smap.minima]}
    conv = 100.0 * float(smap.converged.mean())
    div = 100.0 * float(smap.diverged.mean())
    status = (f"{_thousands(total)} runs × up to {steps} steps in {seconds:.1f} s: "
              f"{conv:.0f} % converged, {div:.0f} % diverged.")  # fmt: skip
    explain = BOUND_EXPLANATION if heavy_ball_bound(cfg) is not None else ""
    return {"figure": fig, "meta": meta, "status": status, "explain": explain}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def warm() -> None:
    """Load the sweep kernels into this process, so that map jobs forked from it start warm.

    A DiskcacheManager runs every map in a fresh child process: without this,
    each child loads the kernels from the Numba cache again (about a second).
    Call it once at start-up, before the server forks (e.g. in ``create_app``).
    """
    from app.shell.surface_grid import sample
    from optimizers import make_config
    from optimizers.maps import basin_map, hyper_map
    from surfaces import get_surface

    s = get_surface("booth")
    basin_map(s, make_config("sgd", lr=0.01), grid=2, steps=2)  # the lock-step kernel
    hyper_map(s, make_config("sgd", lr=0.01), (0.0, 0.0), ("lr", np.array([0.01, 0.02])),
              ("momentum", np.array([0.0, 0.5])), steps=2)  # the one-run-at-a-time kernel  # fmt: skip
    sample(s, 8)


def _be_nice(level: int = 10) -> None:
    """Run the map at a lower CPU priority than the web server (a job process; idempotent)."""
    import os

    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < level:
            os.setpriority(os.PRIO_PROCESS, 0, level)
    except (AttributeError, OSError):  # not on this platform, or not allowed
        pass


# --------------------------------------------------------------------------- one pixel


@dataclass(frozen=True)
class Pixel:
    """One pixel of a map: its column and row, the run's Explorer configuration and link, and its story."""

    col: int
    row: int
    x: float
    y: float
    explorer: ExplorerConfig
    href: str
    lines: tuple[str, ...]


def _nearest(values: np.ndarray, v: float, log: bool) -> int:
    if log and v > 0 and np.all(values > 0):
        return int(np.argmin(np.abs(np.log(values) - math.log(v))))
    return int(np.argmin(np.abs(values - v)))


def locate_pixel(meta: Any, x: Any, y: Any, root: str = "/") -> Pixel | None:
    """The pixel of the map described by ``meta`` nearest to (x, y) (click or typed values), or None.

    The Explorer link (``root`` + query) carries that pixel's start (basin map)
    or hyperparameter values (hyperparameter map) with the map's surface,
    optimizer and modifiers.
    """
    cfg = config_from_store(meta)
    fx, fy = parse_number(x), parse_number(y)
    if cfg is None or fx is None or fy is None:
        return None
    xs, ys = map_axes(cfg)
    j = _nearest(xs, fx, cfg.kind == "hyper" and cfg.x_axis.log)
    i = _nearest(ys, fy, cfg.kind == "hyper" and cfg.y_axis.log)
    px, py = float(xs[j]), float(ys[i])
    entry = cfg.entry
    if cfg.kind == "basin":
        start = (px, py)
    else:
        start = cfg.base.start
        spec = cfg.spec
        values = dict(entry.values)
        for key, v in ((cfg.x_axis.key, px), (cfg.y_axis.key, py)):
            values[key] = int(round(v)) if spec.param(key).kind == "int" else v
        entry = OptimizerEntry(entry.name, tuple(values.items()), 0)
    ex = replace(cfg.base, start=start, optimizers=(entry,), arrows=0, view="2d", notes=())
    href = root.rstrip("/") + "/" + to_query(ex)
    return Pixel(j, i, px, py, ex, href, tuple(describe_run(cfg, ex, meta)))


def describe_run(cfg: MapConfig, ex: ExplorerConfig, meta: Any) -> list[str]:
    """What this pixel's run does, in words (the same engine and tolerances as the map)."""
    from optimizers import _slots as S
    from optimizers.runner import sweep

    entry = ex.optimizers[0]
    if cfg.kind == "basin":
        head = f"Start ({_fmt(ex.start[0])}, {_fmt(ex.start[1])})"
    else:
        spec = cfg.spec
        vals = dict(entry.values)
        head = ", ".join(f"{symbol_text(spec.param(k))} = {_fmt(vals[k])}" for k in cfg.swept())
    try:
        surface = build_surface(cfg)
        res = sweep(surface, entry.config(), np.asarray(ex.start, dtype=float), ex.steps, ex.modifiers())
    except ValueError as exc:
        return [head, f"This run cannot be computed: {_one_line(exc)}"]
    status = int(res.status[0])
    fx, fy = (float(v) for v in res.final_positions[0])
    loss = float(res.final_losses[0])
    if status == S.DIVERGED:
        story = "diverged"
    elif status == S.CONVERGED:
        story = f"converged in {int(res.steps_to_converge[0])} steps"
        minima = meta.get("minima") if isinstance(meta, Mapping) else None
        if isinstance(minima, list) and minima:
            try:
                mins = np.asarray(minima, dtype=float).reshape(-1, 2)
                d = np.hypot(mins[:, 0] - fx, mins[:, 1] - fy)
                k = int(np.argmin(d))
                if d[k] <= 0.02 * surface.span:
                    story += f" to minimum {k + 1} ({_fmt(float(mins[k, 0]))}, {_fmt(float(mins[k, 1]))})"
            except (TypeError, ValueError):
                pass
    elif status == S.STALLED_STATUS:
        story = "stopped: no step possible"
    else:
        story = f"did not converge in {ex.steps} steps"
    lines = [head, f"{entry.spec.display_name} {story}."]
    if status != S.DIVERGED and math.isfinite(loss):
        lines.append(f"Ends at ({_fmt(fx)}, {_fmt(fy)}), f = {loss:.4g}.")
    return lines


# --------------------------------------------------------------------------- controls


def _number(cid: Any, value: Any, *, lo: float | None = None, hi: float | None = None, step: Any = "any",
            label: str = "", cls: str = "maps-num") -> dcc.Input:  # fmt: skip
    """A number input (``label`` becomes its placeholder; every input also has a <label> or a row title)."""
    kw: dict[str, Any] = {}
    if lo is not None:
        kw["min"] = lo
    if hi is not None:
        kw["max"] = hi
    if label:
        kw["placeholder"] = label
    return dcc.Input(id=cid, type="number", value=value, step=step, debounce=True, className=cls, **kw)


def _dom_id(cid: Any) -> str:
    import json

    if isinstance(cid, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(cid[k])}" for k in sorted(cid)) + "}"
    return str(cid)


def _row(label: str, control: Any, cid: Any, hint: str = "", sub: str = "") -> html.Div:
    return html.Div(
        className="maps-row",
        title=hint or None,
        children=[
            html.Label([label, html.Span(sub, className="maps-sub") if sub else None], htmlFor=_dom_id(cid),
                       className="maps-label"),
            control,
        ],
    )  # fmt: skip


def surface_param_rows(cfg: MapConfig) -> list[Any]:
    spec = cfg.base.surface_spec
    if spec is None:
        return []
    values = dict(cfg.base.surface_params)
    return [
        _row({"kappa": "κ", "angle": "angle θ°"}.get(p.name, p.name),
             _number(sp_id(p.name), values[p.name], lo=p.low, hi=p.high, label=p.description),
             sp_id(p.name), hint=f"{p.description}; {p.low:g} … {p.high:g}")
        for p in spec.params
    ]  # fmt: skip


def hyper_rows(cfg: MapConfig) -> list[Any]:
    """A row per hyperparameter of the map's optimizer; the swept ones say which axis varies them."""
    entry = cfg.entry
    spec = entry.spec
    values = dict(entry.values)
    swept = cfg.swept()
    rows: list[Any] = []
    for p in spec.params:
        sym = symbol_text(p)
        sub = p.key if sym != p.key else ""
        if p.kind == "bool":
            rows.append(
                dcc.Checklist(id=hf_id(p.key), options=[{"label": f" {p.key}", "value": "on"}],
                              value=["on"] if values[p.key] else [], inline=True, className="maps-flag")
            )  # fmt: skip
        elif p.kind == "choice":
            rows.append(
                html.Div(className="maps-row", title=p.description, children=[
                    html.Span(p.key, className="maps-label"),
                    dcc.RadioItems(id=hf_id(p.key), options=[{"label": c, "value": c} for c in p.choices],
                                   value=values[p.key], inline=True, className="maps-radio"),
                ])
            )  # fmt: skip
        else:
            axis = "x" if swept and p.key == swept[0] else "y" if swept and p.key == swept[1] else ""
            control = _number(hp_id(p.key), values[p.key], lo=p.low, hi=p.high,
                              step=1 if p.kind == "int" else "any", label=p.description)  # fmt: skip
            if axis:
                control.disabled = True
                control.placeholder = f"{axis} axis"
                control.value = None
            hint = f"{p.description}; valid {p.describe_range()}" + (f"; swept by the {axis} axis" if axis else "")
            rows.append(_row(sym, control, hp_id(p.key), hint=hint, sub=sub))
    return rows


def axis_options(cfg: MapConfig) -> list[dict[str, str]]:
    return [{"label": _axis_title(p), "value": p.key} for p in numeric_params(cfg.spec)]


def notice_children(notes: tuple[str, ...] | list[str]) -> list[Any]:
    if not notes:
        return []
    return [html.Strong("Some settings could not be used and were replaced: "), html.Ul([html.Li(n) for n in notes])]


def work_text(cfg: MapConfig) -> tuple[str, str]:
    """The work estimate under the grid and steps, and its class (ok | over)."""
    text = f"{_thousands(cfg.runs)} runs × up to {cfg.base.steps} steps = {_millions(cfg.work)} steps"
    if cfg.work > WORK_BUDGET:
        return text + f": over the limit of {_millions(WORK_BUDGET)}.", "maps-work over"
    return text + f" (limit {_millions(WORK_BUDGET)}).", "maps-work"


def schedule_note(cfg: MapConfig) -> str:
    b = cfg.base
    if b.schedule == "constant":
        return ""
    params = ", ".join(f"{k} = {_fmt(v)}" for k, v in b.schedule_params)
    return f"Learning-rate schedule from the link: {b.schedule} ({params})."


#: outputs of render, in order (component id, property)
RENDER_OUTPUTS: tuple[tuple[Any, str], ...] = (
    (Ids.KIND, "value"), (Ids.SHOW, "value"), (Ids.GRID, "value"), (Ids.STEPS, "value"),
    (Ids.SURFACE, "value"), (Ids.SURFACE_PARAMS, "children"), (Ids.FORMULA_BOX, "hidden"), (Ids.FORMULA, "value"),
    (Ids.XMIN, "value"), (Ids.XMAX, "value"), (Ids.YMIN, "value"), (Ids.YMAX, "value"),
    (Ids.OPTIMIZER, "value"), (Ids.HYPER, "children"), (Ids.CONVENTION, "children"),
    (Ids.AXES_BOX, "hidden"), (Ids.AX_KEY, "options"), (Ids.AX_KEY, "value"), (Ids.AX_LOW, "value"),
    (Ids.AX_HIGH, "value"), (Ids.AX_LOG, "value"), (Ids.AY_KEY, "options"), (Ids.AY_KEY, "value"),
    (Ids.AY_LOW, "value"), (Ids.AY_HIGH, "value"), (Ids.AY_LOG, "value"),
    (Ids.START_X, "value"), (Ids.START_Y, "value"),
    (Ids.NOISE, "value"), (Ids.SEED, "value"), (Ids.CLIP, "value"), (Ids.CLIP_VALUE, "value"),
    (Ids.SCHEDULE_NOTE, "children"), (Ids.LESSON, "children"),
)  # fmt: skip


def controls_for(cfg: MapConfig) -> dict[tuple[Any, str], Any]:
    """Every control's value for ``cfg`` (keyed like :data:`RENDER_OUTPUTS`)."""
    b = cfg.base
    x0, x1, y0, y1 = b.box
    return {
        (Ids.KIND, "value"): cfg.kind,
        (Ids.SHOW, "value"): cfg.show,
        (Ids.GRID, "value"): cfg.grid,
        (Ids.STEPS, "value"): b.steps,
        (Ids.SURFACE, "value"): b.surface,
        (Ids.SURFACE_PARAMS, "children"): surface_param_rows(cfg),
        (Ids.FORMULA_BOX, "hidden"): not b.is_formula,
        (Ids.FORMULA, "value"): b.formula,
        (Ids.XMIN, "value"): x0,
        (Ids.XMAX, "value"): x1,
        (Ids.YMIN, "value"): y0,
        (Ids.YMAX, "value"): y1,
        (Ids.OPTIMIZER, "value"): cfg.entry.name,
        (Ids.HYPER, "children"): hyper_rows(cfg),
        (Ids.CONVENTION, "children"): cfg.spec.convention,
        (Ids.AXES_BOX, "hidden"): cfg.kind != "hyper",
        (Ids.AX_KEY, "options"): axis_options(cfg),
        (Ids.AX_KEY, "value"): cfg.x_axis.key,
        (Ids.AX_LOW, "value"): cfg.x_axis.low,
        (Ids.AX_HIGH, "value"): cfg.x_axis.high,
        (Ids.AX_LOG, "value"): ["log"] if cfg.x_axis.log else [],
        (Ids.AY_KEY, "options"): axis_options(cfg),
        (Ids.AY_KEY, "value"): cfg.y_axis.key,
        (Ids.AY_LOW, "value"): cfg.y_axis.low,
        (Ids.AY_HIGH, "value"): cfg.y_axis.high,
        (Ids.AY_LOG, "value"): ["log"] if cfg.y_axis.log else [],
        (Ids.START_X, "value"): b.start[0],
        (Ids.START_Y, "value"): b.start[1],
        (Ids.NOISE, "value"): b.noise,
        (Ids.SEED, "value"): b.seed,
        (Ids.CLIP, "value"): b.clip,
        (Ids.CLIP_VALUE, "value"): b.clip_value,
        (Ids.SCHEDULE_NOTE, "children"): schedule_note(cfg),
        (Ids.LESSON, "children"): lesson_for(cfg),
    }


#: the form's plain fields, in the order the callbacks receive them
FORM_FIELDS: tuple[tuple[str, Ids], ...] = (
    ("kind", Ids.KIND), ("show", Ids.SHOW), ("grid", Ids.GRID), ("steps", Ids.STEPS),
    ("surface", Ids.SURFACE), ("formula", Ids.FORMULA), ("xmin", Ids.XMIN), ("xmax", Ids.XMAX),
    ("ymin", Ids.YMIN), ("ymax", Ids.YMAX), ("optimizer", Ids.OPTIMIZER),
    ("ax_key", Ids.AX_KEY), ("ax_low", Ids.AX_LOW), ("ax_high", Ids.AX_HIGH), ("ax_log", Ids.AX_LOG),
    ("ay_key", Ids.AY_KEY), ("ay_low", Ids.AY_LOW), ("ay_high", Ids.AY_HIGH), ("ay_log", Ids.AY_LOG),
    ("start_x", Ids.START_X), ("start_y", Ids.START_Y),
    ("noise", Ids.NOISE), ("seed", Ids.SEED), ("clip", Ids.CLIP), ("clip_value", Ids.CLIP_VALUE),
)  # fmt: skip
#: fields whose change re-renders other controls
STRUCTURAL = ("kind", "surface", "optimizer", "ax_key", "ay_key")


def _keyed(values: Any, ids: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v, cid in zip(values or [], ids or [], strict=False):
        if isinstance(cid, Mapping) and isinstance(cid.get("key"), str):
            out[cid["key"]] = v
    return out


def form_config(form: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]], carry: MapConfig | None) -> MapConfig:
    """The configuration the controls show (``rows``: surface params, numeric and flag hyperparameters by key).

    What the form does not edit (the schedule) comes from ``carry``, the
    previous configuration.  Never raises; repairs are listed in ``notes``.
    """
    carry = carry or DEFAULT_MAP
    name = form.get("optimizer")
    hyper = dict(rows.get("hp", {}))
    for key, v in dict(rows.get("hf", {})).items():
        hyper[key] = v
    # the swept settings are blank in the form: keep their last value
    same_opt = name == carry.entry.name
    for key, v in list(hyper.items()):
        if v is None and same_opt:
            hyper[key] = carry.entry.value(key)
    explorer = {
        "surface": form.get("surface"),
        "surface_params": dict(rows.get("sp", {})),
        "formula": form.get("formula"),
        "box": [form.get("xmin"), form.get("xmax"), form.get("ymin"), form.get("ymax")],
        "start": [form.get("start_x"), form.get("start_y")],
        "steps": form.get("steps"),
        "optimizers": [{"name": name, "values": hyper, "color": 0}],
        "noise": form.get("noise"),
        "seed": form.get("seed"),
        "clip": form.get("clip"),
        "clip_value": form.get("clip_value"),
        "schedule": carry.base.schedule,
        "schedule_params": dict(carry.base.schedule_params),
    }
    if not isinstance(form.get("surface"), str) or form.get("surface") == carry.base.surface and not rows.get("sp"):
        explorer["surface_params"] = dict(carry.base.surface_params)
    raw = {
        "kind": form.get("kind"),
        "explorer": explorer,
        "grid": form.get("grid"),
        "show": form.get("show"),
        "x_axis": {"key": form.get("ax_key"), "low": form.get("ax_low"), "high": form.get("ax_high"),
                   "log": form.get("ax_log") or []},
        "y_axis": {"key": form.get("ay_key"), "low": form.get("ay_low"), "high": form.get("ay_high"),
                   "log": form.get("ay_log") or []},
    }  # fmt: skip
    return sanitize_map(raw, base=carry)


def apply_structural(trigger: str, value: Any, cfg: MapConfig) -> MapConfig:
    """The configuration after a structural change of the form (``trigger`` is a name in STRUCTURAL)."""
    if trigger == "kind" and value in KINDS:
        return replace(cfg, kind=value, notes=())
    if trigger == "surface" and isinstance(value, str) and (value == FORMULA or value in SURFACE_SPECS):
        return replace(cfg, base=cfg.base.with_surface(value), notes=())
    if trigger == "optimizer" and isinstance(value, str) and value in OPTIMIZER_SPECS and value != cfg.entry.name:
        entry = OptimizerEntry.default(value, 0)
        x, y = default_axes(entry.spec)
        return replace(cfg, base=replace(cfg.base, optimizers=(entry,)), x_axis=x, y_axis=y, notes=())
    if trigger in ("ax_key", "ay_key") and isinstance(value, str):
        nums = {p.key: p for p in numeric_params(cfg.spec)}
        if value not in nums:
            return cfg
        mine, other = (cfg.x_axis, cfg.y_axis) if trigger == "ax_key" else (cfg.y_axis, cfg.x_axis)
        if value == mine.key:
            return cfg
        new = default_axis(nums[value])
        if value == other.key:  # picking the other axis's setting swaps the two
            other = mine
        x, y = (new, other) if trigger == "ax_key" else (other, new)
        return replace(cfg, x_axis=x, y_axis=y, notes=())
    return cfg


def render_action(
    trigger: Any, form: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]], store: Any, n_clicks: Any = None
) -> tuple[MapConfig, bool] | None:
    """The configuration to show after ``trigger`` fired, and whether to compute it at once (a lesson).

    ``form`` holds the controls' current values (the triggering one already
    new), ``store`` the state store (the configuration before the change).
    None when nothing should change.
    """
    if isinstance(trigger, Mapping):
        if trigger.get("type") != Kind.PRESET.value or not n_clicks:
            return None
        preset = PRESETS_BY_NAME.get(trigger.get("name")) if isinstance(trigger.get("name"), str) else None
        return (preset.config, True) if preset else None
    names = dict(FORM_FIELDS)
    if trigger not in [names[k] for k in STRUCTURAL]:
        return None
    key = next(k for k in STRUCTURAL if names[k] == trigger)
    before = config_from_store(store)
    prev_form = dict(form)
    if before is not None:
        prev_form[key] = {"kind": before.kind, "surface": before.base.surface, "optimizer": before.entry.name,
                          "ax_key": before.x_axis.key, "ay_key": before.y_axis.key}[key]  # fmt: skip
    current = form_config(prev_form, rows, before)
    new = apply_structural(key, form.get(key), current)
    return new, False


def state_data(cfg: MapConfig) -> dict[str, Any]:
    return {"cfg": cfg.to_dict(), "query": map_query(cfg)}


def request_data(cfg: MapConfig, nonce: Any = None) -> dict[str, Any]:
    return {"cfg": cfg.to_dict(), "nonce": nonce if nonce is not None else time.time_ns()}


def pixel_panel(px: Pixel | None, cfg: MapConfig | None = None) -> list[Any]:
    """The side panel's text and the Explorer link for a pixel."""
    if px is None:
        return [html.P("Click a pixel of the map (or type its values below) to see that run and open it in the "
                       "Explorer.", className="maps-hint")]  # fmt: skip
    return [
        *[html.P(line, className="maps-pixel-line") for line in px.lines],
        html.Div(className="maps-open", children=[
            html.A("Open this run in the Explorer ▸", href=px.href, id="maps-open-link", className="maps-btn"),
            html.A("new tab ↗", href=px.href, target="_blank", rel="noopener", className="maps-newtab",
                   **{"aria-label": "Open this run in the Explorer in a new tab"}),
        ]),
    ]  # fmt: skip


def pick_labels(meta: Any) -> tuple[str, str]:
    cfg = config_from_store(meta)
    if cfg is None or cfg.kind == "basin":
        return "x₀", "y₀"
    return symbol_text(cfg.spec.param(cfg.x_axis.key)), symbol_text(cfg.spec.param(cfg.y_axis.key))


def click_point(click: Any) -> tuple[Any, Any] | None:
    """(x, y) of the first point of a graph's clickData, or None."""
    if not isinstance(click, Mapping):
        return None
    pts = click.get("points")
    if not isinstance(pts, list) or not pts or not isinstance(pts[0], Mapping):
        return None
    return pts[0].get("x"), pts[0].get("y")


# --------------------------------------------------------------------------- layout


def _section(title: str, children: list[Any], open_: bool = True, **kw: Any) -> html.Details:
    return html.Details([html.Summary(title)] + children, open=open_, className="maps-panel", **kw)


def _radio(cid: Ids, options: Mapping[str, str]) -> dcc.RadioItems:
    return dcc.RadioItems(id=cid, options=[{"label": v, "value": k} for k, v in options.items()],
                          className="maps-radio")


def _axis_row(label: str, key: Ids, low: Ids, high: Ids, log: Ids) -> html.Div:
    return html.Div(className="maps-axis", children=[
        html.Label(label, htmlFor=str(key), className="maps-label"),
        dcc.Dropdown(id=key, clearable=False, searchable=False, className="maps-axis-key"),
        html.Div(className="maps-axis-range", children=[
            html.Label("from", htmlFor=str(low)), _number(low, None, label=f"{label}: from"),
            html.Label("to", htmlFor=str(high)), _number(high, None, label=f"{label}: to"),
            dcc.Checklist(id=log, options=[{"label": " log", "value": "log"}], inline=True, className="maps-flag"),
        ]),
    ])  # fmt: skip


def build_layout() -> html.Div:
    """The page's skeleton; :func:`layout` fills it for a configuration."""
    surfaces = [{"label": s.display_name, "value": s.name} for s in SURFACE_LIST]
    surfaces.append({"label": "✎ Type a formula…", "value": FORMULA})
    optimizers = [{"label": s.display_name, "value": s.name} for s in OPTIMIZER_LIST]
    controls = [
        _section("Map", [
            _radio(Ids.KIND, KIND_LABELS),
            html.Div(className="maps-grid-row", children=[
                html.Label("grid", htmlFor=str(Ids.GRID), className="maps-label"),
                _number(Ids.GRID, None, lo=2, hi=MAX_GRID, step=1, label="pixels per side"),
                html.Label("steps", htmlFor=str(Ids.STEPS), className="maps-label"),
                _number(Ids.STEPS, None, lo=1, hi=MAX_MAP_STEPS, step=1, label="steps per run"),
            ]),
            html.P(id=Ids.WORK, className="maps-work"),
            html.Div(className="maps-row", children=[
                html.Span("colour by", className="maps-label"), _radio(Ids.SHOW, SHOW_LABELS),
            ]),
        ]),
        _section("Surface", [
            dcc.Dropdown(id=Ids.SURFACE, options=surfaces, clearable=False, searchable=False),
            html.Div(id=Ids.FORMULA_BOX, hidden=True, className="maps-formula-box", children=[
                html.Label("f(x, y) =", htmlFor=str(Ids.FORMULA)),
                dcc.Input(id=Ids.FORMULA, type="text", debounce=True, maxLength=500, spellCheck=False,
                          className="maps-formula"),
                html.Div(className="maps-box-row", children=[
                    html.Span("box", className="maps-label"),
                    *[_number(i, None, label=p, cls="maps-num maps-box") for i, p in
                      ((Ids.XMIN, "xmin"), (Ids.XMAX, "xmax"), (Ids.YMIN, "ymin"), (Ids.YMAX, "ymax"))],
                ]),
            ]),
            html.Div(id=Ids.SURFACE_PARAMS, className="maps-params"),
        ]),
        _section("Axes and start", [
            _axis_row("x axis", Ids.AX_KEY, Ids.AX_LOW, Ids.AX_HIGH, Ids.AX_LOG),
            _axis_row("y axis", Ids.AY_KEY, Ids.AY_LOW, Ids.AY_HIGH, Ids.AY_LOG),
            html.Div(className="maps-start-row", children=[
                html.Span("start", className="maps-label"),
                html.Label("x₀", htmlFor=str(Ids.START_X)), _number(Ids.START_X, None, label="start x"),
                html.Label("y₀", htmlFor=str(Ids.START_Y)), _number(Ids.START_Y, None, label="start y"),
            ]),
        ], id=Ids.AXES_BOX),
        _section("Optimizer", [
            dcc.Dropdown(id=Ids.OPTIMIZER, options=optimizers, clearable=False, searchable=False),
            html.Div(id=Ids.HYPER, className="maps-params"),
            html.P(id=Ids.CONVENTION, className="maps-hint"),
        ]),
        _section("Modifiers", [
            html.Div(className="maps-row", children=[
                html.Span("clip ∇f", className="maps-label"),
                dcc.RadioItems(id=Ids.CLIP, options=[{"label": c, "value": c} for c in CLIP_MODES], inline=True,
                               className="maps-radio"),
            ]),
            html.Div(className="maps-row", children=[
                html.Label("clip at", htmlFor=str(Ids.CLIP_VALUE), className="maps-label"),
                _number(Ids.CLIP_VALUE, None, lo=1e-6, label="clipping threshold"),
            ]),
            html.Div(className="maps-row", children=[
                html.Label("noise σ", htmlFor=str(Ids.NOISE), className="maps-label"),
                _number(Ids.NOISE, None, lo=0, label="gradient noise σ"),
                html.Label("seed", htmlFor=str(Ids.SEED), className="maps-label"),
                _number(Ids.SEED, None, lo=0, step=1, label="noise seed"),
            ]),
            html.P(id=Ids.SCHEDULE_NOTE, className="maps-hint"),
            html.P("First-order methods only; every run of a map draws the same noise.", className="maps-hint"),
        ], open_=False),
    ]  # fmt: skip

    toolbar = html.Div(className="maps-toolbar", children=[
        html.Button("▶ Compute map", id=Ids.RUN, className="maps-btn", title="Compute the map for these settings"),
        html.Button("Cancel", id=Ids.CANCEL, className="maps-btn secondary", disabled=True,
                    title="Stop the computation"),
        html.Div(id=Ids.PROGRESS_BOX, hidden=True, className="maps-progress-box", children=[
            html.Progress(id=Ids.PROGRESS, value="0", max="100", className="maps-progress",
                          **{"aria-label": "map progress"}),
            html.Span(id=Ids.PROGRESS_TEXT, className="maps-progress-text", role="status"),
        ]),
        html.Span(id=Ids.STATUS, className="maps-status", role="status", **{"aria-live": "polite"}),
    ])  # fmt: skip

    side = html.Aside(className="maps-side", children=[
        html.H3("This pixel", className="maps-side-title"),
        html.Div(id=Ids.PIXEL, className="maps-pixel", **{"aria-live": "polite"}, children=pixel_panel(None)),
        html.Div(className="maps-pick", children=[
            html.Label("x₀", id=Ids.PICK_LABEL_X, htmlFor=str(Ids.PICK_X)), _number(Ids.PICK_X, None, label="pixel x"),
            html.Label("y₀", id=Ids.PICK_LABEL_Y, htmlFor=str(Ids.PICK_Y)), _number(Ids.PICK_Y, None, label="pixel y"),
            html.Button("Find", id=Ids.PICK, className="maps-btn secondary", title="Find the pixel nearest these values"),
        ]),
        html.P(id=Ids.EXPLAIN, className="maps-explain"),
    ])  # fmt: skip

    view = html.Main(className="maps-view", children=[
        toolbar,
        html.Div(className="maps-map-row", children=[
            html.Div(className="maps-graph-wrap", children=dcc.Graph(
                id=Ids.GRAPH, className="maps-graph", style={"height": "100%"},
                figure=style.message_figure("Computing the map…"),
                config={"displaylogo": False, "responsive": True, "scrollZoom": False,
                        "modeBarButtonsToRemove": ["lasso2d", "select2d"]})),
            side,
        ]),
    ])  # fmt: skip

    header = html.Header(className="maps-top", children=[
        html.Div(className="maps-brand", children=[html.H1("Descent Lab"), html.Span(TITLE, className="maps-sub-title")]),
        page_links("/maps", "maps-pages", "maps-page-link"),
        html.Nav(id=Ids.PRESETS, className="maps-presets", **{"aria-label": "Map lessons"},
                 children=[html.Span("Lessons:", className="maps-presets-label")]
                 + [html.Button(p.title, id=preset_id(p.name), className="maps-preset", title=p.lesson)
                    for p in PRESETS]),
    ])  # fmt: skip

    return html.Div(id=Ids.ROOT, className="maps-app", children=[
        dcc.Store(id=Ids.STATE),
        dcc.Store(id=Ids.REQUEST),
        dcc.Store(id=Ids.META),
        dcc.Store(id=Ids.URL_SINK),
        header,
        html.Div(id=Ids.NOTICE, className="maps-notice", role="alert", hidden=True),
        html.P(id=Ids.LESSON, className="maps-lesson"),
        html.Div(className="maps-main", children=[html.Div(controls, className="maps-sidebar"), view]),
    ])  # fmt: skip


def page(cfg: MapConfig) -> html.Div:
    """The page already showing ``cfg``'s controls; the map itself is computed by the first request."""
    root = build_layout()
    values = dict(controls_for(cfg))
    work, work_cls = work_text(cfg)
    values.update({
        (Ids.STATE, "data"): state_data(cfg),
        (Ids.REQUEST, "data"): request_data(cfg, nonce=0),
        (Ids.NOTICE, "children"): notice_children(cfg.notes),
        (Ids.NOTICE, "hidden"): not cfg.notes,
        (Ids.WORK, "children"): work,
        (Ids.WORK, "className"): work_cls,
    })  # fmt: skip
    return fill(root, values)


def layout(query: dict[str, str] | None = None) -> html.Div:
    """The page for a URL's query parameters (a plain dict); a hostile query gives the default map and a notice."""
    return page(map_from_query(query or {}))


# --------------------------------------------------------------------------- callbacks


def register_callbacks(app: Any) -> None:
    """Register the page's callbacks on ``app`` (a Dash app with a background callback manager)."""
    from dash import ALL, Input, Output, State, ctx

    form_ids = [cid for _, cid in FORM_FIELDS]
    row_kinds = (("sp", Kind.SURFACE_PARAM), ("hp", Kind.HYPER_NUM), ("hf", Kind.HYPER_FLAG))
    structural = [dict(FORM_FIELDS)[k] for k in STRUCTURAL]

    def rows_of(flat: list[Any]) -> dict[str, dict[str, Any]]:
        return {name: _keyed(flat[2 * i], flat[2 * i + 1]) for i, (name, _) in enumerate(row_kinds)}

    row_states = [s for _, k in row_kinds for s in (State({"type": k.value, "key": ALL}, "value"),
                                                     State({"type": k.value, "key": ALL}, "id"))]  # fmt: skip

    # -- structural changes and lessons: re-render the controls ---------------------------
    @app.callback(
        [Output(cid, prop, allow_duplicate=True) if cid == Ids.LESSON else Output(cid, prop)
         for cid, prop in RENDER_OUTPUTS]
        + [Output(Ids.REQUEST, "data", allow_duplicate=True)],
        [Input(cid, "value") for cid in structural] + [Input({"type": Kind.PRESET.value, "name": ALL}, "n_clicks")],
        [State(cid, "value") for cid in form_ids if cid not in structural] + row_states + [State(Ids.STATE, "data")],
        prevent_initial_call=True,
    )  # fmt: skip
    def render(*args: Any) -> list[Any]:
        n_struct = len(structural)
        others = [cid for cid in form_ids if cid not in structural]
        form_vals = dict(zip(structural, args[:n_struct], strict=True))
        rest = args[n_struct + 1 :]
        form_vals.update(zip(others, rest[: len(others)], strict=True))
        rows = rows_of(list(rest[len(others) : len(others) + 6]))
        store = rest[-1]
        form = {name: form_vals[cid] for name, cid in FORM_FIELDS}
        clicks = ctx.triggered[0]["value"] if ctx.triggered else None
        out = render_action(ctx.triggered_id, form, rows, store, clicks)
        if out is None:
            return [no_update] * (len(RENDER_OUTPUTS) + 1)
        cfg, compute_now = out
        values = controls_for(cfg)
        return [values[k] for k in RENDER_OUTPUTS] + [request_data(cfg) if compute_now else no_update]

    # -- any control: the validated state, the notice, the work estimate ---------------------
    @app.callback(
        Output(Ids.STATE, "data"),
        Output(Ids.NOTICE, "children"),
        Output(Ids.NOTICE, "hidden"),
        Output(Ids.WORK, "children"),
        Output(Ids.WORK, "className"),
        Output(Ids.LESSON, "children", allow_duplicate=True),
        [Input(cid, "value") for cid in form_ids]
        + [Input({"type": k.value, "key": ALL}, "value") for _, k in row_kinds],
        [State({"type": k.value, "key": ALL}, "id") for _, k in row_kinds] + [State(Ids.STATE, "data")],
        prevent_initial_call=True,
    )  # fmt: skip
    def collect(*args: Any) -> tuple[Any, ...]:
        n = len(form_ids)
        form = {name: v for (name, _), v in zip(FORM_FIELDS, args[:n], strict=True)}
        values, ids = args[n : n + 3], args[n + 3 : n + 6]
        rows = {name: _keyed(values[i], ids[i]) for i, (name, _) in enumerate(row_kinds)}
        cfg = form_config(form, rows, config_from_store(args[-1]))
        work, cls = work_text(cfg)
        return state_data(cfg), notice_children(cfg.notes), not cfg.notes, work, cls, lesson_for(cfg)

    # the URL follows the state (replaceState: no navigation, no router callback)
    app.clientside_callback(
        """function (state) {
            if (state && typeof state.query === 'string' && state.query.charAt(0) === '?') {
                window.history.replaceState(window.history.state, '', window.location.pathname + state.query);
            }
            return null;
        }""",
        Output(Ids.URL_SINK, "data"),
        Input(Ids.STATE, "data"),
    )

    # -- Compute: the current state becomes the request ---------------------------------------
    @app.callback(
        Output(Ids.REQUEST, "data", allow_duplicate=True),
        Input(Ids.RUN, "n_clicks"),
        State(Ids.STATE, "data"),
        prevent_initial_call=True,
    )
    def run(n_clicks: Any, store: Any) -> Any:
        cfg = config_from_store(store)
        return request_data(cfg) if n_clicks and cfg is not None else no_update

    # -- the map itself: a background job with progress, Cancel and a time limit ----------------
    manager = getattr(app, "_background_manager", None)
    extra: dict[str, Any] = {}
    if manager is None:
        from app.hosting.jobs import make_manager

        extra["manager"] = make_manager()

    @app.callback(
        Output(Ids.GRAPH, "figure"),
        Output(Ids.META, "data"),
        Output(Ids.STATUS, "children"),
        Output(Ids.EXPLAIN, "children"),
        Input(Ids.REQUEST, "data"),
        background=True,
        progress=[Output(Ids.PROGRESS, "value"), Output(Ids.PROGRESS_TEXT, "children")],
        progress_default=["0", ""],
        running=[
            (Output(Ids.RUN, "disabled"), True, False),
            (Output(Ids.CANCEL, "disabled"), False, True),
            (Output(Ids.PROGRESS_BOX, "hidden"), False, True),
        ],
        cancel=[Input(Ids.CANCEL, "n_clicks")],
        interval=300,
        **extra,
    )
    def compute_map(set_progress: Callable[[Any], None], request: Any) -> tuple[Any, ...]:
        _be_nice()
        out = run_request(request, report=set_progress)
        return out.figure, out.meta, out.status, out.explain

    @app.callback(
        Output(Ids.STATUS, "children", allow_duplicate=True),
        Input(Ids.CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def cancelled(n_clicks: Any) -> Any:
        return "Cancelled; the previous map stays on screen." if n_clicks else no_update

    # -- a pixel: clicked, or typed by value -------------------------------------------------------
    @app.callback(
        Output(Ids.PIXEL, "children"),
        Output(Ids.PICK_X, "value"),
        Output(Ids.PICK_Y, "value"),
        Input(Ids.GRAPH, "clickData"),
        Input(Ids.PICK, "n_clicks"),
        Input(Ids.PICK_X, "n_submit"),
        Input(Ids.PICK_Y, "n_submit"),
        State(Ids.PICK_X, "value"),
        State(Ids.PICK_Y, "value"),
        State(Ids.META, "data"),
        prevent_initial_call=True,
    )
    def pixel(click: Any, _n: Any, _sx: Any, _sy: Any, x: Any, y: Any, meta: Any) -> tuple[Any, ...]:
        if ctx.triggered_id == Ids.GRAPH:
            point = click_point(click)
            if point is None:
                return no_update, no_update, no_update
            x, y = point
        px = locate_pixel(meta, x, y, root=app.get_relative_path("/"))
        if px is None:
            return pixel_panel(None), no_update, no_update
        return pixel_panel(px), px.x, px.y

    @app.callback(
        Output(Ids.PICK_LABEL_X, "children"),
        Output(Ids.PICK_LABEL_Y, "children"),
        Output(Ids.PIXEL, "children", allow_duplicate=True),
        Input(Ids.META, "data"),
        prevent_initial_call=True,
    )
    def new_map(meta: Any) -> tuple[Any, ...]:
        lx, ly = pick_labels(meta)
        return lx, ly, pixel_panel(None)
