"""The Explorer by finger, by mouse and by keyboard alone, and its spoken race summary (real Chromium).

A tap on the map sets the start (the address follows), a drag of the start's ring moves it without
zooming, a drag elsewhere zooms without moving it, a pinch sets nothing; the page-wide keys play,
step and open the shortcuts' dialog from anywhere but a field; a keyboard-only user reaches a
learning rate, changes it and plays the new race; the polite live region speaks one sentence when
playback stops, and nothing while it runs.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import open_explorer

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True, "is_mobile": True}
#: a short race, so a test can play it to the end in well under a second of animation
SHORT = "?surface=rosenbrock&start=-1.5,2&steps=40&opt=sgd,lr=0.001&opt=adam,lr=0.05"


def _url_start(page) -> tuple[float, float]:
    x, y = parse_qs(urlparse(page.url).query)["start"][0].split(",")
    return float(x), float(y)


def _x_range(page) -> list[float]:
    return page.evaluate("document.querySelector('#map .js-plotly-plot')._fullLayout.xaxis.range.slice()")


def _plot_point(page, fx: float, fy: float) -> tuple[float, float]:
    """Page coordinates of the point at fractions (fx, fy) of the 2-D plot area (from its top left)."""
    return tuple(page.evaluate("""([fx, fy]) => { const gd = document.querySelector('#map .js-plotly-plot');
        const r = gd.getBoundingClientRect(), xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [r.left + xa._offset + fx * xa._length, r.top + ya._offset + fy * ya._length]; }""",
                               [fx, fy]))  # fmt: skip


def _data_at(page, x: float, y: float) -> list[float]:
    return page.evaluate("([x, y]) => DescentLab.dataPoint(x, y)", [x, y])


def _wait_start_near(page, want, tol):
    page.wait_for_function("""([x, y, tol]) => { const s = DescentLab.start();
        return s && Math.abs(s[0] - x) < tol && Math.abs(s[1] - y) < tol; }""", arg=[want[0], want[1], tol])


def test_a_tap_on_the_phone_map_sets_the_start_and_the_address_follows(new_context, live_server):
    page, errors = open_explorer(new_context(**PHONE), live_server + SHORT)
    page.locator("#map-wrap").scroll_into_view_if_needed()
    x, y = _plot_point(page, 0.7, 0.3)
    want = _data_at(page, x, y)
    before = page.url
    page.touchscreen.tap(x, y)
    _wait_start_near(page, want, 0.05)
    page.wait_for_function("u => window.location.href !== u", arg=before)
    assert _url_start(page) == pytest.approx(tuple(want), abs=0.05)
    page.wait_for_function("DescentLab.state().slots.every(s => Math.abs(s.start[0] - DescentLab.start()[0]) < 1e-9)")
    assert not errors, errors


def _touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i, "radiusX": 4, "radiusY": 4, "force": 1} for i, (x, y) in enumerate(points)]})  # fmt: skip


def test_a_finger_drags_the_start_ring_on_a_tablet_without_zooming(new_context, live_server):
    page, errors = open_explorer(new_context(**TABLET), live_server + SHORT)
    cdp = page.context.new_cdp_session(page)
    ring = page.evaluate("DescentLab.pagePoint(...DescentLab.start())")
    to = _plot_point(page, 0.25, 0.75)
    want = _data_at(page, *to)
    ranges = _x_range(page)
    _touch(cdp, "touchStart", [tuple(ring)])
    for i in range(1, 11):
        t = i / 10
        _touch(cdp, "touchMove", [(ring[0] + t * (to[0] - ring[0]), ring[1] + t * (to[1] - ring[1]))])
    # while the finger is down the ring follows it (the race has not been recomputed yet)
    drawn = page.evaluate("DescentLab.drawn().start")
    assert drawn == pytest.approx(want, abs=0.05)
    _touch(cdp, "touchEnd", [])
    _wait_start_near(page, want, 0.05)
    page.wait_for_function("DescentLab.state().slots.every(s => Math.abs(s.start[1] - DescentLab.start()[1]) < 1e-9)")
    assert _x_range(page) == pytest.approx(ranges)  # the drag did not zoom the map
    assert _url_start(page) == pytest.approx(tuple(want), abs=0.05)
    # a pinch (two fingers) sets no start and breaks nothing
    before = page.evaluate("DescentLab.start()")
    a, b = _plot_point(page, 0.4, 0.4), _plot_point(page, 0.6, 0.6)
    _touch(cdp, "touchStart", [a])
    _touch(cdp, "touchStart", [a, b])
    _touch(cdp, "touchMove", [(a[0] - 20, a[1] - 20), (b[0] + 20, b[1] + 20)])
    _touch(cdp, "touchEnd", [])
    page.wait_for_timeout(300)  # a wrongly set start would have been sent by now (set_props is synchronous)
    assert page.evaluate("DescentLab.start()") == before
    assert not errors, errors


def test_a_mouse_drags_the_ring_and_a_drag_elsewhere_zooms_instead(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1280, "height": 800}), live_server + SHORT)
    ring = page.evaluate("DescentLab.pagePoint(...DescentLab.start())")
    to = _plot_point(page, 0.8, 0.2)
    want = _data_at(page, *to)
    ranges = _x_range(page)
    page.mouse.move(*ring)
    page.mouse.down()
    page.mouse.move(*to, steps=8)
    page.mouse.up()
    _wait_start_near(page, want, 0.05)
    assert _x_range(page) == pytest.approx(ranges)
    # a drag from elsewhere is plotly's zoom box: the range shrinks, the start stays
    start = page.evaluate("DescentLab.start()")
    a, b = _plot_point(page, 0.3, 0.3), _plot_point(page, 0.6, 0.6)
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=8)
    page.mouse.up()
    page.wait_for_function("r => { const x = document.querySelector('#map .js-plotly-plot')._fullLayout.xaxis.range;"
                           " return x[1] - x[0] < 0.5 * (r[1] - r[0]); }", arg=ranges)
    assert page.evaluate("DescentLab.start()") == start
    assert not errors, errors


def _tab_to(page, test: str, limit: int = 250) -> int:
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => !!el && ({test}))(document.activeElement)"):
            return n
    pytest.fail(f"Tab never reached an element with {test}")


def test_keyboard_alone_changes_a_learning_rate_and_plays_the_race(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1280, "height": 800}), live_server + SHORT)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    applied = page.evaluate("DescentLab.state().applied")
    # the first optimizer card's learning-rate slider
    _tab_to(page, "el.getAttribute('role') === 'slider' && /learning rate/.test(el.getAttribute('aria-label') || '')")
    lr = page.evaluate("+document.activeElement.getAttribute('aria-valuenow')")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"DescentLab.state().applied > {applied}")
    page.wait_for_function(f"+document.activeElement.getAttribute('aria-valuenow') !== {lr}")
    first = parse_qs(urlparse(page.url).query)["opt"][0]
    assert re.search(r"\blr=([0-9.e+-]+)", first).group(1) != "0.001", first  # the address holds the new rate
    # Space on the slider is the slider's: the race does not start from there
    assert page.evaluate("DescentLab.state().playing") is False
    # on to the player: Play by Space on its button, then the page-wide keys
    _tab_to(page, "el.id === 'play'")
    page.keyboard.press("Home")
    assert page.evaluate("DescentLab.state().k") == 0
    page.keyboard.press("Space")
    page.wait_for_function("DescentLab.state().playing || DescentLab.state().k === DescentLab.state().n")
    page.wait_for_function("!DescentLab.state().playing && DescentLab.state().k === DescentLab.state().n")
    page.keyboard.press("Shift+ArrowLeft")
    assert page.evaluate("DescentLab.state().k") == 30
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("DescentLab.state().k") == 29
    # "m" takes the focus to the map, where K plays as well
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.id") == "map-wrap"
    page.keyboard.press("k")
    page.wait_for_function("!DescentLab.state().playing && DescentLab.state().k === DescentLab.state().n")
    assert not errors, errors


def test_question_mark_opens_the_keys_dialog_and_escape_gives_the_focus_back(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1024, "height": 768}), live_server + SHORT)
    page.focus("#map-wrap")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    rows = dialog.locator("tr").all_inner_texts()
    assert any(r.startswith("Space or K") and "play or pause" in r for r in rows), rows
    assert page.evaluate("document.activeElement.id") == "keys-close"
    # the page's keys sleep while the dialog is open
    page.keyboard.press("Home")
    assert page.evaluate("DescentLab.state().k") == 40
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.id") == "map-wrap"
    # the toolbar's button opens it too; Close closes it
    page.click("#keys-open")
    dialog.wait_for()
    page.click("#keys-close")
    dialog.wait_for(state="hidden")
    # typing in a field is not a shortcut: "?" in the steps box stays text
    page.focus("#steps")
    page.keyboard.press("?")
    assert not dialog.is_visible()
    assert not errors, errors


def test_the_live_summary_speaks_when_playback_stops_and_not_while_it_runs(new_context, live_server):
    page, errors = open_explorer(new_context(viewport={"width": 1280, "height": 800}), live_server + SHORT)
    region = page.locator("#race-summary")
    assert region.get_attribute("aria-live") == "polite"
    assert page.locator("#legend").get_attribute("aria-live") is None  # the board is rewritten every frame
    page.evaluate("""() => { window.__spoken = []; const r = document.getElementById('race-summary');
        new MutationObserver(() => window.__spoken.push([DescentLab.state().playing, r.textContent]))
            .observe(r, {childList: true, characterData: true, subtree: true}); }""")
    page.evaluate("DescentLab.seek(0)")
    page.wait_for_function("window.__spoken.length === 1")
    page.evaluate("DescentLab.play()")
    page.wait_for_function("window.__spoken.length === 2")
    spoken = page.evaluate("window.__spoken")
    assert [playing for playing, _ in spoken] == [False, False]
    assert re.fullmatch(r"Step 0 of 40: .+ f = .+\.", spoken[0][1]), spoken
    last = spoken[1][1]
    assert last.startswith("Step 40 of 40: "), last
    # the runs are named, the lowest f first and marked as leading
    labels = page.evaluate("Array.from(document.querySelectorAll('#legend .rb-label')).map(e => e.textContent)")
    assert len(labels) == 2 and all(label in last for label in labels), (labels, last)
    assert last.count("leading") == 1
    values = [float(v) for v in re.findall(r"f = (-?\d+(?:\.\d+)?(?:e[-+]\d+)?)", last)]
    assert values == sorted(values)
    # a burst of steps speaks once, when it rests
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("window.__spoken.length === 3")
    page.wait_for_timeout(900)
    assert page.evaluate("window.__spoken.length") == 3
    assert page.evaluate("window.__spoken[2][1]").startswith("Step 35 of 40: ")
    assert not errors, errors


def test_on_a_phone_a_finger_moves_a_slider_and_plays_the_new_race(new_context, live_server):
    page, errors = open_explorer(new_context(**PHONE), live_server + SHORT)
    cdp = page.context.new_cdp_session(page)
    # the cards' formulas are typeset (MathJax changes their height, moving the sliders under a finger)
    page.wait_for_function("document.querySelectorAll('.card mjx-container').length >= 2"
                           " && document.querySelector('#surface-tex mjx-container') !== null")
    thumb = page.locator("[role='slider'][aria-label*='learning rate']").first
    thumb.scroll_into_view_if_needed()
    before = float(thumb.get_attribute("aria-valuenow"))
    applied = page.evaluate("DescentLab.state().applied")
    box = thumb.bounding_box()
    track = thumb.locator("xpath=ancestor::*[contains(@class, 'dash-slider-root')][1]").bounding_box()
    x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    x1 = min(track["x"] + track["width"] - 2, x0 + 0.3 * track["width"])
    # the finger lands on the thumb itself
    assert page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y);"
                         " return !!e && !!e.closest('.dash-slider-root'); }", [x0, y])
    _touch(cdp, "touchStart", [(x0, y)])
    for i in range(1, 9):
        _touch(cdp, "touchMove", [(x0 + i / 8 * (x1 - x0), y)])
    # the finger rests before it lifts: lifted while still moving, Chromium reads a flick and
    # swallows the next tap (within ~150 ms) as the one that stops it, so the tap below never clicks
    for _ in range(3):
        page.wait_for_timeout(40)
        _touch(cdp, "touchMove", [(x1, y)])
    _touch(cdp, "touchEnd", [])
    page.wait_for_function(f"DescentLab.state().applied > {applied}")
    assert float(thumb.get_attribute("aria-valuenow")) > before
    # and the player, by finger
    page.locator("#to-start").tap()
    assert page.evaluate("DescentLab.state().k") == 0
    page.locator("#play").tap()
    page.wait_for_function("DescentLab.state().k > 0")
    assert not errors, errors
