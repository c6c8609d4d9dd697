"""The Explorer's configuration: one validated, immutable value for everything the page shows.

Everything the Explorer shows follows from one :class:`ExplorerConfig`: the
surface (a built-in with its parameters, or a typed formula with its box), the
start point, the number of steps, the optimizers racing (up to eight, each with
a colour), the shared modifiers, the view and which optimizer's arrows are
drawn.  Both classes validate in ``__post_init__``: an invalid value cannot be
built.  Untrusted input goes through :mod:`app.explorer.sanitize` first; links
through :mod:`app.explorer.query`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from optimizers.modifiers import Modifiers
from optimizers.registry import BY_NAME as OPTIMIZER_SPECS
from optimizers.registry import OptimizerConfig, OptimizerSpec, make_config
from surfaces.catalog import BY_NAME as SURFACE_SPECS
from surfaces.catalog import SurfaceSpec

from app.explorer.points import Points, canonical, digest, generator_key, is_data_surface
from app.shell.validation import fmt, is_finite_number, symbol_text

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
MAX_BATCH = 4096
#: a data surface's race evaluates runs × steps × n points at most (sanitize cuts the steps to fit)
RACE_POINT_BUDGET = 40_000_000
CLIP_RANGE = (1e-6, 1e6)
BOX_LIMIT = 1e6

DEFAULT_FORMULA = "x^4 - 2*x^2 + y^2"
DEFAULT_BOX = (-2.0, 2.0, -2.0, 2.0)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class OptimizerEntry:
    """One racing optimizer: its registry name, every hyperparameter value, and its colour (0–7).

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
    basins: bool = False  # the map coloured by where each start ends with the first optimizer (a display layer)
    arrows: int = -1
    batch_size: int = 0  # data surfaces only: points per step's gradient (0: the full batch)
    points: Points | None = None  # a data surface's edited points (None: drawn from its parameters)
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
        if not isinstance(self.basins, bool):
            raise ValueError(f"basins must be True or False, got {self.basins!r}")
        if self.arrows != -1 and self.arrows not in colors:
            raise ValueError("arrows must be -1 or the colour of a listed optimizer")
        if not self.is_data and (self.batch_size or self.points is not None):
            raise ValueError("batch_size and points belong to data surfaces only")
        if not (isinstance(self.batch_size, int) and not isinstance(self.batch_size, bool)):
            raise ValueError(f"batch_size must be an integer, got {self.batch_size!r}")
        if self.points is not None and canonical(self.surface, self.points) != self.points:
            raise ValueError("points must be canonical (see app.explorer.points.canonical)")
        self.modifiers()  # validates noise, seed, clip, schedule and batch size
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be in [0, {MAX_SEED}]")

    # -- derived -------------------------------------------------------------------
    @property
    def is_formula(self) -> bool:
        return self.surface == FORMULA

    @property
    def is_data(self) -> bool:
        """Whether the surface is made of data points (linreg, logreg, tiny_net)."""
        return is_data_surface(self.surface)

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
        """Identifies what the map's background shows (surface, parameters, edited points, box, view)."""
        name, kwargs = self.surface_args()
        return repr((name, sorted(kwargs.items()), self.view) + ((digest(self.points),) if self.points else ()))

    def data_key(self) -> str:
        """The generated data set an edit of the points belongs to ('' off a data surface)."""
        return generator_key(self.surface, self.surface_params) if self.is_data else ""

    def modifiers(self) -> Modifiers:
        return Modifiers(
            noise=self.noise,
            seed=self.seed,
            clip=self.clip,
            clip_value=self.clip_value,
            schedule=self.schedule,
            schedule_params=self.schedule_params,
            batch_size=self.batch_size,
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
            return replace(self, surface=FORMULA, surface_params=(), start=box_start(self.box), batch_size=0,
                           points=None, notes=())  # fmt: skip
        spec = SURFACE_SPECS[name]
        params = tuple((p.name, float(p.default)) for p in spec.params)
        batch = self.batch_size if is_data_surface(name) else 0
        return replace(self, surface=name, surface_params=params, start=tuple(map(float, spec.starts[0])),
                       batch_size=batch, points=None, notes=())  # fmt: skip

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
            "basins": self.basins,
            "arrows": self.arrows,
            "batch_size": self.batch_size,
            "points": [list(row) for row in self.points] if self.points is not None else None,
        }


def box_start(box: tuple[float, float, float, float]) -> tuple[float, float]:
    """The start a formula's box gets by default: 80 % of the way along each side, rounded."""
    x0, x1, y0, y1 = box
    return (_nice(x0 + 0.8 * (x1 - x0)), _nice(y0 + 0.8 * (y1 - y0)))


def _nice(v: float) -> float:
    return float(f"{v:.4g}")


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
