"""The Explorer's export bar downloads the view on screen, in every format.

Each test opens the default view, switches to a lesson (so the view is not the default one),
picks a format and downloads; the file must describe the lesson's view.
"""

from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from app.explorer.export_bar import CHOICES, ExportIds
from app.explorer.presets import get_preset
from app.explorer.state import from_query, to_query
from app.export.metadata import read_settings

LESSON = get_preset("quadratic")  # "Ill-conditioned": the κ = 100 quadratic, four runs


def _lesson_on_screen(web):
    web.goto(web.base)
    page = web.page
    n = web.applied()
    page.get_by_role("button", name=LESSON.title).click()
    web.wait_applied(n + 1)
    page.wait_for_function("location.search.includes('surface=quadratic')")
    return page


def _download(web, fmt: str) -> bytes:
    page = web.page
    label = dict(CHOICES)[fmt]
    page.locator(f"#{ExportIds.FORMAT}").click()
    page.get_by_role("option", name=label).click()
    with page.expect_download(timeout=60_000) as info:
        page.locator(f"#{ExportIds.BUTTON}").click()
    download = info.value
    assert download.suggested_filename == f"descent-lab-quadratic.{fmt}"
    data = Path(download.path()).read_bytes()
    page.wait_for_function(f"document.getElementById('{ExportIds.STATUS}').innerText.includes('descent-lab-quadratic.{fmt}')")
    return data


def _is_the_lesson(query: str) -> bool:
    return from_query(query) == LESSON.config


@pytest.mark.parametrize("fmt", ["png", "svg", "html", "gif", "json"])
def test_pictures_and_data_carry_the_view_on_screen(web, fmt):
    page = _lesson_on_screen(web)
    data = _download(web, fmt)
    assert _is_the_lesson(read_settings(data)["explorer_query"])
    assert _is_the_lesson(urlsplit(page.url).query)  # and it is the page's own view
    if fmt == "png":
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG" and im.size == (2000, 1600)
    elif fmt == "svg":
        text = " ".join(t.text or "" for t in ET.fromstring(data).iter() if t.tag.endswith("text"))
        assert "Nesterov" in text and "Adam" not in text  # the lesson's legend, not Beale's race
    elif fmt == "html":
        assert b"plotly" in data and b"Nesterov" in data
    elif fmt == "gif":
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "GIF" and im.n_frames > 10
    else:
        doc = json.loads(data)
        assert doc["surface"]["name"] == "quadratic" and doc["explorer_query"] == to_query(LESSON.config)
        assert [r["optimizer"] for r in doc["runs"]] == [e.name for e in LESSON.config.optimizers]
    web.assert_clean()


def test_pdf_and_csv_are_the_view_on_screen(web):
    _lesson_on_screen(web)
    pdf = _download(web, "pdf")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    csv = _download(web, "csv").decode()
    header, *rows = csv.strip().splitlines()
    assert header.startswith("run,label,step,x,y,loss")
    labels = {row.split(",")[1] for row in rows}
    assert len(labels) == len(LESSON.config.optimizers) and any("Nesterov" in label for label in labels)
    starts = {tuple(row.split(",")[3:5]) for row in rows if row.split(",")[2] == "0"}
    assert starts == {(repr(LESSON.config.start[0]), repr(LESSON.config.start[1]))}
    web.assert_clean()


def test_mp4_is_the_view_on_screen_or_says_what_it_needs(web):
    page = _lesson_on_screen(web)
    if shutil.which("ffmpeg"):
        data = _download(web, "mp4")
        assert data[4:8] == b"ftyp"
    else:
        page.locator(f"#{ExportIds.FORMAT}").click()
        page.get_by_role("option", name=dict(CHOICES)["mp4"]).click()
        page.locator(f"#{ExportIds.BUTTON}").click()
        page.wait_for_function(f"document.getElementById('{ExportIds.STATUS}').innerText.includes('ffmpeg')")
    web.assert_clean()


def test_the_size_and_panel_pickers_shape_the_picture(web):
    page = _lesson_on_screen(web)
    page.locator(f"#{ExportIds.SIZE}").click()
    page.get_by_role("option", name="Slide 16:9").click()
    page.locator(f"#{ExportIds.PANELS}").click()
    page.get_by_role("option", name="Map + every panel").click()
    svg = _download(web, "svg")
    root = ET.fromstring(svg)
    assert root.get("width") == "1920" and root.get("height") == "1080"  # the slide frame
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "loss" in text and "gradient norm" in text and "effective learning rate" in text
    web.assert_clean()
