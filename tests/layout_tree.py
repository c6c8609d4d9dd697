"""Walking Dash layout trees in tests: every component, a component by id, the text of a tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dash.development.base_component import Component


def walk(node: Any) -> Iterator[Component]:
    """Every component of a layout tree, parents before their children."""
    if isinstance(node, (list, tuple)):
        for n in node:
            yield from walk(n)
    elif isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))


def find_all(node: Any, pred: Callable[[Component], bool]) -> list[Component]:
    return [c for c in walk(node) if pred(c)]


def find(node: Any, cid: Any) -> Component | None:
    """The component with id ``cid`` in a layout tree (None if absent)."""
    return next((c for c in walk(node) if getattr(c, "id", None) == cid), None)


def texts(node: Any) -> str:
    """All the text in a component tree."""
    if isinstance(node, (list, tuple)):
        return " ".join(texts(n) for n in node)
    if isinstance(node, Component):
        return texts(getattr(node, "children", None))
    return "" if node is None else str(node)
