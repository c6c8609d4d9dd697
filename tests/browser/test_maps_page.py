"""The Sweep maps page in headless Chromium: a small map is computed in a background job, drawn, clicked,
and the clicked pixel links to its run in the Explorer.

The page runs in its own small Dash app (a router like the lead's: ``/maps`` → ``maps_page.layout``) on a free
localhost port, served from a thread of this process, with a DiskcacheManager in a temporary directory.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT = Path(os.environ.get("MAPS_SCREENSHOT") or Path(tempfile.gettempdir()) / "descent-lab-maps-1280x800.png")
# a quick basin map: 24 × 24 starts, 200 steps of plain gradient descent on Himmelblau
SMALL = "/maps?kind=basin&surface=himmelblau&steps=200&opt=sgd,lr=0.01&grid=24&show=minimum"


def make_app(jobs_dir: str):
    """A Dash app with only the Sweep maps page (and a stand-in for the Explorer at ``/``)."""
    os.environ["DESCENT_LAB_JOBS_DIR"] = jobs_dir
    from dash import Dash, Input, Output, State, dcc, html

    from app import ASSETS_DIR
    from app.maps import page as maps_page
    from app.hosting.jobs import make_manager

    dash_app = Dash(
        __name__,
        background_callback_manager=make_manager(),
        assets_folder=str(ASSETS_DIR),
        suppress_callback_exceptions=True,
        title=maps_page.TITLE,
        update_title=None,
    )
    dash_app.layout = html.Div([dcc.Location(id="test-url", refresh=False), html.Div(id="test-page")])

    @dash_app.callback(Output("test-page", "children"), Input("test-url", "pathname"), State("test-url", "search"))
    def route(path, search):
        if path == maps_page.PATH:
            return maps_page.layout(dict(parse_qsl((search or "").lstrip("?"))))
        return html.Div("the Explorer would be here", id="test-explorer")

    maps_page.register_callbacks(dash_app)
    return dash_app


@pytest.fixture(scope="module")
def maps_server(tmp_path_factory) -> Iterator[str]:
    from werkzeug.serving import make_server

    from app.maps import page as maps_page

    maps_page.warm()  # load the kernels in this process, so the forked job processes start warm
    old = os.environ.get("DESCENT_LAB_JOBS_DIR")
    dash_app = make_app(str(tmp_path_factory.mktemp("jobs")))
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="maps-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        if old is None:
            os.environ.pop("DESCENT_LAB_JOBS_DIR", None)
        else:
            os.environ["DESCENT_LAB_JOBS_DIR"] = old


@pytest.fixture
def page(browser, maps_server):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    pg.errors = errors  # type: ignore[attr-defined]
    pg.base = maps_server  # type: ignore[attr-defined]
    yield pg
    context.close()


def wait_for_map(pg, title_part: str) -> None:
    pg.wait_for_function(
        """(part) => { const g = document.querySelector('#maps-graph .js-plotly-plot');
            return g && g.data && g.data.some(t => t.type === 'heatmap')
                && g.layout.title && g.layout.title.text.includes(part); }""",
        arg=title_part,
    )


def click_cell(pg, x: float, y: float) -> None:
    """Click the map where data coordinates (x, y) are drawn."""
    px, py = pg.evaluate(
        """([x, y]) => { const g = document.querySelector('#maps-graph .js-plotly-plot');
            const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, r = g.getBoundingClientRect();
            return [r.left + xa._offset + xa.l2p(xa.d2l(x)), r.top + ya._offset + ya.l2p(ya.d2l(y))]; }""",
        [x, y],
    )
    pg.mouse.click(px, py)


#: true once the page's status line (drawn by the router's first render) contains ``arg``
STATUS_HAS = "(part) => { const s = document.getElementById('maps-status'); return !!s && s.innerText.includes(part); }"


def test_a_map_computed_before_is_shown_at_once_without_a_job(page, monkeypatch):
    from app.hosting import result_cache

    monkeypatch.setattr(result_cache, "_by_pid", {})  # the server reads the jobs' own store, as deployed
    url = page.base + SMALL.replace("grid=24", "grid=18").replace("steps=200", "steps=150")
    page.goto(url)
    page.wait_for_function(STATUS_HAS, arg="324 runs")
    assert "computed earlier" not in page.locator("#maps-status").inner_text()
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "job=" in r.url or "cacheKey=" in r.url else None)
    page.goto(url)  # a second visit (another student): the stored map, in the page's own request
    page.wait_for_function(STATUS_HAS, arg="computed earlier for the same settings")
    wait_for_map(page, "Basins of attraction")
    assert polls == []  # no background job was started or polled
    assert page.locator("#maps-progress-box").is_hidden() and page.locator("#maps-run").is_enabled()
    assert page.errors == []


def test_small_basin_map_is_drawn_and_a_pixel_links_to_the_explorer(page):
    pg = page
    pg.goto(pg.base + SMALL)
    wait_for_map(pg, "Basins of attraction")
    info = pg.evaluate(
        """() => { const g = document.querySelector('#maps-graph .js-plotly-plot');
            const h = g.data.find(t => t.type === 'heatmap');
            return {names: g.data.filter(t => t.showlegend).map(t => t.name),
                    legend: document.querySelectorAll('#maps-graph .legend .traces').length,
                    cells: g.calcdata.find(c => c[0].trace.type === 'heatmap')[0].z.length}; }"""
    )
    assert info["cells"] == 24  # rows of the drawn heatmap
    assert sum(bool(re.match(r"minimum \d \(", n)) for n in info["names"]) == 4
    assert info["legend"] == len(info["names"])
    pg.wait_for_function("document.getElementById('maps-status').innerText.includes('576 runs')")
    assert pg.locator("#maps-progress-box").is_hidden()
    assert pg.locator("#maps-run").is_enabled()
    # the URL reproduces the view
    q = parse_qs(urlsplit(pg.url).query)
    assert q["grid"] == ["24"] and q["surface"] == ["himmelblau"] and q["opt"] == ["sgd,lr=0.01,color=0"]

    # click near the minimum (3, 2): that start's run, and its Explorer link
    click_cell(pg, 3.0, 2.0)
    link = pg.locator("#maps-open-link")
    link.wait_for()
    assert "converged" in pg.locator("#maps-pixel").inner_text()
    assert "minimum 1" in pg.locator("#maps-pixel").inner_text()
    href = link.get_attribute("href")
    target = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/"
    sx, sy = (float(v) for v in target["start"][0].split(","))
    step = 10.0 / 23
    assert abs(sx - 3.0) <= step / 2 + 1e-9 and abs(sy - 2.0) <= step / 2 + 1e-9
    assert target["surface"] == ["himmelblau"] and target["steps"] == ["200"]
    assert target["opt"][0].startswith("sgd,lr=0.01")
    # the typed values follow the click; following the link opens the Explorer at that run
    assert float(pg.locator("#maps-pick-x").input_value()) == pytest.approx(sx)
    link.click()
    pg.wait_for_url("**/?*")
    assert parse_qs(urlsplit(pg.url).query)["start"] == target["start"]
    assert not pg.errors, pg.errors


def test_lesson_runs_a_hyperparameter_map_with_progress_and_the_bound(page):
    pg = page
    pg.goto(pg.base + SMALL)
    wait_for_map(pg, "Basins of attraction")
    # make the lesson small enough for a test: the lesson sets every control, then computes
    pg.get_by_role("button", name="GD η on the quadratic (η < 2/L)").click()
    pg.wait_for_function("new URLSearchParams(location.search).get('kind') === 'hyper'")
    assert pg.locator("#maps-axes-box").is_visible()
    assert pg.locator("#maps-ax-low").input_value() == "0.05"
    wait_for_map(pg, "SGD on Ill-conditioned quadratic")
    names = pg.evaluate(
        "document.querySelector('#maps-graph .js-plotly-plot').data.filter(t => t.showlegend).map(t => t.name)"
    )
    assert any(n.startswith("analytic limit") for n in names)
    assert "2/L" in pg.locator("#maps-explain").inner_text()
    # typed pixel values (keyboard route): η = 1, λ = 0 → a run that converges
    pg.locator("#maps-pick-x").fill("1")
    pg.locator("#maps-pick-y").fill("0")
    pg.locator("#maps-pick-y").press("Enter")  # Enter in either box finds the pixel (no mouse needed)
    pg.locator("#maps-open-link").wait_for()
    href = pg.locator("#maps-open-link").get_attribute("href")
    opt = parse_qs(urlsplit(href).query)["opt"][0]
    assert opt.startswith("sgd,lr=")
    lr = float(opt.split("lr=")[1].split(",")[0])
    assert abs(lr - 1.0) < 2.95 / 127 / 2 + 1e-9
    assert "converged" in pg.locator("#maps-pixel").inner_text()
    assert not pg.errors, pg.errors


def test_progress_and_cancel_of_a_large_map(page):
    pg = page
    # 400 × 400 momentum settings × 1000 steps: right at the work limit, about 20 s of work
    big = ("/maps?kind=hyper&surface=quadratic&start=-9,4&steps=1000&opt=momentum,lr=0.1,momentum=0.5"
           "&grid=400&show=steps&ax=lr,0.01,10,log&ay=momentum,0,0.99,lin")  # fmt: skip
    pg.goto(pg.base + big)
    assert "160 M" in pg.locator("#maps-work").inner_text()
    pg.wait_for_function("/[1-9][0-9]? % · /.test(document.getElementById('maps-progress-text').innerText)")
    assert pg.locator("#maps-progress-box").is_visible()
    assert pg.locator("#maps-run").is_disabled()
    pg.locator("#maps-cancel").click()
    pg.wait_for_function("document.getElementById('maps-status').innerText.includes('Cancelled')")
    pg.wait_for_function("document.getElementById('maps-cancel').disabled")
    assert pg.locator("#maps-progress-box").is_hidden()
    assert pg.locator("#maps-run").is_enabled()
    # no map arrived
    assert pg.evaluate("document.querySelector('#maps-graph .js-plotly-plot').data.length") == 0
    assert not pg.errors, pg.errors


def test_hostile_link_shows_the_default_map_with_a_notice(page):
    pg = page
    pg.goto(pg.base + "/maps?kind=<b>&grid=1e9&show=x&opt=adam,lr=-1&ax=lr,nan,inf,log&surface=../../etc")
    notice = pg.locator("#maps-notice")
    notice.wait_for()
    text = notice.inner_text()
    assert "unknown surface" in text and "grid" in text
    assert pg.locator("#maps-grid").input_value() == "400"
    assert not pg.errors, pg.errors


def test_screenshot_at_1280x800(page):
    pg = page
    pg.goto(pg.base + "/maps?" + "kind=hyper&surface=quadratic&start=-9,4&steps=300&opt=momentum,lr=0.1,momentum=0.5"
            "&grid=96&show=steps&ax=lr,0.01,10,log&ay=momentum,0,0.99,lin")  # fmt: skip
    wait_for_map(pg, "Momentum")
    pg.wait_for_timeout(300)
    click_cell(pg, 1.0, 0.5)
    pg.locator("#maps-open-link").wait_for()
    pg.screenshot(path=str(SCREENSHOT))
    # nothing overflows the viewport horizontally
    assert pg.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    assert not pg.errors, pg.errors


def _download(pg, fmt: str, size: str | None = None) -> bytes:
    """Pick ``fmt`` (and ``size``) in the export control by keyboard, press Download, return the file's bytes."""
    for cid, value in (("maps-export-format", fmt), ("maps-export-size", size)):
        if value is None:
            continue
        box = pg.locator(f"#{cid}")
        box.click()
        pg.get_by_role("option", name=re.compile(value)).first.click()
    with pg.expect_download(timeout=60_000) as info:
        pg.locator("#maps-export").click()
    return Path(info.value.path()).read_bytes()


def test_export_downloads_exactly_the_map_on_screen(page):
    import csv
    import io

    from PIL import Image

    from app.export.sweep_metadata import read_settings
    from app.maps.state import map_from_query

    pg = page
    pg.goto(pg.base + SMALL)
    wait_for_map(pg, "Basins of attraction")
    pg.wait_for_function("document.getElementById('maps-status').innerText.includes('576 runs')")
    # change a setting without computing: the export is still the map on screen (grid 24), not the form's
    pg.locator("#maps-grid").fill("30")
    pg.locator("#maps-grid").press("Enter")
    pg.wait_for_function("new URLSearchParams(location.search).get('grid') === '30'")

    rows = list(csv.reader(io.StringIO(_download(pg, "CSV").decode())))
    assert len(rows) == 1 + 24 * 24
    xs = sorted({float(r[0]) for r in rows[1:]})
    assert len(xs) == 24 and xs[0] == -5.0 and xs[-1] == 5.0
    assert {r[7] for r in rows[1:]} >= {"0", "1", "2", "3"}  # the four minima of Himmelblau
    shown = pg.evaluate("document.querySelector('#maps-graph .js-plotly-plot').layout.title.text")

    svg = _download(pg, "SVG", "Journal column")
    cfg = map_from_query(read_settings(svg)["maps_query"])
    assert (cfg.grid, cfg.entry.name, cfg.base.steps, cfg.base.surface) == (24, "sgd", 200, "himmelblau")
    text = svg.decode()
    assert 'width="336"' in text[:400] and "start x₀" in text and "minimum 1 (3, 2)" in text
    assert shown.split(" · ")[0] in text and "SGD" in text

    png = _download(pg, "PNG", "16:9")
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)
    assert "grid=24" in read_settings(png)["maps_query"]
    assert "descent-lab-map-himmelblau-sgd.png" in pg.locator("#maps-export-status").inner_text()
    assert not pg.errors, pg.errors


def test_export_control_fits_a_phone(browser, maps_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    try:
        pg.goto(maps_server + SMALL)
        box = pg.locator("#maps-export-box")
        box.scroll_into_view_if_needed()
        for cid in ("maps-export-format", "maps-export-size", "maps-export"):
            r = pg.locator(f"#{cid}").bounding_box()
            assert r is not None and r["x"] >= 0 and r["x"] + r["width"] <= 390, (cid, r)
        # keyboard: the Download button is reachable and announces its purpose
        pg.locator("#maps-export").focus()
        assert pg.evaluate("document.activeElement.id") == "maps-export"
    finally:
        context.close()


def _heat(pg) -> list:
    return pg.evaluate("""() => { const g = document.querySelector('#maps-graph .js-plotly-plot');
        const h = g._fullData.find(t => t.type === 'heatmap'); return Array.from(h.z, r => Array.from(r)); }""")


def test_dragging_a_setting_redraws_the_map_live_and_letting_go_computes_the_full_map(page):
    page.goto(page.base + "/maps?kind=basin&surface=himmelblau&steps=400&opt=adam,lr=0.5&grid=48&show=minimum")
    wait_for_map(page, "Basins of attraction")
    page.wait_for_function("document.getElementById('maps-live-value').textContent === 'η = 0.5'")
    before = _heat(page)
    page.evaluate("window.__live = []; document.addEventListener('descentlab:livemap', e => __live.push(e.detail))")
    box = page.locator("#maps-live-slider").bounding_box()
    y = box["y"] + box["height"] / 2
    start = page.evaluate("Number(document.getElementById('maps-live-slider').value)") / 200
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    for i in range(1, 13):  # drag towards smaller η
        page.mouse.move(box["x"] + box["width"] * (start - 0.03 * i), y)
        page.wait_for_timeout(40)
    page.wait_for_function("window.__live.length >= 2")
    shown = page.inner_text("#maps-live-value")
    assert shown.startswith("η = ") and float(shown[4:]) < 0.5
    live = page.evaluate("__live")
    assert all(d["ms"] > 0 for d in live) and live[-1]["value"] < 0.4
    # the preview is drawn: the live grid's classes over the start's run
    preview = page.evaluate("""() => { const g = document.querySelector('#maps-graph .js-plotly-plot');
        const h = g._fullData.find(t => t.type === 'heatmap');
        return {rows: h.z.length, run: g.data.some(t => t.name === 'run from the start'),
                contours: g.data.some(t => t.name === 'contours')}; }""")
    assert preview == {"rows": 48, "run": True, "contours": True}  # a 48-grid map is previewed at its own size
    assert "preview 48×48 × 300 steps" in page.inner_text("#maps-live-status")
    page.mouse.up()
    # let go: the field takes the value and the full map (400 steps) is computed with it
    value = float(page.inner_text("#maps-live-value")[4:])
    page.wait_for_function("(v) => { const i = document.querySelector('input[id*=\"lr\"]');"
                           " return i && Math.abs(Number(i.value) - v) < 1e-9; }", arg=value)
    page.wait_for_function("document.getElementById('maps-status').textContent.includes('× up to 400 steps')")
    wait_for_map(page, f"η={value:g}")
    assert _heat(page) != before
    assert page.locator("#maps-live-status").inner_text().startswith("preview") is False
    assert not page.errors, page.errors


def test_the_live_slider_works_from_the_keyboard(page):
    page.goto(page.base + SMALL)
    wait_for_map(page, "Basins of attraction")
    page.wait_for_function("document.getElementById('maps-live-value').textContent.startsWith('η = ')")
    page.evaluate("window.__live = []; document.addEventListener('descentlab:livemap', e => __live.push(e.detail))")
    page.focus("#maps-live-slider")
    page.keyboard.press("PageUp")
    page.wait_for_function("window.__live.length >= 1")
    value = float(page.inner_text("#maps-live-value")[4:])
    assert value > 0.01
    assert page.get_attribute("#maps-live-slider", "aria-valuetext") == f"η = {page.inner_text('#maps-live-value')[4:]}"
    page.wait_for_function("(v) => { const i = document.querySelector('input[id*=\"lr\"]');"
                           " return i && Math.abs(Number(i.value) - v) < 1e-9; }", arg=value)
    assert not page.errors, page.errors


def _box(pg, selector: str) -> dict:
    return pg.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                         " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }")


def test_on_a_phone_the_maps_title_wraps_above_the_plots_buttons_and_follows_the_slider(browser, maps_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(maps_server + "/maps?kind=basin&surface=himmelblau&steps=400&opt=adam,lr=0.5&grid=48&show=minimum")
        wait_for_map(pg, "Basins of attraction")
        title = "Basins of attraction · Adam · η=0.5 on Himmelblau"
        pg.wait_for_function("(t) => document.getElementById('maps-graph-caption').innerText.includes(t)", arg=title)
        caption = pg.inner_text("#maps-graph-caption").split("\n")
        assert caption[0] == title and caption[1].startswith("48×48 starts × up to 400 steps")
        cap = _box(pg, "#maps-graph-caption")
        assert cap["left"] >= 0 and cap["right"] <= 390 and cap["bottom"] - cap["top"] > 40  # wrapped, on screen
        # the figure's own one-line title is not drawn; the buttons sit under the caption, above the plot
        shown = pg.eval_on_selector_all("#maps-graph :is(.gtitle, .gtitle-subtitle)",
                                        "els => els.filter(e => getComputedStyle(e).display !== 'none').length")
        assert shown == 0
        pg.locator("#maps-graph .js-plotly-plot").hover()
        bar, plot = _box(pg, "#maps-graph .modebar-container .modebar"), _box(pg, "#maps-graph .nsewdrag")
        assert cap["bottom"] <= bar["top"] and bar["bottom"] <= plot["top"], (cap, bar, plot)
        # a live preview (drawn outside Dash) retitles the map: the caption follows it
        pg.evaluate("""() => { const s = document.getElementById('maps-live-slider');
            s.value = String(Number(s.value) - 40); s.dispatchEvent(new Event('input', {bubbles: true})); }""")
        pg.wait_for_function("document.getElementById('maps-live-status').innerText.startsWith('preview')")
        value = pg.inner_text("#maps-live-value")[4:]
        pg.wait_for_function("(v) => document.getElementById('maps-graph-caption').innerText.includes('η=' + v)",
                             arg=value)
        assert float(value) < 0.5 and not errors, errors
    finally:
        context.close()


def test_on_a_wide_screen_the_map_keeps_its_own_title_and_no_caption(page):
    page.goto(page.base + SMALL)
    wait_for_map(page, "Basins of attraction")
    assert page.eval_on_selector("#maps-graph-caption", "e => getComputedStyle(e).display") == "none"
    assert page.eval_on_selector("#maps-graph .gtitle", "e => getComputedStyle(e).display") != "none"
    assert "Basins of attraction" in page.eval_on_selector("#maps-graph .gtitle", "e => e.textContent")
