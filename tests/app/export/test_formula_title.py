"""The surface's formula under an exported figure's title: typeset by MathJax when it is installed, plain otherwise."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from app.explorer.compute import compute
from app.explorer.presets import get_preset
from app.export import formats as E
from app.export import mathjax as M

CFG = get_preset("beale").config
RESULT = compute(CFG)
LATEX = RESULT.surface.latex
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """MathJax "installed" as a small script, whatever this machine has (for the pure tests)."""
    script = tmp_path / "tex-svg.js"
    script.write_text("window.typesetHere = 1; // a '</script>' inside must not end the element\n", encoding="utf-8")
    monkeypatch.setattr(M, "SCRIPT", script)
    return script


@pytest.fixture
def missing(tmp_path, monkeypatch):
    monkeypatch.setattr(M, "SCRIPT", tmp_path / "not-installed" / "tex-svg.js")


def subtitle(fig):
    return fig["layout"]["title"].get("subtitle", {}).get("text")


def test_the_export_figure_carries_the_formula_title_when_asked(installed):
    for choice in (True, None):  # asked for, or by default when MathJax is installed
        fig, frame = E.static_export_figure(RESULT, E.ExportOptions(title_formula=choice))
        assert subtitle(fig) == f"$f(x, y) = {LATEX}$"
        assert fig["layout"]["title"]["text"] == "Beale"  # the name stays the title, in the export face
        assert fig["layout"]["margin"]["t"] == M.TOP_WITH_FORMULA  # room for it above the map
        assert (frame.width, frame.height) == (1000, 800)
    fig, _ = E.static_export_figure(RESULT, E.ExportOptions(title_formula=False))
    assert subtitle(fig) is None and "$" not in str(fig["layout"]["title"])
    assert fig["layout"]["margin"]["t"] == 44


def test_without_mathjax_the_title_stays_plain_text_even_when_asked(missing):
    assert not M.available()
    for choice in (True, None, False):
        fig, _ = E.static_export_figure(RESULT, E.ExportOptions(title_formula=choice))
        assert subtitle(fig) is None and "$" not in str(fig["layout"]["title"])
    html = E.html_document(RESULT, n_frames=4, formula=True).decode()
    assert "$f(x, y)" not in html and "typesetHere" not in html


def test_formula_tex_wraps_the_surface_s_latex_and_refuses_what_would_break_out_of_math():
    assert M.formula_tex(r"x^2 - y^2") == "$f(x, y) = x^2 - y^2$"
    assert M.formula_tex(" x ") == "$f(x, y) = x$"
    for bad in ("", "   ", None, r"x$ + \text{$y}"):
        assert M.formula_tex(bad) is None


def test_with_formula_title_leaves_the_figure_it_was_given_alone():
    fig = {"data": [], "layout": {"title": {"text": "Beale", "font": {"size": 15}}, "margin": {"t": 36}}}
    out = M.with_formula_title(fig, "x^2")
    assert fig == {"data": [], "layout": {"title": {"text": "Beale", "font": {"size": 15}}, "margin": {"t": 36}}}
    assert out["layout"]["title"]["subtitle"]["text"] == "$f(x, y) = x^2$" and M.has_formula(out)
    assert out["layout"]["title"]["font"] == {"size": 15} and out["layout"]["margin"]["t"] == M.TOP_WITH_FORMULA
    assert not M.has_formula(fig) and not M.has_formula(M.with_formula_title(fig, "a$b"))


def test_a_formula_is_set_smaller_for_a_narrow_picture_and_left_out_when_it_cannot_fit():
    fig = {"data": [], "layout": {"title": {"text": "Beale"}}}
    wide = M.with_formula_title(fig, LATEX, width=1000)
    assert wide["layout"]["title"]["subtitle"]["font"]["size"] == M.SUBTITLE_SIZE
    w, _ = M.formula_extent(M.formula_tex(LATEX), M.SUBTITLE_SIZE)
    assert 300 < w < 600  # Beale's formula is ~420 px wide at 17 px (MathJax's own measure)
    narrow = M.with_formula_title(fig, LATEX, width=336)  # a column's width
    size = narrow["layout"]["title"]["subtitle"]["font"]["size"]
    assert M.MIN_SUBTITLE_SIZE <= size < M.SUBTITLE_SIZE
    assert M.WIDTH_MARGIN * M.formula_extent(M.formula_tex(LATEX), size)[0] <= 336 - 2 * M.TITLE_LEFT
    assert not M.has_formula(M.with_formula_title(fig, LATEX, width=200))  # not even at the smallest size
    # a matrix stacks two rows: the formula is taller and the map moves down for it
    tall = M.with_formula_title(fig, r"\begin{pmatrix}u\\v\end{pmatrix} = R \begin{pmatrix}x\\y\end{pmatrix}")
    assert tall["layout"]["margin"]["t"] > M.TOP_WITH_FORMULA
    assert M.formula_extent("$x^2$", 17)[1] < M.formula_extent(r"$\frac{1}{n}\sum x$", 17)[1]


def test_the_html_export_carries_mathjax_inline_with_the_formula(installed):
    html = E.html_document(RESULT, n_frames=4, formula=True).decode()
    assert "<script>window.typesetHere = 1; // a '<\\/script>' inside" in html  # inline, and it cannot end early
    assert html.index("typesetHere") < html.index("Plotly.newPlot")  # loaded before plotly draws
    assert f'"text":"$f(x, y) = {LATEX}$"'.replace("\\", "\\\\") in html
    plain = E.html_document(RESULT, n_frames=4, formula=False).decode()
    assert "typesetHere" not in plain and "$f(x, y)" not in plain


def test_options_and_the_command_line_flag(installed, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="title_formula"):
        E.ExportOptions(title_formula="yes")
    seen = []
    monkeypatch.setattr(E, "export", lambda cfg, fmt, opts: seen.append(opts.title_formula) or b"x")
    for flag, expected in (([], None), (["--title-formula"], True), (["--no-title-formula"], False)):
        assert main(["export", "--preset", "beale", "--format", "png", *flag, "-o", str(tmp_path / "f.png")]) == 0
        assert seen[-1] is expected


# ------------------------------------------------------------------ through the export browser (Chromium, MathJax)


def test_mathjax_is_installed_for_the_browser_tests():
    assert M.available(), f"MathJax is not installed at {M.SCRIPT}: run make (npm installs web/package.json)"


def _texts(root):
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (f"{SVG}text", f"{SVG}tspan")]


@pytest.mark.parametrize("svg_text", ["font", "paths"])
def test_an_svg_export_shows_the_formula_as_mathjax_paths_not_its_source(svg_text):
    opts = E.ExportOptions(width=700, height=560, scale=1.0, title_formula=True, svg_text=svg_text)
    root = ET.fromstring(E.export(CFG, "svg", opts, result=RESULT))
    groups = [g for g in root.iter(f"{SVG}g") if "gtitle-subtitle-math-group" in (g.get("class") or "")]
    assert len(groups) == 1
    math = [el for el in groups[0].iter() if el.get("data-mml-node") == "math"]
    assert len(math) == 1  # MathJax's tree of the formula ...
    nodes = {el.get("data-mml-node") for el in groups[0].iter()}
    assert {"mi", "mo", "mn", "msup"} <= nodes
    glyphs = [p for p in groups[0].iter(f"{SVG}path") if (p.get("id") or "").startswith("MJX-")]
    assert len(glyphs) >= 8 and all(p.get("d") for p in glyphs)  # ... drawn by glyph outlines
    uses = [u for u in groups[0].iter(f"{SVG}use")]
    assert len(uses) >= 20  # each character of the formula places one
    assert not any("$" in t for t in _texts(root))  # no text prints the TeX source
    if svg_text == "paths":
        assert _texts(root) == []  # and the rest of the text is outlines too
    else:
        assert "Beale" in _texts(root)


def test_a_png_export_inks_the_formula_under_the_title():
    def band(choice):
        opts = E.ExportOptions(width=700, height=560, scale=1.0, title_formula=choice)
        a = np.asarray(Image.open(io.BytesIO(E.export(CFG, "png", opts, result=RESULT))).convert("L")).astype(int)
        assert a.shape == (560, 700)
        # under the title's line, left of the map's tick labels: where "f(x, y) =" begins
        return a[36:66, 0:40]

    assert (band(True) < 128).sum() > 40  # the formula's dark ink
    assert (band(False) < 250).sum() == 0  # the plain figure's margin there is white
