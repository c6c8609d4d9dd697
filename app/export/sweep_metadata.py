"""The settings a sweep-map export carries, so that the map can be computed again, and reading them back.

Every PNG, SVG, PDF and NPZ export of a map carries one small JSON document::

    {"descent_lab_version": "…", "kind": "hyper", "maps_query": "?kind=hyper&surface=quadratic&…"}

``maps_query`` is the ``/maps`` page's link of the map (its whole configuration: surface, start,
steps, the optimizer and every hyperparameter, modifiers and seed, grid, colouring, axes), so
opening ``/maps`` + ``maps_query`` or running ``descent-lab sweep --from FILE`` computes the same
numbers.  Where it is kept:

* PNG: a ``tEXt`` chunk with keyword :data:`KEYWORD`, right after ``IHDR``;
* SVG: a ``<metadata id="descent-lab">`` element, the first child of ``<svg>``;
* PDF: a ``/DescentLab`` entry (hex string) of the document information dictionary, added as an
  incremental update that also names the title (a PDF reader shows it);
* NPZ: an array ``settings`` holding the text (a plain unicode array: no pickle).

(CSV carries none: its first line is the column names.)  Reading trusts nothing: the caller
bounds the file, chunks are walked with bounds checks, the text must be JSON of the expected
shape, and the query is validated by the page's own codec (``map_from_query``) afterwards.
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import zipfile
import zlib
from typing import Any

from app.version import version

KEYWORD = "descent-lab"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the longest settings text written or read (a map's link is well under 4 kB)
MAX_TEXT = 16_000
MAX_CHUNKS = 64

_SVG_META = re.compile(rb'<metadata id="descent-lab">(.{0,%d}?)</metadata>' % MAX_TEXT, re.DOTALL)
_PDF_META = re.compile(rb"/DescentLab <([0-9A-Fa-f]{2,%d})>" % (2 * MAX_TEXT))
_PDF_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_PDF_TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref", re.DOTALL)


class NoSettings(ValueError):
    """The file carries no sweep-map settings (or they cannot be read)."""


def settings_document(maps_query: str, kind: str) -> dict[str, Any]:
    """What an export of the map with this ``/maps`` query carries."""
    return {"descent_lab_version": version(), "kind": kind, "maps_query": maps_query}


def settings_text(doc: dict[str, Any]) -> str:
    """The settings as compact ASCII JSON (safe in every container)."""
    text = json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_TEXT:
        raise ValueError("the map's settings are too long to embed")
    return text


# --------------------------------------------------------------------------- writing


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def embed_png(png: bytes, text: str) -> bytes:
    """``png`` with a tEXt chunk holding ``text`` after its IHDR chunk."""
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    end = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    chunk = _chunk(b"tEXt", KEYWORD.encode("latin-1") + b"\x00" + text.encode("ascii"))
    return png[:end] + chunk + png[end:]


def embed_svg(svg: bytes, text: str) -> bytes:
    """``svg`` with a ``<metadata>`` element holding ``text`` as the first child of its root."""
    start = svg.find(b"<svg")
    close = svg.find(b">", start)
    if start < 0 or close < 0:
        raise ValueError("not an SVG image")
    element = f'<metadata id="{KEYWORD}">{html.escape(text, quote=False)}</metadata>'.encode("ascii")
    return svg[: close + 1] + element + svg[close + 1 :]


def _pdf_text_string(text: str) -> bytes:
    """A PDF text string: UTF-16BE with its byte order mark, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def embed_pdf(pdf: bytes, text: str, title: str = "") -> bytes:
    """``pdf`` with an incremental update whose information dictionary holds ``text`` (and ``title``).

    The update appends one object and a cross-reference section pointing back at the previous one,
    so every byte of the original stays where it was (PDF 1.4, section 3.4.5).
    """
    tail = pdf[-2048:]
    m = _PDF_STARTXREF.search(tail)
    t = _PDF_TRAILER.search(pdf[-4096:])
    if not pdf.startswith(b"%PDF-") or m is None or t is None:
        raise ValueError("not a PDF with a classic cross-reference table")
    trailer = t.group(1)
    size = re.search(rb"/Size\s+(\d+)", trailer)
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    if size is None or root is None:
        raise ValueError("the PDF's trailer has no /Size or /Root")
    n = int(size.group(1))
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    info = (b"%d 0 obj\n<</Title " % n + _pdf_text_string(title) + b"\n/Creator (Descent Lab "
            + version().encode("ascii", "replace") + b")\n/DescentLab <" + text.encode("ascii").hex().encode("ascii")
            + b">>>\nendobj\n")  # fmt: skip
    xref_at = len(body) + len(info)
    xref = b"xref\n%d 1\n%010d 00000 n \n" % (n, len(body))
    trailer_new = b"trailer\n<</Size %d\n/Root %s\n/Info %d 0 R\n/Prev %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        n + 1, root.group(1), n, m.group(1), xref_at)  # fmt: skip
    return body + info + xref + trailer_new


def embed_npz(arrays: dict[str, Any], text: str) -> dict[str, Any]:
    """``arrays`` (for ``numpy.savez``) with the settings as a unicode array ``settings``."""
    import numpy as np

    return {**arrays, "settings": np.array(text)}


def embed(fmt: str, data: bytes, doc: dict[str, Any], title: str = "") -> bytes:
    """``data`` (an export in ``fmt``: png, svg or pdf) carrying ``doc``; other formats are returned unchanged."""
    text = settings_text(doc)
    if fmt == "png":
        return embed_png(data, text)
    if fmt == "svg":
        return embed_svg(data, text)
    if fmt == "pdf":
        return embed_pdf(data, text, title)
    return data


# --------------------------------------------------------------------------- reading


def _png_text(raw: bytes) -> str:
    pos = len(PNG_SIGNATURE)
    for _ in range(MAX_CHUNKS):
        if pos + 8 > len(raw):
            break
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        kind = raw[pos + 4 : pos + 8]
        body = raw[pos + 8 : pos + 8 + length]
        if len(body) < length or kind == b"IEND":
            break
        if kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            if key == KEYWORD.encode("latin-1"):
                if len(value) > MAX_TEXT:
                    raise NoSettings("the image's settings are too long")
                return value.decode("latin-1")
        pos += 12 + length
    raise NoSettings("this PNG carries no Descent Lab map settings")


def _npz_text(raw: bytes) -> str:
    import numpy as np

    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arr = z["settings"] if "settings" in z.files else None
    except (ValueError, OSError, zipfile.BadZipFile):
        raise NoSettings("the NPZ could not be read") from None
    if arr is None:
        raise NoSettings("this NPZ carries no Descent Lab map settings")
    if arr.dtype.kind != "U" or arr.shape != () or len(str(arr)) > MAX_TEXT:
        raise NoSettings("the NPZ's settings are not text")
    return str(arr)


def read_settings(raw: bytes) -> dict[str, Any]:
    """The settings document of an exported map (PNG, SVG, PDF or NPZ), checked for its shape.

    NoSettings (a ValueError) with a one-line reason when the file has none.
    """
    head = raw[:512].lstrip()
    if raw.startswith(PNG_SIGNATURE):
        text = _png_text(raw)
    elif raw.startswith(b"%PDF-"):
        found = _PDF_META.findall(raw[-(4 * MAX_TEXT + 4096) :])
        if not found:
            raise NoSettings("this PDF carries no Descent Lab map settings")
        text = bytes.fromhex(found[-1].decode("ascii")).decode("ascii", errors="replace")
    elif raw.startswith(b"PK"):
        text = _npz_text(raw)
    elif head.startswith((b"<svg", b"<?xml")) and b"<svg" in raw[:4096]:
        m = _SVG_META.search(raw)
        if m is None:
            raise NoSettings("this SVG carries no Descent Lab map settings")
        text = html.unescape(m.group(1).decode("utf-8", errors="replace"))
    else:
        raise NoSettings("not a map exported by descent-lab (PNG, SVG, PDF or NPZ)")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NoSettings("the file's settings are not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("maps_query"), str):
        raise NoSettings("the file's settings have no map link ('maps_query')")
    return doc
