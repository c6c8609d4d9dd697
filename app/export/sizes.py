"""Export sizes that fit their medium: slides, journal columns and pages, or explicit pixels.

A figure is laid out in CSS pixels (1/96 in, the unit plotly's layout uses) and
rendered at a pixel density ``scale``; the picture is ``layout × scale`` pixels.
Print sizes are physical, so text set at ``n`` layout pixels prints at
``0.75·n`` pt whatever the dpi:

* ``slide``   16:9, 1920 × 1080 pixels (layout 1280 × 720 at 1.5×)
* ``slide43`` 4:3, 1440 × 1080 pixels (layout 960 × 720 at 1.5×)
* ``column``  3.5 in wide at 300 dpi (1050 pixels), height from the content
* ``page``    7 in wide at 300 dpi (2100 pixels), height from the content

A preset with a free height takes the height the content asks for (its
width ÷ aspect), clamped to :data:`ASPECT_LIMITS` so a long valley becomes a
wide figure and a tall one does not run off the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CSS_DPI = 96.0
#: the smallest and largest picture side in layout pixels
LAYOUT_LIMITS = (200, 4000)
#: width ÷ height of a free-height preset is kept in this range
ASPECT_LIMITS = (0.6, 3.2)


@dataclass(frozen=True)
class SizePreset:
    """A named size: layout width (CSS px), fixed layout height or None (from the content), and scale."""

    name: str
    width: int
    height: int | None
    scale: float
    description: str
    label: str  # a short name for a picker

    def frame(self, aspect: float | None = None) -> Frame:
        """The layout size and scale for content of width ÷ height ``aspect`` (used when the height is free)."""
        if self.height is not None:
            return Frame(self.width, self.height, self.scale)
        return Frame(self.width, height_for(self.width, aspect), self.scale)


@dataclass(frozen=True)
class Frame:
    """A figure's layout width and height (CSS px) and pixel density; the picture is ``width·scale × height·scale``."""

    width: int
    height: int
    scale: float

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.width * self.scale), round(self.height * self.scale)


def _print(inches: float, dpi: float) -> tuple[int, float]:
    return round(inches * CSS_DPI), dpi / CSS_DPI


_COLUMN_W, _PRINT_SCALE = _print(3.5, 300.0)
_PAGE_W, _ = _print(7.0, 300.0)

SIZE_PRESETS: dict[str, SizePreset] = {
    p.name: p
    for p in (
        SizePreset("slide", 1280, 720, 1.5, "16:9 slide, 1920 × 1080 pixels", "Slide 16:9"),
        SizePreset("slide43", 960, 720, 1.5, "4:3 slide, 1440 × 1080 pixels", "Slide 4:3"),
        SizePreset("column", _COLUMN_W, None, _PRINT_SCALE, "one journal column: 3.5 in at 300 dpi", "Column 3.5 in"),
        SizePreset("page", _PAGE_W, None, _PRINT_SCALE, "a page's text width: 7 in at 300 dpi", "Page 7 in"),
    )
}


def height_for(width: int, aspect: float | None) -> int:
    """The layout height for ``width`` and content aspect (width ÷ height); 4:3 when unknown."""
    if aspect is None or not math.isfinite(aspect) or aspect <= 0:
        aspect = 4.0 / 3.0
    aspect = min(max(aspect, ASPECT_LIMITS[0]), ASPECT_LIMITS[1])
    return min(max(round(width / aspect), LAYOUT_LIMITS[0]), LAYOUT_LIMITS[1])


def get_preset(name: str) -> SizePreset:
    """The preset called ``name`` (ValueError naming the known ones otherwise)."""
    try:
        return SIZE_PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"size must be one of {', '.join(SIZE_PRESETS)}, got {name!r}") from None
