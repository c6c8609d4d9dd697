"""The Explorer's layout on phones, tablets, laptops and projectors (real Chromium).

Phones and tablets: the map comes first, within the first 60 % of the screen, with its player; the
controls follow and a floating switch jumps to them and back; nothing scrolls sideways at 360 px;
buttons fit a finger.  Laptops: the whole map and the Play button are in the first screen at
1024 × 768 and 1366 × 768.  The controls column collapses from the keyboard (remembered over a
reload), the stage goes full screen and back, the first Tab offers "Skip to the map", and the type
grows on a 1920 × 1080 projector.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import EXPLORER_READY, open_explorer

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
NARROW = {"viewport": {"width": 360, "height": 800}, "has_touch": True, "is_mobile": True}
TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True}


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const b = e.getBoundingClientRect();"
                                           " return {top: b.top, bottom: b.bottom, width: b.width, height: b.height}; }")  # fmt: skip


def test_on_a_phone_the_map_and_player_come_first_and_the_switch_reaches_the_controls(new_context, live_server):
    page, errors = open_explorer(new_context(**PHONE), live_server)
    height = 844
    top = _box(page, "#map-wrap")["top"]
    assert 0 < top < 0.6 * height, f"the map starts at {top:.0f} px"
    play = _box(page, "#play")
    assert play["bottom"] <= height, f"the Play button ends at {play['bottom']:.0f} px"
    # the race board sits under the map; the controls come after the whole view
    assert _box(page, "#legend")["top"] >= _box(page, "#map-wrap")["bottom"]
    assert _box(page, "#explorer-controls")["top"] > height
    # the lessons are one row that scrolls inside its own strip
    presets = page.eval_on_selector("#presets", "n => [n.getBoundingClientRect().height, n.scrollWidth > n.clientWidth]")
    assert presets[0] < 70 and presets[1]
    # the floating switch goes to the controls (focus with it) and back to the map
    jump = page.locator("#view-jump")
    assert jump.is_visible() and "Controls" in jump.inner_text()
    jump.tap()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'explorer-controls'")
    page.wait_for_function("document.getElementById('explorer-controls').getBoundingClientRect().top < innerHeight / 2")
    page.wait_for_function("document.getElementById('view-jump').getAttribute('data-at') === 'controls'")
    assert "Map" in jump.inner_text()
    jump.tap()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'map-wrap'")
    page.wait_for_function("Math.abs(document.getElementById('map-wrap').getBoundingClientRect().top) < 50")
    # fingers: the player's buttons, the presets and the card buttons are at least 44 px tall
    heights = page.eval_on_selector_all(
        "#player button, #player select, .preset, .card button, #view-jump, #map-full-screen",
        "els => els.filter(e => e.offsetParent !== null).map(e => [e.id || e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])",
    )
    small = [(name, h) for name, h in heights if h < 44]
    assert len(heights) > 10 and not small, small
    assert not errors, errors


def test_nothing_scrolls_sideways_at_360_px(new_context, live_server):
    page, errors = open_explorer(new_context(**NARROW), live_server)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide"
    assert _box(page, "#map-wrap")["top"] < 0.6 * 800
    assert not errors, errors


def test_on_a_tablet_the_map_starts_in_the_first_screen(new_context, live_server):
    page, errors = open_explorer(new_context(**TABLET), live_server)
    top = _box(page, "#map-wrap")["top"]
    assert 0 < top < 0.6 * 1180, f"the map starts at {top:.0f} px"
    assert _box(page, "#play")["bottom"] <= 1180
    assert not errors, errors


@pytest.mark.parametrize(("width", "height", "least_map_width"), [(1024, 768, 560), (1366, 768, 600)])
def test_on_a_laptop_the_whole_map_and_the_player_are_in_the_first_screen(new_context, live_server, width, height,
                                                                          least_map_width):  # fmt: skip
    page, errors = open_explorer(new_context(viewport={"width": width, "height": height}), live_server)
    wrap, play = _box(page, "#map-wrap"), _box(page, "#play")
    assert wrap["top"] >= 0 and wrap["bottom"] <= height, wrap
    assert play["bottom"] <= height, play
    assert wrap["width"] >= least_map_width, wrap  # 340 px at 1024 and 684 at 1366 before the layout work
    assert wrap["height"] >= 300, wrap
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not errors, errors


def test_the_controls_collapse_by_keyboard_and_stay_collapsed_after_a_reload(new_context, live_server):
    ctx = new_context(viewport={"width": 1024, "height": 768})
    page, errors = open_explorer(ctx, live_server)
    toggle = page.locator("#sidebar-toggle")
    assert toggle.get_attribute("aria-controls") == "explorer-controls"
    page.wait_for_function("document.getElementById('sidebar-toggle').getAttribute('aria-expanded') === 'true'")
    before = _box(page, "#map-wrap")["width"]
    # reach it with Tab, press Enter
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "sidebar-toggle":
            break
    else:
        pytest.fail("Tab never reached the Controls button")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('sidebar-toggle').getAttribute('aria-expanded') === 'false'")
    assert not page.locator("#explorer-controls").is_visible()
    # the view takes the whole width: the race board moves beside the map, and the map is still wider
    page.wait_for_function(f"document.getElementById('map-wrap').getBoundingClientRect().width > {before} + 40")
    page.wait_for_function("document.getElementById('legend').getBoundingClientRect().left >"
                           " document.getElementById('map-wrap').getBoundingClientRect().right")
    # the map's figure follows its wider box (plotly resized it)
    page.wait_for_function("(() => { const g = document.querySelector('#map .js-plotly-plot');"
                           " return g && g._fullLayout && g._fullLayout.width > %d; })()" % (before + 40))
    page.reload()
    page.wait_for_function(EXPLORER_READY)
    page.wait_for_function("document.getElementById('sidebar-toggle').getAttribute('aria-expanded') === 'false'")
    assert not page.locator("#explorer-controls").is_visible()
    assert _box(page, "#map-wrap")["width"] > before + 40
    # and back
    page.focus("#sidebar-toggle")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('sidebar-toggle').getAttribute('aria-expanded') === 'true'")
    assert page.locator("#explorer-controls").is_visible()
    page.reload()
    page.wait_for_function(EXPLORER_READY)
    assert page.locator("#explorer-controls").is_visible()
    assert not errors, errors


def test_the_first_tab_is_the_skip_link_and_it_lands_on_the_map(web):
    web.goto(web.base)
    page = web.page
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused == ["skip-link", "Skip to the map"]
    assert page.eval_on_selector(".skip-link", "a => a.getBoundingClientRect().top") >= 0
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'map-wrap'")
    web.assert_clean()


def test_type_grows_on_a_projector(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1920, "height": 1080}), live_server)
    sizes = page.evaluate("""() => Object.fromEntries(['.explorer', '.card-title', '.panel > summary', '.num-label',
        '.rb-label', '.flag-row, .num-input'].map(s => [s, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)]))""")
    assert sizes[".explorer"] >= 16 and sizes[".card-title"] >= 16 and sizes[".panel > summary"] >= 16, sizes
    assert sizes[".num-label"] >= 15 and sizes[".rb-label"] >= 15, sizes
    wrap, play = _box(page, "#map-wrap"), _box(page, "#play")
    assert wrap["bottom"] <= 1080 and play["bottom"] <= 1080
    assert not errors, errors


def test_full_screen_shows_the_stage_and_escape_or_the_button_leaves(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1024, "height": 768}), live_server)
    before = _box(page, "#map-wrap")
    on = ("(() => { const s = document.getElementById('explorer-stage');"
          " return s.classList.contains('is-full') && (document.fullscreenElement === s || s.classList.contains('maximised')); })()")  # fmt: skip
    off = ("(() => { const s = document.getElementById('explorer-stage');"
           " return !s.classList.contains('is-full') && !s.classList.contains('maximised') && !document.fullscreenElement; })()")  # fmt: skip
    for leave in ("Escape", "button"):
        page.click("#map-full-screen")
        page.wait_for_function(on)
        page.wait_for_function(f"document.getElementById('map-wrap').getBoundingClientRect().height > {before['height']} + 60")
        # the player is still there and works
        assert page.locator("#play").is_visible()
        page.click("#to-start")
        page.wait_for_function("DescentLab.state().k === 0")
        assert "Exit" in page.inner_text("#map-full-screen")
        if leave == "Escape":
            page.keyboard.press("Escape")
        else:
            page.click("#map-full-screen")
        page.wait_for_function(off)
        page.wait_for_function(f"Math.abs(document.getElementById('map-wrap').getBoundingClientRect().height - {before['height']}) < 2")
    assert not errors, errors


def test_full_screen_falls_back_to_a_maximised_stage_without_the_api(new_context, live_server):
    ctx = new_context(viewport={"width": 1024, "height": 768})
    ctx.add_init_script("Object.defineProperty(Document.prototype, 'fullscreenEnabled', {get: () => false});")
    page, errors = open_explorer(ctx, live_server)
    page.click("#map-full-screen")
    page.wait_for_function("document.getElementById('explorer-stage').classList.contains('maximised')")
    stage = _box(page, "#explorer-stage")
    assert stage["top"] == 0 and stage["height"] == 768 and stage["width"] == 1024
    assert _box(page, "#play")["bottom"] <= 768
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('explorer-stage').classList.contains('maximised')")
    assert not errors, errors
