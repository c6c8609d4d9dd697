"""Export: every format is produced and valid; JSON re-runs to the same numbers."""

import io
import re
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from app.export import formats as E
from app.cli import main
from app.explorer.compute import compute
from app.explorer.presets import get_preset
from app.explorer.state import from_query, to_query

CFG = get_preset("beale").config
RESULT = compute(CFG)
SMALL = E.ExportOptions(width=500, height=400, scale=1.0, frames=12, fps=10)


def test_gif_decodes_with_the_right_frame_count_and_size():
    data = E.export(CFG, "gif", SMALL, result=RESULT)
    img = Image.open(io.BytesIO(data))
    assert img.format == "GIF" and img.n_frames == 12 and img.size == (500, 400)
    img.seek(0)
    first = np.asarray(img.convert("RGB")).copy()
    img.seek(11)
    last = np.asarray(img.convert("RGB"))
    assert np.abs(first.astype(int) - last.astype(int)).sum() > 0  # the balls moved


def test_png_svg_pdf_through_the_shared_export_browser():
    png = E.export(CFG, "png", SMALL, result=RESULT)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (500, 400)
    svg = E.export(CFG, "svg", SMALL, result=RESULT)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"Adam" in svg  # the legend
    pdf = E.export(CFG, "pdf", SMALL, result=RESULT)
    assert pdf.startswith(b"%PDF")


def test_static_export_without_chromium_says_how_to_install(monkeypatch):
    monkeypatch.setattr(E, "chromium_available", lambda: False)
    with pytest.raises(E.ExportError, match="apt-get install chromium"):
        E.export(CFG, "png", SMALL, result=RESULT)
    assert E.export(CFG, "gif", SMALL, result=RESULT)[:3] == b"GIF"  # the others still work
    assert b"plotly" in E.export(CFG, "html", SMALL, result=RESULT)


def test_html_is_standalone_and_carries_the_data_and_animation():
    html = E.export(CFG, "html", SMALL, result=RESULT).decode()
    assert "<html" in html and "Plotly.newPlot" in html
    assert not re.search(r"<script[^>]+src=", html)  # plotly.js is inline: the file works offline
    assert '"frames"' in html or "addFrames" in html
    assert "Momentum (heavy ball)" in html


def test_html_shows_every_diagnostic_panel_under_the_animation_with_the_runs_lines():
    cfg = from_query("?surface=quadratic&opt=sgd,lr=1.5,color=0&opt=momentum,lr=0.5,momentum=0.3,color=1&steps=40")
    html = E.export(cfg, "html", SMALL).decode()
    section = html[html.index('aria-label="diagnostic panels"'):]
    figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{', section, re.S)
    assert len(figures) == 6
    titles = [json.loads(layout)["title"]["text"] for _, layout in figures]
    assert titles[-2].startswith("stability") and titles[-1].startswith("error")
    lines = [json.loads(data) for data, _ in figures]
    assert all(len(d) >= 2 for d in lines[:3])  # one line per run
    assert any("GD bound 2" in json.dumps(t) for t in lines[4])  # the stability panel's bound
    assert html.index('aria-label="diagnostic panels"') > html.index("Plotly.newPlot")  # under the map


def test_json_round_trip_reproduces_every_run_exactly(tmp_path):
    doc = json.loads(E.export(CFG, "json", SMALL, result=RESULT))
    assert doc["descent_lab_version"] and doc["explorer_query"] == to_query(CFG)
    assert doc["surface"]["name"] == "beale" and len(doc["runs"]) == len(CFG.optimizers)
    assert all(r["convention"] and r["columns"][:4] == ["step", "x", "y", "loss"] for r in doc["runs"])
    again = compute(E.config_from_document(doc))
    for run, recomputed in zip(doc["runs"], again.runs):
        t = recomputed.trajectory
        assert np.array_equal(np.array(run["rows"])[:, 1:3], t.positions)
        assert np.array_equal(np.array(run["rows"])[:, 3], t.losses)
    path = tmp_path / "view.json"
    path.write_bytes(E.export(CFG, "json", SMALL, result=RESULT))
    out = tmp_path / "again.json"
    assert main(["export", "--from", str(path), "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["runs"] == doc["runs"]


def test_csv_has_one_row_per_run_and_step():
    text = E.export(CFG, "csv", SMALL, result=RESULT).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("run,label,step,x,y,loss")
    expected = sum(r.trajectory.steps + 1 for r in RESULT.runs if r.ok)
    assert len(lines) == 1 + expected


def test_cli_export_from_url_and_preset(tmp_path, capsys):
    url = "http://127.0.0.1:8050/?" + to_query(from_query("surface=himmelblau&opt=adam,lr=0.1&steps=50"))
    out = tmp_path / "h.gif"
    assert main(["export", "--url", url, "--format", "gif", "--frames", "5", "--width", "400", "--height", "300",
                 "-o", str(out)]) == 0  # fmt: skip
    assert Image.open(out).n_frames == 5
    assert main(["export", "--preset", "nope", "--format", "gif", "-o", str(out)]) == 2
    assert main(["export", "--preset", "beale", "--format", "gif"]) == 2  # binary needs -o
    assert main(["export", "--preset", "beale", "--url", "x", "--format", "json"]) == 2
    assert main(["export", "--preset", "beale", "--format", "gif", "--width", "10", "-o", str(out)]) == 2
    capsys.readouterr()


def test_options_are_validated():
    with pytest.raises(ValueError, match="width"):
        E.ExportOptions(width=5)
    with pytest.raises(ValueError, match="frames"):
        E.ExportOptions(frames=10_000)
    with pytest.raises(ValueError, match="format"):
        E.export(CFG, "bmp", SMALL, result=RESULT)


def test_mp4_without_ffmpeg_says_how_to_install(monkeypatch):
    monkeypatch.setattr(E.shutil, "which", lambda name: None)
    with pytest.raises(E.ExportError, match="apt-get install ffmpeg"):
        E.export(CFG, "mp4", SMALL, result=RESULT)
