"""The lab's "linear autoencoder = PCA" panel: measured after a race of a linear model, explained otherwise."""

from __future__ import annotations

import json

from layout_tree import find_all, texts

from app.hosting.kv import MemoryKV
from app.lab import jobs, results
from app.lab.ids import Ids
from tests.app.lab.test_lab_page import Pushes, raw_form, tiny_form


def _run(**form) -> dict:
    out = jobs.run_job(raw_form(tiny_form(**form)), None, kv=MemoryKV(), token=None, push=Pushes())
    assert out["ok"], out["status"]
    json.dumps(out)  # plain JSON: it travels through Celery
    return out


def test_a_linear_race_is_compared_with_pca_run_by_run():
    out = _run(act="linear", out="linear", hidden="4", epochs=3)
    pca = out["pca"]
    assert pca["k"] == 4 and [r["label"] for r in pca["rows"]] == ["Adam (lr=0.01)", "SGD (lr=0.1, momentum=0.9)"]
    for row in pca["rows"]:
        assert len(row["angles_deg"]) == 4 and all(0.0 <= a <= 90.0 for a in row["angles_deg"])
        assert row["angles_deg"] == sorted(row["angles_deg"], reverse=True)
        assert row["val_mse"] >= 0.0
    assert 0.0 < pca["pca_val_mse"] < 0.2
    table = results.result_outputs(out)["pca"]
    rows = find_all(table, lambda c: type(c).__name__ == "Tr")
    assert len(rows) == 1 + 2 + 1  # the head, a row per run, PCA's row
    words = texts(table)
    assert "PCA (top 4)" in words and "principal subspace" in words
    assert f"{pca['rows'][0]['angles_deg'][0]:.2f}°" in words


def test_a_nonlinear_race_says_what_the_comparison_needs():
    out = _run()  # relu and sigmoid
    assert "linear autoencoder" in out["pca"]["why"]
    shown = texts(results.result_outputs(out)["pca"])
    assert "not for this model" in shown and "activation and output “linear”" in shown


def test_the_panel_waits_before_the_first_race_and_a_failed_race_clears_it():
    view = results.results_view()
    panel = find_all(view[1], lambda c: getattr(c, "id", None) == Ids.PCA)
    assert len(panel) == 1 and "linear autoencoder" in texts(panel[0])
    assert getattr(panel[0], "aria-label") == "Linear autoencoder and PCA"
    failed = results.result_outputs({"ok": False, "status": "Fix these settings first"})
    assert "No results" in texts(failed["pca"])
