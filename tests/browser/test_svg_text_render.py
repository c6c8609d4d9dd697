"""An SVG whose text is drawn as glyph outlines looks, in Chromium, like the SVG with real text."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.export import formats as E

pytestmark = pytest.mark.browser


def _pixels(browser, svg: bytes, width: int, height: int) -> np.ndarray:
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.set_content(f"<html><body style='margin:0'>{svg.decode()}</body></html>")
        page.evaluate(f"(() => {{ const s = document.querySelector('svg'); s.setAttribute('width', '{width}');"
                      f" s.setAttribute('height', '{height}'); }})()")  # fmt: skip
        png = page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height})
    finally:
        page.close()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def test_text_as_paths_draws_the_same_picture_as_the_text(browser):
    cfg = E.from_query("?surface=long_valley&start=-9,1.5&steps=300&opt=sgd,lr=0.19,color=0"
                       "&opt=momentum,lr=0.05,color=1&opt=adam,lr=0.1,color=5&arrows=1")  # fmt: skip
    opts = E.ExportOptions(width=1000, height=800)
    text = E.export(cfg, "svg", opts)
    paths = E.export(cfg, "svg", E.ExportOptions(width=1000, height=800, svg_text="paths"))
    assert b"<text" in text and b"<text" not in paths
    a, b = _pixels(browser, text, 1000, 800), _pixels(browser, paths, 1000, 800)
    diff = np.abs(a - b)
    # glyph outlines at the text's positions: the pictures differ only by anti-aliasing and kerning
    assert diff.mean() < 1.0 and (diff > 128).mean() < 0.001, (diff.mean(), (diff > 128).mean())
    # where the text is (the pixels that change when it is hidden), the outlines cover it
    blank = paths.replace(b'class="dl-text"', b'class="dl-text" visibility="hidden"')
    c = _pixels(browser, blank, 1000, 800)
    assert (np.abs(a - c) > 64).sum() > 2000
    # compared 4 × 4 blocks at a time (glyphs may sit a fraction of a pixel apart: no kerning pairs)
    blocks = [x.reshape(200, 4, 250, 4).mean(axis=(1, 3)) for x in (a, b, c)]
    missing = np.abs(blocks[0] - blocks[2])
    ink = missing > 16
    ratio = np.abs(blocks[0] - blocks[1])[ink].mean() / missing[ink].mean()
    assert ratio < 0.2, ratio
