"""The Explorer's controls as its callbacks receive them: named groups in, typed values out.

Dash calls the callbacks with one keyword argument per group of their
``inputs``/``state`` dicts (Dash's flexible callback signatures); a group of
several properties arrives as a dict, a pattern-matching (``ALL``) property as
a list.  The builders here (``*_from``) turn those loose values into frozen
dataclasses, whatever shape the browser sent:

* :class:`Form`: the plain controls, one component each (:data:`FORM` names them);
* :class:`Numbers`: every numeric parameter's exact number and its slider;
* :class:`Cards`: the optimizer cards (name and colour of each, and their flags);
* :class:`Shown`: what the page shows now (the configuration store, the map's meta, …).

:func:`config_from_controls` assembles them into a configuration.  Every
function is pure, so the tests call them with plain values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.explorer.config import ExplorerConfig
from app.explorer.ids import Group, Ids, Kind
from app.explorer.sanitize import sanitize
from app.shell.validation import is_finite_number
from surfaces.catalog import BY_NAME as SURFACE_SPECS

#: the plain controls: Form field → component (its "value" is read)
FORM: dict[str, Ids] = {
    "surface": Ids.SURFACE, "formula": Ids.FORMULA,
    "xmin": Ids.XMIN, "xmax": Ids.XMAX, "ymin": Ids.YMIN, "ymax": Ids.YMAX,
    "start_x": Ids.START_X, "start_y": Ids.START_Y, "steps": Ids.STEPS,
    "schedule": Ids.SCHEDULE, "clip": Ids.CLIP, "clip_value": Ids.CLIP_VALUE, "noise": Ids.NOISE, "seed": Ids.SEED,
    "batch": Ids.BATCH, "view": Ids.VIEW, "basins": Ids.BASINS, "arrows": Ids.ARROWS,
}  # fmt: skip

#: a (type, group, slot, key) of a numeric control that fired
Fired = tuple[str, Any, Any, Any]


@dataclass(frozen=True)
class Form:
    """The plain controls' values, as shown (untrusted)."""

    surface: Any = None
    formula: Any = None
    xmin: Any = None
    xmax: Any = None
    ymin: Any = None
    ymax: Any = None
    start_x: Any = None
    start_y: Any = None
    steps: Any = None
    schedule: Any = None
    clip: Any = None
    clip_value: Any = None
    noise: Any = None
    seed: Any = None
    batch: Any = None
    view: Any = None
    basins: Any = None  # the checklist's value: ["on"] or []
    arrows: Any = None


@dataclass(frozen=True)
class Numbers:
    """Every numeric parameter: exact numbers and sliders, each list aligned with its ids.

    ``slider_limits`` holds (min, max, step) of each slider."""

    values: tuple[Any, ...] = ()
    ids: tuple[Any, ...] = ()
    slider_values: tuple[Any, ...] = ()
    slider_ids: tuple[Any, ...] = ()
    slider_limits: tuple[tuple[Any, Any, Any], ...] = ()


@dataclass(frozen=True)
class Cards:
    """The optimizer cards: each card's ``{"name", "color"}`` (in card order), and every flag's value and id."""

    metas: tuple[Any, ...] = ()
    flags: tuple[Any, ...] = ()
    flag_ids: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Shown:
    """What the page shows now; each callback's ``shown`` group fills the fields it reads."""

    store: Any = None  # the configuration store: {"cfg", "query"}
    booted: Any = None
    notice_hidden: Any = None
    map_meta: Any = None
    formula_error: Any = None

    @property
    def query(self) -> Any:
        """The query of the configuration the page shows (None if the store holds none)."""
        return self.store.get("query") if isinstance(self.store, dict) else None

    @property
    def key(self) -> Any:
        """What identifies the race the page shows (its query, plus the points' fingerprint when the link lacks them)."""
        return self.store.get("key", self.query) if isinstance(self.store, dict) else None


def _listed(value: Any) -> tuple[Any, ...]:
    """An ALL-pattern property's values (a list; anything else counts as no components)."""
    return tuple(value) if isinstance(value, (list, tuple)) else ()


def _group(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def form_from(group: Any) -> Form:
    """The ``form`` group (keys of :data:`FORM`) as a :class:`Form`; missing keys are None."""
    group = _group(group)
    return Form(**{name: group.get(name) for name in FORM})


def numbers_from(numbers: Any, sliders: Any) -> Numbers:
    """The ``numbers`` group (``values``, ``ids``) and the ``sliders`` group (``values``, ``ids``,
    ``min``, ``max``, ``step``) as :class:`Numbers`."""
    numbers, sliders = _group(numbers), _group(sliders)
    limits = zip(_listed(sliders.get("min")), _listed(sliders.get("max")), _listed(sliders.get("step")), strict=False)
    return Numbers(
        values=_listed(numbers.get("values")),
        ids=_listed(numbers.get("ids")),
        slider_values=_listed(sliders.get("values")),
        slider_ids=_listed(sliders.get("ids")),
        slider_limits=tuple(limits),
    )


def cards_from(group: Any) -> Cards:
    """The ``cards`` group (``metas``, ``flags``, ``flag_ids``) as :class:`Cards`."""
    group = _group(group)
    return Cards(_listed(group.get("metas")), _listed(group.get("flags")), _listed(group.get("flag_ids")))


def shown_from(group: Any) -> Shown:
    """The ``shown`` group as :class:`Shown` (fields it does not have are None)."""
    group = _group(group)
    return Shown(**{name: group.get(name) for name in Shown.__dataclass_fields__})


# --------------------------------------------------------------------------- numeric parameters


def slider_value(s: float, scale: str) -> float:
    """The number a slider position stands for (rounded like the browser's display)."""
    if scale == "log":
        return float(f"{10.0 ** s:.3g}")
    if scale == "int":
        return float(round(s))
    return float(f"{s:.6g}")


def _param_key(cid: Any) -> tuple[Any, Any, Any] | None:
    """(group, slot, key) of a parameter's component id, or None for an id that is not one (the browser's ids
    are untrusted: a part that is not a string, a number or missing cannot name a parameter)."""
    if not isinstance(cid, dict):
        return None
    key = cid.get("group"), cid.get("slot"), cid.get("key")
    if not all(part is None or isinstance(part, (str, int, float)) for part in key):
        return None
    return key


def _agrees(num: Any, s: float, smin: float, smax: float, step: float, scale: str) -> bool:
    """Whether the exact number and the slider show the same setting (within half a slider step)."""
    if not isinstance(num, (int, float)) or isinstance(num, bool) or not math.isfinite(num):
        return False
    if scale == "log":
        if num <= 0:
            return s <= smin + step / 2
        pos = math.log10(num)
    else:
        pos = float(num)
    pos = min(max(pos, smin), smax)
    return abs(pos - s) <= step / 2 + 1e-9


def resolve_numbers(numbers: Numbers, fired: set[Fired] | frozenset[Fired] = frozenset()) -> list[Any]:
    """The value of every numeric parameter, aligned with ``numbers.ids``.

    Each parameter has a slider and an exact number input, kept in step in the
    browser (typing a number moves the slider).  Only the sliders trigger the
    computation, so a slider move is computed at once, without waiting for the
    number to follow: when the slider has just moved and the number does not (yet)
    agree with it, the slider wins; otherwise the exact number does.
    ``fired`` holds (type, group, slot, key) of what fired.
    """
    by_key = {}
    for value, cid, lim in zip(numbers.slider_values, numbers.slider_ids, numbers.slider_limits, strict=False):
        k = _param_key(cid)
        if k is not None:
            by_key[k] = (value, cid.get("scale"), lim)
    out = []
    for num, cid in zip(numbers.values, numbers.ids, strict=False):
        k = _param_key(cid)
        hit = by_key.get(k) if k is not None else None
        if hit is None or ("num",) + k in fired or ("slider",) + k not in fired:  # type: ignore[operator]
            out.append(num)
            continue
        s, scale, (smin, smax, step) = hit
        ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (s, smin, smax, step))
        if not ok or _agrees(num, s, smin, smax, step, scale):
            out.append(num)
        else:
            out.append(slider_value(s, scale))
    return out


def triggered_params(prop_ids: Any) -> set[Fired]:
    """(type, group, slot, key) of every numeric control among Dash's triggered prop ids."""
    out = set()
    for pid in prop_ids or ():
        text = pid.rsplit(".", 1)[0] if isinstance(pid, str) else ""
        if not text.startswith("{"):
            continue
        try:
            cid = json.loads(text)
        except ValueError:
            continue
        if isinstance(cid, dict) and cid.get("type") in (Kind.NUM.value, Kind.SLIDER.value):
            out.add((cid["type"], cid.get("group"), cid.get("slot"), cid.get("key")))
    return out


def committed_slider(commit: Any, prop_ids: Any) -> set[Fired]:
    """(type, group, slot, key) of the slider the page committed, when the commit triggered this call."""
    if not any(isinstance(p, str) and p.startswith(Ids.SLIDER_COMMIT.value + ".") for p in prop_ids or ()):
        return set()
    cid = commit.get("id") if isinstance(commit, dict) else None
    if not isinstance(cid, dict) or cid.get("type") != Kind.SLIDER.value:
        return set()
    group, slot, key = cid.get("group"), cid.get("slot"), cid.get("key")
    if not (isinstance(group, str) and isinstance(slot, int) and isinstance(key, str)):
        return set()
    return {(Kind.SLIDER.value, group, slot, key)}


# --------------------------------------------------------------------------- the configuration


def _optimizers(values: list[Any], numbers: Numbers, cards: Cards) -> list[dict[str, Any]]:
    """The raw optimizer list: each card's name and colour with its hyperparameters (by card position)."""
    by_slot: dict[int, dict[str, Any]] = {}
    for value, cid in zip(values, numbers.ids, strict=False):
        if isinstance(cid, dict) and cid.get("group") == Group.HYPER and isinstance(cid.get("slot"), int):
            by_slot.setdefault(cid["slot"], {})[cid.get("key")] = value
    for value, cid in zip(cards.flags, cards.flag_ids, strict=False):
        if isinstance(cid, dict) and isinstance(cid.get("slot"), int):
            by_slot.setdefault(cid["slot"], {})[cid.get("key")] = value
    optimizers = []
    for slot, meta in enumerate(cards.metas):
        if not isinstance(meta, dict):
            continue
        hyper = {k: v for k, v in by_slot.get(slot, {}).items() if v is not None}
        optimizers.append({"name": meta.get("name"), "color": meta.get("color"), "values": hyper})
    return optimizers


def _params(values: list[Any], numbers: Numbers, group: Group) -> dict[str, Any]:
    """The surface's or the schedule's parameters that have a value."""
    out = {}
    for value, cid in zip(values, numbers.ids, strict=False):
        if isinstance(cid, dict) and cid.get("group") == group:
            out[cid.get("key")] = value
    return {k: v for k, v in out.items() if v is not None}


def _whole(surface: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Whole-number surface parameters rounded: their log slider stands for 3-digit values (10^1.81 = 64.6),
    which the controls mean as the nearest whole number (a link's non-whole value is still noted)."""
    spec = SURFACE_SPECS.get(surface) if isinstance(surface, str) else None
    if spec is None:
        return params
    ints = {p.name for p in spec.params if p.integer}
    return {k: float(round(v)) if k in ints and is_finite_number(v) else v for k, v in params.items()}


def config_from_controls(
    form: Form, numbers: Numbers, cards: Cards, fired: set[Fired] | frozenset[Fired] = frozenset(), points: Any = None
) -> ExplorerConfig:
    """Assemble the controls' values into a raw mapping and sanitize it (``fired``: see :func:`resolve_numbers`).

    ``points`` is the points store (``{"points", "key"}``, untrusted): its points are used while
    ``key`` names the data set the controls draw (:meth:`ExplorerConfig.data_key`), so changing the
    surface or a parameter that draws the points discards an edit."""
    values = resolve_numbers(numbers, fired)
    raw: dict[str, Any] = {
        "surface": form.surface,
        "surface_params": _whole(form.surface, _params(values, numbers, Group.SURFACE)),
        "formula": form.formula if form.formula is not None else "",
        "box": [form.xmin, form.xmax, form.ymin, form.ymax],
        "start": [form.start_x, form.start_y],
        "steps": form.steps,
        "optimizers": _optimizers(values, numbers, cards),
        "schedule": form.schedule,
        "schedule_params": _params(values, numbers, Group.SCHEDULE),
        "clip": form.clip,
        "clip_value": form.clip_value,
        "noise": form.noise if form.noise is not None else 0.0,
        "seed": form.seed if form.seed is not None else 0,
        "batch_size": form.batch if form.batch is not None else 0,
        "view": form.view,
        "basins": isinstance(form.basins, list) and "on" in form.basins,
        "arrows": form.arrows,
    }
    for key in ("steps", "clip_value"):
        if raw[key] is None:
            del raw[key]
    for key in ("box", "start"):
        if any(v is None for v in raw[key]):
            del raw[key]
    cfg = sanitize(raw)
    edit = points if isinstance(points, Mapping) else {}
    if cfg.is_data and edit.get("points") is not None and edit.get("key") == cfg.data_key():
        return sanitize({**raw, "points": edit["points"]})
    return cfg
