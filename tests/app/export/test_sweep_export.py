"""Sweep maps exported as figures: the page's figure laid out for slides, columns and pages, with its settings inside.

The first half needs no browser: the layout's arithmetic, the settings' containers, the data
formats and the command line's refusals.  The tests marked ``browser`` draw real images with the
export browser (Chromium): run them under the shared lock.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zlib
from dataclasses import replace
from functools import cache
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.export import sweep_layout as L
from app.export.sizes import SIZE_PRESETS
from app.export.sweep_export import export_map, filename, map_csv, map_npz, settings_of
from app.export.sweep_figure import MapSize, content_of, export_figure, export_size, tick_labels
from app.export.sweep_metadata import NoSettings, embed_pdf, embed_png, embed_svg, read_settings, settings_text
from app.maps.map_figure import map_figure
from app.maps.presets import PRESETS_BY_NAME
from app.maps.state import DEFAULT_MAP, Axis, build_surface, map_base, map_config, map_entry, map_from_query
from app.maps.sweep import run_sweep
from app.shell.raster import png_rgb

PRESETS = tuple(SIZE_PRESETS)


def small(name: str):
    """Small maps of every kind the page draws (a few hundred runs each)."""
    if name == "basin":  # four basins, a legend of four minima, contours and stars
        return replace(DEFAULT_MAP, grid=32, base=replace(DEFAULT_MAP.base, steps=300))
    if name == "momentum":  # lr × momentum on the quadratic: colour bar, two overlays and the stability bound
        return replace(PRESETS_BY_NAME["momentum_quadratic"].config, grid=32)
    if name == "valley":  # a 3:1 box coloured by steps
        return map_config("basin", map_base("long_valley", (-8.0, 1.0), 300,
                                            map_entry("momentum", lr=0.05, momentum=0.9)), 24, "steps")  # fmt: skip
    if name == "adam":  # final loss (log10 colour bar), a log x axis
        return replace(PRESETS_BY_NAME["adam_beale"].config, grid=24, base=replace(
            PRESETS_BY_NAME["adam_beale"].config.base, steps=300))  # fmt: skip
    raise KeyError(name)


MAPS = ("basin", "momentum", "valley", "adam")


@cache
def computed(name: str):
    cfg = small(name)
    surface = build_surface(cfg)
    return cfg, run_sweep(cfg, surface), surface


def page_figure(name: str):
    cfg, smap, surface = computed(name)
    return map_figure(cfg, smap, surface)


# --------------------------------------------------------------------------- layout (no browser)


def test_text_is_measured_and_wrapped_to_its_width():
    assert L.text_width("minimum 1 (3, 2)", 20) == pytest.approx(2 * L.text_width("minimum 1 (3, 2)", 10), rel=0.03)
    assert L.text_width("WWWW", 12) > L.text_width("iiii", 12)
    text = "Basins of attraction · Momentum (heavy ball) · η=0.05 on Long valley"
    lines = L.wrap(text, 150, 12)
    assert len(lines) >= 3 and " ".join(lines) == text
    assert all(L.text_width(s, 12) <= 150 for s in lines)
    assert all(L.text_width(s, 12) <= 40 for s in L.wrap("abcdefghijklmnopqrstuvwxyz", 40, 12))


def test_the_page_figure_is_read_for_its_text_and_shape():
    c = content_of(page_figure("basin"))
    assert c.title.startswith("Basins of attraction · Adam") and "Himmelblau" in c.title
    assert sum(label.startswith("minimum ") for label in c.legend) == 4
    assert c.aspect == pytest.approx(1.0)  # the square box at equal scales
    assert not c.colorbar_ticks
    m = content_of(page_figure("momentum"))
    assert m.aspect is None and m.colorbar_title == "steps to converge" and "1000" in " ".join(m.colorbar_ticks)
    assert any(label.startswith("analytic limit η") for label in m.legend)
    assert content_of(page_figure("valley")).aspect == pytest.approx(3.0)


def test_tick_labels_cover_linear_and_log_axes():
    assert {"−4", "0", "4"} <= set(tick_labels(-5.2, 5.2, False))
    assert {"10⁻²", "10⁻¹", "1", "10"} <= set(tick_labels(-2.0, 1.0, True))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", MAPS)
def test_blocks_never_overlap_stay_inside_and_leave_few_empty_bands(name, preset):
    frame = export_size(MapSize(preset), content_of(page_figure(name)))
    p = frame.placement
    assert (p.width, p.height) == (frame.width, frame.height)
    for i, a in enumerate(p.blocks):
        assert 0 <= a.x0 < a.x1 <= p.width + 0.5 and 0 <= a.y0 < a.y1 <= p.height + 0.5, a
        for b in p.blocks[i + 1 :]:
            if {a.name, b.name} != {"axes", "colorbar"}:  # the colour bar stands in the axes' right margin
                assert not a.overlaps(b), (a, b)
    assert p.waste <= L.MAX_WASTE
    assert L.widest(p.title_lines, p.typo.title) <= p.width - p.title.x0
    assert p.plot.x1 - p.plot.x0 >= 0.4 * p.width  # the map itself, not its labels, fills the figure


def test_presets_give_their_media_sizes():
    content = content_of(page_figure("momentum"))
    assert export_size(MapSize("slide"), content).pixels == (1920, 1080)
    assert export_size(MapSize("slide43"), content).pixels == (1440, 1080)
    column, page = export_size(MapSize("column"), content), export_size(MapSize("page"), content)
    assert column.pixels[0] == 1050 and page.pixels[0] == 2100
    assert column.width == 336 and page.width == 672  # 3.5 in and 7 in at 96 layout pixels per inch
    assert export_size(MapSize(None, width=1000, height=700), content).pixels == (1000, 700)
    free = export_size(MapSize(None, width=900), content)
    assert free.width == 900 and 300 < free.height < 900


def test_a_square_map_on_a_wide_slide_goes_beside_its_legend_and_a_long_one_fills_the_frame():
    basin = export_size(MapSize("slide"), content_of(page_figure("basin"))).placement
    assert basin.mode == "side" and basin.equal
    assert basin.plot.y1 - basin.plot.y0 == pytest.approx(basin.plot.x1 - basin.plot.x0)  # equal scales
    column = export_size(MapSize("column"), content_of(page_figure("valley"))).placement
    assert column.equal and (column.plot.x1 - column.plot.x0) == pytest.approx(3 * (column.plot.y1 - column.plot.y0))


def test_sizes_are_validated():
    for bad in ({"preset": "poster"}, {"preset": None}, {"preset": None, "width": 100},
                {"preset": None, "width": 5000}, {"preset": None, "height": 500}, {"preset": None, "width": 1.5}):  # fmt: skip
        with pytest.raises(ValueError):
            MapSize(**bad)


def test_the_export_figure_is_the_page_figure_laid_out():
    page = page_figure("momentum")
    fig, frame = export_figure(page, MapSize("slide"))
    assert [t["type"] for t in fig["data"]] == [t["type"] for t in page["data"]]  # the same traces, in order
    page_heat = next(t for t in page["data"] if t["type"] == "heatmap")
    heat = next(t for t in fig["data"] if t["type"] == "heatmap")
    assert heat["z"] == page_heat["z"] and heat["x"] == page_heat["x"]
    lay = fig["layout"]
    assert lay["paper_bgcolor"] == "#ffffff" and "dragmode" not in lay and lay["hovermode"] is False
    assert lay["xaxis"]["title"]["text"] == "η (lr)" and lay["yaxis"]["title"]["text"] == "μ (momentum)"
    texts = [a["text"] for a in lay["annotations"]]
    assert texts[0] == "Momentum (heavy ball) on Ill-conditioned quadratic"
    assert texts[1].startswith("from (-9, 4) · 32×32 settings")
    m = lay["margin"]
    assert (m["l"], m["t"]) == (frame.placement.plot.x0, frame.placement.plot.y0) and m["autoexpand"] is False
    assert "analytic limit η = 2(1 + μ)" in [t.get("name") for t in fig["data"] if t.get("showlegend")]
    assert page["layout"]["title"]["text"].startswith("Momentum")  # the page's figure is left as it was


# --------------------------------------------------------------------------- settings and data (no browser)


def test_settings_travel_in_png_svg_pdf_and_npz():
    cfg, smap, _ = computed("momentum")
    doc = settings_of(cfg)
    text = settings_text(doc)
    png = embed_png(png_rgb(np.zeros((4, 5, 3), dtype=np.uint8)), text)
    assert Image.open(io.BytesIO(png)).size == (5, 4)  # still a valid PNG
    svg = embed_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>', text)
    ElementTree.fromstring(svg)  # still well-formed XML
    pdf = embed_pdf(_minimal_pdf(), text, title="Momentum on the quadratic")
    for raw in (png, svg, pdf, map_npz(smap, text)):
        got = read_settings(raw)
        assert got == doc
        assert map_from_query(got["maps_query"]) == cfg  # the map itself comes back
    assert doc["kind"] == "hyper" and "ax=lr,0.01,10,log" in doc["maps_query"]


def _minimal_pdf() -> bytes:
    objs = [b"<</Type /Catalog /Pages 2 0 R>>", b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
            b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 100 100]>>"]  # fmt: skip
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<</Size 4\n/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref


def test_the_pdf_update_points_at_its_new_information_object():
    pdf = embed_pdf(_minimal_pdf(), '{"maps_query":"?kind=basin"}', title="T")
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[start:].startswith(b"xref\n4 1\n")
    obj_at = int(pdf[start:].split(b"\n")[2].split()[0])
    assert pdf[obj_at:].startswith(b"4 0 obj\n<</Title <FEFF0054>")
    trailer = pdf[pdf.rindex(b"trailer") :]
    assert b"/Info 4 0 R" in trailer and b"/Root 1 0 R" in trailer and b"/Size 5" in trailer
    prev = int(re.search(rb"/Prev (\d+)", trailer).group(1))
    assert pdf[prev:].startswith(b"xref\n0 4\n")  # the original table, untouched


def test_files_without_settings_are_refused_with_a_reason():
    _, smap, _ = computed("basin")
    for raw, why in ((png_rgb(np.zeros((2, 2, 3), dtype=np.uint8)), "PNG"), (map_npz(smap), "NPZ"),
                     (b"<svg></svg>", "SVG"), (_minimal_pdf(), "PDF"), (b"hello", "not a map")):  # fmt: skip
        with pytest.raises(NoSettings, match=why):
            read_settings(raw)
    forged = embed_png(png_rgb(np.zeros((2, 2, 3), dtype=np.uint8)), json.dumps({"explorer_query": "?x"}))
    with pytest.raises(NoSettings, match="maps_query"):
        read_settings(forged)


def test_csv_and_npz_hold_every_pixel():
    cfg, smap, surface = computed("momentum")
    rows = list(csv.reader(io.StringIO(export_map(cfg, smap, surface, "csv").decode())))
    assert rows[0] == ["lr", "momentum", "final_x", "final_y", "final_loss", "steps", "status", "minimum"]
    assert len(rows) == 1 + 32 * 32
    r, c = 5, 7  # row 5 of the map (the sixth momentum), column 7 (the eighth learning rate)
    row = rows[1 + r * 32 + c]
    assert float(row[0]) == smap.xs[c] and float(row[1]) == smap.ys[r]
    assert float(row[2]) == smap.final_x[r, c] and int(row[5]) == smap.steps[r, c]
    diverged = [x for x in rows[1:] if x[6] == "diverged"]
    assert len(diverged) == int(smap.diverged.sum()) > 0
    assert not any(v in ("nan", "inf", "-inf") for x in rows[1:] for v in x)
    assert np.isclose(smap.xs[0], 0.01) and np.isclose(smap.xs[-1], 10.0)
    with np.load(io.BytesIO(export_map(cfg, smap, surface, "npz")), allow_pickle=False) as z:
        assert np.array_equal(z["final_loss"], smap.final_loss) and np.array_equal(z["status"], smap.status)
        assert list(z["labels"]) == ["lr", "momentum"]
    assert map_csv(smap) == export_map(cfg, smap, surface, "csv")
    assert filename(cfg, "pdf") == "descent-lab-map-quadratic-momentum-lr-momentum.pdf"


def test_an_unknown_format_is_refused():
    cfg, smap, surface = computed("basin")
    with pytest.raises(ValueError, match="format"):
        export_map(cfg, smap, surface, "gif")


@pytest.mark.parametrize(
    "argv, why",
    [
        (["--hyper", "lr=0.1:1:4", "--hyper", "momentum=0:0.9:5", "--format", "png", "-o", "x.png"], "4 and 5"),
        (["--hyper", "lr=0.1:1:4", "--hyper", "momentum=0:0.9:4", "--start=50,50", "--format", "svg"], "start"),
        (["--format", "png", "--height", "500", "-o", "x.png"], "--height needs --width"),
        (["--format", "png", "--size", "slide", "--width", "800", "-o", "x.png"], "not both"),
        (["--format", "pdf"], "needs -o FILE"),
        (["--format", "png", "--width", "50", "-o", "x.png"], "200, 4000"),
    ],
)
def test_the_command_line_refuses_what_a_map_figure_cannot_be(argv, why, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", "--surface", "quadratic", "--optimizer", "momentum", "--grid", "4", "--steps", "5",
                 "--quiet", *argv])  # fmt: skip
    assert code == 2
    assert why in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_from_refuses_map_arguments_and_files_without_settings(tmp_path, capsys):
    f = tmp_path / "plain.png"
    f.write_bytes(png_rgb(np.zeros((2, 2, 3), dtype=np.uint8)))
    assert main(["sweep", "--from", str(f), "--surface", "booth", "--quiet"]) == 2
    assert "leave out --surface" in capsys.readouterr().err
    assert main(["sweep", "--from", str(f), "--quiet"]) == 2
    assert "carries no Descent Lab map settings" in capsys.readouterr().err


# --------------------------------------------------------------------------- drawn figures (Chromium)


def ink(png: bytes) -> np.ndarray:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return np.abs(a - 255).sum(axis=2) > 30


def band_waste(mask: np.ndarray, band: int) -> float:
    """Share of the picture in blank stripes (runs of blank rows or columns) at least ``band`` pixels thick.

    A stripe thinner than a line of text is the space between lines, not an empty band.
    """
    h, w = mask.shape

    def blank(lines: np.ndarray) -> int:
        total = run = 0
        for empty in list(lines) + [False]:
            if empty:
                run += 1
                continue
            total += run if run >= band else 0
            run = 0
        return total

    rows, cols = blank(~mask.any(axis=1)), blank(~mask.any(axis=0))
    return (rows * w + cols * h - rows * cols) / (w * h)


def svg_texts(svg: bytes) -> list[str]:
    """The text of every <text> element (its lines joined by spaces; plotly's zero-width spaces removed)."""
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for el in ElementTree.fromstring(svg).iter(ns + "text"):
        lines = [t for t in el.findall(ns + "tspan") if "line" in (t.get("class") or "").split()]
        text = " ".join("".join(t.itertext()) for t in lines) if lines else "".join(el.itertext())
        out.append(text.replace("\u200b", ""))
    return out


@pytest.mark.browser
@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("preset", PRESETS)
def test_png_has_the_preset_pixels_and_no_empty_bands(name, preset):
    cfg, smap, surface = computed(name)
    png = export_map(cfg, smap, surface, "png", MapSize(preset))
    frame = export_size(MapSize(preset), content_of(page_figure(name)))
    assert Image.open(io.BytesIO(png)).size == frame.pixels
    mask = ink(png)
    assert mask.mean() > 0.2  # not mostly paper (a 3:1 valley in a 3.5 in column is a fifth map, the rest text)
    line = int(np.ceil(L.LINE * frame.placement.typo.tick * frame.scale))
    assert band_waste(mask, line) <= 0.15
    assert map_from_query(read_settings(png)["maps_query"]) == cfg


@pytest.mark.browser
def test_svg_names_axes_ticks_legend_title_and_the_bound():
    cfg, smap, surface = computed("momentum")
    svg = export_map(cfg, smap, surface, "svg", MapSize("column"))
    texts = svg_texts(svg)
    joined = " ".join(texts)
    for needed in ("η (lr)", "μ (momentum)", "steps to converge", "analytic limit η = 2(1 + μ)", "diverged · ",
                   "Momentum (heavy ball) on"):  # fmt: skip
        assert needed in joined, needed
    assert {"10−2", "10−1", "1", "10", "0", "0.5"} <= set(texts)  # tick labels of both axes (10⁻² is "10" + "−2")
    root = ElementTree.fromstring(svg)
    assert root.get("width") == "336" and root.get("viewBox").startswith("0 0 336 ")  # 3.5 in at 96 px/in
    assert read_settings(svg) == settings_of(cfg)
    basin = svg_texts(export_map(*computed("basin"), "svg", MapSize("slide")))
    assert {"start x₀", "start y₀"} <= set(basin)
    assert sum(t.startswith("minimum ") for t in basin) == 4


@pytest.mark.browser
def test_pdf_has_the_physical_size_its_fonts_and_its_settings():
    cfg, smap, surface = computed("adam")
    for preset, width_pt in (("column", 252.0), ("page", 504.0)):
        pdf = export_map(cfg, smap, surface, "pdf", MapSize(preset))
        box = [float(v) for v in re.search(rb"/MediaBox \[([^\]]+)\]", pdf).group(1).split()]
        assert box[2] - box[0] == pytest.approx(width_pt, abs=1.0)
        assert b"/FontFile2" in pdf  # fonts are embedded: LaTeX shows the text as drawn
        assert read_settings(pdf) == settings_of(cfg)


def _plain_png_text_chunks(png: bytes) -> dict[bytes, bytes]:
    out, pos = {}, 8
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n : pos + 12 + n])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            out[key] = value
        pos += 12 + n
    return out


@pytest.mark.browser
def test_the_command_line_writes_the_figure_and_recomputes_it_from_the_file(tmp_path, capsys):
    png, npz, again = tmp_path / "stability.png", tmp_path / "a.npz", tmp_path / "b.npz"
    args = ["sweep", "--surface", "quadratic", "--param", "kappa=10", "--optimizer", "momentum", "--set", "lr=0.1",
            "--set", "momentum=0.5", "--start=-9,4", "--hyper", "lr=0.01:10:24:log", "--hyper",
            "momentum=0:0.99:24:lin", "--steps", "400", "--color-by", "steps", "--quiet"]  # fmt: skip
    assert main([*args, "--format", "png", "--size", "slide", "-o", str(png)]) == 0
    raw = png.read_bytes()
    assert Image.open(io.BytesIO(raw)).size == (1920, 1080)
    doc = json.loads(_plain_png_text_chunks(raw)[b"descent-lab"])
    cfg = map_from_query(doc["maps_query"])
    assert (cfg.kind, cfg.grid, cfg.show, cfg.x_axis) == ("hyper", 24, "steps", Axis("lr", 0.01, 10.0, True))
    assert main([*args, "--format", "npz", "-o", str(npz)]) == 0
    assert main(["sweep", "--from", str(png), "--format", "npz", "-o", str(again), "--quiet"]) == 0
    with np.load(npz, allow_pickle=False) as a, np.load(again, allow_pickle=False) as b:
        for key in ("xs", "ys", "final_x", "final_loss", "steps", "status"):
            assert np.array_equal(a[key], b[key]), key
    svg = tmp_path / "m.svg"
    assert main(["sweep", "--surface", "himmelblau", "--optimizer", "adam", "--set", "lr=0.05", "--grid", "16",
                 "--steps", "200", "--format", "svg", "--width", "900", "-o", str(svg), "--quiet"]) == 0  # fmt: skip
    root = ElementTree.fromstring(svg.read_bytes())
    assert root.get("width") == "900"
    assert "start x₀" in svg_texts(svg.read_bytes())
    capsys.readouterr()


COLLISIONS_JS = """() => {
  const svg = document.querySelector('svg');
  const view = svg.viewBox.baseVal;
  const plot = svg.querySelector('.bglayer rect, rect.bg');
  const boxes = [];
  for (const el of svg.querySelectorAll('text')) {
    const text = el.textContent.trim();
    if (!text) continue;
    const r = el.getBBox();
    if (r.width === 0 || r.height === 0) continue;
    const m = el.getCTM();
    const p = [[r.x, r.y], [r.x + r.width, r.y + r.height], [r.x + r.width, r.y], [r.x, r.y + r.height]]
      .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
    const xs = p.map(q => q[0]), ys = p.map(q => q[1]);
    boxes.push({text, cls: el.getAttribute('class') || '', x0: Math.min(...xs), x1: Math.max(...xs),
                y0: Math.min(...ys), y1: Math.max(...ys)});
  }
  return {boxes, width: view.width, height: view.height};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", MAPS)
def test_no_two_labels_collide_and_none_leaves_the_picture(name, preset, browser_page):
    cfg, smap, surface = computed(name)
    svg = export_map(cfg, smap, surface, "svg", MapSize(preset))
    browser_page.set_content(svg.decode("utf-8"))
    found = browser_page.evaluate(COLLISIONS_JS)
    boxes, w, h = found["boxes"], found["width"], found["height"]
    assert len(boxes) > 10
    shrink = 1.0  # glyph boxes include the font's line gap; a pixel of it may touch
    for b in boxes:
        assert -shrink <= b["x0"] and b["x1"] <= w + shrink and -shrink <= b["y0"] and b["y1"] <= h + shrink, b
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (a["x1"] - shrink <= b["x0"] or b["x1"] - shrink <= a["x0"] or a["y1"] - shrink <= b["y0"]
                     or b["y1"] - shrink <= a["y0"])  # fmt: skip
            assert apart, (a, b)


@pytest.fixture(scope="module")
def browser_page():
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = b.new_page()
        yield page
        b.close()
