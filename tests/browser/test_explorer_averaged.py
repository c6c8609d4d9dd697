"""A schedule-free run in headless Chromium: the averaged point x drawn beside the iterate y, in 2-D and 3-D."""

from __future__ import annotations

import numpy as np
import pytest

from app.explorer.compute import TWO_POINTS
from app.explorer.figures import TRACE_INDEX
from optimizers import make_config, trace
from surfaces import get_surface

pytestmark = pytest.mark.browser

LINK = "?surface=beale&start=1,1.5&steps=100&opt=adam,lr=0.01&opt=schedulefree_adamw,lr=0.01"


def test_schedule_free_run_draws_x_and_says_which_path_is_which(web):
    web.goto(web.base + LINK)
    page = web.page
    drawn = web.drawn()
    t = trace(get_surface("beale"), make_config("schedulefree_adamw", lr=0.01), (1.0, 1.5), 100)
    assert set(drawn["averaged"]) == {"1"}  # Adam (colour 0) has no averaged point
    np.testing.assert_allclose(drawn["averaged"]["1"], t.averaged[-1], rtol=1e-12)
    np.testing.assert_allclose(drawn["balls"]["1"], t.positions[-1], rtol=1e-12)  # the ball is y
    board = page.locator("#legend").inner_text()
    assert TWO_POINTS in board and "f(x)" in board
    # scrubbing moves x with the step
    page.locator("#scrubber-range").fill("10")
    page.wait_for_function("DescentLab.drawn().k === 10")
    np.testing.assert_allclose(web.drawn()["averaged"]["1"], t.averaged[10], rtol=1e-12)
    web.assert_clean()


def test_schedule_free_run_draws_x_in_3d(web):
    web.goto(web.base + LINK + "&view=3d")
    page = web.page
    slot = TRACE_INDEX["averaged"] + 1
    page.wait_for_function(f"document.querySelector('#map .js-plotly-plot').data[{slot}].x.length === 101")
    page.locator("#scrubber-range").fill("30")
    page.wait_for_function(
        f"document.querySelector('#map .js-plotly-plot').data[{slot}].x.length === 31", timeout=10_000
    )
    assert page.evaluate(f"document.querySelector('#map .js-plotly-plot').data[{slot}].line.dash") == "dash"
    web.assert_clean()
