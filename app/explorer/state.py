"""The Explorer's configuration: a validated dataclass and its URL query codec.

Everything the Explorer shows follows from one :class:`ExplorerConfig`: the
surface (a built-in with its parameters, or a typed formula with its box), the
start point, the number of steps, the optimizers racing (up to eight, each with
a colour), the shared modifiers, the view and which optimizer's arrows are
drawn.

Values from the browser and from a URL are untrusted.  :func:`sanitize` turns a
loosely typed mapping into a valid configuration, clamping numbers into range
and replacing what cannot be used by defaults; each repair is reported as a
short notice for the page.  :func:`from_query` and :func:`to_query` map the
configuration to a readable query string and back::

    ?surface=quadratic&s.kappa=50&start=-9,4&steps=300&opt=sgd,lr=0.9&opt=momentum,lr=0.3,momentum=0.8

Nothing is ever evaluated: names are looked up in the registries, numbers are
matched by a regular expression before ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote

from optimizers.modifiers import CLIP_MODES, SCHEDULE_PARAMS, SCHEDULES, Modifiers
from optimizers.registry import BY_NAME as OPTIMIZER_SPECS
from optimizers.registry import OptimizerConfig, OptimizerSpec, make_config
from surfaces.catalog import BY_NAME as SURFACE_SPECS
from surfaces.catalog import SurfaceSpec

from app.shell.validation import (
    MAX_NOTICES,
    MAX_TOKEN_CHARS,
    Notes,
    clamp,
    clamp_hyper,
    fmt,
    is_finite_number,
    number_in,
    parse_number,
    query_number,
    query_value,
    shown,
    symbol_text,
    whole_in,
)

FORMULA = "formula"
VIEWS = ("2d", "3d")
MAX_STEPS = 5000
MAX_OPTIMIZERS = 8
N_COLORS = 8
MAX_FORMULA_CHARS = 500
MAX_QUERY_CHARS = 8000
MAX_QUERY_FIELDS = 200
MAX_SEED = 2**31 - 1
MAX_NOISE = 1e6
CLIP_RANGE = (1e-6, 1e6)
BOX_LIMIT = 1e6

DEFAULT_FORMULA = "x^4 - 2*x^2 + y^2"
DEFAULT_BOX = (-2.0, 2.0, -2.0, 2.0)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class OptimizerEntry:
    """One racing optimizer: its registry name, every hyperparameter value, and its colour slot.

    Each value is valid on its own; a combination that the registry refuses
    (e.g. Nesterov without momentum) is kept so the card can say what is wrong
    (see :meth:`problem`).
    """

    name: str
    values: tuple[tuple[str, Any], ...]
    color: int

    def __post_init__(self) -> None:
        spec = OPTIMIZER_SPECS.get(self.name)
        if spec is None:
            raise ValueError(f"unknown optimizer {self.name!r}")
        if not (isinstance(self.color, int) and 0 <= self.color < N_COLORS):
            raise ValueError(f"colour must be an integer in [0, {N_COLORS}), got {self.color!r}")
        if [k for k, _ in self.values] != spec.keys():
            raise ValueError(f"values of {self.name} must list {', '.join(spec.keys())} in order")
        for (key, value), p in zip(self.values, spec.params, strict=True):
            p.coerce(value)

    @classmethod
    def default(cls, name: str, color: int, **overrides: Any) -> OptimizerEntry:
        """The registry defaults of ``name``, with ``overrides`` (validated)."""
        spec = OPTIMIZER_SPECS[name]
        vals = spec.defaults()
        vals.update(overrides)
        return cls(name, tuple((p.key, vals[p.key]) for p in spec.params), color)

    @property
    def spec(self) -> OptimizerSpec:
        return OPTIMIZER_SPECS[self.name]

    def value(self, key: str) -> Any:
        return dict(self.values)[key]

    def changed(self) -> dict[str, Any]:
        """Values that differ from the registry defaults."""
        spec = self.spec
        return {k: v for k, v in self.values if v != spec.param(k).default_value()}

    def config(self) -> OptimizerConfig:
        """The kernel configuration; ValueError if the combination is refused."""
        return make_config(self.name, **dict(self.values))

    def problem(self) -> str | None:
        try:
            self.config()
        except ValueError as exc:
            return str(exc)
        return None

    def label(self) -> str:
        changed = self.changed()
        if not changed:
            return self.spec.display_name
        parts = [f"{symbol_text(self.spec.param(k))}={fmt(v)}" for k, v in changed.items()]
        return f"{self.spec.display_name} · {', '.join(parts)}"


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ExplorerConfig:
    """The whole Explorer state that a link carries (see module docstring)."""

    surface: str = "beale"
    surface_params: tuple[tuple[str, float], ...] = ()
    formula: str = DEFAULT_FORMULA
    box: tuple[float, float, float, float] = DEFAULT_BOX
    start: tuple[float, float] = (1.0, 1.5)
    steps: int = 500
    optimizers: tuple[OptimizerEntry, ...] = ()
    noise: float = 0.0
    seed: int = 0
    clip: str = "none"
    clip_value: float = 1.0
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, float], ...] = ()
    view: str = "2d"
    arrows: int = -1
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.surface != FORMULA:
            spec = SURFACE_SPECS.get(self.surface)
            if spec is None:
                raise ValueError(f"unknown surface {self.surface!r}")
            if [k for k, _ in self.surface_params] != [p.name for p in spec.params]:
                raise ValueError(f"surface_params of {self.surface} must list every parameter in order")
            for (_, v), p in zip(self.surface_params, spec.params, strict=True):
                if not (is_finite_number(v) and p.low <= v <= p.high):
                    raise ValueError(f"{self.surface}.{p.name} out of range: {v!r}")
        if not isinstance(self.formula, str) or len(self.formula) > MAX_FORMULA_CHARS:
            raise ValueError("formula must be a string of at most 500 characters")
        x0, x1, y0, y1 = self.box
        if not (all(is_finite_number(v) and abs(v) <= BOX_LIMIT for v in self.box) and x0 < x1 and y0 < y1):
            raise ValueError(f"box must be finite with xmin < xmax and ymin < ymax, got {self.box!r}")
        (bx0, bx1), (by0, by1) = self.bounds
        sx, sy = self.start
        if not (is_finite_number(sx) and is_finite_number(sy) and bx0 <= sx <= bx1 and by0 <= sy <= by1):
            raise ValueError(f"start must lie in the plotting box, got {self.start!r}")
        if not (isinstance(self.steps, int) and 1 <= self.steps <= MAX_STEPS):
            raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {self.steps!r}")
        if len(self.optimizers) > MAX_OPTIMIZERS:
            raise ValueError(f"at most {MAX_OPTIMIZERS} optimizers, got {len(self.optimizers)}")
        colors = [e.color for e in self.optimizers]
        if len(set(colors)) != len(colors):
            raise ValueError("optimizer colours must be distinct")
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {self.view!r}")
        if self.arrows != -1 and self.arrows not in colors:
            raise ValueError("arrows must be -1 or the colour of a listed optimizer")
        self.modifiers()  # validates noise, seed, clip and schedule
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in [0, {MAX_SEED}]")

    # -- derived -------------------------------------------------------------------
    @property
    def is_formula(self) -> bool:
        return self.surface == FORMULA

    @property
    def surface_spec(self) -> SurfaceSpec | None:
        return None if self.is_formula else SURFACE_SPECS[self.surface]

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        if self.is_formula:
            x0, x1, y0, y1 = self.box
            return (x0, x1), (y0, y1)
        return SURFACE_SPECS[self.surface].bounds

    def surface_args(self) -> tuple[str, dict[str, float]]:
        """Arguments of ``surfaces.get_surface`` for this configuration."""
        if self.is_formula:
            x0, x1, y0, y1 = self.box
            return "formula:" + self.formula, {"xmin": x0, "xmax": x1, "ymin": y0, "ymax": y1}
        return self.surface, dict(self.surface_params)

    def surface_key(self) -> str:
        """Identifies what the map's background shows (surface, parameters, box, view)."""
        name, kwargs = self.surface_args()
        return repr((name, sorted(kwargs.items()), self.view))

    def modifiers(self) -> Modifiers:
        return Modifiers(
            noise=self.noise,
            seed=self.seed,
            clip=self.clip,
            clip_value=self.clip_value,
            schedule=self.schedule,
            schedule_params=self.schedule_params,
        )

    def entry(self, color: int) -> OptimizerEntry | None:
        return next((e for e in self.optimizers if e.color == color), None)

    def free_color(self) -> int | None:
        used = {e.color for e in self.optimizers}
        return next((c for c in range(N_COLORS) if c not in used), None)

    # -- structural edits (return new configurations) -----------------------------
    def with_surface(self, name: str) -> ExplorerConfig:
        """Switch surface: its default parameters and first default start."""
        if name == self.surface:
            return self
        if name == FORMULA:
            return replace(self, surface=FORMULA, surface_params=(), start=_box_start(self.box), notes=())
        spec = SURFACE_SPECS[name]
        params = tuple((p.name, float(p.default)) for p in spec.params)
        return replace(self, surface=name, surface_params=params, start=tuple(map(float, spec.starts[0])), notes=())

    def with_optimizer(self, name: str) -> ExplorerConfig:
        color = self.free_color()
        if color is None or name not in OPTIMIZER_SPECS:
            return self
        entries = self.optimizers + (OptimizerEntry.default(name, color),)
        arrows = self.arrows if self.arrows != -1 else color
        return replace(self, optimizers=entries, arrows=arrows, notes=())

    def without(self, index: int) -> ExplorerConfig:
        if not 0 <= index < len(self.optimizers):
            return self
        gone = self.optimizers[index].color
        entries = self.optimizers[:index] + self.optimizers[index + 1 :]
        arrows = self.arrows
        if arrows == gone:
            arrows = entries[0].color if entries else -1
        return replace(self, optimizers=entries, arrows=arrows, notes=())

    def duplicated(self, index: int) -> ExplorerConfig:
        color = self.free_color()
        if color is None or not 0 <= index < len(self.optimizers):
            return self
        src = self.optimizers[index]
        copy = OptimizerEntry(src.name, src.values, color)
        entries = self.optimizers[: index + 1] + (copy,) + self.optimizers[index + 1 :]
        return replace(self, optimizers=entries, notes=())

    # -- serialisation ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (the shape :func:`sanitize` reads)."""
        return {
            "surface": self.surface,
            "surface_params": dict(self.surface_params),
            "formula": self.formula,
            "box": list(self.box),
            "start": list(self.start),
            "steps": self.steps,
            "optimizers": [{"name": e.name, "values": dict(e.values), "color": e.color} for e in self.optimizers],
            "noise": self.noise,
            "seed": self.seed,
            "clip": self.clip,
            "clip_value": self.clip_value,
            "schedule": self.schedule,
            "schedule_params": dict(self.schedule_params),
            "view": self.view,
            "arrows": self.arrows,
        }


def _box_start(box: tuple[float, float, float, float]) -> tuple[float, float]:
    x0, x1, y0, y1 = box
    return (_nice(x0 + 0.8 * (x1 - x0)), _nice(y0 + 0.8 * (y1 - y0)))


def _nice(v: float) -> float:
    return float(f"{v:.4g}")


# --------------------------------------------------------------------------- sanitising


def _sanitize_entry(raw: Any, index: int, color: int | None, claimed: set[int], notes: Notes) -> OptimizerEntry | None:
    if not isinstance(raw, Mapping):
        notes.add(f"optimizer {index + 1}: not understood; removed")
        return None
    name = raw.get("name")
    spec = OPTIMIZER_SPECS.get(name) if isinstance(name, str) else None
    if spec is None:
        notes.add(f"unknown optimizer {shown(name)} removed")
        return None
    values_raw = raw.get("values") if isinstance(raw.get("values"), Mapping) else {}
    unknown = [k for k in values_raw if k not in spec.keys()]
    for k in unknown[:3]:
        notes.add(f"{spec.display_name}: no hyperparameter {shown(k)}; ignored")
    values = []
    for p in spec.params:
        if p.key in values_raw and values_raw[p.key] is not None:
            values.append((p.key, clamp_hyper(p, values_raw[p.key], f"{spec.display_name} {p.key}", notes)))
        else:
            values.append((p.key, p.default_value()))
    if color is None:
        color = next(c for c in range(N_COLORS) if c not in claimed)
    return OptimizerEntry(spec.name, tuple(values), color)


def sanitize(raw: Any, base: ExplorerConfig | None = None) -> ExplorerConfig:
    """A valid configuration from an untrusted mapping (the shape of ``to_dict``).

    Missing fields take their values from ``base`` (default: :data:`DEFAULT`);
    fields that are present but unusable are repaired, and every repair is listed
    in the result's ``notes``.
    """
    base = base or DEFAULT
    notes = Notes()
    if not isinstance(raw, Mapping):
        notes.add("the settings were not understood; showing the default view")
        return replace(base, notes=notes.result())
    get = raw.get

    # surface
    surface = get("surface", base.surface)
    if not isinstance(surface, str) or (surface != FORMULA and surface not in SURFACE_SPECS):
        notes.add(f"unknown surface {shown(surface)}; using {base.surface}")
        surface = base.surface
    if surface == FORMULA:
        surface_params: tuple[tuple[str, float], ...] = ()
    else:
        spec = SURFACE_SPECS[surface]
        given = get("surface_params")
        if not isinstance(given, Mapping):
            given = dict(base.surface_params) if surface == base.surface else {}
        for k in [k for k in given if k not in {p.name for p in spec.params}][:3]:
            notes.add(f"{spec.display_name}: no parameter {shown(k)}; ignored")
        surface_params = tuple(
            (p.name, number_in(given[p.name], p.low, p.high, p.default, f"{spec.display_name} {p.name}", notes))
            if p.name in given and given[p.name] is not None
            else (p.name, float(p.default))
            for p in spec.params
        )

    formula = get("formula", base.formula)
    if not isinstance(formula, str):
        notes.add("the formula was not text; using the default formula")
        formula = DEFAULT_FORMULA
    elif len(formula) > MAX_FORMULA_CHARS:
        notes.add(f"the formula is longer than {MAX_FORMULA_CHARS} characters; using the default formula")
        formula = DEFAULT_FORMULA

    box = _sanitize_box(get("box", base.box), base.box, notes)

    # start (inside the plotting box of the chosen surface)
    if surface == FORMULA:
        (bx0, bx1), (by0, by1) = (box[0], box[1]), (box[2], box[3])
        default_start = base.start if base.is_formula and base.box == box else _box_start(box)
    else:
        (bx0, bx1), (by0, by1) = SURFACE_SPECS[surface].bounds
        default_start = base.start if base.surface == surface else tuple(map(float, SURFACE_SPECS[surface].starts[0]))
    start_raw = get("start")
    if start_raw is None:
        start = default_start
    elif isinstance(start_raw, Sequence) and not isinstance(start_raw, str) and len(start_raw) == 2:
        start = (
            number_in(start_raw[0], bx0, bx1, default_start[0], "start x", notes),
            number_in(start_raw[1], by0, by1, default_start[1], "start y", notes),
        )
    else:
        notes.add(f"start: {shown(start_raw)} is not a point x,y; using the surface's start")
        start = default_start
    start = (clamp(start[0], bx0, bx1), clamp(start[1], by0, by1))

    steps = whole_in(get("steps", base.steps), 1, MAX_STEPS, base.steps, "steps", notes)

    # optimizers
    entries_raw = get("optimizers", None)
    if entries_raw is None:
        entries = base.optimizers
    elif not isinstance(entries_raw, Sequence) or isinstance(entries_raw, str):
        notes.add("the optimizer list was not understood; using the default optimizers")
        entries = base.optimizers
    else:
        if len(entries_raw) > MAX_OPTIMIZERS:
            notes.add(f"at most {MAX_OPTIMIZERS} optimizers race at once; kept the first {MAX_OPTIMIZERS}")
        kept = list(entries_raw)[:MAX_OPTIMIZERS]
        # valid explicit colours are honoured first come, first served; the rest get free colours
        claimed: set[int] = set()
        wanted: list[int | None] = []
        for r in kept:
            c = r.get("color") if isinstance(r, Mapping) else None
            ok = isinstance(c, int) and not isinstance(c, bool) and 0 <= c < N_COLORS and c not in claimed
            wanted.append(c if ok else None)
            if ok:
                claimed.add(c)
        out = []
        for i, r in enumerate(kept):
            e = _sanitize_entry(r, i, wanted[i], claimed, notes)
            if e is not None:
                claimed.add(e.color)
                out.append(e)
        entries = tuple(out)

    # modifiers
    noise = number_in(get("noise", base.noise), 0.0, MAX_NOISE, 0.0, "gradient noise σ", notes)
    seed = whole_in(get("seed", base.seed), 0, MAX_SEED, 0, "seed", notes)
    clip = get("clip", base.clip)
    if not isinstance(clip, str) or clip not in CLIP_MODES:
        notes.add(f"clipping {shown(clip)} is not one of {', '.join(CLIP_MODES)}; using none")
        clip = "none"
    clip_value = number_in(get("clip_value", base.clip_value), *CLIP_RANGE, 1.0, "clip threshold", notes)
    schedule = get("schedule", base.schedule)
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        notes.add(f"schedule {shown(schedule)} is not one of {', '.join(SCHEDULES)}; using constant")
        schedule = "constant"
    sp_raw = get("schedule_params")
    if not isinstance(sp_raw, Mapping):
        sp_raw = dict(base.schedule_params) if schedule == base.schedule else {}
    known = {name: (default, lo, hi) for name, default, lo, hi, _ in SCHEDULE_PARAMS[schedule]}
    for k in [k for k in sp_raw if k not in known][:3]:
        notes.add(f"schedule {schedule}: no parameter {shown(k)}; ignored")
    schedule_params = []
    for name, (default, lo, hi) in known.items():
        raw_v = sp_raw.get(name)
        if raw_v is None:
            v = float(default)
        else:
            v = number_in(raw_v, lo, hi, float(default), f"schedule {name}", notes)
        if isinstance(default, int):
            v = float(int(round(v)))
        schedule_params.append((name, v))

    view = get("view", base.view)
    if not isinstance(view, str) or view not in VIEWS:
        notes.add(f"view {shown(view)} is not 2d or 3d; using 2d")
        view = "2d"

    colors = [e.color for e in entries]
    arrows_raw = get("arrows", base.arrows)
    arrows = arrows_raw if isinstance(arrows_raw, int) and not isinstance(arrows_raw, bool) else None
    if arrows is None:
        parsed = parse_number(arrows_raw)
        arrows = int(parsed) if parsed is not None and parsed == int(parsed) else None
    if arrows is None or (arrows != -1 and arrows not in colors):
        arrows = colors[0] if colors else -1

    return ExplorerConfig(
        surface=surface,
        surface_params=surface_params,
        formula=formula,
        box=box,
        start=start,
        steps=steps,
        optimizers=entries,
        noise=noise,
        seed=seed,
        clip=clip,
        clip_value=clip_value,
        schedule=schedule,
        schedule_params=tuple(schedule_params),
        view=view,
        arrows=arrows,
        notes=notes.result(),
    )


def _sanitize_box(raw: Any, default: tuple[float, float, float, float], notes: Notes) -> tuple[float, ...]:
    if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 4:
        vals = [parse_number(v) for v in raw]
        if all(v is not None for v in vals):
            x0, x1, y0, y1 = (clamp(v, -BOX_LIMIT, BOX_LIMIT) for v in vals)  # type: ignore[arg-type]
            if x0 < x1 and y0 < y1:
                return (x0, x1, y0, y1)
    notes.add(f"formula box: {shown(raw, 40)} is not xmin,xmax,ymin,ymax with min < max; using the default box")
    return default


# --------------------------------------------------------------------------- URL codec

#: query keys → config fields (modifiers and view)
_SIMPLE = {"steps": "steps", "noise": "noise", "seed": "seed", "clip": "clip", "clipv": "clip_value",
           "sched": "schedule", "view": "view", "arrows": "arrows"}  # fmt: skip


def to_query(cfg: ExplorerConfig) -> str:
    """The query string (with a leading '?') that reproduces ``cfg``."""
    pairs: list[tuple[str, str]] = [("surface", cfg.surface)]
    if cfg.is_formula:
        pairs.append(("f", cfg.formula))
        pairs.append(("box", ",".join(query_number(v) for v in cfg.box)))
    else:
        spec = SURFACE_SPECS[cfg.surface]
        for (k, v), p in zip(cfg.surface_params, spec.params, strict=True):
            if v != p.default:
                pairs.append((f"s.{k}", query_number(v)))
    pairs.append(("start", f"{query_number(cfg.start[0])},{query_number(cfg.start[1])}"))
    pairs.append(("steps", str(cfg.steps)))
    for e in cfg.optimizers:
        parts = [e.name] + [f"{k}={query_value(v)}" for k, v in e.changed().items()] + [f"color={e.color}"]
        pairs.append(("opt", ",".join(parts)))
    if cfg.noise:
        pairs.append(("noise", query_number(cfg.noise)))
    if cfg.seed:
        pairs.append(("seed", str(cfg.seed)))
    if cfg.clip != "none":
        pairs.append(("clip", cfg.clip))
    if cfg.clip_value != 1.0:
        pairs.append(("clipv", query_number(cfg.clip_value)))
    if cfg.schedule != "constant":
        pairs.append(("sched", cfg.schedule))
        for k, v in cfg.schedule_params:
            pairs.append((f"sch.{k}", query_number(v)))
    if cfg.view != "2d":
        pairs.append(("view", cfg.view))
    first = cfg.optimizers[0].color if cfg.optimizers else -1
    if cfg.arrows != first:
        pairs.append(("arrows", str(cfg.arrows)))
    return "?" + "&".join(f"{k}={quote(v, safe=',=.-_')}" for k, v in pairs)


def from_query(search: str | None) -> ExplorerConfig:
    """The configuration a query string describes; anything unusable is repaired and noted.

    An empty query gives :data:`DEFAULT` without notes.  A query that cannot be
    read at all (too long, too many fields) gives the default with a note.
    """
    text = (search or "").lstrip("?")
    if not text:
        return DEFAULT
    if len(text) > MAX_QUERY_CHARS:
        return replace(DEFAULT, notes=(f"the link's settings are too long ({len(text)} characters); showing the default view",))
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        return replace(DEFAULT, notes=("the link has too many settings; showing the default view",))
    notes = Notes()
    raw: dict[str, Any] = {}
    surface_params: dict[str, str] = {}
    schedule_params: dict[str, str] = {}
    optimizers: list[dict[str, Any]] = []
    for key, value in pairs:
        if len(key) > MAX_TOKEN_CHARS:
            notes.add(f"ignored an unknown setting {shown(key)}")
            continue
        if key == "surface":
            raw["surface"] = value
        elif key.startswith("s."):
            surface_params[key[2:]] = value
        elif key == "f":
            raw["formula"] = value
        elif key == "box":
            raw["box"] = value.split(",")
        elif key == "start":
            raw["start"] = value.split(",")
        elif key == "opt":
            optimizers.append(_parse_opt(value, notes))
        elif key.startswith("sch."):
            schedule_params[key[4:]] = value
        elif key in _SIMPLE:
            raw[_SIMPLE[key]] = value
        else:
            notes.add(f"ignored an unknown setting {shown(key)}")
    if raw.get("surface") != FORMULA or not str(raw.get("formula", "x")).strip():
        raw.pop("formula", None)  # a formula (and its box) only travels with the formula surface
    if raw.get("surface") != FORMULA:
        raw.pop("box", None)
    if surface_params or "surface" in raw:
        raw["surface_params"] = surface_params
    if schedule_params or "schedule" in raw:
        raw["schedule_params"] = schedule_params
    if any(k == "opt" for k, _ in pairs):
        raw["optimizers"] = optimizers
        raw.setdefault("arrows", None)  # default: the first listed optimizer
    cfg = sanitize(raw)
    return replace(cfg, notes=(notes.result() + cfg.notes)[: MAX_NOTICES + 1]) if notes.items else cfg


def _parse_opt(value: str, notes: Notes) -> dict[str, Any]:
    name, *rest = value.split(",")
    values: dict[str, str] = {}
    color: Any = None
    for item in rest[:40]:
        k, sep, v = item.partition("=")
        if not sep:
            notes.add(f"{shown(name)}: ignored {shown(item)} (expected key=value)")
            continue
        if k == "color":
            n = parse_number(v)
            color = int(n) if n is not None and n == int(n) else None
        else:
            values[k] = v
    return {"name": name.strip(), "values": values, "color": color}


def slider_value(s: float, scale: str) -> float:
    """The number a slider position stands for (rounded like the browser's display)."""
    if scale == "log":
        return float(f"{10.0 ** s:.3g}")
    if scale == "int":
        return float(round(s))
    return float(f"{s:.6g}")


def _default() -> ExplorerConfig:
    """The view a bare link opens: the CS231n-style race on Beale's function."""
    entries = (
        OptimizerEntry.default("sgd", 0, lr=0.001),
        OptimizerEntry.default("momentum", 1, lr=0.001, momentum=0.9),
        OptimizerEntry.default("nesterov", 2, lr=0.001, momentum=0.9),
        OptimizerEntry.default("adagrad", 3, lr=1.0),
        OptimizerEntry.default("rmsprop", 4, lr=0.01),
        OptimizerEntry.default("adam", 5, lr=0.1),
    )
    return ExplorerConfig(
        surface="beale", surface_params=(), start=(1.0, 1.5), steps=500, optimizers=entries, arrows=5
    )


DEFAULT = _default()
