"""Every picture carries the link of its view; ``export --from picture`` re-runs the same numbers."""

from __future__ import annotations

import io
import json
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from PIL import Image

from app.cli import main
from app.explorer.presets import get_preset
from app.explorer.state import to_query
from app.export import formats as E
from app.export.metadata import KEYWORD, MAX_CHUNKS, NoSettings, embed_png, read_settings

CFG = get_preset("quadratic").config  # not the default view
SMALL = E.ExportOptions(width=500, height=400, scale=1.0, frames=6, fps=10)


def _png(width: int = 3, height: int = 2) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _chunks(png: bytes) -> list[bytes]:
    pos, kinds = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body, crc = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length], png[pos + 8 + length : pos + 12 + length]
        assert struct.unpack(">I", crc)[0] == zlib.crc32(kind + body) & 0xFFFFFFFF  # every chunk valid
        kinds.append(kind)
        pos += 12 + length
    return kinds


def test_a_png_keeps_its_pixels_and_gains_one_valid_text_chunk():
    png = _png()
    out = embed_png(png, '{"explorer_query":"surface=quadratic"}')
    assert _chunks(out) == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]
    with Image.open(io.BytesIO(out)) as im:
        assert im.size == (3, 2) and im.getpixel((1, 1)) == (10, 20, 30)
        assert json.loads(im.text[KEYWORD]) == {"explorer_query": "surface=quadratic"}  # Pillow reads it too
    assert read_settings(out) == {"explorer_query": "surface=quadratic"}


@pytest.mark.parametrize("fmt", ["png", "svg", "html", "gif", "json"])
def test_every_picture_format_carries_the_link_of_its_view(fmt):
    data = E.export(CFG, fmt, SMALL)
    doc = read_settings(data)
    assert doc["explorer_query"] == to_query(CFG) and doc["descent_lab_version"]
    if fmt == "svg":
        ET.fromstring(data)  # still well-formed XML
        assert b'<metadata id="descent-lab">' in data[:2000]
    if fmt == "gif":
        with Image.open(io.BytesIO(data)) as im:
            assert im.n_frames == 6


def test_export_from_a_png_reruns_the_same_numbers(tmp_path):
    picture = tmp_path / "slide.png"
    assert main(["export", "--preset", "quadratic", "--format", "png", "--width", "500", "--height", "400",
                 "-o", str(picture)]) == 0  # fmt: skip
    again = tmp_path / "again.json"
    assert main(["export", "--from", str(picture), "--format", "json", "-o", str(again)]) == 0
    direct = json.loads(E.export(CFG, "json", SMALL))
    rerun = json.loads(again.read_text())
    assert rerun["explorer_query"] == direct["explorer_query"]
    assert [r["rows"] for r in rerun["runs"]] == [r["rows"] for r in direct["runs"]]


def test_files_without_settings_are_refused_with_a_reason(tmp_path, capsys):
    cases = {
        "plain.png": _png(),
        "doc.pdf": b"%PDF-1.7\n...",
        "notes.txt": b"hello",
        "broken.png": _png()[:20],
        "page.html": b"<!DOCTYPE html><html><head></head><body></body></html>",
        "pic.svg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "other.json": b'{"something": 1}',
        "bad-json.svg": b'<svg><metadata id="descent-lab">{not json</metadata></svg>',
    }
    for name, raw in cases.items():
        with pytest.raises(NoSettings):
            read_settings(raw)
        path = tmp_path / name
        path.write_bytes(raw)
        assert main(["export", "--from", str(path), "--format", "json"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"descent-lab: error: {path}: ") and err.count("\n") == 1
    with pytest.raises(NoSettings, match="PDF exports carry no settings"):
        read_settings(cases["doc.pdf"])


def test_hostile_pngs_are_walked_within_bounds():
    png = _png()
    # a chunk claiming to be 4 GB long, and an endless run of empty chunks before any text
    huge = png[:33] + struct.pack(">I", 0xFFFFFFF0) + b"tEXt" + b"x" * 10
    many = png[:33] + (struct.pack(">I", 0) + b"zzZz" + b"\0\0\0\0") * (MAX_CHUNKS + 5) + png[33:]
    for raw in (huge, many):
        with pytest.raises(NoSettings):
            read_settings(raw)
