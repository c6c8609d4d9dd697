"""The lab's curvature report in headless Chromium, on a phone-sized screen: after a tiny race the spectrum
graph shows each optimizer's eigenvalues, the list gives κ and the quadratic link (reached and followed by
keyboard), and the filled panel passes axe-core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.axe import BLOCKING, TAGS, axe_source, describe, violations
from tests.browser.test_lab_page import TINY, Page, lab_server  # noqa: F401 - the lab server fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, lab_server) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Page(page, lab_server)
    context.close()


def _panel_violations(page) -> list[dict]:
    page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run({include: [['.lab-curvature']]},
                                    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations', 'passes']});
            return {passes: r.passes.length,
                    violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')), count: v.nodes.length}))};
        }""",
        TAGS,
    )
    assert found["passes"] > 0  # the panel was really checked
    return [v for v in found["violations"] if v["impact"] in BLOCKING]


def test_after_a_race_the_spectrum_and_quadratic_links_show_and_work_by_keyboard(phone):
    page = phone.page
    phone.open(TINY)
    page.click("#lab-start")
    page.wait_for_function("document.getElementById('lab-status').innerText.startsWith('Finished')", timeout=60_000)
    spec = phone.graph("lab-spectrum-graph")
    names = {t["name"] for t in spec["data"]}
    assert "λ > 0" in names and sum(t["n"] for t in spec["data"]) == 20  # 5 top + 5 bottom for each of 2 runs
    assert "Hessian eigenvalues" in spec["title"]
    items = page.locator("#lab-curvature-links li")
    assert items.count() == 2
    assert "κ = " in items.nth(0).inner_text() and "not meaningful for adam" in items.nth(0).inner_text()
    assert "η·λ_max = " in items.nth(1).inner_text()
    link = page.locator("#lab-curvature-links a").nth(1)
    href = link.get_attribute("href")
    assert href.startswith("/?surface=quadratic&s.kappa=") and "opt=sgd,lr=" in href
    # the link fits the phone's width and is reached by Tab
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1
    link.focus()
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    found = _panel_violations(page)
    assert not found, "\n" + describe(found)
    # the whole finished page at phone width (the standalone lab app has no <html lang>; the full app sets it)
    found = [v for v in violations(page) if v["id"] != "html-has-lang"]
    assert not found, "\n" + describe(found)
    page.keyboard.press("Enter")
    page.wait_for_url("**/?surface=quadratic*")
    phone.assert_clean()
