"""Every page passes axe-core without serious or critical violations, and stays usable by keyboard.

axe-core comes from web/package-lock.json (installed by ``make``) and is injected into the page
as it is once drawn.  Dash's own components need ``assets/a11y.js`` for this; the keyboard tests
check that its repairs keep dropdowns, radio groups and sliders working.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, violations

#: pages and views, each checked once it has drawn
VIEWS = {
    "explorer": "?surface=beale",
    "explorer-3d": "?surface=quadratic&steps=40&opt=sgd,lr=0.5&opt=momentum,lr=0.5,momentum=0.9&view=3d",
    "explorer-formula": "?surface=formula&formula=sin(x)*y%5E2&steps=30&opt=adam,lr=0.05",
    "maps": "maps",
    "maps-hyper": "maps?kind=hyper",
    "lab": "lab",
}


def _open(web, path: str) -> None:
    page = web.page
    page.goto(web.base + path)
    if path.startswith("?") or path == "":
        web.wait_applied(1)
    else:
        page.wait_for_selector(".js-plotly-plot", state="attached")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("name", list(VIEWS))
def test_no_serious_or_critical_violations(web, name):
    _open(web, VIEWS[name])
    found = violations(web.page)
    assert not found, "\n" + describe(found)
    assert web.page.evaluate("document.documentElement.lang") == "en"
    web.assert_clean()


def test_a_dropdown_is_reached_with_tab_and_opened_with_the_keyboard(web):
    _open(web, "lab")
    page = web.page
    page.focus("label[for='lab-act']")  # not focusable itself: Tab goes on from here in document order
    page.evaluate("document.querySelector(\"label[for='lab-act']\").setAttribute('tabindex', '-1')")
    page.focus("label[for='lab-act']")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "lab-act"  # the dropdown's named button, not its proxy
    page.keyboard.press("Enter")
    page.get_by_role("option", name="tanh").wait_for()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name="tanh").click()
    page.wait_for_function("document.querySelector('#lab-act .dash-dropdown-value').innerText.includes('tanh')")
    # Shift+Tab from the next control comes back to the same button
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "lab-act"
    web.assert_clean()


def test_radio_groups_are_named_and_keep_working_by_keyboard(web):
    _open(web, "lab")
    page = web.page
    group = page.locator("#lab-data")
    assert group.get_attribute("role") == "radiogroup" and group.get_attribute("aria-label")
    assert page.locator("#lab-data [role='option']").count() == 0
    page.locator("#lab-data input[value='digits']").focus()
    page.keyboard.press("ArrowDown")  # native radio buttons: the arrow selects the next one
    page.wait_for_function("document.querySelector('#lab-data input:checked').value !== 'digits'")
    web.assert_clean()


def test_explorer_sliders_are_named_after_their_labels(web):
    _open(web, "?surface=beale&opt=momentum,lr=0.01,momentum=0.9")
    page = web.page
    names = page.locator(".dash-slider-thumb[role='slider']").evaluate_all("ts => ts.map(t => t.getAttribute('aria-label'))")
    assert names and all(names)
    assert "η, learning rate" in names and any(n.startswith("μ") for n in names)
    thumb = page.get_by_role("slider", name="η, learning rate").first
    before = thumb.get_attribute("aria-valuenow")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"document.querySelector(\".dash-slider-thumb[aria-label='η, learning rate']\").getAttribute('aria-valuenow') !== {before!r}"
    )
    web.assert_clean()


def test_a_toggled_checklist_keeps_no_stray_selection_attribute(web):
    """Dash gives a checklist option ``aria-selected`` back when it toggles; a checkbox states its own state."""
    _open(web, VIEWS["explorer"])
    box = web.page.locator("#curvature-cross input[type='checkbox']")
    box.click()
    web.page.wait_for_function("!document.querySelector('#curvature-cross input').checked")
    box.click()
    web.page.wait_for_function("document.querySelector('#curvature-cross input').checked")
    web.page.wait_for_function("document.querySelectorAll('#curvature-cross [aria-selected]').length === 0")
    found = [v for v in violations(web.page) if v["id"] == "aria-allowed-attr"]
    assert not found, "\n" + describe(found)
    web.assert_clean()
