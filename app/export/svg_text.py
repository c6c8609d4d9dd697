"""SVG text a LaTeX document shows as drawn: the font embedded, or every glyph turned into a path.

The export browser draws static figures in DejaVu Sans (:data:`EXPORT_FAMILY`, the font the
layout code measures with).  An SVG names its fonts but does not carry them, so a machine
without DejaVu Sans (a journal's, an Inkscape conversion for LaTeX) substitutes another font and
the labels change width.  Two remedies, chosen with ``svg_text``:

* ``"font"`` (the default, :func:`embed_fonts`): a ``@font-face`` rule in the SVG's ``<defs>``
  carries a subset of each DejaVu face the text uses (only the characters that occur), as a
  base64 TrueType data URL; every ``font-family`` names that face first.
* ``"paths"`` (:func:`text_to_paths`): every ``<text>`` becomes a group of ``<use>`` references
  to glyph outlines defined once in ``<defs>``; nothing depends on fonts any more (the text is no
  longer selectable).  Glyphs are placed by the font's advance widths (no kerning pairs), with
  plotly's conventions: ``text-anchor`` per text chunk, ``dy`` in ``em`` of the element's own
  size, ``font-size`` in px or % of the parent, super/subscript tspans.  A text with a character
  the font lacks is kept as text (and still gets the embedded font).

Nothing here starts a browser: both are pure functions of the SVG bytes.
"""

from __future__ import annotations

import base64
import functools
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
#: the family the export browser draws with, and the name the embedded subset carries
EXPORT_FAMILY = "DejaVu Sans"
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
#: (bold, italic) → file of the face
FACE_FILES = {
    (False, False): "DejaVuSans.ttf",
    (True, False): "DejaVuSans-Bold.ttf",
    (False, True): "DejaVuSans-Oblique.ttf",
    (True, True): "DejaVuSans-BoldOblique.ttf",
}
SVG_TEXT_MODES = ("font", "paths")
#: characters that take no space and have no outline (plotly pads sub/superscripts with U+200B)
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\ufeff"}

ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


class FontMissing(Exception):
    """DejaVu Sans is not installed, so its glyphs cannot be embedded."""


def font_path(bold: bool = False, italic: bool = False) -> str:
    """The installed file of a DejaVu Sans face; FontMissing (with the package to install) if absent."""
    import os

    name = FACE_FILES[(bold, italic)]
    for folder in FONT_DIRS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise FontMissing(f"{name} is not installed (install the fonts-dejavu-core package)")


@functools.lru_cache(maxsize=4)
def _font(bold: bool, italic: bool) -> Any:
    from fontTools.ttLib import TTFont

    return TTFont(font_path(bold, italic), lazy=False)


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _style(el: ET.Element) -> dict[str, str]:
    out = {}
    for part in (el.get("style") or "").split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def _set_style(el: ET.Element, style: dict[str, str]) -> None:
    el.set("style", "; ".join(f"{k}: {v}" for k, v in style.items()) + ";")


def _face_of(style: dict[str, str]) -> tuple[bool, bool]:
    weight = style.get("font-weight", "normal")
    bold = weight == "bold" or weight == "bolder" or (weight.isdigit() and int(weight) >= 600)
    return bold, style.get("font-style", "normal") in ("italic", "oblique")


def _parse(svg: bytes) -> ET.Element:
    return ET.fromstring(svg)


def _serialize(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _defs(root: ET.Element) -> ET.Element:
    for el in root:
        if _tag(el) == "defs":
            return el
    d = ET.Element(f"{{{SVG_NS}}}defs")
    root.insert(0, d)
    return d


# ------------------------------------------------------------------ embedded subset fonts


def used_characters(root: ET.Element) -> dict[tuple[bool, bool], set[str]]:
    """The characters each face draws: every text and tspan's own text, by (bold, italic)."""
    used: dict[tuple[bool, bool], set[str]] = {}

    def walk(el: ET.Element, inherited: dict[str, str]) -> None:
        style = {**inherited, **_style(el)}
        if _tag(el) in ("text", "tspan"):
            for chunk in (el.text, *(c.tail for c in el)):
                if chunk:
                    used.setdefault(_face_of(style), set()).update(chunk)
        for child in el:
            walk(child, style if _tag(el) in ("text", "tspan") else {})

    walk(root, {})
    return used


def subset_font(chars: set[str], bold: bool = False, italic: bool = False) -> bytes:
    """A TrueType subset of a DejaVu Sans face with exactly the glyphs of ``chars`` (and .notdef)."""
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["kern", "liga"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(font_path(bold, italic), options)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted({ord(c) for c in chars if c not in _INVISIBLE} | {0x20}))
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _retarget_families(root: ET.Element) -> None:
    """Every font-family names the export face first (the face the embedded subset declares)."""
    for el in root.iter():
        style = _style(el)
        if "font-family" in style and not style["font-family"].startswith(f"'{EXPORT_FAMILY}'"):
            style["font-family"] = f"'{EXPORT_FAMILY}', {style['font-family']}"
            _set_style(el, style)


def _embed(root: ET.Element) -> None:
    used = used_characters(root)
    if not used:
        return
    rules = []
    for (bold, italic), chars in sorted(used.items()):
        data = base64.b64encode(subset_font(chars, bold, italic)).decode("ascii")
        rules.append(f"@font-face {{ font-family: '{EXPORT_FAMILY}'; font-weight: {'bold' if bold else 'normal'}; "
                     f"font-style: {'italic' if italic else 'normal'}; "
                     f"src: url(data:font/ttf;base64,{data}) format('truetype'); }}")  # fmt: skip
    style = ET.Element(f"{{{SVG_NS}}}style", {"id": "descent-lab-fonts"})
    style.text = "\n".join(rules)
    _defs(root).insert(0, style)
    _retarget_families(root)


def embed_fonts(svg: bytes) -> bytes:
    """The SVG with the subset DejaVu faces its text uses embedded (see the module's docstring)."""
    root = _parse(svg)
    _embed(root)
    return _serialize(root)


# ------------------------------------------------------------------ text as paths


@dataclass
class _Run:
    """A stretch of text drawn in one face and size from one pen position."""

    text: str
    size: float
    face: tuple[bool, bool]
    fill: str
    opacity: str
    chunk: int  # index of the anchored chunk it belongs to
    x: float = 0.0  # pen position, filled in by the layout
    y: float = 0.0


def _length(value: str | None, size: float) -> float:
    """An SVG length in user units: px, plain numbers or em (of ``size``); 0 when absent."""
    if not value:
        return 0.0
    v = value.strip().split()[0].rstrip(",")
    if v.endswith("em"):
        return float(v[:-2]) * size
    if v.endswith("px"):
        return float(v[:-2])
    return float(v)


def _font_size(style: dict[str, str], parent: float) -> float:
    v = style.get("font-size")
    if not v:
        return parent
    if v.endswith("%"):
        return parent * float(v[:-1]) / 100.0
    return _length(v, parent)


def _advance(text: str, face: tuple[bool, bool], size: float) -> float:
    font = _font(*face)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    scale = size / font["head"].unitsPerEm
    return sum(hmtx[cmap[ord(c)]][0] * scale for c in text if c not in _INVISIBLE and ord(c) in cmap)


def _drawable(text: str, face: tuple[bool, bool]) -> bool:
    cmap = _font(*face).getBestCmap()
    return all(c in _INVISIBLE or ord(c) in cmap or c.isspace() for c in text)


def _runs(text_el: ET.Element) -> tuple[list[_Run], list[tuple[float, float]]] | None:
    """The text element's runs with pen positions and each chunk's start; None if it cannot be converted."""
    base = _style(text_el)
    size0 = _font_size(base, 16.0)
    runs: list[_Run] = []
    starts: list[tuple[float, float]] = []
    pen = [_length(text_el.get("x"), size0), _length(text_el.get("y"), size0) + _length(text_el.get("dy"), size0)]
    pen[0] += _length(text_el.get("dx"), size0)
    starts.append((pen[0], pen[1]))

    def emit(text: str | None, style: dict[str, str], size: float) -> bool:
        if not text:
            return True
        face = _face_of(style)
        if not _drawable(text, face):
            return False
        runs.append(_Run(text, size, face, style.get("fill", "rgb(0, 0, 0)"), style.get("fill-opacity", "1"),
                         len(starts) - 1, pen[0], pen[1]))  # fmt: skip
        pen[0] += _advance(text, face, size)
        return True

    def walk(el: ET.Element, style: dict[str, str], size: float) -> bool:
        if not emit(el.text, style, size):
            return False
        for child in el:
            if _tag(child) != "tspan":
                return False
            cs = {**style, **_style(child)}
            csize = _font_size(_style(child), size)
            if child.get("x") is not None or child.get("y") is not None:
                pen[0] = _length(child.get("x"), csize) if child.get("x") is not None else pen[0]
                pen[1] = _length(child.get("y"), csize) if child.get("y") is not None else pen[1]
                starts.append((pen[0], pen[1]))
            pen[0] += _length(child.get("dx"), csize)
            pen[1] += _length(child.get("dy"), csize)
            if not walk(child, cs, csize) or not emit(child.tail, style, size):
                return False
        return True

    if not walk(text_el, base, size0):
        return None
    return runs, starts


def _glyph_path(face: tuple[bool, bool], glyph: str) -> str:
    from fontTools.pens.svgPathPen import SVGPathPen

    gs = _font(*face).getGlyphSet()
    pen = SVGPathPen(gs)
    gs[glyph].draw(pen)
    return pen.getCommands()


class _GlyphDefs:
    """The glyph outlines defined once in ``<defs>`` and referenced by id."""

    def __init__(self, defs: ET.Element) -> None:
        self.defs = defs
        self.ids: dict[tuple[tuple[bool, bool], str], str | None] = {}

    def ref(self, face: tuple[bool, bool], glyph: str) -> str | None:
        key = (face, glyph)
        if key not in self.ids:
            d = _glyph_path(face, glyph)
            if not d:
                self.ids[key] = None  # a space: advance only
            else:
                gid = f"dl-glyph-{len(self.ids)}"
                ET.SubElement(self.defs, f"{{{SVG_NS}}}path", {"id": gid, "d": d})
                self.ids[key] = gid
        return self.ids[key]


def _anchor_shift(anchor: str, width: float) -> float:
    return {"middle": -0.5 * width, "end": -width}.get(anchor, 0.0)


def _convert(text_el: ET.Element, glyphs: _GlyphDefs) -> ET.Element | None:
    laid = _runs(text_el)
    if laid is None:
        return None
    runs, starts = laid
    anchor = text_el.get("text-anchor") or _style(text_el).get("text-anchor", "start")
    widths = [0.0] * len(starts)
    for r in runs:
        widths[r.chunk] = max(widths[r.chunk], r.x + _advance(r.text, r.face, r.size) - starts[r.chunk][0])
    group = ET.Element(f"{{{SVG_NS}}}g", {"class": "dl-text"})
    if text_el.get("transform"):
        group.set("transform", text_el.get("transform"))
    label = "".join(r.text for r in runs).replace("\u200b", "")
    ET.SubElement(group, f"{{{SVG_NS}}}title").text = label
    for r in runs:
        font = _font(*r.face)
        cmap = font.getBestCmap()
        hmtx = font["hmtx"]
        scale = r.size / font["head"].unitsPerEm
        x = r.x + _anchor_shift(anchor, widths[r.chunk])
        for c in r.text:
            if c in _INVISIBLE or ord(c) not in cmap:
                continue
            name = cmap[ord(c)]
            gid = glyphs.ref(r.face, name)
            if gid is not None:
                ET.SubElement(group, f"{{{SVG_NS}}}use", {
                    f"{{{XLINK_NS}}}href": f"#{gid}",
                    "transform": f"translate({x:.3f},{r.y:.3f}) scale({scale:.6g},{-scale:.6g})",
                    "style": f"fill: {r.fill}; fill-opacity: {r.opacity};",
                })  # fmt: skip
            x += hmtx[name][0] * scale
    return group


def _parent_map(root: ET.Element) -> dict[ET.Element, ET.Element]:
    return {child: parent for parent in root.iter() for child in parent}


def text_to_paths(svg: bytes) -> bytes:
    """The SVG with every ``<text>`` drawn as glyph outlines (see the module's docstring).

    A text the font cannot draw stays text, and then the faces it uses are embedded."""
    root = _parse(svg)
    glyphs = _GlyphDefs(_defs(root))
    parents = _parent_map(root)
    kept = False
    for text_el in [el for el in root.iter() if _tag(el) == "text"]:
        try:
            group = _convert(text_el, glyphs)
        except (ValueError, KeyError):  # a length or glyph this converter does not know: keep the text
            group = None
        if group is None:
            kept = True
            continue
        parent = parents[text_el]
        group.tail = text_el.tail
        i = list(parent).index(text_el)
        parent.remove(text_el)
        parent.insert(i, group)
    if kept:
        _embed(root)
    return _serialize(root)


def finish_svg(svg: bytes, mode: str = "font") -> bytes:
    """The export's SVG with its text made portable by ``mode`` (one of :data:`SVG_TEXT_MODES`)."""
    if mode not in SVG_TEXT_MODES:
        raise ValueError(f"svg text must be one of {', '.join(SVG_TEXT_MODES)}, got {mode!r}")
    return text_to_paths(svg) if mode == "paths" else embed_fonts(svg)
