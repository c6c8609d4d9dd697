"""The export browser: the images plotly.io would make, on a page reused in quick succession, reloaded when idle."""

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from app.export import formats as E
from app.export import browser as B
from app.explorer.compute import compute
from app.shell.style import SURFACE_SCALE, color
from app.export.imaging import hex_rgb
from app.explorer.presets import get_preset

CFG = get_preset("beale").config
RESULT = compute(CFG)
FIG = E.publication_figure(RESULT)


def rgb(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(int)


def test_png_has_the_pixel_size_of_width_and_height_times_scale_and_the_surface_colours():
    png = E.export(CFG, "png", E.ExportOptions(width=500, height=400, scale=2.0), result=RESULT)
    a = rgb(png)
    assert a.shape == (800, 1000, 3)
    # Beale is highest in the corners of its box: the top of the colour scale must be there, in quantity
    top = np.array([int(SURFACE_SCALE[-1][1][i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(a - top).sum(axis=2) <= 6).sum() > 2000
    assert (a.sum(axis=2) == 3 * 255).mean() > 0.2  # the white paper around the map
    for run in RESULT.runs:  # every run's colour is drawn (path, ball, legend)
        c = np.array(hex_rgb(color(run.entry.color)))
        assert (np.abs(a - c).sum(axis=2) <= 12).sum() > 50, run.entry.label()


def test_the_image_is_the_one_plotly_io_makes():
    """Same pixels as the previous path (plotly.io validates the figure and adds the default template)."""
    import kaleido
    import plotly.io as pio

    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    try:
        with pytest.warns(UserWarning):  # plotly passes options a running server ignores
            expected = pio.to_image(FIG, format="png", width=500, height=400, scale=1)
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    got = E.static_image(FIG, "png", E.ExportOptions(width=500, height=400, scale=1.0))
    assert rgb(got).shape == (400, 500, 3)
    assert np.array_equal(rgb(got), rgb(expected))


def test_render_spec_adds_the_default_template_without_touching_the_figure(monkeypatch):
    import plotly.io as pio

    spec = E._render_spec(FIG)
    assert "template" not in FIG["layout"]
    assert spec["layout"]["template"] == pio.templates[pio.templates.default].to_plotly_json()
    assert spec["data"] is FIG["data"]
    monkeypatch.setattr(pio.templates, "default", None)
    assert E._render_spec(FIG) is FIG


def _page():
    B.start()
    return B._session.kaleido


def test_images_in_quick_succession_share_a_page_and_match_a_fresh_one(monkeypatch):
    assert B.defers_reload()  # this kaleido has the hook the browser relies on
    monkeypatch.setattr(B, "IDLE_RELOAD", 30.0)
    k = _page()
    B.wait_idle(fresh=True)
    assert k.images_on_page == 0
    opts = E.ExportOptions(width=400, height=320, scale=1.0)
    first = rgb(E.static_image(FIG, "png", opts))  # on a freshly loaded page
    E.static_image(FIG, "svg", opts)
    E.static_image(FIG, "pdf", opts)
    assert E.static_image(FIG, "pdf", opts).startswith(b"%PDF")  # the same PDF twice on one page
    again = rgb(E.static_image(FIG, "png", opts))
    assert k.images_on_page == 5 and not k.reloads  # no reload in between
    assert np.array_equal(first, again)  # a used page draws the same pixels


def test_the_page_is_reloaded_in_the_background_once_idle(monkeypatch):
    monkeypatch.setattr(B, "IDLE_RELOAD", 0.2)
    k = _page()
    E.static_image(FIG, "png", E.ExportOptions(width=300, height=240, scale=1.0))
    assert k.images_on_page >= 1
    deadline = time.monotonic() + 20
    while (k.images_on_page or k.reloads) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert k.images_on_page == 0 and not k.reloads and k.tabs_ready.qsize() == 1


def test_a_run_of_images_or_a_failed_one_reloads_the_page(monkeypatch):
    monkeypatch.setattr(B, "IDLE_RELOAD", 30.0)
    monkeypatch.setattr(B, "MAX_IMAGES_PER_PAGE", 2)
    k = _page()
    B.wait_idle(fresh=True)
    tiny = {"data": [{"type": "scatter", "x": [0, 1], "y": [1, 0]}], "layout": {}}
    B.render(tiny, "png", 200, 160, 1.0)
    assert k.images_on_page == 1
    B.render(tiny, "png", 200, 160, 1.0)
    assert k.images_on_page == 0  # the second image of the run started a reload
    with pytest.raises(Exception, match="525"):  # plotly.js throws on this figure
        B.render({"data": [None], "layout": {}}, "png", 200, 160, 1.0)
    assert k.images_on_page == 0  # reloaded after the failure (the first image on its page)
    B.wait_idle()
    assert B._session.healthy() and rgb(B.render(tiny, "png", 200, 160, 1.0)).shape == (160, 200, 3)


def test_threads_each_get_their_own_image():
    sizes = [(300, 240), (420, 260), (260, 380)]
    out: dict[int, tuple] = {}

    def work(i: int, w: int, h: int) -> None:
        out[i] = rgb(E.static_image(FIG, "png", E.ExportOptions(width=w, height=h, scale=1.0))).shape

    threads = [threading.Thread(target=work, args=(i, w, h)) for i, (w, h) in enumerate(sizes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert out == {i: (h, w, 3) for i, (w, h) in enumerate(sizes)}


def test_a_browser_that_lost_its_tab_is_replaced():
    B.start()
    old = B._session
    old.kaleido.reload_failed = True  # as if a page reload had failed: its tab never comes back
    png = E.static_image(FIG, "png", E.ExportOptions(width=300, height=240, scale=1.0))
    assert rgb(png).shape == (240, 300, 3)
    assert B._session is not old and B._session.healthy()
    assert not old.thread.is_alive() and old.kaleido.subprocess.poll() is not None  # the old one was closed
