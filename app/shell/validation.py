"""Validation of untrusted values from the browser, a URL or a file, and the notices that report repairs.

Every page reads its controls and links through these: numbers are matched by a regular
expression before ``float`` (no nan, inf, hex or words), clamped into their range, and each repair
becomes one short sentence for the page (:class:`Notes`).  Nothing is ever evaluated.
"""

from __future__ import annotations

import math
import re
from typing import Any

from optimizers.registry import HyperParam

#: longest token (number, choice, key) read from untrusted text
MAX_TOKEN_CHARS = 64
#: notices shown at once (the rest are counted)
MAX_NOTICES = 6

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class Notes:
    """Collects what had to be repaired, as short sentences (at most MAX_NOTICES are reported)."""

    def __init__(self, first: tuple[str, ...] = ()) -> None:
        self.items: list[str] = list(first)

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)

    def result(self) -> tuple[str, ...]:
        if len(self.items) <= MAX_NOTICES:
            return tuple(self.items)
        return tuple(self.items[:MAX_NOTICES]) + (f"… and {len(self.items) - MAX_NOTICES} more",)


def shown(raw: Any, n: int = 24) -> str:
    """A bounded, quoted rendering of an untrusted value for a notice."""
    text = raw if isinstance(raw, str) else repr(raw)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return "'" + (text if len(text) <= n else text[: n - 1] + "…") + "'"


def is_finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_number(raw: Any) -> float | None:
    """A finite float from a number or a plain decimal string; None otherwise (no nan, inf, hex, words)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        v = float(raw)
        return v if math.isfinite(v) else None
    if isinstance(raw, str) and len(raw) <= MAX_TOKEN_CHARS and _NUMBER.fullmatch(raw.strip()):
        try:
            v = float(raw.strip())
        except (ValueError, OverflowError):
            return None
        return v if math.isfinite(v) else None
    return None


def clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def number_in(raw: Any, lo: float, hi: float, default: float, what: str, notes: Notes) -> float:
    v = parse_number(raw)
    if v is None:
        notes.add(f"{what}: {shown(raw)} is not a number; using {fmt(default)}")
        return default
    c = clamp(v, lo, hi)
    if c != v:
        notes.add(f"{what}: {fmt(v)} is outside [{fmt(lo)}, {fmt(hi)}]; using {fmt(c)}")
    return c


def whole_in(raw: Any, lo: int, hi: int, default: int, what: str, notes: Notes) -> int:
    v = number_in(raw, lo, hi, default, what, notes)
    return int(round(v))


def clamp_hyper(p: HyperParam, raw: Any, what: str, notes: Notes) -> Any:
    """A user value for ``p`` in its valid range (bools, choices and ints included)."""
    default = p.default_value()
    if p.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (list, tuple)):  # a checklist's value
            return len(raw) > 0
        text = str(raw).strip().lower() if isinstance(raw, (str, int, float)) else ""
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        notes.add(f"{what}: {shown(raw)} is not true or false; using {default}")
        return default
    if p.kind == "choice":
        text = raw.strip().lower() if isinstance(raw, str) and len(raw) <= MAX_TOKEN_CHARS else None
        if text in p.choices:
            return text
        notes.add(f"{what}: {shown(raw)} is not one of {', '.join(p.choices)}; using {default}")
        return default
    v = parse_number(raw)
    if v is None:
        notes.add(f"{what}: {shown(raw)} is not a number; using {fmt(default)}")
        return default
    lo, hi = p.low, p.high
    ui_lo, ui_hi = p.slider_range()
    if p.low_open and v <= lo:
        c = ui_lo if ui_lo > lo else math.nextafter(lo, hi)
    elif v < lo:
        c = lo
    elif p.high_open and v >= hi:
        c = ui_hi if ui_hi < hi else math.nextafter(hi, lo)
    elif v > hi:
        c = hi
    else:
        c = v
    if p.kind == "int":
        c = int(round(c))
        c = int(clamp(c, math.ceil(lo), math.floor(hi)))
    if c != v:
        notes.add(f"{what}: {fmt(v)} is outside {p.describe_range()}; using {fmt(c)}")
    return c


def query_number(v: float) -> str:
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return query_number(v)
    return str(v)


def fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e9 else f"{v:.4g}"
    return str(v)


#: unicode renderings of the registry's LaTeX symbols, for labels outside MathJax
SYMBOLS = {
    r"\eta": "η", r"\mu": "μ", r"\tau": "τ", r"\lambda": "λ", r"\beta_1": "β₁", r"\beta_2": "β₂",
    r"\rho": "ρ", r"\epsilon": "ε", r"\delta": "δ", r"\eta_-": "η₋", r"\eta_+": "η₊", "c_1": "c₁",
    "c_2": "c₂", r"\psi": "ψ", "m": "m", r"\beta": "β", r"\alpha": "α", r"\gamma": "γ",
}  # fmt: skip


def _symbol_text(p: HyperParam) -> str:
    return SYMBOLS.get(p.symbol, p.key) if p.symbol else p.key


def symbol_text(p: HyperParam) -> str:
    """A short unicode label for ``p`` (η, β₁, …), or its key when it has no symbol."""
    return _symbol_text(p)
