"""A Hessian-free run in the Explorer's race says its CG iterations per step; the maps page refuses a sweep too
large for its Python driver with a message instead of hanging."""

from __future__ import annotations

import numpy as np

from app.explorer import views
from app.explorer.compute import compute
from app.explorer.state import from_query
from app.maps.compute import run_request
from app.maps.state import map_from_query, request_data


def test_the_card_status_shows_cg_iterations_per_step():
    cfg = from_query("surface=rosenbrock&start=-1.2,1&steps=20&opt=hessian_free&opt=newton")
    hf, newton = compute(cfg).runs
    its = hf.trajectory.cg_iterations[1:]
    text = views.outcome(hf)["text"]
    assert f"CG {its.mean():.1f}/step, max {int(its.max())}" in text
    assert np.all(its >= 1)
    assert "CG" not in views.outcome(newton)["text"]


def test_a_map_too_large_for_the_python_driver_is_refused_with_a_message():
    cfg = map_from_query("kind=basin&surface=himmelblau&steps=500&opt=hessian_free&grid=100&show=loss")
    outcome = run_request(request_data(cfg))
    assert outcome.meta is None
    assert "job-steps" in outcome.status
