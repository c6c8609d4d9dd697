"""The lesson player in a real browser: predict, reveal, the embedded view's controls, keys, axe."""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, violations

pytestmark = pytest.mark.browser

FRAME_READY = """() => {
  const f = document.getElementById('lesson-view-frame');
  const d = f && f.contentDocument;
  return !!(d && d.documentElement && d.documentElement.classList.contains('embedded') && d.getElementById('map')
            && f.contentWindow.DescentLab && f.contentWindow.DescentLab.state().applied >= 1);
}"""


def _open(web, path: str) -> None:
    web.page.goto(web.base + path.lstrip("/"))
    web.page.wait_for_selector("#lesson-text")
    web.page.wait_for_function(FRAME_READY)


def test_a_click_prediction_is_judged_and_the_run_is_revealed(web):
    page = web.page
    _open(web, "lesson/gd_quadratic?step=1")
    assert page.is_visible("#lesson-view-cover")
    assert page.evaluate("document.getElementById('lesson-view-frame').inert") is True
    page.click("#lesson-reveal")  # no prediction yet: the view stays covered
    page.wait_for_function("document.getElementById('lesson-verdict').textContent.includes('prediction first')")
    assert page.is_visible("#lesson-view-cover")
    page.wait_for_selector("#lesson-prediction-map .nsewdrag")
    page.locator("#lesson-prediction-map .nsewdrag").scroll_into_view_if_needed()
    box = page.locator("#lesson-prediction-map .nsewdrag").bounding_box()
    # the run stops at (−1.19, 0) on the box x ∈ [−10, 10]: click near there
    page.mouse.click(box["x"] + box["width"] * (8.8 / 20), box["y"] + box["height"] * 0.5)
    page.wait_for_function("document.getElementById('lesson-prediction-point').textContent.includes('Your prediction')")
    page.click("#lesson-reveal")
    page.wait_for_function("document.getElementById('lesson-verdict').textContent.startsWith('Right.')")
    page.wait_for_selector("#lesson-view-cover", state="hidden")
    assert page.evaluate("document.getElementById('lesson-view-frame').inert") is False
    # revealing replays the run from its start inside the view
    page.wait_for_function("document.getElementById('lesson-view-frame').contentWindow.DescentLab.state().playing === true"
                           " || document.getElementById('lesson-view-frame').contentWindow.DescentLab.state().k > 0")
    web.assert_clean()


def test_the_view_hides_and_locks_the_steps_controls_and_notices_a_change(web):
    page = web.page
    _open(web, "lesson/gd_quadratic?step=2")
    frame = page.frame_locator("#lesson-view-frame")
    # step 2 hides the modifiers and the lesson buttons; nothing is locked
    assert page.evaluate("document.getElementById('lesson-view-frame').contentDocument.getElementById('schedule')"
                         ".closest('details').hidden") is True
    assert not frame.locator("#schedule").is_visible()
    page.wait_for_function("""() => {
        const d = document.getElementById('lesson-view-frame').contentDocument;
        const nav = d.getElementById('presets');
        return !!nav && nav.hidden && nav.getBoundingClientRect().height === 0;
    }""")  # hidden on screen, not only marked
    assert not frame.locator("#presets").is_visible() and frame.locator("#map").is_visible()
    assert not frame.locator("nav[aria-label='Pages']").is_visible()  # no site chrome inside the frame
    assert page.is_hidden("#lesson-view-changed")
    page.check("#lesson-choice input[value='no']")
    page.click("#lesson-reveal")
    page.wait_for_function("document.getElementById('lesson-verdict').textContent.startsWith('Right.')")
    steps = frame.locator("#steps")
    steps.fill("40")
    steps.press("Enter")
    page.wait_for_selector("#lesson-view-changed", state="visible")
    assert "stale" in page.get_attribute(".lesson-claims", "class")
    page.click("#lesson-view-reset")
    page.wait_for_selector("#lesson-view-changed", state="hidden", timeout=20_000)
    web.assert_clean()


def test_locked_controls_are_inert_in_the_view(web):
    page = web.page
    _open(web, "lesson/gd_quadratic?step=1")
    page.wait_for_function("""() => {
        const el = document.getElementById('lesson-view-frame').contentDocument.getElementById('surface');
        const box = el && el.closest('details');
        return !!box && box.inert === true && box.classList.contains('lesson-locked');
    }""")
    # the other sections stay usable
    assert page.evaluate("document.getElementById('lesson-view-frame').contentDocument.getElementById('optimizer-cards')"
                         ".closest('details').inert") is False
    web.assert_clean()


def test_keys_move_between_steps_and_the_page_has_no_serious_accessibility_violations(web):
    page = web.page
    _open(web, "lesson/saddle_newton?step=1")
    found = violations(page)
    assert not found, "\n" + describe(found)
    page.locator("#lesson-text h1").click()
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**/lesson/saddle_newton?step=2")
    page.wait_for_selector("#lesson-text")
    assert "Step 2 of 2" in page.inner_text(".lesson-counter")
    page.keyboard.press("PageUp")
    page.wait_for_url("**/lesson/saddle_newton?step=1")
    page.goto(web.base + "lessons")
    page.wait_for_selector(".lesson-link")
    found = violations(page)
    assert not found, "\n" + describe(found)
    web.assert_clean()


def test_with_reduced_motion_revealing_rewinds_the_run_and_leaves_play_to_the_student(browser, live_server):
    ctx = browser.new_context(reduced_motion="reduce", viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "lesson/gd_quadratic?step=2")
        page.wait_for_selector("#lesson-text")
        page.wait_for_function(FRAME_READY)
        lab = "document.getElementById('lesson-view-frame').contentWindow.DescentLab"
        n = page.evaluate(f"{lab}.state().n")
        assert page.evaluate(f"{lab}.state().k") == n  # the view opens on the finished run
        page.check("#lesson-choice input[value='no']")
        page.click("#lesson-reveal")
        page.wait_for_selector("#lesson-view-cover", state="hidden")
        # rewound to step 0 (the to-start and play buttons are clicked in one go, so a run that is not
        # playing now was never started)
        page.wait_for_function(f"{lab}.state().k === 0")
        assert page.evaluate(f"{lab}.state().playing") is False
        # the student presses Play
        page.frame_locator("#lesson-view-frame").locator("#play").click()
        page.wait_for_function(f"{lab}.state().playing === true || {lab}.state().k > 0")
        assert not errors, errors
    finally:
        ctx.close()


LAB_FRAME_READY = """() => {
  const f = document.getElementById('lesson-view-frame');
  const d = f && f.contentDocument;
  return !!(d && d.documentElement && d.documentElement.classList.contains('embedded') && d.getElementById('lab-start')
            && f.contentWindow.dash_clientside && d.querySelector('#lab-opt-rows .lab-opt'));
}"""


def _race_in_frame(page) -> None:
    frame = page.frame_locator("#lesson-view-frame")
    frame.locator("#lab-start").click()
    page.wait_for_function("document.getElementById('lesson-view-frame').contentDocument"
                           ".getElementById('lab-status').innerText.startsWith('Finished')", timeout=120_000)  # fmt: skip


def test_a_lab_lesson_runs_its_races_in_the_view_and_keeps_them_side_by_side_across_steps(web):
    page = web.page
    page.goto(web.base + "lesson/init_batchnorm?step=1")
    page.wait_for_selector("#lesson-text")
    page.wait_for_function(LAB_FRAME_READY)
    frame = page.frame_locator("#lesson-view-frame")
    assert not frame.locator("aside.lab-form").is_visible()  # the step hides the form; Start stays
    _race_in_frame(page)
    frame.locator("#lab-kept-table tbody tr").first.wait_for()
    page.click("#lesson-next")
    page.wait_for_url("**/lesson/init_batchnorm?step=2")
    page.wait_for_function(LAB_FRAME_READY)
    _race_in_frame(page)
    page.wait_for_function("document.getElementById('lesson-view-frame').contentDocument"
                           ".querySelectorAll('#lab-kept-table th[scope=rowgroup]').length === 2")  # fmt: skip
    assert frame.locator("#lab-kept-table th[scope=rowgroup]").all_inner_texts() == [
        "naive (σ = 0.01) init", "Xavier (normal) init"]
    web.assert_clean()
