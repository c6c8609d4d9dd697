"""The Explorer's basins layer in headless Chromium: ticked, drawn under the runs, following a slider, by keyboard too."""

from __future__ import annotations

import re

import pytest

from tests.browser.axe import describe, violations
from tests.browser.conftest import open_explorer

pytestmark = pytest.mark.browser

QUERY = "?surface=himmelblau&steps=120&opt=adam,lr=0.1,color=0&opt=sgd,lr=0.001,color=1"
FIRST_LR = '[id*=\'"group":"hp"\'][id*=\'"key":"lr"\'][id*=\'"slot":0\'][id*=\'"type":"slider"\'] [role="slider"]'
DRAWN = "window.DescentLabBasins && DescentLabBasins.state().drawn && !DescentLabBasins.state().pending"


def _images(page) -> list[dict]:
    return page.evaluate("""() => { const gd = document.querySelector('#map .js-plotly-plot');
        return (gd.layout.images || []).map(i => ({src: i.source.slice(0, 40), layer: i.layer, x: i.x, sizex: i.sizex})); }""")


def _legend(page) -> list[str]:
    return page.locator("#basins-note .basins-legend li").all_inner_texts()


def test_ticking_basins_colours_the_map_and_the_layer_follows_the_first_optimizer(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1280, "height": 800}), live_server + QUERY)
    assert page.locator("#basins-note").is_hidden()
    assert len(_images(page)) == 1  # the surface's colours alone
    page.get_by_role("checkbox", name="basins").check()
    page.wait_for_function(DRAWN)
    page.wait_for_function("window.location.search.includes('basins=1')")  # the link carries the layer
    images = _images(page)
    assert len(images) == 2 and images[1]["src"].startswith("data:image/png;base64,") and images[1]["layer"] == "below"
    assert images[1]["x"] < -5.0 and images[1]["sizex"] > 10.0  # over the whole box (Himmelblau's is [-5, 5]²)
    caption = page.locator("#basins-note .basins-caption").inner_text()
    assert caption == "Colour: where each start ends with Adam · η=0.1 after 120 steps, 128 × 128 starts."
    legend = _legend(page)
    assert sum(t.startswith("minimum") for t in legend) == 4, legend
    # the runs are still drawn over it, and the page's other parts are untouched
    assert len(page.evaluate("DescentLab.drawn().trails")) == 2
    first = page.evaluate("DescentLabBasins.state()")
    # the first optimizer's slider, by keyboard (one move: one race, then its commit, of one configuration):
    # the layer is asked for again and redrawn for the link now shown
    shown = page.evaluate("DescentLab.state().query")
    page.locator(FIRST_LR).first.focus()
    page.keyboard.press("PageUp")
    page.wait_for_function(f"DescentLab.state().query !== {shown!r} && {DRAWN}"
                           " && DescentLabBasins.state().forQuery === DescentLab.state().query", timeout=20_000)  # fmt: skip
    moved = page.evaluate("DescentLabBasins.state()")
    assert moved["key"] != first["key"]
    lr = re.search(r"opt=adam,lr=([0-9.e-]+)", moved["forQuery"]).group(1)
    assert float(lr) > 0.1
    assert f"with Adam · η={lr} after 120 steps" in page.locator("#basins-note .basins-caption").inner_text()
    draws = moved["draws"]
    page.locator("#basins-toggle input").focus()
    page.keyboard.press("Space")  # unticked by keyboard
    page.wait_for_function("!DescentLabBasins.state().on")
    page.wait_for_function("document.querySelector('#map .js-plotly-plot').layout.images.length === 1")
    assert page.locator("#basins-note").is_hidden()
    page.wait_for_function("!window.location.search.includes('basins=1')")
    page.keyboard.press("Space")  # ticked again: the last answer is drawn again at once
    page.wait_for_function(DRAWN)
    assert page.evaluate("DescentLabBasins.state().draws") == draws + 1
    found = violations(page)
    assert not found, describe(found)
    assert not errors, errors


def test_in_3d_and_on_data_surfaces_the_caption_says_why_there_is_no_layer(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True),
                                 live_server + "?surface=linreg&steps=50&opt=sgd,lr=0.01")  # fmt: skip
    page.get_by_role("checkbox", name="basins").tap()
    # answered for the link shown (ticking the box changes the link: the page asks again for the new one)
    page.wait_for_function("window.location.search.includes('basins=1') && !DescentLabBasins.state().pending"
                           " && DescentLabBasins.state().answered === DescentLab.state().query")  # fmt: skip
    text = page.locator("#basins-note .basins-caption").inner_text()
    assert text.startswith("No basins layer: basins are drawn for the analytic and typed surfaces"), text
    assert len(_images(page)) == 1
    assert not errors, errors
    page, errors = open_explorer(page.context, live_server + QUERY + "&basins=1&view=3d")
    page.wait_for_function("document.querySelector('#basins-note .basins-caption') !== null")
    assert page.locator("#basins-note .basins-caption").inner_text() == "Basins are drawn on the contour map."
    assert not errors, errors


def test_a_link_with_the_layer_opens_with_it(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1280, "height": 800}), live_server + QUERY + "&basins=1")
    assert page.get_by_role("checkbox", name="basins").is_checked()
    page.wait_for_function(DRAWN)
    assert len(_images(page)) == 2
    assert page.locator("#basins-note .basins-legend li").count() >= 4
    assert not errors, errors
