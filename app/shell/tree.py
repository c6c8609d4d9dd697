"""Helpers for Dash layout trees: the DOM id of a component id, and filling values into a built tree."""

from __future__ import annotations

import json
from typing import Any

from dash.development.base_component import Component


def dom_id(component_id: Any) -> str:
    """The DOM id Dash gives a (pattern-matching) component id: sorted, compact JSON."""
    if isinstance(component_id, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(component_id[k])}" for k in sorted(component_id)) + "}"
    return str(component_id)


def fill(root: Any, values: dict[tuple[Any, str], Any]) -> Any:
    """Set ``values[(component id, property)]`` on the components of a layout tree; returns ``root``."""
    by_id: dict[str, list[tuple[str, Any]]] = {}
    for (cid, prop), value in values.items():
        by_id.setdefault(str(cid), []).append((prop, value))
    _fill(root, by_id)
    return root


def _fill(node: Any, by_id: dict[str, list[tuple[str, Any]]]) -> None:
    if isinstance(node, (list, tuple)):
        for child in node:
            _fill(child, by_id)
        return
    if not isinstance(node, Component):
        return
    cid = getattr(node, "id", None)
    if isinstance(cid, str) and cid in by_id:
        for prop, value in by_id[cid]:
            setattr(node, prop, value)
    _fill(getattr(node, "children", None), by_id)
