"""The sweep maps, the autoencoder lab and the lesson pages on a phone, and their skip links.

At 390 × 844 with touch a page's picture (the map, the lab's loss curves) starts within the first
60 % of the screen; at 360 px nothing scrolls sideways; buttons are at least 44 px tall for a finger;
the first Tab reaches the skip link, and following it puts the keyboard on the page's view.
(The Explorer has its own layout tests.)
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
NARROW = {"viewport": {"width": 360, "height": 800}, "has_touch": True, "is_mobile": True}

#: page → the element its first screen is about
PICTURES = {"maps": "#maps-graph .js-plotly-plot", "lab": "#lab-loss-graph .js-plotly-plot"}


def _top(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => el.getBoundingClientRect().top")


@pytest.fixture(scope="module")
def phone(browser):
    ctx = browser.new_context(**PHONE)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("path", list(PICTURES))
def test_the_picture_comes_first_on_a_phone_and_buttons_fit_a_finger(phone, live_server, path):
    page = phone.new_page()
    try:
        page.goto(live_server + path)
        page.wait_for_selector(PICTURES[path], state="attached")
        top = _top(page, PICTURES[path])
        assert 0 < top < 0.6 * 844, f"{path}: the picture starts at {top:.0f} px"
        # the settings still exist, below the picture
        settings = ".maps-sidebar" if path == "maps" else ".lab-form"
        assert _top(page, settings) > top
        # every button of the page, plotly's modebar over the figure included
        heights = page.eval_on_selector_all(
            "header a, button:not([disabled]), .modebar-btn",
            "els => els.filter(e => e.offsetParent !== null).map(e => [e.textContent.trim().slice(0, 30), e.getBoundingClientRect().height])",
        )
        small = [(text, h) for text, h in heights if h < 44]
        assert heights and not small, small
    finally:
        page.close()


@pytest.mark.parametrize("path", ["maps", "lab", "lessons", "lesson/gd_quadratic", "room"])
def test_nothing_scrolls_sideways_at_360_px(browser, live_server, path):
    ctx = browser.new_context(**NARROW)
    try:
        page = ctx.new_page()
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"/{path} is {width} px wide"
    finally:
        ctx.close()


@pytest.mark.parametrize(("path", "text", "target"), [("maps", "Skip to the map", "maps-view"),
                                                      ("lab", "Skip to the race", "lab-view")])
def test_the_first_tab_offers_a_skip_to_the_view(context, live_server, path, text, target):
    page = context.new_page()
    try:
        page.goto(live_server + path)
        page.wait_for_selector(f"#{target}")
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
        assert focused == ["skip-link", text]
        # shown on focus: inside the viewport
        assert page.eval_on_selector(".skip-link", "a => a.getBoundingClientRect().top") >= 0
        page.keyboard.press("Enter")
        page.wait_for_function(f"document.activeElement && document.activeElement.id === {target!r}")
    finally:
        page.close()


def test_on_a_small_laptop_the_sweep_map_takes_the_views_width(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = ctx.new_page()
        page.goto(live_server + "maps")
        page.wait_for_selector(PICTURES["maps"], state="attached")
        graph = page.eval_on_selector(".maps-graph-wrap", "e => e.getBoundingClientRect().toJSON()")
        side = page.eval_on_selector(".maps-side", "e => e.getBoundingClientRect().toJSON()")
        assert graph["width"] >= 600, graph  # 385 px beside the pixel panel before
        assert side["top"] >= graph["bottom"], (graph, side)  # the pixel panel under the map
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    finally:
        ctx.close()


@pytest.mark.parametrize("path", ["", "maps", "lab", "lessons", "lesson/gd_quadratic"])
def test_on_a_phone_the_theme_switch_shares_the_names_row(browser, live_server, path):
    ctx = browser.new_context(**NARROW)
    try:
        page = ctx.new_page()
        page.goto(live_server + path)
        page.wait_for_selector("select[data-theme-switch]")
        rows = page.evaluate("""() => { const box = (e) => e.getBoundingClientRect();
            const header = document.querySelector('select[data-theme-switch]').closest('header');
            const name = box(header.querySelector('h1, .brand, .lab-brand, .maps-brand'));
            const sw = box(header.querySelector('select[data-theme-switch]'));
            const links = box(header.querySelector('nav[aria-label="Pages"]'));
            return {name: [name.top, name.bottom], sw: [sw.top, sw.bottom], links: links.top}; }""")
        # the switch overlaps the name's row vertically; the page links come under both
        assert rows["sw"][0] < rows["name"][1] and rows["name"][0] < rows["sw"][1], rows
        assert rows["links"] >= rows["sw"][1] - 1, rows
    finally:
        ctx.close()
