"""Untrusted values in, a valid :class:`~app.explorer.config.ExplorerConfig` out.

Values from the browser and from a URL are untrusted.  :func:`sanitize` turns a
loosely typed mapping (the shape of ``ExplorerConfig.to_dict``) into a valid
configuration, clamping numbers into range and replacing what cannot be used by
defaults; each repair is reported as a short notice for the page.

Nothing is ever evaluated: names are looked up in the registries, numbers are
matched by a regular expression before ``float``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from optimizers.modifiers import CLIP_MODES, SCHEDULE_PARAMS, SCHEDULES
from optimizers.registry import BY_NAME as OPTIMIZER_SPECS
from surfaces.catalog import BY_NAME as SURFACE_SPECS

from app.explorer.config import (
    BOX_LIMIT,
    MAX_BATCH,
    CLIP_RANGE,
    DEFAULT,
    DEFAULT_FORMULA,
    FORMULA,
    MAX_FORMULA_CHARS,
    MAX_NOISE,
    MAX_OPTIMIZERS,
    MAX_SEED,
    MAX_STEPS,
    N_COLORS,
    RACE_POINT_BUDGET,
    VIEWS,
    ExplorerConfig,
    OptimizerEntry,
    box_start,
)
from app.explorer.points import canonical, generator_key, is_data_surface
from app.shell.validation import Notes, clamp, clamp_hyper, number_in, parse_number, shown, whole_in

Get = Callable[..., Any]


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
    surface, surface_params = _surface(get, base, notes)
    formula = _formula(get, base, notes)
    box = _box(get("box", base.box), base.box, notes)
    start = _start(get, base, surface, box, notes)
    steps = whole_in(get("steps", base.steps), 1, MAX_STEPS, base.steps, "steps", notes)
    entries = _optimizers(get, base, notes)
    noise = number_in(get("noise", base.noise), 0.0, MAX_NOISE, 0.0, "gradient noise σ", notes)
    seed = whole_in(get("seed", base.seed), 0, MAX_SEED, 0, "seed", notes)
    clip = get("clip", base.clip)
    if not isinstance(clip, str) or clip not in CLIP_MODES:
        notes.add(f"clipping {shown(clip)} is not one of {', '.join(CLIP_MODES)}; using none")
        clip = "none"
    clip_value = number_in(get("clip_value", base.clip_value), *CLIP_RANGE, 1.0, "clip threshold", notes)
    schedule, schedule_params = _schedule(get, base, notes)
    view = get("view", base.view)
    if not isinstance(view, str) or view not in VIEWS:
        notes.add(f"view {shown(view)} is not 2d or 3d; using 2d")
        view = "2d"
    basins = get("basins", base.basins)
    if basins in (True, "1", "on"):
        basins = True
    elif basins in (False, None, "", "0", "off"):
        basins = False
    else:
        notes.add(f"basins {shown(basins)} is not 1 or 0; the basins layer is off")
        basins = False
    batch_size, points = _data(get, base, surface, surface_params, notes)
    steps = _steps_in_budget(steps, len(entries), surface, surface_params, points, notes)
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
        schedule_params=schedule_params,
        view=view,
        basins=basins,
        arrows=_arrows(get("arrows", base.arrows), entries),
        batch_size=batch_size,
        points=points,
        notes=notes.result(),
    )


def _surface(get: Get, base: ExplorerConfig, notes: Notes) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The surface's name and its parameters (every one, in the catalogue's order)."""
    surface = get("surface", base.surface)
    if not isinstance(surface, str) or (surface != FORMULA and surface not in SURFACE_SPECS):
        notes.add(f"unknown surface {shown(surface)}; using {base.surface}")
        surface = base.surface
    if surface == FORMULA:
        return surface, ()
    spec = SURFACE_SPECS[surface]
    given = get("surface_params")
    if not isinstance(given, Mapping):
        given = dict(base.surface_params) if surface == base.surface else {}
    for k in [k for k in given if k not in {p.name for p in spec.params}][:3]:
        notes.add(f"{spec.display_name}: no parameter {shown(k)}; ignored")
    params = []
    for p in spec.params:
        v = float(p.default)
        if p.name in given and given[p.name] is not None:
            v = number_in(given[p.name], p.low, p.high, p.default, f"{spec.display_name} {p.name}", notes)
        if p.integer and v != round(v):
            notes.add(f"{spec.display_name} {p.name}: {shown(given[p.name])} is not a whole number; using {round(v)}")
            v = float(round(v))
        params.append((p.name, v))
    return surface, tuple(params)


def _data(get: Get, base: ExplorerConfig, surface: str, params: tuple[tuple[str, float], ...],
          notes: Notes) -> tuple[int, Any]:  # fmt: skip
    """The batch size and the edited points: data surfaces only; points only while their data set is the same.

    The points are untrusted rows, checked by :func:`app.explorer.points.canonical`; the base's points
    carry over only on the same data set (the generator's parameters unchanged)."""
    if not is_data_surface(surface):
        if get("batch_size") not in (None, 0, "0", 0.0, ""):
            notes.add("the batch size applies to data surfaces only; ignored")
        return 0, None
    raw_batch = get("batch_size", base.batch_size if base.is_data else 0)
    batch = whole_in(raw_batch, 0, MAX_BATCH, 0, "batch size", notes)
    if (v := parse_number(raw_batch)) is not None and 0 <= v <= MAX_BATCH and v != round(v):
        notes.add(f"batch size: {shown(raw_batch)} is not a whole number; using {batch}")
    same_data = base.is_data and base.data_key() == generator_key(surface, params)
    raw = get("points", base.points if same_data else None)
    if raw is None:
        return batch, None
    try:
        return batch, canonical(surface, raw)
    except ValueError as exc:
        notes.add(f"the edited points were not used: {exc}")
        return batch, None


def _steps_in_budget(steps: int, runs: int, surface: str, params: tuple[tuple[str, float], ...], points: Any,
                     notes: Notes) -> int:  # fmt: skip
    """``steps``, or fewer on a data surface whose race would evaluate more than RACE_POINT_BUDGET points
    (every step of every run evaluates the full loss over all n points)."""
    if not is_data_surface(surface):
        return steps
    n = len(points) if points is not None else int(dict(params).get("n", 1))
    cap = max(1, RACE_POINT_BUDGET // (max(1, runs) * max(1, n)))
    if steps > cap:
        notes.add(f"steps: {runs} runs on {n} points are limited to {cap} steps; using {cap}")
        return cap
    return steps


def _formula(get: Get, base: ExplorerConfig, notes: Notes) -> str:
    formula = get("formula", base.formula)
    if not isinstance(formula, str):
        notes.add("the formula was not text; using the default formula")
        return DEFAULT_FORMULA
    if len(formula) > MAX_FORMULA_CHARS:
        notes.add(f"the formula is longer than {MAX_FORMULA_CHARS} characters; using the default formula")
        return DEFAULT_FORMULA
    return formula


def _box(raw: Any, default: tuple[float, float, float, float], notes: Notes) -> tuple[float, ...]:
    if isinstance(raw, Sequence) and not isinstance(raw, str) and len(raw) == 4:
        vals = [parse_number(v) for v in raw]
        if all(v is not None for v in vals):
            x0, x1, y0, y1 = (clamp(v, -BOX_LIMIT, BOX_LIMIT) for v in vals)  # type: ignore[arg-type]
            if x0 < x1 and y0 < y1:
                return (x0, x1, y0, y1)
    notes.add(f"formula box: {shown(raw, 40)} is not xmin,xmax,ymin,ymax with min < max; using the default box")
    return default


def _start(get: Get, base: ExplorerConfig, surface: str, box: tuple[float, ...], notes: Notes) -> tuple[float, float]:
    """The start point, inside the plotting box of the chosen surface."""
    if surface == FORMULA:
        (bx0, bx1), (by0, by1) = (box[0], box[1]), (box[2], box[3])
        default_start = base.start if base.is_formula and base.box == box else box_start(box)  # type: ignore[arg-type]
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
    return (clamp(start[0], bx0, bx1), clamp(start[1], by0, by1))


def _optimizers(get: Get, base: ExplorerConfig, notes: Notes) -> tuple[OptimizerEntry, ...]:
    entries_raw = get("optimizers", None)
    if entries_raw is None:
        return base.optimizers
    if not isinstance(entries_raw, Sequence) or isinstance(entries_raw, str):
        notes.add("the optimizer list was not understood; using the default optimizers")
        return base.optimizers
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
        e = _entry(r, i, wanted[i], claimed, notes)
        if e is not None:
            claimed.add(e.color)
            out.append(e)
    return tuple(out)


def _entry(raw: Any, index: int, color: int | None, claimed: set[int], notes: Notes) -> OptimizerEntry | None:
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


def _schedule(get: Get, base: ExplorerConfig, notes: Notes) -> tuple[str, tuple[tuple[str, float], ...]]:
    """The learning-rate schedule and its parameters (every one, whole numbers where the schedule counts steps)."""
    schedule = get("schedule", base.schedule)
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        notes.add(f"schedule {shown(schedule)} is not one of {', '.join(SCHEDULES)}; using constant")
        schedule = "constant"
    given = get("schedule_params")
    if not isinstance(given, Mapping):
        given = dict(base.schedule_params) if schedule == base.schedule else {}
    known = {name: (default, lo, hi) for name, default, lo, hi, _ in SCHEDULE_PARAMS[schedule]}
    for k in [k for k in given if k not in known][:3]:
        notes.add(f"schedule {schedule}: no parameter {shown(k)}; ignored")
    params = []
    for name, (default, lo, hi) in known.items():
        raw_v = given.get(name)
        if raw_v is None:
            v = float(default)
        else:
            v = number_in(raw_v, lo, hi, float(default), f"schedule {name}", notes)
        if isinstance(default, int):
            v = float(int(round(v)))
        params.append((name, v))
    return schedule, tuple(params)


def _arrows(raw: Any, entries: tuple[OptimizerEntry, ...]) -> int:
    """The colour whose arrows are drawn: -1 (none) or a listed optimizer's; else the first optimizer's."""
    colors = [e.color for e in entries]
    arrows = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if arrows is None:
        parsed = parse_number(raw)
        arrows = int(parsed) if parsed is not None and parsed == int(parsed) else None
    if arrows is None or (arrows != -1 and arrows not in colors):
        arrows = colors[0] if colors else -1
    return arrows
