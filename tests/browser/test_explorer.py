"""The Explorer in headless Chromium: drawing, sliders, clicks, playback, links, hostile links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SGD_LR_SLIDER = '[id*=\'"group":"hp"\'][id*=\'"key":"lr"\'][id*=\'"slot":0\'][id*=\'"type":"slider"\'] [role="slider"]'
SGD_LR_NUMBER = 'input[id*=\'"group":"hp"\'][id*=\'"key":"lr"\'][id*=\'"slot":0\'][id*=\'"type":"num"\']'


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def scripts_fetched(page) -> list[str]:
    """File names of the scripts this document fetched (from the network or the cache)."""
    return page.evaluate(
        "performance.getEntriesByType('resource').map(e => new URL(e.name).pathname.split('/').pop())"
        ".filter(n => n.endsWith('.js') || n.endsWith('.mjs'))"
    )


def test_page_loads_with_trajectories_drawn(web):
    web.goto(web.base)
    page = web.page
    drawn = web.drawn()
    assert drawn["k"] == 500
    assert drawn["trails"] == {str(c): 501 for c in range(6)}
    assert len(drawn["balls"]) == 6
    # the canvas over the map is not blank where the balls are
    pixel = page.evaluate(
        """(() => { const c = document.querySelector('#map-wrap canvas.anim-layer');
            const [x, y] = DescentLab.pagePoint(...DescentLab.drawn().balls['5']);
            const r = c.getBoundingClientRect(), d = window.devicePixelRatio || 1;
            return Array.from(c.getContext('2d').getImageData((x - r.left) * d, (y - r.top) * d, 1, 1).data); })()"""
    )
    assert pixel[3] > 200  # an opaque ball pixel
    # drawn by the compact plotly.js: Dash's full bundle is never fetched, nor the 3-D traces
    scripts = scripts_fetched(page)
    assert "plotly-lite.mjs" in scripts and not any(n.startswith("plotly-3d-") for n in scripts)
    assert "plotly.min.js" not in scripts
    # with the regenerator runtime Dash's components call, not the whole @babel/polyfill
    assert "regenerator-runtime.js" in scripts and not any(n.startswith("polyfill@") for n in scripts)
    assert page.evaluate("typeof regeneratorRuntime.mark === 'function' && window._babelPolyfill === undefined")
    # race board, card notes, URL and the four diagnostic panels follow
    page.wait_for_function("document.querySelectorAll('#diagnostics .diag-panel.js-plotly-plot').length === 6")
    assert page.locator("#legend .rb-row").count() == 6
    assert "after 500 steps" in page.locator('[data-card-status="0"]').inner_text()
    assert query(page)["surface"] == ["beale"]
    # the update rules and the surface formula are typeset once the map is on screen
    page.wait_for_function("document.querySelectorAll('.card mjx-container').length >= 6",
                           timeout=20_000)  # fmt: skip
    page.wait_for_function("document.querySelector('#surface-tex mjx-container') !== null", timeout=20_000)
    # controls are reachable from the keyboard
    assert page.evaluate("document.getElementById('play').tabIndex") >= 0
    assert page.evaluate("document.getElementById('map-wrap').tabIndex") == 0
    assert "NaN" not in page.locator("body").inner_text()
    web.assert_clean()


def test_arrow_labels_at_a_converged_point_do_not_cover_each_other(web):
    """Rosenbrock's race ends with Adam settled in the valley: its three arrows point the same way."""
    web.goto(web.base + "?surface=rosenbrock")
    boxes = web.drawn()["arrowLabels"]
    texts = [b["text"] for b in boxes]
    assert {"−∇f", "−m"} <= set(texts) <= {"−∇f", "−m", "Δθ"} and len(set(texts)) == len(texts)  # (no Δθ after the last step)
    assert all(b["w"] > 5 and b["h"] > 10 for b in boxes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
            assert apart, (a, b)
    web.assert_clean()


def test_moving_a_slider_changes_the_paths(web):
    web.goto(web.base)
    page = web.page
    before = web.state()["slots"][0]["last"]
    n = web.applied()
    fast = []
    page.on("request", lambda r: fast.append(r.url) if "/_descent/race?" in r.url else None)
    page.locator(SGD_LR_SLIDER).first.focus()
    page.keyboard.press("ArrowRight")
    web.wait_applied(n + 1)
    page.wait_for_function("DescentLab.state().slots.length === 6")
    assert len(fast) == 1 and "slot=0" in fast[0] and "key=lr" in fast[0]  # the direct request of the fast path
    page.wait_for_function("new URLSearchParams(location.search).getAll('opt')[0].includes('lr=')")
    after = web.state()["slots"][0]["last"]
    assert after != before
    assert page.locator(SGD_LR_NUMBER).input_value() == "0.00102"
    assert query(page)["opt"][0].startswith("sgd,lr=0.00102")
    # the others did not move
    assert web.state()["slots"][5]["last"][0] == pytest.approx(2.994909771612058)
    # typing an exact value (finer than the slider) moves the slider and is used exactly
    n = web.applied()
    box = page.locator(SGD_LR_NUMBER).first
    box.fill("0.0123456")
    box.press("Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("location.search.includes('lr=0.0123456')")
    assert float(page.locator(SGD_LR_SLIDER).first.get_attribute("aria-valuenow")) == pytest.approx(-1.908, abs=0.01)
    web.assert_clean()


def test_click_sets_the_start_and_playback_follows(web):
    web.goto(web.base)
    page = web.page
    n = web.applied()
    x, y = page.evaluate("DescentLab.pagePoint(-2, 3)")
    page.mouse.click(x, y)
    web.wait_applied(n + 1)
    start = web.state()["slots"][0]["start"]
    assert start == pytest.approx([-2, 3], abs=0.03)
    assert float(page.input_value("#start-x")) == pytest.approx(start[0])
    assert query(page)["start"] == [f"{start[0]:g},{start[1]:g}"]
    # play advances the scrubber; Space on the map pauses; the scrubber moves every ball
    page.click("#to-start")
    assert web.state()["k"] == 0 and web.drawn()["trails"]["0"] == 1
    page.click("#play")
    page.wait_for_function("DescentLab.state().k > 20")
    s = web.state()
    assert s["playing"] and s["k"] < s["n"]
    assert int(page.input_value("#scrubber-range")) >= 20
    assert page.get_attribute("#player", "data-playing") == "true"
    page.focus("#map-wrap")
    page.keyboard.press("Space")
    page.wait_for_function("!DescentLab.state().playing")
    k = web.state()["k"]
    page.wait_for_timeout(150)
    assert web.state()["k"] == k  # paused
    assert web.drawn()["trails"]["0"] == k + 1  # trails end at step k
    page.keyboard.press("ArrowRight")
    assert web.state()["k"] == k + 1
    page.locator("#scrubber-range").fill("100")
    assert web.state()["k"] == 100 and web.drawn()["trails"]["3"] == 101
    assert re.search(r"step 100 / 500", page.inner_text("#step-label"))
    web.assert_clean()


def test_a_copied_link_reproduces_the_view(web, browser):
    web.goto(web.base + "?surface=beale&steps=50&opt=sgd,lr=0.01")
    page = web.page
    n = web.applied()
    # every drawn view, with the link it was drawn for
    page.evaluate("window.__drawnFor = []; document.addEventListener('descentlab:applied', () => __drawnFor.push(location.search))")
    page.get_by_role("button", name="Saddle").click()  # a lesson, then a slider: the link must carry both
    web.wait_applied(n + 1)
    page.wait_for_function("__drawnFor.some(s => s.includes('surface=saddle'))")
    # the lesson's cards are on the page (its SGD at η = 0.05) before the slider is touched
    expect(page.locator(SGD_LR_NUMBER)).to_have_value("0.05", timeout=20_000)
    page.locator(SGD_LR_SLIDER).first.focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator(SGD_LR_NUMBER)).not_to_have_value("0.05", timeout=20_000)
    lr = page.locator(SGD_LR_NUMBER).input_value()
    assert float(lr) < 0.05
    page.wait_for_function(f"__drawnFor.some(s => s.includes('surface=saddle') && s.includes('lr={lr},'))")
    link, state = page.url, web.state()

    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()  # another browser profile
    other.goto(link)
    other.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1")
    again = other.evaluate("DescentLab.state()")
    assert again["slots"] == state["slots"] and again["n"] == state["n"]
    assert other.locator(SGD_LR_NUMBER).input_value() == lr
    assert "Saddle" in other.inner_text(".surface-select")
    assert other.url == link
    other.context.close()
    web.assert_clean()


def test_a_hostile_link_is_refused_gracefully(web):
    hostile = ("?steps=1e999&surface=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&opt=__import__('os').system('id')"
               "&opt=adam,lr=-5,beta1=NaN,zzz=1&s.kappa=inf&view=4d&clip=foo&arrows=99&start=1e308,nan"
               "&f=" + "x" * 600)  # fmt: skip
    dialogs = []
    web.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    web.goto(web.base + hostile)
    page = web.page
    notice = page.locator("#notice")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "could not be used" in text and "unknown surface" in text and "steps" in text
    assert "<img" in text  # shown as text, never as markup
    assert page.locator("#notice img").count() == 0 and not dialogs
    assert web.state()["slots"] and "NaN" not in page.locator("body").inner_text()
    # dismissable
    page.click("#notice .notice-close")
    assert not notice.is_visible()
    web.assert_clean()


def test_divergence_is_marked_and_cards_come_and_go(web):
    web.goto(web.base + "?surface=beale&start=1,1.5&steps=300&opt=sgd,lr=5&opt=adam,lr=0.1")
    page = web.page
    drawn = web.drawn()
    assert drawn["ends"]["0"].startswith("diverged at step")
    assert drawn["trails"]["1"] == 301 and "1" in drawn["balls"]  # the others keep going
    page.wait_for_function("document.querySelector('[data-card-status=\"0\"]').textContent.includes('diverged')")
    assert page.locator('[data-card-status="0"]').evaluate("e => e.classList.contains('warn')")
    cards = page.locator(".card")
    assert cards.count() == 2
    n = web.applied()
    page.click("#add-optimizer")  # adds the chosen optimizer (Adam)
    web.wait_applied(n + 1)
    assert cards.count() == 3 and "Adam" in cards.nth(2).inner_text()
    n = web.applied()
    cards.nth(1).get_by_role("button", name="copy Adam").click()
    web.wait_applied(n + 1)
    assert cards.count() == 4 and len(web.state()["slots"]) == 4
    n = web.applied()
    cards.nth(0).get_by_role("button", name="Remove SGD").click()
    web.wait_applied(n + 1)
    assert cards.count() == 3 and len(web.state()["slots"]) == 3 and not web.drawn()["ends"]
    page.wait_for_function("new URLSearchParams(location.search).getAll('opt').length === 3")
    web.assert_clean()


def test_formula_errors_are_shown_inline(web):
    web.goto(web.base + "?surface=formula&f=x%5E%5E2&box=-2,2,-2,2&opt=adam,lr=0.05")
    page = web.page
    error = page.locator("#formula-error")
    assert "position" in error.inner_text()
    n = web.applied()
    page.fill("#formula", "(x - 1)^2 + 3*y^2")
    page.press("#formula", "Enter")
    web.wait_applied(n + 1)
    page.wait_for_function("document.getElementById('formula-error').textContent === ''")
    assert web.state()["slots"][0]["len"] == 501
    web.assert_clean()


def test_the_3d_view_animates(web):
    web.goto(web.base + "?surface=himmelblau&start=-0.27,-0.92&steps=60&opt=sgd,lr=0.01&opt=adam,lr=0.1&view=3d")
    page = web.page
    assert page.evaluate("document.querySelector('#map .js-plotly-plot').data[0].type") == "surface"
    # the 3-D traces came as the bundle's chunk, on demand, and the surface was really drawn (a WebGL scene)
    scripts = scripts_fetched(page)
    assert any(n.startswith("plotly-3d-") for n in scripts) and "plotly.min.js" not in scripts
    assert page.locator("#map .gl-container canvas").count() >= 1
    page.click("#to-start")
    page.wait_for_function(
        "document.querySelector('#map .js-plotly-plot').data[3].x.length === 1", timeout=10_000
    )  # the path trace of colour 0 is cut back to step 0
    page.locator("#scrubber-range").fill("30")
    page.wait_for_function("document.querySelector('#map .js-plotly-plot').data[3].x.length === 31", timeout=10_000)
    web.assert_clean()


def test_switching_to_3d_loads_the_3d_traces_on_demand(web):
    web.goto(web.base + "?surface=rosenbrock&steps=40&opt=momentum,lr=0.001")
    page = web.page
    assert not any(n.startswith("plotly-3d-") for n in scripts_fetched(page))
    n = web.applied()
    page.locator("#view input[value='3d']").check()
    web.wait_applied(n + 1)
    page.wait_for_function("document.querySelector('#map .js-plotly-plot').data[0].type === 'surface'", timeout=10_000)
    assert any(n.startswith("plotly-3d-") for n in scripts_fetched(page))
    assert page.locator("#map .gl-container canvas").count() >= 1
    assert query(page)["view"] == ["3d"]
    web.assert_clean()


def test_surface_and_number_moves_still_recompute(web):
    """Sliders are committed by the page: a surface slider (no fast path) redraws the map and moves the runs."""
    web.goto(web.base + "?surface=quadratic&steps=60&opt=sgd,lr=0.05")
    page = web.page
    before = web.state()["slots"][0]["last"]
    rev = page.evaluate("document.querySelector('#map .js-plotly-plot').layout.meta.rev")
    n = web.applied()
    page.locator('[id*=\'"group":"sp"\'][id*=\'"type":"slider"\'] [role="slider"]').first.focus()
    page.keyboard.press("ArrowRight")
    web.wait_applied(n + 1)
    page.wait_for_function(f"document.querySelector('#map .js-plotly-plot').layout.meta.rev !== {rev!r}")
    assert web.state()["slots"][0]["last"] != before
    assert "s." in page.evaluate("location.search")  # the surface parameter is in the link
    web.assert_clean()


def test_a_late_plotly_bundle_is_waited_for_not_replaced(web):
    """The page's plotly.js bundle arriving after the layout must not make dcc.Graph load the full plotly.js.

    (A busy server or a slow network delays the module; the page used to race it and, when the layout won,
    fetched the 3.5 MB plotly.min.js as well, so the 3-D chunk was never used.)
    """
    import time

    page = web.page

    def late(route):
        time.sleep(1.5)
        route.continue_()

    page.route("**/plotly-lite.mjs*", late)
    web.goto(web.base + "?surface=himmelblau&steps=40&opt=adam,lr=0.1&view=3d")
    assert page.evaluate("document.querySelector('#map .js-plotly-plot').data[0].type") == "surface"
    scripts = scripts_fetched(page)
    assert "plotly.min.js" not in scripts
    assert any(n.startswith("plotly-3d-") for n in scripts)
    web.assert_clean()
