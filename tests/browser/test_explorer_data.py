"""Data surfaces in the Explorer, in headless Chromium: the data panel, editing points, minibatches, links, phones."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from tests.browser.axe import describe, violations

pytestmark = pytest.mark.browser

RACE = "?surface=linreg&s.n=256&batch=8&steps=500&seed=3&opt=sgd,lr=0.05&opt=momentum,lr=0.02,momentum=0.9&opt=adam,lr=0.1"
SMALL = "?surface=linreg&s.n=20&steps=120&opt=sgd,lr=0.05&opt=adam,lr=0.1"


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def data_state(page) -> dict:
    return page.evaluate("DescentData.state()")


def map_background(page) -> str:
    """The map's background image (it changes with the surface)."""
    return page.evaluate("document.querySelector('#map .js-plotly-plot').layout.images[0].source.slice(-200)")


def test_a_data_surface_shows_its_panel_batch_size_and_epoch_marks(web):
    web.goto(web.base + RACE)
    page = web.page
    assert page.locator("#data-panel").is_visible() and not page.locator("#batch-row").get_attribute("hidden")
    assert page.text_content("#batch-info") == "mini-batch · B = 8 of n = 256 · 32 steps per epoch"
    assert page.input_value("#batch-size") == "8"
    page.wait_for_function("DescentData.state().plotted !== null")
    s = data_state(page)
    assert s["n"] == 256 and s["plotted"]["batch"] == 8  # at the last step, the last step's batch
    assert "256 generated points" in page.inner_text("#data-note")
    # the epoch boundaries under the step slider: after steps 32, 64, …, 480
    assert page.get_attribute("#epoch-ticks", "data-count") == "15"
    # scrubbing moves the fit: the weights of the arrows' run (Adam) at step k, and the next step's ringed batch
    page.locator("#scrubber-range").fill("0")
    page.wait_for_function("DescentData.state().plotted.k === 0")
    early = data_state(page)["plotted"]
    assert early["w"] == pytest.approx([-1.0, 4.0]) and early["batch"] == 8
    page.locator("#scrubber-range").fill("300")
    page.wait_for_function("DescentData.state().plotted.k === 300")
    assert data_state(page)["plotted"]["fit"] != early["fit"]
    # a beale link hides all of it
    web.goto(web.base + "?surface=beale")
    assert page.locator("#data-panel").is_hidden() and page.locator("#batch-row").is_hidden()
    assert page.locator("#epoch-ticks").count() == 0
    web.assert_clean()


def _contour_z(page):
    return page.evaluate(
        """(() => { const gd = document.querySelector('#map .js-plotly-plot');
            const t = gd.data.find(d => d.meta === 'minibatch-contours');
            return t && t.visible !== false ? [t.z[0][0], t.z[20][20], t.z[39][5]] : null; })()"""
    )


def test_minibatch_contours_follow_the_scrubber_and_match_the_batch_loss(web):
    from app.explorer.compute import build_surface
    from app.explorer.state import from_query
    from optimizers.batches import schedule

    web.goto(web.base + RACE)
    page = web.page
    assert _contour_z(page) is None  # off until asked for
    page.locator("#batch-contours input").check()
    page.wait_for_function("DescentData.state().contours > 0")
    page.locator("#scrubber-range").fill("10")
    page.wait_for_function("DescentData.state().grid && DescentData.state().grid.t === 11")
    first = _contour_z(page)
    grid = data_state(page)["grid"]
    page.locator("#scrubber-range").fill("45")  # another epoch, another batch
    page.wait_for_function("DescentData.state().grid.t === 46")
    second = _contour_z(page)
    assert first is not None and second is not None and first != second
    # the browser's batch loss is the surface's: step 11's batch at the map's corner
    cfg = from_query(RACE)
    surface = build_surface(cfg)
    idx = schedule(surface.n_points, cfg.modifiers(), cfg.steps).indices(11)
    (x0, _), (y0, _) = cfg.bounds
    assert grid["size"] == 8 and grid["corner"] == pytest.approx(surface.batch_jet(idx, x0, y0)[0], rel=1e-9)
    # switching the toggle off hides the trace
    page.locator("#batch-contours input").uncheck()
    page.wait_for_function(
        "!document.querySelector('#map .js-plotly-plot').data.some(d => d.meta === 'minibatch-contours' && d.visible !== false)"
    )
    web.assert_clean()


def _drag(page, i: int, dx: float, dy: float) -> None:
    page.locator("#data-plot").scroll_into_view_if_needed()
    x, y = page.evaluate(f"DescentData.pointAt({i})")
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x + dx * k / 5, y + dy * k / 5)
    page.mouse.up()


def _points_in_link(page) -> int:
    pts = query(page).get("pts")
    return len(pts[0].split("_")) if pts else 0


def test_dragging_adding_and_deleting_points_recompute_the_surface_and_the_race(web):
    web.goto(web.base + SMALL)
    page = web.page
    page.wait_for_function("DescentData.state().plotted !== null")
    before = web.state()["slots"]
    background = map_background(page)
    n = web.applied()
    _drag(page, 0, 40, -70)
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).has('pts')")
    assert _points_in_link(page) == 20
    after = web.state()["slots"]
    assert after[0]["last"] != before[0]["last"] and after[1]["last"] != before[1]["last"]
    page.wait_for_function(f"document.querySelector('#map .js-plotly-plot').layout.images[0].source.slice(-200) !== {background!r}")
    assert "20 edited points" in page.inner_text("#data-note")
    # a click on empty space adds a point; shift-click removes one
    page.locator("#data-plot").scroll_into_view_if_needed()
    box = page.locator("#data-plot .nsewdrag").first.bounding_box()
    n = web.applied()
    page.mouse.click(box["x"] + 6, box["y"] + 6)
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('pts').split('_').length === 21")
    page.locator("#data-plot").scroll_into_view_if_needed()
    x, y = page.evaluate("DescentData.pointAt(3)")
    n = web.applied()
    page.keyboard.down("Shift")
    page.mouse.click(x, y)
    page.keyboard.up("Shift")
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('pts').split('_').length === 20")
    # the keyboard: type a point and add it, remove the last one
    page.fill("#data-panel-add-c0", "1.5")
    page.fill("#data-panel-add-c1", "2")
    page.focus("#data-panel-add")
    n = web.applied()
    page.keyboard.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('pts').endsWith('_1.5,2')")
    page.focus("#points-remove-last")
    n = web.applied()
    page.keyboard.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("!new URLSearchParams(location.search).get('pts').endsWith('_1.5,2')")
    # the points as numbers: edit the first point's v, remove the second
    page.click("details.points-table > summary")
    cell = page.get_by_label("point 1 v", exact=True)
    n = web.applied()
    cell.fill("9")
    cell.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('pts').split('_')[0].endsWith(',9')")
    second = page.evaluate("new URLSearchParams(location.search).get('pts').split('_')[1]")
    n = web.applied()
    page.get_by_role("button", name="remove point 2", exact=True).press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function(f"!new URLSearchParams(location.search).get('pts').split('_').includes({second!r})")
    assert _points_in_link(page) == 19
    # a parameter that draws the points discards the edit
    seed = page.locator("input[id*='\"key\":\"data_seed\"'][id*='\"type\":\"num\"']")
    n = web.applied()
    seed.fill("5")
    seed.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("!new URLSearchParams(location.search).has('pts') && location.search.includes('s.data_seed=5')")
    assert "20 generated points" in page.inner_text("#data-note")
    web.assert_clean()


def test_a_shared_link_restores_the_same_race_with_its_batch_size_and_points(web, browser):
    web.goto(web.base + SMALL + "&batch=4")
    page = web.page
    page.wait_for_function("DescentData.state().plotted !== null")
    n = web.applied()
    _drag(page, 2, -30, 50)
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).has('pts')")
    link, state = page.url, web.state()
    assert query(page)["batch"] == ["4"]

    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()  # another browser profile
    other.goto(link)
    other.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
    other.wait_for_function("window.DescentData && DescentData.state().plotted !== null")
    again = other.evaluate("DescentLab.state()")
    assert again["slots"] == state["slots"] and again["n"] == state["n"]
    assert other.input_value("#batch-size") == "4"
    assert other.text_content("#batch-info") == "mini-batch · B = 4 of n = 20 · 5 steps per epoch"
    assert other.evaluate("DescentData.state().n") == 20 and "20 edited points" in other.inner_text("#data-note")
    assert other.url == link
    other.context.close()
    web.assert_clean()


def test_the_batch_size_is_typed_by_keyboard_and_hostile_values_are_clamped(web):
    web.goto(web.base + SMALL)
    page = web.page
    page.focus("details.panel:has(#batch-size) > summary")
    page.keyboard.press("Enter")  # open the shared modifiers
    box = page.locator("#batch-size")
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("-7")
    page.keyboard.press("Enter")
    page.wait_for_function("!document.getElementById('notice').hidden")
    assert "batch size" in page.inner_text("#notice") and box.input_value() == "0"
    n = web.applied()
    box.fill("5")
    box.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('batch') === '5'")
    assert page.inner_text("#batch-info") == "mini-batch · B = 5 of n = 20 · 4 steps per epoch"
    assert page.get_attribute("#epoch-ticks", "data-count") == "29"  # after steps 4, 8, …, 116 of 120
    # the log slider of n moves by keyboard to whole numbers, recomputes, and needs no notice
    page.click("#notice .notice-close")
    thumb = page.locator('[id*=\'"key":"n"\'][id*=\'"type":"slider"\'] [role="slider"]').first
    thumb.focus()
    n = web.applied()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    web.wait_applied(n + 1)
    # settled: the number box, the link and the regime agree on a whole n
    page.wait_for_function(
        """() => { const box = document.querySelector('input[id*=\\'"key":"n"\\'][id*=\\'"type":"num"\\']');
                   const q = new URLSearchParams(location.search).get('s.n');
                   return box && q === box.value && +q > 20 &&
                          document.getElementById('batch-info').textContent.includes('of n = ' + q + ' '); }"""
    )
    assert page.locator('input[id*=\'"key":"n"\'][id*=\'"type":"num"\']').input_value().isdigit()
    assert page.locator("#notice").is_hidden()
    web.assert_clean()


def _upload(page, name: str, text: str) -> None:
    page.set_input_files("#points-upload input[type=file]", files=[{"name": name, "mimeType": "text/csv",
                                                                     "buffer": text.encode()}])  # fmt: skip


def test_an_uploaded_csv_replaces_the_points_and_a_bad_one_says_why(web):
    web.goto(web.base + SMALL)
    page = web.page
    # the keyboard reaches the named file input (Tab from the points table's summary) and Space activates it
    page.focus("details.points-table > summary")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Upload a CSV file of points"
    page.evaluate("document.activeElement.addEventListener('click', () => { window.__uploadActivated = true; })")
    page.keyboard.press(" ")  # activates the input (opens the browser's file chooser)
    page.wait_for_function("window.__uploadActivated === true")
    n = web.applied()
    _upload(page, "line.csv", "u,v\n0,1\n1,3\n2,5.5\n3,7\n")
    web.wait_applied(n + 1)
    page.wait_for_function("new URLSearchParams(location.search).get('pts') === '0,1_1,3_2,5.5_3,7'")
    assert page.evaluate("DescentData.state().n") == 4
    _upload(page, "bad.csv", "u,v\n1,2\n3,oops\n")
    page.wait_for_function("document.getElementById('points-upload-error').innerText.includes('line 3')")
    assert query(page)["pts"] == ["0,1_1,3_2,5.5_3,7"]  # the points stay
    # a file over the limit is refused in the browser, with the same kind of line
    _upload(page, "huge.csv", "1,2\n" * 70_000)
    page.wait_for_function("document.getElementById('points-upload-error').innerText.includes('the limit for points is 256 kB')")
    assert query(page)["pts"] == ["0,1_1,3_2,5.5_3,7"]
    # the points download as CSV
    with page.expect_download() as dl:
        page.click("#points-download-button")
    path = dl.value.path()
    assert open(path).read() == "u,v\n0.0,1.0\n1.0,3.0\n2.0,5.5\n3.0,7.0\n"
    web.assert_clean()


def test_the_data_surface_view_on_a_phone_fits_and_passes_axe(browser, live_server):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)
    page = ctx.new_page()
    page.goto(live_server + RACE)
    page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
    page.wait_for_function("window.DescentData && DescentData.state().plotted !== null")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for sel in ("#data-plot", "#points-upload", "#batch-size", "#points-remove-last"):
        box = page.locator(sel).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, sel
    # a tap on empty space adds a point (pointer events: touch works like the mouse)
    page.locator("#data-plot").scroll_into_view_if_needed()
    box = page.locator("#data-plot .nsewdrag").first.bounding_box()
    page.touchscreen.tap(box["x"] + 8, box["y"] + 8)
    # 257 points are more than a link carries: the page says so, and the link keeps the generator's parameters
    page.wait_for_function("document.getElementById('data-note').innerText.includes('the edits are not in the link')")
    assert page.evaluate("DescentData.state().n") == 257 and "257 edited points" in page.inner_text("#data-note")
    assert "pts=" not in page.url
    # a touch drag (pointer events of a finger) moves a point
    page.locator("#data-plot").scroll_into_view_if_needed()
    before = page.evaluate("DescentData.pointAt(5)")
    was = page.evaluate("DescentData.point(5)")
    sent = page.evaluate("DescentData.state().sent")
    page.evaluate(
        """([x, y]) => {
            const target = document.elementFromPoint(x, y);
            const ev = (type, dx, dy) => new PointerEvent(type, {bubbles: true, cancelable: true, pointerId: 7,
                pointerType: 'touch', isPrimary: true, clientX: x + dx, clientY: y + dy, button: 0, buttons: 1});
            target.dispatchEvent(ev('pointerdown', 0, 0));
            for (let k = 1; k <= 4; k++) document.dispatchEvent(ev('pointermove', 10 * k, -8 * k));
            document.dispatchEvent(ev('pointerup', 40, -32));
        }""",
        before,
    )
    page.wait_for_function(f"DescentData.state().sent === {sent + 1}")
    page.wait_for_function(f"DescentData.state().n === 257 && !document.getElementById('data-note').innerText.includes('recomputing')")
    now = page.evaluate("DescentData.point(5)")
    assert now[0] > was[0] and now[1] > was[1]  # the finger went right and up: larger u and v
    found = violations(page)
    assert not found, "\n" + describe(found)
    ctx.close()


def test_the_data_surface_view_passes_axe_on_a_laptop(web):
    web.goto(web.base + RACE)
    web.page.locator("#batch-contours input").check()
    web.page.wait_for_function("DescentData.state().contours > 0")
    web.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # the points table too
    web.page.wait_for_function("document.querySelectorAll('#points-table input').length === 2 * 60")
    web.page.wait_for_load_state("networkidle")
    found = violations(web.page)
    assert not found, "\n" + describe(found)
    web.assert_clean()


def test_payload_points_decode_like_the_surface():
    """The panel's columns are the surface's points, as the browser decodes them (float64, little-endian)."""
    from app.explorer import compute
    from app.explorer.state import from_query
    from app.explorer.views import race_entry

    cfg = from_query(SMALL)
    data = race_entry(cfg, lambda: compute.compute(cfg))["payload"]["data"]
    cols = [np.frombuffer(base64.b64decode(c), dtype="<f8") for c in data["cols"]]
    assert np.array_equal(np.column_stack(cols), compute.build_surface(cfg).points)
