"""The curvature lens's figure math: the eigen-cross at a ball, the stability chart η·λ_max, and the
quadratic's error split against its closed-form recurrence (no browser)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.explorer import curvature_panel as cp
from app.explorer import diagnostics
from app.explorer.compute import CROSS_MAX, CROSS_MIN, CROSS_SCALE, NO_HESSIAN, compute, payload, unb64
from app.explorer.config import ExplorerConfig, OptimizerEntry
from app.export.panels import PANEL_KEYS, composed_figure, parse_panels


def quad(*entries: OptimizerEntry, kappa: float = 10.0, angle: float = 0.0, steps: int = 60, **kw) -> ExplorerConfig:
    return ExplorerConfig(surface="quadratic", surface_params=(("kappa", kappa), ("angle", angle)),
                          start=(-9.0, 4.0), steps=steps, optimizers=entries, **kw)  # fmt: skip


def gd(lr: float, color: int = 0, **kw) -> OptimizerEntry:
    return OptimizerEntry.default("sgd", color, lr=lr, **kw)


# --------------------------------------------------------------------------- the cross


def test_cross_arms_scale_as_inverse_sqrt_of_curvature_and_dash_the_negative_one_on_the_saddle():
    cfg = ExplorerConfig(surface="saddle", start=(-1.8, 0.01), steps=5, optimizers=(gd(0.01),))
    res = compute(cfg)
    t = res.runs[0].trajectory
    span = 4.0
    arms = cp.cross_arms(t, 2, span)
    assert [a["lam"] for a in arms] == pytest.approx([-2.0, 2.0])
    assert [a["dashed"] for a in arms] == [True, False]  # the escape direction (y) is dashed
    assert arms[0]["half"] == pytest.approx(CROSS_SCALE * span / math.sqrt(2.0))
    assert abs(arms[0]["dir"][1]) == pytest.approx(1.0) and abs(arms[1]["dir"][0]) == pytest.approx(1.0)


def test_arm_lengths_follow_one_over_sqrt_lambda_and_are_clamped():
    span = 20.0
    a, b = cp.arm_length(1.0, span), cp.arm_length(4.0, span)
    assert a / b == pytest.approx(2.0)
    assert cp.arm_length(0.0, span) == CROSS_MAX * span  # flat: the longest arm, never infinite
    assert cp.arm_length(1e-9, span) == CROSS_MAX * span
    assert cp.arm_length(1e9, span) == CROSS_MIN * span  # very sharp: never vanishes
    assert cp.arm_length(-4.0, span) == b


def test_payload_carries_every_steps_curvature_and_marks_rows_without_a_hessian():
    res = compute(quad(gd(0.5), angle=30.0, steps=40))
    p = payload(res, {}, None)
    slot = p["slots"][0]
    t = res.runs[0].trajectory
    assert unb64(slot["lmax"], "<f4") == pytest.approx(t.lambda_max, rel=1e-6)
    assert unb64(slot["lmin"], "<f4") == pytest.approx(t.lambda_min, rel=1e-6)
    ang = unb64(slot["ang"], "<f4")
    assert ang.shape == (41,) and np.all(ang != NO_HESSIAN)
    v = np.c_[np.cos(ang), np.sin(ang)]
    assert np.abs(np.sum(v * t.eigvec_max, axis=1)) == pytest.approx(np.ones(41), abs=1e-6)  # ± the same axis
    assert p["cross"]["c"] == pytest.approx(CROSS_SCALE * 20.0) and p["cross"]["none"] == NO_HESSIAN


# --------------------------------------------------------------------------- stability


def test_stability_series_is_lr_times_lambda_max_with_the_scheduled_lr():
    cfg = quad(gd(0.5), steps=30, schedule="exponential", schedule_params=(("gamma", 0.9),))
    run = compute(cfg).runs[0]
    s = cp.stability_series(run)
    lrs = 0.5 * 0.9 ** np.arange(31)
    assert s == pytest.approx(lrs * run.trajectory.lambda_max, rel=1e-12)
    assert s[0] == pytest.approx(0.5)  # λ_max = 1 on this surface's normalisation


def test_bounds_drawn_only_where_they_apply():
    cfg = quad(gd(0.5, 0), OptimizerEntry.default("momentum", 1, lr=0.1, momentum=0.5),
               OptimizerEntry.default("adam", 2, lr=0.1), steps=20)  # fmt: skip
    res = compute(cfg)
    assert [cp.stability_bound(r) and cp.stability_bound(r)[0] for r in res.runs] == [2.0, 3.0, None]
    panel = diagnostics.diagnostics_panels(res)[[k for k, _ in diagnostics.PANELS].index("stab")]
    lines = [tr for tr in panel["data"] if tr["mode"] == "lines+text"]
    assert sorted(tr["y"][0] for tr in lines) == [2.0, 3.0]
    assert "Adam" in panel["layout"]["annotations"][0]["text"]
    assert panel["layout"]["yaxis"]["type"] == "linear"


def test_gd_just_above_two_over_lambda_max_crosses_from_the_first_step_and_diverges():
    over = compute(quad(gd(2.05), steps=400)).runs[0]
    under = compute(quad(gd(1.95), steps=400)).runs[0]
    so, su = cp.stability_series(over), cp.stability_series(under)
    assert so[0] > 2 and np.all(so > 2)
    assert np.all(su < 2)
    # the line is crossed at step 0, but the loss first falls (the slow direction's error still shrinks
    # faster than the steep one's grows) and only then grows
    first_growth = int(np.argmin(over.trajectory.losses))
    assert int(np.argmax(so > 2)) == 0 < first_growth == 2
    assert over.trajectory.losses[-1] > 1e3 * over.trajectory.losses[0] or over.trajectory.status == "diverged"
    assert under.trajectory.losses[-1] < 1e-6


# --------------------------------------------------------------------------- the error split


@pytest.mark.parametrize(
    "entry",
    [
        gd(0.3),
        gd(1.9),
        OptimizerEntry.default("sgd", 0, lr=0.2, momentum=0.7),
        OptimizerEntry.default("sgd", 0, lr=0.2, momentum=0.7, dampening=0.3, weight_decay=0.05),
        OptimizerEntry.default("sgd", 0, lr=0.2, momentum=0.7, nesterov=True),
        OptimizerEntry.default("momentum", 0, lr=0.3, momentum=0.8),
        OptimizerEntry.default("momentum", 0, lr=0.3, momentum=0.8, convention="textbook"),
    ],
    ids=["gd", "gd-fast", "heavy-ball", "damped-decayed", "nesterov", "momentum", "textbook"],
)
@pytest.mark.parametrize("angle", [0.0, 35.0])
def test_error_split_prediction_equals_the_measured_run(entry, angle):
    res = compute(quad(entry, angle=angle, steps=150))
    split = cp.error_split(res, res.runs[0])
    for key in ("min", "max"):
        assert split[f"pred_{key}"] is not None
        assert np.max(np.abs(split[f"pred_{key}"] - split[key])) < 1e-12


def test_error_split_prediction_follows_a_schedule():
    cfg = quad(OptimizerEntry.default("sgd", 0, lr=0.5, momentum=0.5), steps=120, schedule="cosine",
               schedule_params=(("T_max", 100.0), ("eta_min", 0.0)))  # fmt: skip
    res = compute(cfg)
    split = cp.error_split(res, res.runs[0])
    assert np.max(np.abs(split["pred_max"] - split["max"])) < 1e-11


def test_gd_error_is_the_closed_form_power():
    res = compute(quad(gd(0.3), steps=50))
    split = cp.error_split(res, res.runs[0])
    k = np.arange(51)
    assert np.abs(split["max"]) == pytest.approx(abs(1 - 0.3) ** k * 4.0, rel=1e-10)
    assert np.abs(split["min"]) == pytest.approx(abs(1 - 0.03) ** k * 9.0, rel=1e-10)


def test_error_split_elsewhere_says_why_and_adaptive_runs_get_no_prediction():
    beale = ExplorerConfig(surface="beale", start=(1.0, 1.5), steps=10, optimizers=(gd(0.01),))
    res = compute(beale)
    assert cp.error_split(res, res.runs[0]) is None
    data, note = cp.error_split_panel(res, diagnostics._decimate, diagnostics._line)
    assert data == [] and "quadratic" in note
    res = compute(quad(OptimizerEntry.default("adam", 0, lr=0.1), steps=20))
    split = cp.error_split(res, res.runs[0])
    assert split["pred_max"] is None and split["max"].shape == (21,)


def test_diverged_runs_leave_no_infinities_in_the_panels():
    res = compute(quad(gd(2.6), steps=2000))
    assert res.runs[0].trajectory.status == "diverged"
    import json

    text = json.dumps(diagnostics.diagnostics_panels(res), allow_nan=False)
    assert "Infinity" not in text


# --------------------------------------------------------------------------- exports


def test_curvature_and_errors_are_export_panels():
    assert parse_panels("map,curvature,errors") == ("map", "curvature", "errors")
    assert PANEL_KEYS["curvature"] == "stab" and PANEL_KEYS["errors"] == "split"
    from app.explorer.figures import map_figure
    from app.export.sizes import Frame

    res = compute(quad(gd(0.5), OptimizerEntry.default("momentum", 1, lr=0.1), steps=30))
    fig = composed_figure(map_figure(res), res, ("map", "curvature", "errors"), Frame(1600, 900, 1.0))
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(t.startswith("stability") for t in texts) and any(t.startswith("error |⟨θ−θ*") for t in texts)
    bound = [tr for tr in fig["data"] if tr.get("mode") == "lines+text" and tr.get("yaxis") == "y2"]
    assert sorted(tr["y"][0] for tr in bound) == [2.0, 3.8]
