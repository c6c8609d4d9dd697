"""What the Explorer's buttons and pickers do to the configuration, and what the page already shows.

:func:`apply_action` is the configuration after a structural action (a lesson,
add, remove, copy, another surface or schedule, the address bar); the controls
are then rendered from it.  :func:`tex_for` gives the MathJax the served page
left out.  All plain functions of plain values: the browser's store is
untrusted, so it is sanitized again (:func:`config_from_store`).

A new lesson preset goes into :data:`app.explorer.presets.PRESETS` (its button
and its action follow from there).
"""

from __future__ import annotations

from typing import Any

from dash import no_update

from app.explorer.config import FORMULA, MAX_OPTIMIZERS, ExplorerConfig
from app.explorer.ids import Ids, Kind
from app.explorer.presets import get_preset
from app.explorer.query import from_query
from app.explorer.sanitize import sanitize


def config_from_store(data: Any) -> ExplorerConfig | None:
    """The configuration kept in the browser's store (untrusted: sanitized again)."""
    if not isinstance(data, dict) or not isinstance(data.get("cfg"), dict):
        return None
    return sanitize(data["cfg"])


def apply_action(trigger: Any, value: Any, search: str | None, store: Any, add_choice: Any) -> ExplorerConfig | None:
    """The configuration after a structural action; None when nothing should change.

    ``trigger`` is the id that fired (None on the first call), ``value`` its new
    property value (n_clicks for buttons, the value for dropdowns).
    """
    current = config_from_store(store)
    if trigger is None or trigger == Ids.URL:
        return from_query(search)
    base = current or from_query(search)
    if isinstance(trigger, dict):
        return _card_or_lesson(trigger, value, base)
    if trigger == Ids.ADD:
        if not value or not isinstance(add_choice, str):
            return None
        return base.with_optimizer(add_choice) if len(base.optimizers) < MAX_OPTIMIZERS else None
    if trigger == Ids.SURFACE:
        if value == base.surface or not isinstance(value, str):
            return None
        return base.with_surface(value) if _known_surface(value) else None
    if trigger == Ids.SCHEDULE:
        if value == base.schedule or not isinstance(value, str):
            return None
        return sanitize({"schedule": value, "schedule_params": {}}, base=base)
    return None


def _card_or_lesson(trigger: dict[str, Any], clicks: Any, base: ExplorerConfig) -> ExplorerConfig | None:
    """A lesson button, or a card's remove or copy button (``trigger``: its pattern id)."""
    kind = trigger.get("type")
    if not clicks:  # a button that has not been clicked (it was just created)
        return None
    if kind == Kind.PRESET:
        preset = get_preset(trigger.get("name"))
        return preset.config if preset else None
    slot = trigger.get("slot")
    if not isinstance(slot, int):
        return None
    if kind == Kind.REMOVE:
        return base.without(slot)
    if kind == Kind.DUPLICATE:
        return base.duplicated(slot)
    return None


def page_shows(cfg: ExplorerConfig, store: Any, notice_hidden: Any) -> bool:
    """Whether the server-rendered page already shows ``cfg`` (and its notice, if it has one)."""
    return cfg == config_from_store(store) and (not cfg.notes or notice_hidden is False)


def tex_for(metas: Any, rules: Any, surface_tex: Any, store: Any) -> dict[str, Any]:
    """``rules`` for the cards (by their optimizer names) and the ``surface_tex`` formula, where still missing."""
    from app.explorer.compute import build_surface
    from app.explorer.controls import rule_tex
    from app.explorer.views import surface_tex as tex
    from optimizers.registry import BY_NAME

    names = [m.get("name") if isinstance(m, dict) else None for m in metas or []]
    new_rules = [rule_tex(n) if n in BY_NAME and not r else no_update for n, r in zip(names, rules or [], strict=False)]
    formula = no_update
    cfg = config_from_store(store)
    if not surface_tex and cfg is not None:
        try:
            formula = tex(build_surface(cfg).latex)
        except ValueError:
            formula = no_update
    return {"rules": new_rules, "surface_tex": formula}


def _known_surface(name: str) -> bool:
    from surfaces.catalog import BY_NAME

    return name == FORMULA or name in BY_NAME
