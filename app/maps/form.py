"""The Sweep maps form as plain values: its fields and generated rows, the configuration they
show, and what a structural change or a lesson does to it.

The callbacks receive the form as Dash's grouped arguments (declared by :func:`field_deps` and
:func:`row_deps`): the plain fields by their names in :data:`FORM_FIELDS`, and each family of
generated rows (:data:`ROW_PATTERNS`) as two parallel lists, the values and the ids of its
ALL-pattern components.  :func:`form_fields` and :func:`form_rows` unpack them (the latter into a
:class:`FormRows`); :func:`form_config` turns both into a validated configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dash import ALL, Input, State

from app.explorer.state import FORMULA, OptimizerEntry
from app.maps.ids import Ids, Pattern
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import (
    DEFAULT_MAP,
    KINDS,
    MapConfig,
    config_from_store,
    default_axes,
    default_axis,
    numeric_params,
    sanitize_map,
)
from optimizers.registry import BY_NAME as OPTIMIZER_SPECS
from surfaces.catalog import BY_NAME as SURFACE_SPECS

#: the form's plain fields: the name a callback receives each by, and its component (whose ``value`` it is)
FORM_FIELDS: tuple[tuple[str, Ids], ...] = (
    ("kind", Ids.KIND), ("show", Ids.SHOW), ("grid", Ids.GRID), ("steps", Ids.STEPS),
    ("surface", Ids.SURFACE), ("formula", Ids.FORMULA), ("xmin", Ids.XMIN), ("xmax", Ids.XMAX),
    ("ymin", Ids.YMIN), ("ymax", Ids.YMAX), ("optimizer", Ids.OPTIMIZER),
    ("ax_key", Ids.AX_KEY), ("ax_low", Ids.AX_LOW), ("ax_high", Ids.AX_HIGH), ("ax_log", Ids.AX_LOG),
    ("ay_key", Ids.AY_KEY), ("ay_low", Ids.AY_LOW), ("ay_high", Ids.AY_HIGH), ("ay_log", Ids.AY_LOG),
    ("start_x", Ids.START_X), ("start_y", Ids.START_Y),
    ("noise", Ids.NOISE), ("seed", Ids.SEED), ("clip", Ids.CLIP), ("clip_value", Ids.CLIP_VALUE),
    ("batch_size", Ids.BATCH),
)  # fmt: skip
#: every field's name, in form order
ALL_FIELDS = tuple(name for name, _ in FORM_FIELDS)
#: fields whose change re-renders other controls (the render callback's inputs), and the others
STRUCTURAL = ("kind", "surface", "optimizer", "ax_key", "ay_key")
OTHER_FIELDS = tuple(name for name in ALL_FIELDS if name not in STRUCTURAL)
#: the form's generated rows: the name a callback receives each family by, and the ``type`` of its ids
ROW_PATTERNS: tuple[tuple[str, Pattern], ...] = (
    ("surface_params", Pattern.SURFACE_PARAM),
    ("hyper_numbers", Pattern.HYPER_NUM),
    ("hyper_flags", Pattern.HYPER_FLAG),
)


def field_deps(dependency: type[Input | State], names: tuple[str, ...]) -> dict[str, Any]:
    """The plain fields ``names`` as a named group of ``dependency`` (Input or State) on their ``value``."""
    ids = dict(FORM_FIELDS)
    return {name: dependency(ids[name], "value") for name in names}


def row_deps(dependency: type[Input | State], prop: str) -> dict[str, Any]:
    """Every family of generated rows as a named group of ``dependency`` on ``prop`` of its ALL pattern."""
    return {name: dependency({"type": pattern.value, "key": ALL}, prop) for name, pattern in ROW_PATTERNS}


@dataclass(frozen=True)
class FormRows:
    """The form's generated rows, each family as {key: value}."""

    surface_params: dict[str, Any] = field(default_factory=dict)  # the surface's parameters
    hyper_numbers: dict[str, Any] = field(default_factory=dict)  # numeric hyperparameters (None: swept)
    hyper_flags: dict[str, Any] = field(default_factory=dict)  # bool (a checklist's value) and choice ones


def keyed(values: Any, ids: Any) -> dict[str, Any]:
    """{key: value} from the parallel lists Dash passes for an ALL pattern (ids without a text key are skipped)."""
    out: dict[str, Any] = {}
    for v, cid in zip(values or [], ids or [], strict=False):
        if isinstance(cid, Mapping) and isinstance(cid.get("key"), str):
            out[cid["key"]] = v
    return out


def form_rows(values: Mapping[str, Any], ids: Mapping[str, Any]) -> FormRows:
    """The rows from the grouped arguments ``values`` and ``ids`` (each: family name → list, as in ROW_PATTERNS)."""
    return FormRows(**{name: keyed(values.get(name), ids.get(name)) for name, _ in ROW_PATTERNS})


def form_fields(*groups: Mapping[str, Any]) -> dict[str, Any]:
    """The plain fields by name, in :data:`FORM_FIELDS` order, from groups that split them (missing: None)."""
    given: dict[str, Any] = {}
    for group in groups:
        given.update(group)
    return {name: given.get(name) for name, _ in FORM_FIELDS}


def form_config(form: Mapping[str, Any], rows: FormRows, carry: MapConfig | None) -> MapConfig:
    """The configuration the controls show (``form``: the plain fields by name; ``rows``: the generated rows).

    What the form does not edit (the schedule) comes from ``carry``, the
    previous configuration.  Never raises; repairs are listed in ``notes``.
    """
    carry = carry or DEFAULT_MAP
    name = form.get("optimizer")
    hyper = dict(rows.hyper_numbers)
    for key, v in dict(rows.hyper_flags).items():
        hyper[key] = v
    # the swept settings are blank in the form: keep their last value
    same_opt = name == carry.entry.name
    for key, v in list(hyper.items()):
        if v is None and same_opt:
            hyper[key] = carry.entry.value(key)
    explorer = {
        "surface": form.get("surface"),
        "surface_params": dict(rows.surface_params),
        "formula": form.get("formula"),
        "box": [form.get("xmin"), form.get("xmax"), form.get("ymin"), form.get("ymax")],
        "start": [form.get("start_x"), form.get("start_y")],
        "steps": form.get("steps"),
        "optimizers": [{"name": name, "values": hyper, "color": 0}],
        "noise": form.get("noise"),
        "seed": form.get("seed"),
        "clip": form.get("clip"),
        "clip_value": form.get("clip_value"),
        "batch_size": form.get("batch_size") or 0,
        "schedule": carry.base.schedule,
        "schedule_params": dict(carry.base.schedule_params),
    }
    if not isinstance(form.get("surface"), str) or form.get("surface") == carry.base.surface and not rows.surface_params:
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
    return sanitize_map(raw, fallback=carry)


def apply_structural(changed: str, value: Any, cfg: MapConfig) -> MapConfig:
    """The configuration after the structural field ``changed`` (a name in STRUCTURAL) took ``value``."""
    if changed == "kind" and value in KINDS:
        return replace(cfg, kind=value, notes=())
    if changed == "surface" and isinstance(value, str) and (value == FORMULA or value in SURFACE_SPECS):
        return replace(cfg, base=cfg.base.with_surface(value), notes=())
    if changed == "optimizer" and isinstance(value, str) and value in OPTIMIZER_SPECS and value != cfg.entry.name:
        entry = OptimizerEntry.default(value, 0)
        x, y = default_axes(entry.spec)
        return replace(cfg, base=replace(cfg.base, optimizers=(entry,)), x_axis=x, y_axis=y, notes=())
    if changed in ("ax_key", "ay_key") and isinstance(value, str):
        nums = {p.key: p for p in numeric_params(cfg.spec)}
        if value not in nums:
            return cfg
        mine, other = (cfg.x_axis, cfg.y_axis) if changed == "ax_key" else (cfg.y_axis, cfg.x_axis)
        if value == mine.key:
            return cfg
        new = default_axis(nums[value])
        if value == other.key:  # picking the other axis's setting swaps the two
            other = mine
        x, y = (new, other) if changed == "ax_key" else (other, new)
        return replace(cfg, x_axis=x, y_axis=y, notes=())
    return cfg


def render_action(
    trigger: Any, form: Mapping[str, Any], rows: FormRows, store: Any, n_clicks: Any = None
) -> tuple[MapConfig, bool] | None:
    """The configuration to show after ``trigger`` fired, and whether to compute it at once (a lesson).

    ``form`` holds the controls' current values (the triggering one already
    new), ``store`` the state store (the configuration before the change).
    None when nothing should change.
    """
    if isinstance(trigger, Mapping):
        if trigger.get("type") != Pattern.PRESET.value or not n_clicks:
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
