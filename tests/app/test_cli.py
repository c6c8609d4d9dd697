"""The descent-lab command line, through main() and as a real subprocess."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from optimizers import make_config, trace
from surfaces import get_surface
from optimizers.registry import SPECS as OPTIMIZER_SPECS

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_csv_matches_the_python_api(capsys):
    code, out, _ = run_cli(
        capsys, "trace", "--surface", "beale", "--optimizer", "adam", "--start", "1,1.5",
        "--steps", "500", "--set", "lr=0.01", "--set", "beta1=0.9",
    )  # fmt: skip
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:4] == ["step", "x", "y", "loss"]
    assert len(rows) == 502
    assert rows[1][:4] == ["0", "1.0", "1.5", repr(get_surface("beale").value(1.0, 1.5))]
    t = trace(get_surface("beale"), make_config("adam", lr=0.01), (1.0, 1.5), 500)
    last = [float(v) for v in rows[-1][1:4]]
    assert last == [t.positions[-1, 0], t.positions[-1, 1], t.losses[-1]]


def test_trace_json_is_reproducible_and_finite(capsys, tmp_path):
    out_file = tmp_path / "run.json"
    code, _, err = run_cli(
        capsys, "trace", "--surface", "quadratic", "--param", "kappa=50", "--optimizer", "sgd",
        "--set", "lr=2.5", "--steps", "100", "--format", "json", "-o", str(out_file),
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out_file.read_text())
    assert doc["status"] == "diverged" and doc["stop_step"] >= 1
    assert "diverged at step" in err
    assert doc["surface"]["params"]["kappa"] == 50.0
    assert doc["optimizer"]["hyperparameters"]["lr"] == 2.5
    assert doc["columns"][:4] == ["step", "x", "y", "loss"]
    assert np.all(np.isfinite(np.array([r[1:] for r in doc["rows"]], dtype=float)))


def test_modifiers_reach_the_run(capsys):
    args = ["trace", "--surface", "cliff", "--optimizer", "sgd", "--set", "lr=0.1", "--steps", "100", "--format", "json"]
    _, plain, _ = run_cli(capsys, *args)
    _, clipped, _ = run_cli(capsys, *args, "--clip", "norm", "--clip-value", "1")
    steps_plain = np.array(json.loads(plain)["rows"])[:, 6:8]
    steps_clip = np.array(json.loads(clipped)["rows"])[:, 6:8]
    assert np.max(np.linalg.norm(steps_clip, axis=1)) <= 0.1 * 1.0 + 1e-9
    assert np.max(np.linalg.norm(steps_plain, axis=1)) > 1.5


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["trace", "--surface", "nope", "--optimizer", "adam"], "unknown surface"),
        (["trace", "--surface", "beale", "--optimizer", "nope"], "unknown optimizer"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--set", "lrr=1"], "no hyperparameter 'lrr'"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--set", "lr=-1"], "lr must be"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--set", "beta1=1"], "beta1 must be"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--set", "lr"], "KEY=VALUE"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--start", "1"], "--start"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--steps", "1000000000"], "steps"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--clip", "sideways"], "clip"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--schedule", "zigzag"], "schedule"),
        (["trace", "--surface", "quadratic", "--param", "kappa=0", "--optimizer", "adam"], "kappa"),
        (["trace", "--optimizer", "adam"], "--surface"),
        (["list", "things"], "invalid choice"),
        (["trace", "--surface", "beale", "--optimizer", "adam", "--start", "-1,2"], "write --start=VALUE"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_exit_2_with_one_line(capsys, args, fragment):
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("descent-lab: error:")
    assert fragment in err


def test_list_json(capsys):
    code, out, _ = run_cli(capsys, "list", "optimizers", "--format", "json")
    assert code == 0
    specs = {s["name"]: s for s in json.loads(out)}
    assert list(specs) == [spec.name for spec in OPTIMIZER_SPECS]  # every registered optimizer, in order
    assert {"adamax", "radam", "sam", "schedulefree_adamw"} <= set(specs)
    adam = {p["key"]: p for p in specs["adam"]["hyperparameters"]}
    assert adam["lr"]["default"] == 0.001 and adam["beta2"]["default"] == 0.999
    code, out, _ = run_cli(capsys, "list", "surfaces", "--format", "json")
    surfaces = {s["name"]: s for s in json.loads(out)}
    assert surfaces["beale"]["minima"][0]["x"] == 3.0
    assert {p["name"] for p in surfaces["quadratic"]["parameters"]} == {"kappa", "angle"}


def test_list_text(capsys):
    code, out, _ = run_cli(capsys, "list", "surfaces")
    assert code == 0 and out.splitlines()[0].startswith("beale")
    code, out, _ = run_cli(capsys, "list", "optimizers")
    assert "delta_bar_delta" in out and "lr" in out


def test_console_script_runs_as_a_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "trace", "--surface", "rosenbrock", "--optimizer", "lbfgs",
         "--steps", "50", "-o", str(tmp_path / "r.csv")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader((tmp_path / "r.csv").open()))
    assert float(rows[-1][1]) == pytest.approx(1.0, abs=1e-6)
    bad = subprocess.run([sys.executable, "-m", "app.cli", "trace", "--optimizer", "adam", "--surface", "x"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "unknown surface" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--surface", "beale", "--optimizer", "adam", "--set", "lr=0.02", "--noise", "0.3", "--seed", "4",
         "--clip", "norm", "--clip-value", "2", "--schedule", "cosine", "--schedule-param", "T_max=80"],
        ["--surface", "quadratic", "--param", "kappa=40", "--param", "angle=25", "--optimizer", "nesterov",
         "--set", "convention=textbook", "--set", "lr=0.3"],
        ["--formula", "sin(x)*y^2 + exp(-x)", "--bounds=-3,3,-2,2", "--optimizer", "lbfgs", "--start=-1,1"],
    ],
)
def test_json_export_replays_exactly(capsys, tmp_path, args):
    first = tmp_path / "a.json"
    assert main(["trace", *args, "--steps", "150", "--format", "json", "-o", str(first)]) == 0
    second = tmp_path / "b.json"
    assert main(["trace", "--from", str(first), "--format", "json", "-o", str(second)]) == 0
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["rows"] == b["rows"] and a["status"] == b["status"]
    assert a["surface"] == b["surface"] and a["optimizer"] == b["optimizer"] and a["modifiers"] == b["modifiers"]
    assert a["descent_lab_version"] and a["optimizer"]["convention"]


def test_from_refuses_bad_files(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"surface": 1}')
    code, _, err = run_cli(capsys, "trace", "--from", str(bad))
    assert code == 2 and "not a trajectory file" in err
    code, _, err = run_cli(capsys, "trace", "--from", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
    big = tmp_path / "big.json"
    big.write_text(" " * 1_000_001)
    code, _, err = run_cli(capsys, "trace", "--from", str(big))
    assert code == 2 and "larger than" in err
