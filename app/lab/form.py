"""The form's values as the callbacks receive them, unpacked into typed values and read like a link.

Every callback that needs the form takes it as one named group, ``form=form_deps(Input)`` (or
``State``): a dict of the plain fields' values and, for the optimizer cards, the ALL-pattern
lists of values and of ids.  :func:`read_form` pairs the card lists by card index (never by
position: Dash sends each list in its own order) into :class:`FormValues`; ``FormValues.raw()``
is what :func:`app.lab.state.sanitize` reads, exactly as it reads a link's query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dash import html

from app.lab.checks import check_run, model_summary, source_shape
from app.lab.ids import OPT_LR, OPT_NAME, OPT_P1, OPT_P2, Ids, every_card
from app.lab.state import sanitize, share_href
from optimizers.registry import BY_NAME as OPTIMIZERS

#: the plain fields a race reads (their ``value``), by the names ``sanitize`` knows them under
FIELDS = {"data": Ids.DATA, "samples": Ids.SAMPLES, "hidden": Ids.HIDDEN, "act": Ids.ACT, "out": Ids.OUT,
          "loss": Ids.LOSS, "init": Ids.INIT, "arch": Ids.ARCH, "skip": Ids.SKIP, "noise": Ids.NOISE, "level": Ids.LEVEL,
          "epochs": Ids.EPOCHS, "batch": Ids.BATCH, "seed": Ids.SEED, "limit": Ids.LIMIT}  # fmt: skip
#: the card fields, each sent as two lists: the values and the ids (their card indices)
CARD_FIELDS = {"opt_names": ("opt_ids", OPT_NAME), "opt_lr": ("opt_lr_ids", OPT_LR),
               "opt_p1": ("opt_p1_ids", OPT_P1), "opt_p2": ("opt_p2_ids", OPT_P2)}  # fmt: skip
#: the plain fields passed on to ``sanitize`` as they are (arch and level are read apart)
_PASSED = ("data", "samples", "hidden", "act", "out", "loss", "init", "skip", "noise", "epochs", "batch", "seed",
           "limit")  # fmt: skip


def form_deps(kind: type) -> dict[str, Any]:
    """The form as a named group of ``kind`` (Input or State) dependencies, for a callback's ``inputs``/``state``."""
    deps: dict[str, Any] = {name: kind(cid, "value") for name, cid in FIELDS.items()}
    for values, (ids, card_type) in CARD_FIELDS.items():
        deps[values] = kind(every_card(card_type), "value")
        deps[ids] = kind(every_card(card_type), "id")
    return deps


@dataclass(frozen=True)
class CardValues:
    """One optimizer card as the page sent it: its index, optimizer, learning rate and key fields (untrusted)."""

    index: int
    name: str | None
    lr: Any
    keys: tuple[Any, Any]

    def row(self) -> dict[str, Any]:
        """The card as a raw optimizer entry: name, lr and the optimizer's ``card_keys`` (registry order)."""
        row: dict[str, Any] = {"name": self.name, "lr": self.lr}
        card_keys = OPTIMIZERS[self.name].card_keys if self.name in OPTIMIZERS else ()
        for key, value in zip(card_keys, self.keys):
            row[key] = value
        return row


@dataclass(frozen=True)
class FormValues:
    """The whole form: the plain fields' raw values and the cards in page order."""

    fields: Mapping[str, Any]
    cards: tuple[CardValues, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [card.row() for card in self.cards]

    def card_indices(self) -> list[int]:
        """The cards' indices (the ``index`` of their pattern ids) in page order."""
        return [card.index for card in self.cards]

    def raw(self) -> dict[str, Any]:
        """The form in the shape ``sanitize`` reads (as a link's query would give it)."""
        arch = self.fields.get("arch") if isinstance(self.fields.get("arch"), list) else []
        raw = {k: self.fields.get(k) for k in _PASSED}
        raw["bn"] = "bn" in arch
        if raw.get("noise") not in (None, "none"):
            raw["level"] = self.fields.get("level")
        raw["opt"] = self.rows()
        return raw


def _by_index(values: Any, ids: Any) -> dict[int, Any]:
    if not isinstance(values, list) or not isinstance(ids, list) or len(values) != len(ids):
        return {}
    return {i["index"]: v for v, i in zip(values, ids)
            if isinstance(i, Mapping) and isinstance(i.get("index"), int)}  # fmt: skip


def read_form(form: Mapping[str, Any]) -> FormValues:
    """The callback's ``form`` group (see :func:`form_deps`) as :class:`FormValues`; never raises."""
    form = form if isinstance(form, Mapping) else {}
    names = _by_index(form.get("opt_names"), form.get("opt_ids"))
    lrs = _by_index(form.get("opt_lr"), form.get("opt_lr_ids"))
    first = _by_index(form.get("opt_p1"), form.get("opt_p1_ids"))
    second = _by_index(form.get("opt_p2"), form.get("opt_p2_ids"))
    cards = tuple(
        CardValues(index, name if isinstance(name, str) else None,  # a hostile page may send anything
                   lrs.get(index), (first.get(index), second.get(index)))
        for index, name in names.items()
    )  # fmt: skip
    return FormValues({name: form.get(name) for name in FIELDS}, cards)


def form_check(values: FormValues, upload: Any) -> dict[str, Any]:
    """What the form says while it is edited: the model's summary, what stops a race, the link to these settings."""
    s, notes = sanitize(values.raw())
    n_features, _ = source_shape(s, upload)
    summary, _ = model_summary(s, n_features)
    problems = [*notes, *check_run(s, upload)]
    issues = [html.Strong("Before starting:"), html.Ul([html.Li(p) for p in problems])] if problems else []
    return {"summary": summary, "issues": issues, "share": share_href(s)}
