"""The surface's formula typeset in exported figures, by MathJax (3, its TeX-to-SVG component).

``make`` installs MathJax with the other web packages (``web/package.json``, pinned in
``web/package-lock.json``).  When its script is there, the export browser loads it
(:mod:`app.export.browser`), and an export can carry the formula as a subtitle under the
surface's name (:func:`with_formula_title`): plotly typesets a text that is wholly wrapped
in ``$...$``, and MathJax's SVG output is paths, so a PNG, SVG or PDF shows the formula as
the page does.  The standalone HTML carries the same script inline (:func:`inline_script`).

Without the script (no npm) exports keep their plain-text title: :func:`available` is
False, and nothing here asks for MathJax.  The TeX is the surface's own ``latex`` (the
catalog's, or the one a parsed formula's tree prints), never user text as typed.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: MathJax's combined TeX input + SVG output component, as npm installs it
SCRIPT = ROOT / "web" / "node_modules" / "mathjax" / "es5" / "tex-svg.js"
SUBTITLE_SIZE = 17
MIN_SUBTITLE_SIZE = 10
WIDTH_MARGIN = 1.1  # what the width estimate is multiplied by before it is compared with the room
#: the least top margin (CSS px) of a figure with the title and the typeset formula under it
TOP_WITH_FORMULA = 76
TITLE_PAD = 10  # CSS px above the title
TITLE_LINE = 24  # CSS px of the title's line and the gap under it
TITLE_LEFT = 10  # CSS px from the picture's left edge to the title
TICK_CLEARANCE = 12  # CSS px between the formula and the map's top (its highest tick label reaches above)


def script_path() -> Path | None:
    """The MathJax script exports load, or None when it is not installed."""
    return SCRIPT if SCRIPT.is_file() else None


def available() -> bool:
    """Whether exported figures can typeset formulas."""
    return script_path() is not None


def wanted(choice: bool | None) -> bool:
    """Whether an export shows the formula: unless asked not to (``False``), whenever MathJax is there.

    Without MathJax the answer is False even when asked for (``True``): plotly would print the
    ``$...$`` source instead of the formula, so the title stays plain text."""
    return choice is not False and available()


def formula_tex(latex: str | None) -> str | None:
    """The subtitle plotly typesets, ``$f(x, y) = …$``; None for no formula or one with a ``$``
    (it would end the math early)."""
    if not latex or not latex.strip() or "$" in latex:
        return None
    return f"$f(x, y) = {latex.strip()}$"


_SPACING = re.compile(r"\\(left|right|big|Big|bigg|Bigg|[tdc]?frac|sqrt|,|;|:|!| |quad|qquad|mathrm|text|operatorname)"
                      r"(?![a-zA-Z])")
_WORD = re.compile(r"\\(sin|cos|tan|log|exp|ln|cosh|sinh|tanh|min|max)(?![a-zA-Z])")
_COMMAND = re.compile(r"\\[a-zA-Z]+|\\.")
_STACKED = re.compile(r"\\(begin|binom|substack|atop|over)(?![a-zA-Z])")
_ENVIRONMENT = re.compile(r"\\begin\{(\w+)\}(.*?)\\end\{\1\}", re.DOTALL)
_FRACTION = re.compile(r"\\([dc]?frac|sum|prod|int)(?![a-zA-Z])")


def formula_extent(tex: str, size: float) -> tuple[float, float]:
    """A generous estimate of the (width, height) in CSS px MathJax gives ``tex`` at font ``size``.

    Width: ~0.5 em a visible character (a command such as ``\\alpha`` is one, ``\\cos`` three;
    braces, scripts' carets and spacing commands none; a matrix its widest row) and ~0.45 em more
    around each binary operator.  Height: one line with scripts, more for fractions and sums,
    twice that for matrices and other stacked rows.
    """
    body = tex.strip("$")
    flat = _ENVIRONMENT.sub(lambda m: max(m.group(2).split("\\\\"), key=len) + "()", body)  # a matrix: its widest row
    words = _WORD.sub(lambda m: m.group(1), _SPACING.sub("", flat))
    visible = _COMMAND.sub("x", words)
    chars = sum(1 for c in visible if c not in "{}^_ &")
    operators = sum(visible.count(c) for c in "+-=<>") + visible.count(",") * 0.5
    lines = 2.9 if _STACKED.search(body) else 2.1 if _FRACTION.search(body) else 1.6
    return size * (0.5 * chars + 0.45 * operators), lines * size


def with_formula_title(fig: dict[str, Any], latex: str | None, width: float | None = None) -> dict[str, Any]:
    """A copy of ``fig`` whose title has the formula as its subtitle, with room for it in the top margin.

    With the figure's layout ``width`` (CSS px), a formula estimated wider than the picture
    (:func:`formula_extent`) is set smaller, down to :data:`MIN_SUBTITLE_SIZE`; one that would not
    fit even then is left out.  ``fig`` itself is not changed; without a formula (see
    :func:`formula_tex`) or without room for it, the copy is the same figure.
    """
    out = copy.copy(fig)
    tex = formula_tex(latex)
    if tex is None:
        return out
    size = SUBTITLE_SIZE
    if width is not None:
        est_w = WIDTH_MARGIN * formula_extent(tex, size)[0]
        room = width - 2 * TITLE_LEFT
        if est_w > room:
            size = math.floor(size * room / est_w)
            if size < MIN_SUBTITLE_SIZE:  # too long for this picture even when small: the title stays plain
                return out
    _, est_h = formula_extent(tex, size)
    layout = copy.deepcopy(fig.get("layout", {}))
    title = layout.get("title")
    title = dict(title) if isinstance(title, dict) else {"text": str(title or "")}
    title["subtitle"] = {"text": tex, "font": {"size": size}}
    # from the top of the picture down, so that the formula stays clear of the map's highest tick label
    title.update(yref="container", y=1.0, yanchor="top", pad={"t": TITLE_PAD})
    layout["title"] = title
    margin = layout.setdefault("margin", {})
    needed = math.ceil(TITLE_PAD + TITLE_LINE + est_h + TICK_CLEARANCE)
    margin["t"] = max(float(margin.get("t", 0)), TOP_WITH_FORMULA, needed)
    out["layout"] = layout
    return out


def has_formula(fig: dict[str, Any]) -> bool:
    """Whether ``fig``'s title carries a typeset formula."""
    sub = (fig.get("layout", {}).get("title") or {}).get("subtitle") or {}
    text = sub.get("text") if isinstance(sub, dict) else None
    return isinstance(text, str) and text.startswith("$") and text.endswith("$") and len(text) > 2


@functools.lru_cache(maxsize=1)
def _script_text(path: str, mtime: float) -> str:
    return Path(path).read_text(encoding="utf-8")


def inline_script() -> str | None:
    """The MathJax script as the body of an HTML ``<script>`` element (None when not installed)."""
    path = script_path()
    if path is None:
        return None
    text = _script_text(str(path), path.stat().st_mtime)
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")
