"""The description of an optimizer as people and the kernels see it: its hyperparameters
(:class:`HyperParam`: default, valid range, slider range, symbol) and the optimizer itself
(:class:`OptimizerSpec`: name, family, rule in LaTeX, convention, where the rule comes from, what a compact
card shows)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any




@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: where it lives in the vector and what values it takes."""

    key: str
    slot: int
    default: float
    low: float
    high: float
    symbol: str
    description: str
    log: bool = False
    kind: str = "float"  # float | int | bool | choice
    choices: tuple[str, ...] = ()
    ui_low: float | None = None
    ui_high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def slider_range(self) -> tuple[float, float]:
        """Range a slider should offer (narrower than the valid range for open-ended values)."""
        return (self.low if self.ui_low is None else self.ui_low, self.high if self.ui_high is None else self.ui_high)

    def describe_range(self) -> str:
        if self.kind == "bool":
            return "true|false"
        if self.kind == "choice":
            return "|".join(self.choices)
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"

    def default_value(self) -> Any:
        """The default as the user sees it (bool, choice name, int or float)."""
        if self.kind == "bool":
            return bool(self.default)
        if self.kind == "choice":
            return self.choices[int(self.default)]
        if self.kind == "int":
            return int(self.default)
        return self.default

    def coerce(self, raw: Any) -> float:
        """User value → the float stored in the vector; ValueError with a one-line reason."""
        if self.kind == "bool":
            if isinstance(raw, bool):
                return 1.0 if raw else 0.0
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return 1.0
            if text in ("0", "false", "no", "off"):
                return 0.0
            raise ValueError(f"{self.key} must be true or false, got {raw!r}")
        if self.kind == "choice":
            text = str(raw).strip().lower()
            if text in self.choices:
                return float(self.choices.index(text))
            raise ValueError(f"{self.key} must be one of {', '.join(self.choices)}, got {raw!r}")
        if isinstance(raw, bool):
            raise ValueError(f"{self.key} must be a number, got {raw!r}")
        try:
            v = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.key} must be a number, got {raw!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{self.key} must be finite, got {raw!r}")
        if self.kind == "int":
            if v != int(v):
                raise ValueError(f"{self.key} must be a whole number, got {raw!r}")
        too_low = v <= self.low if self.low_open else v < self.low
        too_high = v >= self.high if self.high_open else v > self.high
        if too_low or too_high:
            raise ValueError(f"{self.key} must be in {self.describe_range()}, got {raw!r}")
        return v


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer as the UI and CLI see it."""

    name: str
    oid: int
    display_name: str
    family: str  # first-order | second-order | line-search
    params: tuple[HyperParam, ...]
    rule_latex: str
    convention: str
    state_names: tuple[tuple[str, int], ...] = ()  # (shown name, state row)
    notes: str = ""
    textbook_rule_latex: str = ""
    #: the hyperparameters a compact card (the lab's race card) shows besides the learning rate
    card_keys: tuple[str, ...] = ()
    #: whether the rule acts on each coordinate alone (SAM's ascent step uses the norm of the whole gradient)
    elementwise: bool = True
    #: where the rule and its arithmetic come from: the library and version the kernel is checked against
    #: (``"torch.optim.Adam (torch 2.13)"``), or the paper or textbook when no library has it
    source: str = ""
    #: the state row that holds the point to evaluate when it is not the plotted iterate (schedule-free's
    #: average x; the plotted iterate is y, where the gradient is taken); empty for every other rule
    averaged_state: str = ""

    def __post_init__(self) -> None:
        """Every card key names one of this optimizer's hyperparameters, once, and not the learning rate; the
        source is named; the averaged state, if any, is one of the state rows shown."""
        if not self.source.strip():
            raise ValueError(f"optimizer '{self.name}': source must name where the rule comes from")
        if self.averaged_state and self.averaged_state not in {n for n, _ in self.state_names}:
            raise ValueError(f"optimizer '{self.name}': averaged_state {self.averaged_state!r} is not a state row")
        keys = self.keys()
        for key in self.card_keys:
            if key not in keys:
                raise ValueError(f"optimizer '{self.name}': card key {key!r} is not one of its hyperparameters "
                                 f"({', '.join(keys)})")  # fmt: skip
            if key == "lr":
                raise ValueError(f"optimizer '{self.name}': the card shows the learning rate already; "
                                 "card_keys lists the others")  # fmt: skip
        if len(set(self.card_keys)) != len(self.card_keys):
            raise ValueError(f"optimizer '{self.name}': card_keys {self.card_keys} name a key twice")

    @property
    def first_order(self) -> bool:
        """Whether schedules, clipping and gradient noise apply."""
        return self.family == "first-order"

    @property
    def coordinatewise(self) -> bool:
        """Whether independent runs may be stepped as one flat vector (the lock-step sweep): a first-order
        rule acting on each coordinate alone, with scalar state common to all runs."""
        return self.first_order and self.elementwise

    def param(self, key: str) -> HyperParam:
        for p in self.params:
            if p.key == key:
                return p
        raise ValueError(f"optimizer '{self.name}' has no hyperparameter {key!r} (has: {', '.join(self.keys())})")

    def keys(self) -> list[str]:
        return [p.key for p in self.params]

    def defaults(self) -> dict[str, Any]:
        return {p.key: p.default_value() for p in self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "family": self.family,
            "rule_latex": self.rule_latex,
            "textbook_rule_latex": self.textbook_rule_latex or None,
            "convention": self.convention,
            "source": self.source,
            "averaged_state": self.averaged_state or None,
            "notes": self.notes,
            "state": [n for n, _ in self.state_names],
            "hyperparameters": [
                {
                    "key": p.key,
                    "symbol": p.symbol,
                    "default": p.default_value(),
                    "range": p.describe_range(),
                    "kind": p.kind,
                    "log": p.log,
                    "description": p.description,
                }
                for p in self.params
            ],
        }
