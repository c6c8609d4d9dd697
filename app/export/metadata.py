"""The reproducible settings inside an exported file, and reading them back.

Every PNG, SVG, HTML and GIF export carries a small JSON document,
``{"descent_lab_version": …, "explorer_query": …}``: the Explorer link of the
view, from which ``descent-lab export --from FILE`` re-runs the same numbers.

* PNG: a ``tEXt`` chunk with keyword :data:`KEYWORD`, right after ``IHDR``;
* SVG: a ``<metadata id="descent-lab">`` element, the first child of ``<svg>``;
* HTML: a ``<script type="application/json" id="descent-lab">`` in the head;
* GIF: the comment extension.

(JSON exports are the document itself, with every step added; CSV, PDF and MP4
carry none.)  Reading a file trusts nothing in it: the file is bounded by the
caller, chunks are walked with bounds checks, the text must be JSON of the
expected shape, and the query goes through the Explorer's sanitizer later.
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import zlib
from typing import Any

KEYWORD = "descent-lab"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the longest settings text read back (a link is a few kB)
MAX_TEXT = 64_000
#: PNG chunks looked at before giving up (the settings come right after IHDR)
MAX_CHUNKS = 64

_SVG_META = re.compile(rb'<metadata id="descent-lab">(.{0,%d}?)</metadata>' % MAX_TEXT, re.DOTALL)
_HTML_META = re.compile(rb'<script type="application/json" id="descent-lab">(.{0,%d}?)</script>' % MAX_TEXT, re.DOTALL)


class NoSettings(ValueError):
    """The file carries no Descent Lab settings (or they cannot be read)."""


def settings_text(doc: dict[str, Any]) -> str:
    """The settings as compact ASCII JSON (safe in every container)."""
    return json.dumps(doc, ensure_ascii=True, allow_nan=False, separators=(",", ":"), sort_keys=True)


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


def embed_html(page: bytes, text: str) -> bytes:
    """``page`` with a JSON script element holding ``text`` at the end of its head."""
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    element = f'<script type="application/json" id="{KEYWORD}">{safe}</script>'.encode("ascii")
    at = page.find(b"</head>")
    if at < 0:
        raise ValueError("not an HTML page")
    return page[:at] + element + page[at:]


def embed(fmt: str, data: bytes, doc: dict[str, Any]) -> bytes:
    """``data`` (an export in ``fmt``) carrying ``doc``; unchanged for formats that carry none."""
    text = settings_text(doc)
    if fmt == "png":
        return embed_png(data, text)
    if fmt == "svg":
        return embed_svg(data, text)
    if fmt == "html":
        return embed_html(data, text)
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
    raise NoSettings(
        "this PNG carries no Descent Lab settings (was it written by an older version or another program?)"
    )


def _gif_text(raw: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as im:
            comment = im.info.get("comment", b"")
    except (UnidentifiedImageError, OSError, ValueError):
        raise NoSettings("the GIF could not be read") from None
    if not comment or len(comment) > MAX_TEXT:
        raise NoSettings("this GIF carries no Descent Lab settings")
    return comment.decode("ascii", errors="replace")


def _markup_text(raw: bytes, pattern: re.Pattern[bytes], what: str) -> str:
    m = pattern.search(raw)
    if m is None:
        raise NoSettings(f"this {what} carries no Descent Lab settings")
    text = m.group(1).decode("utf-8", errors="replace")
    return html.unescape(text) if what == "SVG" else text


def read_settings(raw: bytes) -> dict[str, Any]:
    """The settings document of an exported file (PNG, SVG, HTML, GIF or a JSON export).

    NoSettings (a ValueError) with a one-line reason when the file has none.
    """
    head = raw[:512].lstrip()
    if raw.startswith(PNG_SIGNATURE):
        text = _png_text(raw)
    elif raw.startswith((b"GIF87a", b"GIF89a")):
        text = _gif_text(raw)
    elif raw.startswith(b"%PDF"):
        raise NoSettings("PDF exports carry no settings: export the view as PNG, SVG, HTML or JSON to re-run it")
    elif head.startswith(b"{"):
        text = raw.decode("utf-8", errors="replace")
    elif head.startswith((b"<svg", b"<?xml")) and b"<svg" in raw[:4096]:
        text = _markup_text(raw, _SVG_META, "SVG")
    elif head[:15].lower().startswith((b"<!doctype html", b"<html")):
        text = _markup_text(raw, _HTML_META, "HTML page")
    else:
        raise NoSettings("not a file written by descent-lab export (PNG, SVG, HTML, GIF or JSON)")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NoSettings("the file's settings are not valid JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("explorer_query"), str):
        raise NoSettings("the file's settings have no Explorer link ('explorer_query')")
    return doc
