"""``descent-lab curvature``: the race of ``train``, then each optimizer's Hessian spectrum, κ, η·λ_max and link."""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

import numpy as np
import pytest

from app.cli import main as cli_main
from app.cli.curvature import _race, add_curvature_parser, curvature_rows
from app.explorer.state import from_query
from autoencoder.hvp import dense_hessian
from autoencoder.model import Autoencoder

ARGS = ("curvature --data digits --max-samples 200 --hidden 4 --optimizer adam --optimizer sgd --set sgd.lr=0.2 "
        "--epochs 2 --batch-size 32 --seed 0 --quiet --top 3 --bottom 2")  # fmt: skip


def test_json_report_carries_kappa_and_eta_lambda_max_into_the_link(capsys: pytest.CaptureFixture[str]):
    # 64 → 4 → 64: 580 parameters, so 600 Lanczos steps span the whole space and the dense matrix is small
    assert cli_main([*ARGS.split(), "--format", "json", "--iterations", "600"]) == 0
    doc = json.loads(capsys.readouterr().out)
    model = Autoencoder.from_dict(doc["model"])
    assert model.n_params == 580
    sgd = doc["runs"][1]
    rep = sgd["report"]
    assert len(rep["top"]) == 3 and len(rep["bottom"]) == 2 and rep["samples"] == 160
    # the link carries κ (rounded to 4 digits, as shown) and η·λ_max with η = 0.2
    cfg = from_query(urlsplit(sgd["link"]["href"]).query)
    assert cfg.surface == "quadratic"
    assert dict(cfg.surface_params)["kappa"] == pytest.approx(min(max(rep["kappa"], 1.0), 1e4), rel=1e-3)
    assert cfg.optimizers[0].value("lr") == pytest.approx(0.2 * rep["lambda_max"], rel=1e-5)
    assert doc["runs"][0]["link"]["eta_lmax"] is None  # Adam: no single η
    assert rep["top"] == sorted(rep["top"], reverse=True) and rep["top"][0] > 0.0


def test_eigenvalues_are_those_of_the_dense_hessian():
    # the same race's final weights, rebuilt here from the training rows the report says it used


    p = argparse.ArgumentParser()
    add_curvature_parser(p.add_subparsers())
    args = p.parse_args([*ARGS.split(), "--iterations", "600"])
    race = _race(args)
    rows = curvature_rows(race, 3, 2, 600, 0)
    for r, row in zip(race.runs, rows, strict=True):
        h = dense_hessian(race.model, r.theta, race.landscape_inputs, race.landscape_targets)
        lam = np.linalg.eigvalsh(0.5 * (h + h.T))
        assert np.allclose(row["report"]["top"], lam[::-1][:3], rtol=1e-6, atol=0)
        assert np.allclose(row["report"]["bottom"], lam[:2], rtol=1e-6, atol=1e-12 * abs(lam).max())


def test_text_report_and_help(capsys: pytest.CaptureFixture[str]):
    assert cli_main([*ARGS.split(), "--base-url", "http://host:8050/"]) == 0
    out = capsys.readouterr().out
    assert "kappa = " in out and "eta*lambda_max = " in out and "not meaningful for adam" in out
    assert "quadratic: http://host:8050/?surface=quadratic" in out
    with pytest.raises(SystemExit):
        cli_main(["curvature", "--help"])
    assert "smallest positive eigenvalue" in capsys.readouterr().out


def test_bad_counts_exit_2(capsys: pytest.CaptureFixture[str]):
    assert cli_main([*ARGS.split(), "--top", "0", "--bottom", "0"]) == 2
    assert "at least one eigenvalue" in capsys.readouterr().err
