"""The Explorer's link: a readable query string for a configuration, and back.

:func:`to_query` and :func:`from_query` map an
:class:`~app.explorer.config.ExplorerConfig` to a query string and back::

    ?surface=quadratic&s.kappa=50&start=-9,4&steps=300&opt=sgd,lr=0.9&opt=momentum,lr=0.3,momentum=0.8

Only what differs from the defaults travels.  A query is untrusted: it is read
into the loose shape :func:`~app.explorer.sanitize.sanitize` repairs, so a link
that cannot be used in full still opens, with a notice of what was replaced.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote

from surfaces.catalog import BY_NAME as SURFACE_SPECS

from app.explorer.config import DEFAULT, FORMULA, MAX_QUERY_CHARS, MAX_QUERY_FIELDS, ExplorerConfig
from app.explorer.points import decode, digest, encode, in_link
from app.explorer.sanitize import sanitize
from app.shell.theme import QUERY_KEY as THEME_KEY
from app.shell.validation import MAX_NOTICES, MAX_TOKEN_CHARS, Notes, parse_number, query_number, query_value, shown

#: query keys → config fields (modifiers and view)
_SIMPLE = {"steps": "steps", "noise": "noise", "seed": "seed", "clip": "clip", "clipv": "clip_value",
           "sched": "schedule", "view": "view", "basins": "basins", "arrows": "arrows",
           "batch": "batch_size"}  # fmt: skip


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
    if cfg.batch_size:
        pairs.append(("batch", str(cfg.batch_size)))
    if cfg.points is not None and in_link(cfg.points):
        pairs.append(("pts", encode(cfg.points)))
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
    if cfg.basins:
        pairs.append(("basins", "1"))
    first = cfg.optimizers[0].color if cfg.optimizers else -1
    if cfg.arrows != first:
        pairs.append(("arrows", str(cfg.arrows)))
    return "?" + "&".join(f"{k}={quote(v, safe=',=.-_')}" for k, v in pairs)


def state_key(cfg: ExplorerConfig) -> str:
    """What identifies the race of ``cfg``: its link, and the points' fingerprint when the link cannot carry them."""
    query = to_query(cfg)
    if cfg.points is not None and not in_link(cfg.points):
        query += "&pts#" + digest(cfg.points)
    return query


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
        elif key == "pts":
            raw["points"] = decode(value)
            if raw["points"] is None:
                notes.add("the link's points could not be read; using the generated points")
        elif key.startswith("sch."):
            schedule_params[key[4:]] = value
        elif key in _SIMPLE:
            raw[_SIMPLE[key]] = value
        elif key == THEME_KEY:
            continue  # the page's theme: read by the browser (assets/theme.js), not part of the view
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

