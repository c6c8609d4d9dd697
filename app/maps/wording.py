"""How the Sweep maps page writes numbers and names in its sentences (notices, titles, the pixel's story).

These differ on purpose from :func:`app.shell.validation.fmt`: a map's sentences always show
four significant digits (``12345.0`` reads ``1.234e+04``), and counts of runs and steps are
written with thin spaces or in millions.
"""

from __future__ import annotations

from typing import Any

from app.shell.validation import symbol_text
from optimizers.registry import HyperParam


def short_value(v: Any) -> str:
    """A setting as the page's sentences show it: bools in lower case, floats to four significant digits."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def millions(n: int) -> str:
    """A count of optimizer steps in millions (``160 M``, ``2.5 M``)."""
    return f"{n / 1e6:.0f} M" if n >= 1e7 else f"{n / 1e6:.1f} M"


def thousands(n: int) -> str:
    """A count with thin spaces between groups of three digits (``16 384``)."""
    return f"{n:,}".replace(",", "\u2009")


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def axis_title(p: HyperParam) -> str:
    """The title of an axis that varies ``p``: its symbol and its key (``η (lr)``), or just the key."""
    sym = symbol_text(p)
    return f"{sym} ({p.key})" if sym != p.key else p.key
