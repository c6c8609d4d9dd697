"""The optimizer cards of the race: one card per contestant, in the race's colour order.

A card shows an optimizer (any of the registry's), its learning rate and the hyperparameters the
registry lists as its ``card_keys`` (:class:`optimizers.registry.OptimizerSpec`).  Cards are
rebuilt from raw rows (``{"name": …, "lr": …, key: …}``) when one is added or removed, and a
card's fields are rebuilt when its optimizer changes; both decisions are plain functions here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from app.lab import figures as lab_figures
from app.lab.form import FormValues
from app.lab.ids import OPT_FOR, OPT_KEY_FIELDS, OPT_LR, OPT_NAME, OPT_PARAMS, OPT_REMOVE, Ids, card_id
from app.lab.limits import MAX_OPTIMIZERS
from app.lab.state import LabSettings
from app.shell.tree import dom_id
from app.shell.validation import shown, symbol_text
from optimizers.registry import BY_NAME as OPTIMIZERS
from optimizers.registry import SPECS as OPTIMIZER_SPECS
from optimizers.registry import HyperParam, get_spec

#: the optimizer a card shows when the page sent a name the registry does not know (only a hostile
#: page does: the dropdown offers registered optimizers only); the card says so
STAND_IN = "adam"


def _param_field(kind: str, index: int, p: HyperParam | None, value: Any) -> html.Div:
    cid = card_id(kind, index)
    if p is None:
        return html.Div(
            dcc.Input(id=cid, type="number", value=None, className="lab-num", disabled=True),
            className="lab-param", hidden=True,
        )
    integer = p.kind == "int"
    lo, hi = p.slider_range()
    return html.Div(
        className="lab-param",
        title=f"{p.description} (valid {p.describe_range()})",
        children=[
            html.Label([html.Span(symbol_text(p), className="lab-sym"), html.Span(p.key, className="lab-key")]
                       if symbol_text(p) != p.key else [html.Span(p.key.replace("_", " "), className="lab-key-only")],
                       htmlFor=dom_id(cid)),
            dcc.Input(id=cid, type="number", value=value, min=p.low if not p.low_open else None,
                      max=p.high if not p.high_open else None, step=1 if integer else "any", debounce=True,
                      className="lab-num", placeholder=f"{lo:g}–{hi:g}"),
        ],
    )  # fmt: skip


def opt_params(index: int, name: str, values: Mapping[str, Any] | None = None) -> list[Any]:
    """The learning rate and key hyperparameter fields of one card (defaults where ``values`` lacks them)."""
    spec = get_spec(name)
    values = dict(values or {})
    lr = spec.param("lr")
    fields = [_param_field(OPT_LR, index, lr, values.get("lr", lr.default_value()))]
    for position, kind in enumerate(OPT_KEY_FIELDS):
        if position < len(spec.card_keys):
            p = spec.param(spec.card_keys[position])
            fields.append(_param_field(kind, index, p, values.get(p.key, p.default_value())))
        else:
            fields.append(_param_field(kind, index, None, None))
    return fields


def opt_card(index: int, row: Mapping[str, Any], total: int) -> html.Div:
    raw_name = row.get("name")
    known = isinstance(raw_name, str) and raw_name in OPTIMIZERS
    name = raw_name if known else STAND_IN
    spec = get_spec(name)
    stand_in = [] if known else [
        html.P(f"{shown(raw_name)} is not an optimizer; {spec.display_name} stands in.", className="lab-hint",
               role="status"),
    ]  # fmt: skip
    return html.Div(
        className="lab-opt",
        style={"--card-color": lab_figures.color(index)},
        children=[
            html.Div(className="lab-opt-head", children=[
                html.Span(className="lab-swatch", title=f"colour of optimizer {index + 1}"),
                dcc.Dropdown(id=card_id(OPT_NAME, index),
                             options=[{"label": s.display_name, "value": s.name} for s in OPTIMIZER_SPECS],
                             value=name, clearable=False, searchable=False, className="lab-opt-select"),
                html.Button("×", id=card_id(OPT_REMOVE, index), className="lab-icon-btn",
                            disabled=total <= 1, title="Remove this optimizer",
                            **{"aria-label": f"Remove optimizer {index + 1} ({spec.display_name})"}),
            ]),
            html.Div(opt_params(index, name, row if known else {}), id=card_id(OPT_PARAMS, index),
                     className="lab-opt-params"),
            dcc.Store(id=card_id(OPT_FOR, index), data=name),
            *stand_in,
        ],
    )  # fmt: skip


def opt_cards(rows: Sequence[Mapping[str, Any]]) -> list[html.Div]:
    return [opt_card(i, r, len(rows)) for i, r in enumerate(rows)]


def rows_of(s: LabSettings) -> list[dict[str, Any]]:
    """The cards of a validated race, as raw rows."""
    return [{"name": o.name, **dict(o.values)} for o in s.opts]


def edit_rows(rows: list[dict[str, Any]], action: str, position: int | None = None) -> list[dict[str, Any]]:
    """Add a card (a copy of the last, so copies with other settings are one click away), or remove the card at
    ``position`` (its place in the page's order, not its index); the last card is never removed."""
    rows = [dict(r) for r in rows]
    if action == "add" and len(rows) < MAX_OPTIMIZERS:
        rows.append(dict(rows[-1]) if rows else {"name": STAND_IN, "lr": 0.003})
    elif action == "remove" and position is not None and len(rows) > 1 and 0 <= position < len(rows):
        del rows[position]
    return rows


def rows_after_click(trigger: Any, clicked: bool, add_clicks: Any, values: FormValues) -> list[dict[str, Any]] | None:
    """The cards after "+ Add optimizer" or a card's ×; None when nothing was clicked (a button just created).

    ``trigger`` is the id that fired and ``clicked`` whether any fired button has clicks.
    """
    if trigger == Ids.OPT_ADD and add_clicks:
        return edit_rows(values.rows(), "add")
    if isinstance(trigger, Mapping) and trigger.get("type") == OPT_REMOVE and clicked:
        order = values.card_indices()
        if trigger.get("index") not in order:
            return None
        return edit_rows(values.rows(), "remove", order.index(trigger.get("index")))
    return None


def fields_for(name: Any, built_for: Any, trigger: Any) -> tuple[list[Any], str] | None:
    """A card's fields after its optimizer changed to ``name`` (and the name they are built for); None to keep them."""
    if not isinstance(name, str) or name == built_for or name not in OPTIMIZERS:
        return None
    index = trigger.get("index") if isinstance(trigger, Mapping) else 0
    if isinstance(index, bool) or not isinstance(index, int):
        return None
    return opt_params(index, name), name
