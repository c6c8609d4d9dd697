"""The curvature lens in headless Chromium: the eigen-cross at the ball and the stability chart's
cursor follow the scrubber; GD just over / under 2/λ_max on the quadratic; accessibility."""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, violations

pytestmark = pytest.mark.browser

STAB = 4  # the stability panel's place among the diagnostics (app.explorer.diagnostics.PANELS)
SPLIT = 5
QUAD = "?surface=quadratic&s.kappa=10&s.angle=0&start=-9,4&steps=300"


def panels_drawn(page, n: int = 6) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('#diagnostics .diag-panel.js-plotly-plot').length === {n}"
        " && DescentLab.state().diagnostics >= 1"
    )


def series(page, panel: int, trace: int) -> list[float]:
    """The y values of a diagnostic panel's trace as plotly holds them (typed arrays decoded)."""
    return page.evaluate(
        f"""(() => {{ const gd = document.querySelectorAll('#diagnostics .diag-panel')[{panel}];
            return Array.from(gd._fullData[{trace}].y, v => v === null ? null : +v); }})()"""
    )


def seek(page, k: int) -> None:
    page.evaluate(f"""(() => {{ const r = document.getElementById('scrubber-range');
        r.value = '{k}'; r.dispatchEvent(new Event('input', {{bubbles: true}})); }})()""")
    page.wait_for_function(f"DescentLab.drawn() && DescentLab.drawn().k === {k}")


def test_cross_and_stability_cursor_follow_the_scrubber(web):
    web.goto(web.base + "?surface=saddle&start=-1.8,0.01&steps=80&opt=sgd,lr=0.05&opt=momentum,lr=0.02,momentum=0.5")
    page = web.page
    panels_drawn(page)
    for k in (0, 17, 63):
        seek(page, k)
        drawn = web.drawn()
        pos = page.evaluate("DescentLab.state().slots.map(s => s.color)")
        assert sorted(drawn["cross"]) == [str(c) for c in sorted(pos)]
        cross = drawn["cross"]["0"]
        assert cross["step"] == k and cross["centre"] == pytest.approx(drawn["balls"]["0"])
        lam = [a["lam"] for a in cross["arms"]]
        assert lam == pytest.approx([-2.0, 2.0], rel=1e-6)  # x² − y²: the y arm is the escape direction
        assert [a["dashed"] for a in cross["arms"]] == [True, False]
        # the stability panel's cursor stands at step k
        gap = page.evaluate(
            f"""(() => {{ const gd = document.querySelectorAll('#diagnostics .diag-panel')[{STAB}];
                const xa = gd._fullLayout.xaxis, line = gd.parentElement.querySelector('.diag-cursor');
                return Math.abs(parseFloat(line.style.left) - (xa._offset + xa.l2p({k}))); }})()"""
        )
        assert gap < 0.6
    # the stability series is η·λ_max = 0.05 · 2 for GD, and the bound lines say what they are
    assert series(page, STAB, 0)[:5] == pytest.approx([0.1] * 5, rel=1e-6)
    texts = page.evaluate(
        f"""Array.from(document.querySelectorAll('#diagnostics .diag-panel')[{STAB}]
            .querySelectorAll('.textpoint text')).map(t => t.textContent)"""
    )
    assert "GD bound 2" in texts and any("2(1+μ) = 3" in t for t in texts)
    # the toggle takes the cross away, and brings it back
    page.get_by_label("curvature cross").uncheck()
    page.wait_for_function("Object.keys(DescentLab.drawn().cross).length === 0")
    page.get_by_label("curvature cross").check()
    page.wait_for_function("Object.keys(DescentLab.drawn().cross).length === 2")
    web.assert_clean()


@pytest.mark.parametrize("lr, above", [(2.05, True), (1.95, False)])
def test_gd_at_the_edge_of_stability_on_the_quadratic(web, lr, above):
    web.goto(web.base + QUAD + f"&opt=sgd,lr={lr}")
    page = web.page
    panels_drawn(page)
    stab = [v for v in series(page, STAB, 0) if v is not None]
    assert stab[0] == pytest.approx(lr, rel=1e-6)  # λ_max = 1: the surface's normalisation
    state = web.state()["slots"][0]
    loss = page.evaluate("""Array.from(document.querySelectorAll('#diagnostics .diag-panel')[0]._fullData[0].y,
                              v => v === null ? null : +v)""")
    if above:
        assert all(v > 2 for v in stab)  # above the line from the first step
        assert state["status"] == "diverged"
        first_growth = min(range(len(loss) - 1), key=lambda i: loss[i])
        assert first_growth == 2  # the slow direction still wins for two steps, then the loss grows
        assert all(b > a for a, b in zip(loss[2:], loss[3:]))
    else:
        assert all(v < 2 for v in stab)
        assert state["status"] != "diverged" and loss[-1] < 1e-6 * loss[0]
    # the error split: the measured steep error is |1 − η|^k · 4, and its dashed prediction lies on it
    steep, pred = series(page, SPLIT, 0), series(page, SPLIT, 1)
    for k in (0, 5, 40):
        assert steep[k] == pytest.approx(abs(1 - lr) ** k * 4.0, rel=1e-5)
        assert pred[k] == pytest.approx(steep[k], rel=1e-6)
    web.assert_clean()


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_curvature_panel_is_accessible(web, viewport):
    page = web.page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    web.goto(web.base + QUAD + "&opt=sgd,lr=0.5&opt=momentum,lr=0.3,momentum=0.8")
    panels_drawn(page)
    found = violations(page)
    assert found == [], describe(found)
    box = page.get_by_label("curvature cross")
    box.focus()
    assert page.evaluate("document.activeElement.closest('#curvature-cross') !== null")
    assert box.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Space")
    page.wait_for_function("Object.keys(DescentLab.drawn().cross).length === 0")
    web.assert_clean()
