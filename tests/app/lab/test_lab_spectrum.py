"""The lab's curvature report: the spectrum figure, the quadratic link, the panel and the job's measurement."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import numpy as np
from layout_tree import find_all, texts
from test_lab_page import raw_form, tiny_form

from app.explorer.state import from_query
from app.hosting.kv import MemoryKV
from app.lab import jobs, results
from app.lab.spectrum import quadratic_link, spectrum_figure


def _report(top, bottom, kappa, definite=True):
    return {"top": top, "bottom": bottom, "lambda_max": top[0], "kappa": kappa, "definite": definite,
            "lambda_small": top[0] / kappa if kappa else None, "iterations": 30, "samples": 100,
            "note": "λ_min ≤ 0: κ uses the smallest positive eigenvalue found"}  # fmt: skip


def test_figure_plots_magnitudes_on_a_log_axis_and_marks_negatives():
    fig = spectrum_figure([
        {"label": "SGD", "report": _report([8.0, 2.0], [-0.5, 0.01], 800.0, False)},
        {"label": "Adam", "report": _report([30.0, 3.0], [0.1, 0.2], 300.0)},
        {"label": "Broken", "report": None},
    ])  # fmt: skip
    json.dumps(fig)
    assert fig["layout"]["yaxis"]["type"] == "log"
    pos = [t for t in fig["data"] if t["legendgroup"] == "pos"]
    neg = [t for t in fig["data"] if t["legendgroup"] == "neg"]
    assert sorted(pos[0]["y"]) == [0.01, 2.0, 8.0] and set(pos[0]["x"]) == {"SGD"}
    assert sorted(pos[1]["y"]) == [0.1, 0.2, 3.0, 30.0]
    assert len(neg) == 1 and neg[0]["y"] == [0.5] and neg[0]["customdata"] == [-0.5]
    assert "open" in neg[0]["marker"]["symbol"] and "|λ|" in neg[0]["name"]
    assert [t["showlegend"] for t in pos] == [True, False]
    assert fig["layout"]["xaxis"]["categoryarray"] == ["SGD", "Adam", "Broken"]
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert lo < -2 and hi > np.log10(30.0)


def test_figure_without_reports_says_so():
    fig = spectrum_figure([{"label": "SGD", "report": None}])
    assert fig["data"] == [] and "No curvature" in json.dumps(fig)


def test_sgd_link_matches_kappa_and_eta_lambda_max():
    rep = _report([5.0, 1.0], [0.05, 0.1], 100.0)
    link = quadratic_link({"name": "sgd", "hyperparameters": {"lr": 0.1}}, rep)
    parts = urlsplit(link["href"])
    assert parts.path == "/"
    cfg = from_query(parts.query)
    assert cfg.surface == "quadratic" and dict(cfg.surface_params)["kappa"] == 100.0
    assert cfg.optimizers[0].name == "sgd" and cfg.optimizers[0].value("lr") == 0.5  # 0.1 × λ_max 5
    assert link["eta_lmax"] == 0.5 and "η·λ_max = 0.5" in link["text"]


def test_momentum_keeps_its_momentum_and_kappa_is_clamped_to_the_surface_range():
    rep = _report([2.0], [1e-6], 2e6)
    link = quadratic_link({"name": "sgd", "hyperparameters": {"lr": 0.05, "momentum": 0.9}}, rep)
    cfg = from_query(urlsplit(link["href"]).query)
    assert dict(cfg.surface_params)["kappa"] == 1e4 and "outside the quadratic's range" in link["text"]
    assert cfg.optimizers[0].value("momentum") == 0.9 and cfg.optimizers[0].value("lr") == 0.1


def test_adaptive_rules_get_a_kappa_link_and_a_reason_instead_of_eta():
    rep = _report([4.0], [0.4], 10.0)
    link = quadratic_link({"name": "adam", "hyperparameters": {"lr": 0.01}}, rep)
    cfg = from_query(urlsplit(link["href"]).query)
    assert dict(cfg.surface_params)["kappa"] == 10.0 and cfg.optimizers[0].value("lr") == 0.01
    assert link["eta_lmax"] is None and "not meaningful for adam" in link["text"]


def test_no_positive_curvature_means_no_link():
    assert quadratic_link({"name": "sgd", "hyperparameters": {"lr": 0.1}}, _report([-1.0], [-2.0], None))["href"] is None
    assert quadratic_link({"name": "sgd", "hyperparameters": {"lr": 0.1}}, None)["href"] is None


def test_panel_lists_each_optimizer_with_its_link_or_reason():
    curv = {"rows": [
        {"label": "SGD", "report": _report([5.0], [-0.1], 50.0, False),
         "link": quadratic_link({"name": "sgd", "hyperparameters": {"lr": 0.1}}, _report([5.0], [-0.1], 50.0, False))},
        {"label": "Gone", "report": None, "link": None, "message": "No curvature: its weights are not finite (it diverged)."},
    ]}  # fmt: skip
    tree = results.curvature_links(curv)
    links = [a for a in find_all(tree, lambda c: getattr(c, "href", None))]
    assert len(links) == 1 and links[0].href.startswith("/?surface=quadratic")
    words = texts(tree)
    assert "κ = 50" in words and "diverged" in words and "smallest positive" in words


def test_the_race_job_reports_curvature_per_optimizer():
    out = jobs.run_job(raw_form(tiny_form()), None, kv=MemoryKV(), token=None, push=lambda *a: None)
    assert out["ok"], out["status"]
    json.dumps(out)
    rows = out["curvature"]["rows"]
    assert [r["label"] for r in rows] == ["Adam (lr=0.01)", "SGD (lr=0.1, momentum=0.9)"]
    for r in rows:
        rep = r["report"]
        assert rep["top"] == sorted(rep["top"], reverse=True) and rep["bottom"] == sorted(rep["bottom"])
        assert rep["top"][0] >= rep["bottom"][0] and rep["iterations"] <= 60
    assert rows[1]["link"]["eta_lmax"] is not None and rows[0]["link"]["eta_lmax"] is None
    res = results.result_outputs(out)
    assert res["spectrum"]["layout"]["yaxis"]["type"] == "log"
