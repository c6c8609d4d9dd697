"""Exports fill their frame (map plus panels), and their labels never overlap."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from app.explorer.compute import compute
from app.explorer.presets import get_preset
from app.explorer.state import from_query
from app.export import formats as E
from app.export.labels import label_box, overlap, place_labels
from app.export.panels import composed_figure, parse_panels, static_figure
from app.export.sizes import Frame

VIEWS = {
    "long_valley": get_preset("long_valley").config,
    "beale": get_preset("beale").config,
    "rosenbrock": from_query("surface=rosenbrock&steps=300&opt=adam,lr=0.05&opt=momentum,lr=0.001,momentum=0.9&arrows=0"),
}


#: a run of blank rows (columns) shorter than this share of the height (width) is spacing, not a band
BAND = 0.05


def _band_mask(blank: np.ndarray) -> np.ndarray:
    """The blank lines that belong to a run of at least BAND of all lines."""
    out = np.zeros_like(blank)
    start = None
    for i, v in enumerate([*blank.tolist(), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= BAND * blank.size:
                out[start:i] = True
            start = None
    return out


def empty_share(png: bytes) -> float:
    """The share of the picture in empty bands: runs of fully white rows or columns (see BAND)."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    white = (a >= 250).all(axis=2)
    rows, cols = _band_mask(white.all(axis=1)), _band_mask(white.all(axis=0))
    h, w = white.shape
    return float((rows.sum() * w + cols.sum() * h - rows.sum() * cols.sum()) / (w * h))


@pytest.mark.parametrize("size", ["slide", "column"])
@pytest.mark.parametrize("name", list(VIEWS))
def test_exports_leave_at_most_15_percent_of_their_area_empty(name, size):
    png = E.export(VIEWS[name], "png", E.ExportOptions(size=size))
    share = empty_share(png)
    assert share <= 0.15, f"{name} as {size}: {share:.0%} of the picture is empty band"
    with Image.open(io.BytesIO(png)) as im:
        if size == "slide":
            assert im.size == (1920, 1080)
        else:
            assert im.size[0] == 1050 and 0.6 <= im.size[0] / im.size[1] <= 3.2


def test_the_old_fixed_frame_with_the_map_alone_was_mostly_empty_for_a_long_valley():
    """What the measure catches: the long valley's map alone in the 1000 × 800 frame (the old export)."""
    png = E.export(VIEWS["long_valley"], "png", E.ExportOptions(panels="map", scale=1.0))
    assert empty_share(png) > 0.3


def _svg_label_boxes(svg: bytes, texts: set[str]) -> list[tuple[str, tuple[float, float, float, float]]]:
    out = []
    for m in re.finditer(rb'<g class="textpoint" transform="translate\(([-\d.]+),([-\d.]+)\)"><text x="([-\d.]+)" '
                         rb'y="([-\d.]+)"[^>]*font-size: ([\d.]+)px[^>]*>(.*?)</text>', svg):  # fmt: skip
        text = m.group(6).decode()
        if text in texts:
            tx, ty, x, y, size = (float(v) for v in m.groups()[:5])
            w, h = 0.62 * size * len(text), 1.25 * size
            out.append((text, (x + tx, y + ty - size, x + tx + w, y + ty - size + h)))
    return out


@pytest.mark.parametrize("size", ["slide", "column"])
@pytest.mark.parametrize("name", ["long_valley", "beale"])
def test_arrow_labels_do_not_overlap_in_the_svg(name, size):
    svg = E.export(VIEWS[name], "svg", E.ExportOptions(size=size))
    boxes = _svg_label_boxes(svg, {"−∇f", "−m", "−b", "Δθ"})
    assert len(boxes) >= 2  # the gradient and momentum labels are both drawn
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            assert not overlap(a, b), (ta, a, tb, b)


def test_placement_moves_a_label_that_would_cover_another():
    fig = {
        "layout": {"margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "xaxis": {"range": [0, 10]}, "yaxis": {"range": [0, 10]}},
        "data": [{"mode": "text", "x": [5], "y": [5], "text": ["−∇f"], "textfont": {"size": 13}},
                 {"mode": "text", "x": [5.05], "y": [5.05], "text": ["−m"], "textfont": {"size": 13}}],
    }  # fmt: skip
    placed = place_labels(fig, 400, 400)
    assert fig["data"][0]["textposition"] == ["top right"] and fig["data"][1]["textposition"] != ["top right"]
    assert not overlap(placed[0][1], placed[1][1])
    assert overlap(label_box(200, 200, "−∇f", 13, "top right"), label_box(202, 198, "−m", 13, "top right"))


def test_panels_are_parsed_and_validated():
    assert parse_panels("map,loss,grad") == ("map", "loss", "grad")
    assert parse_panels(None) is None and parse_panels("auto") is None
    for bad, why in (("map,heat", "unknown panel"), ("loss,grad", "include the map"), ("map,loss,loss", "twice")):
        with pytest.raises(ValueError, match=why):
            parse_panels(bad)
    with pytest.raises(ValueError, match="size must be one of"):
        E.ExportOptions(size="poster")


def test_panels_get_their_own_axes_beside_or_below_the_map():
    wide = compute(VIEWS["long_valley"])
    fig = composed_figure(E.publication_figure(wide), wide, ("map", "loss", "grad", "lr"), Frame(1280, 720, 1.5))
    lay = fig["layout"]
    assert lay["yaxis"]["domain"][0] > 0.2 and lay["xaxis"]["domain"] == [0.0, 1.0]  # a long valley: panels below
    for n in (2, 3, 4):
        assert lay[f"yaxis{n}"]["domain"][1] < lay["yaxis"]["domain"][0]
        assert any(t.get("xaxis") == f"x{n}" for t in fig["data"])
    square = compute(VIEWS["beale"])
    fig, frame = static_figure(square, E.publication_figure(square), "slide", 0, 0, 1.0, "map,loss")
    lay = fig["layout"]
    assert (frame.width, frame.height) == (1280, 720)
    assert lay["xaxis"]["domain"][1] < lay["xaxis2"]["domain"][0]  # a square map: the panel beside it


def test_a_pdf_embeds_every_font_it_uses():
    import re

    pdf = E.export(VIEWS["beale"], "pdf", E.ExportOptions(size="column"))
    descriptors = re.findall(rb"/FontDescriptor", pdf)
    assert descriptors and len(re.findall(rb"/FontFile[23]?\s", pdf)) >= len(re.findall(rb"/Type\s*/FontDescriptor", pdf))
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+", pdf)  # a subset font, embedded
