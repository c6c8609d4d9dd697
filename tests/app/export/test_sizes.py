"""Size presets give the pictures their media expect, whatever the content's shape."""

from __future__ import annotations

import pytest

from app.export.sizes import ASPECT_LIMITS, SIZE_PRESETS, get_preset, height_for


def test_slides_have_their_pixel_sizes_whatever_the_content():
    assert get_preset("slide").frame(5.0).pixels == (1920, 1080)
    assert get_preset("slide43").frame(0.2).pixels == (1440, 1080)


def test_print_presets_are_physical_widths_at_300_dpi():
    column, page = get_preset("column").frame(1.0), get_preset("page").frame(1.0)
    assert column.pixels == (1050, 1050)  # 3.5 in × 300 dpi, square content
    assert page.pixels == (2100, 2100)
    assert column.scale == pytest.approx(300 / 96)


def test_a_wide_content_makes_a_wide_figure_within_limits():
    assert height_for(672, 2.0) == 336
    assert height_for(672, 100.0) == round(672 / ASPECT_LIMITS[1])
    assert height_for(672, 0.01) == round(672 / ASPECT_LIMITS[0])
    assert height_for(672, float("nan")) == 504  # unknown: 4:3


def test_an_unknown_preset_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="slide, slide43, column, page"):
        get_preset("poster")
    assert set(SIZE_PRESETS) == {"slide", "slide43", "column", "page"}
