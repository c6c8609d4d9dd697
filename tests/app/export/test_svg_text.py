"""SVG text made portable: the subset font embedded, or the text drawn as glyph outlines."""

from __future__ import annotations

import base64
import io
import re

import pytest
from fontTools.ttLib import TTFont

from app.export import formats as E
from app.export.svg_text import EXPORT_FAMILY, embed_fonts, font_path, text_to_paths

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="200">'
    '<defs id="d"/>'
    '<text x="100" y="50" text-anchor="middle" style="font-family: sans-serif; font-size: 20px; fill: rgb(1, 2, 3);">'
    "Aη x</text>"
    '<text x="10" y="120" style="font-family: sans-serif; font-size: 10px; fill: red;">10'
    '<tspan style="font-size:70%" dy="-0.6em">−6</tspan><tspan dy="0.42em">\u200b</tspan></text>'
    '<text x="300" y="150" text-anchor="end" style="font-family: sans-serif; font-size: 12px; '
    'font-weight: bold;">B</text>'
    "</svg>"
).encode()


def _advances(text: str, size: float, bold: bool = False) -> list[float]:
    font = TTFont(font_path(bold=bold))
    cmap, hmtx, upm = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    return [hmtx[cmap[ord(c)]][0] * size / upm for c in text]


def _uses(svg: bytes) -> list[tuple[float, float, float]]:
    return [(float(x), float(y), float(s)) for x, y, s in
            re.findall(rb'translate\(([-\d.]+),([-\d.]+)\) scale\(([-\d.e]+),', svg)]  # fmt: skip


def test_text_becomes_glyph_outlines_placed_by_advance_width_anchor_and_dy():
    out = text_to_paths(SVG)
    assert b"<text" not in out
    uses = _uses(out)
    assert len(uses) == 3 + 2 + 2 + 1  # "Aη x" without the space, "10", "−6", "B"
    # centred chunk: starts at 100 − width/2 and steps by the font's advances
    a = _advances("Aη x", 20)
    left = 100 - sum(a) / 2
    assert [u[0] for u in uses[:3]] == pytest.approx([left, left + a[0], left + a[0] + a[1] + a[2]], abs=1e-3)
    assert {u[1] for u in uses[:3]} == {50.0}
    # the superscript: 7 px high, raised by 0.6 of its own size, after "10" at 10 px
    ten = _advances("10", 10)
    sup = uses[5:7]
    assert sup[0][0] == pytest.approx(10 + sum(ten), abs=1e-3) and sup[0][1] == pytest.approx(120 - 0.6 * 7, abs=1e-3)
    assert sup[0][2] == pytest.approx(7 / 2048, rel=1e-5)
    # end-anchored bold: its right edge at 300
    (bx, by, _), = uses[7:]
    assert bx == pytest.approx(300 - _advances("B", 12, bold=True)[0], abs=1e-3) and by == 150
    # each glyph is defined once; fills carried over; the text stays readable as a title
    assert out.count(b'<path id="dl-glyph-') == len(set(re.findall(rb'href="#(dl-glyph-\d+)"', out)))
    assert b"fill: rgb(1, 2, 3)" in out and b"<title>A\xce\xb7 x</title>" in out


def _faces(svg: bytes) -> list[TTFont]:
    return [TTFont(io.BytesIO(base64.b64decode(m))) for m in re.findall(rb"font/ttf;base64,([A-Za-z0-9+/=]+)", svg)]


def test_the_embedded_subset_has_every_character_of_the_text_and_no_other():
    out = embed_fonts(SVG)
    faces = _faces(out)
    assert len(faces) == 2  # regular and bold
    regular = [f for f in faces if f["OS/2"].usWeightClass < 600][0]
    bold = [f for f in faces if f["OS/2"].usWeightClass >= 600][0]
    assert set(regular.getBestCmap()) == {ord(c) for c in "Aη x10−6"}
    assert set(bold.getBestCmap()) == {ord("B"), ord(" ")}
    assert regular["name"].getDebugName(1) == EXPORT_FAMILY
    fams = re.findall(rb'style="[^"]*font-family: ([^;]+);', out)
    assert len(fams) == 3 and all(f.startswith(f"'{EXPORT_FAMILY}'".encode()) for f in fams)


def test_an_exported_svg_carries_its_font_or_draws_no_text_at_all():
    cfg = E.from_query("?surface=beale&opt=adam,lr=0.05,color=0&steps=80")
    embedded = E.export(cfg, "svg", E.ExportOptions(size="column"))
    texts = re.findall(rb"<text[^>]*>([^<]*)", embedded)
    assert b"Beale" in b"".join(texts)
    cover = set().union(*(set(f.getBestCmap()) for f in _faces(embedded)))
    assert {ord(c) for c in b"".join(texts).decode() if c != "\u200b"} <= cover
    paths = E.export(cfg, "svg", E.ExportOptions(size="column", svg_text="paths"))
    drawn = [c for c in b"".join(texts).decode() if not c.isspace() and c != "\u200b"]
    assert b"<text" not in paths and len(_uses(paths)) == len(drawn) > 20
    assert b'width="336"' in paths[:600] and b"descent-lab" in paths  # the settings still inside
    with pytest.raises(ValueError, match="svg_text"):
        E.ExportOptions(svg_text="outline")


def test_a_text_the_converter_cannot_place_stays_text_with_its_font_embedded():
    odd = SVG.replace(b'x="10" y="120"', b'x="10pt" y="120"')
    out = text_to_paths(odd)
    assert out.count(b"<text") == 1 and b">10<" in out and b"font/ttf;base64," in out
    assert len(_uses(out)) == 3 + 1  # the other two texts are outlines
