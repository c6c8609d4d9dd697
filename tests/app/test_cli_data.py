"""``descent-lab`` on data surfaces: generated and file points, batch size, JSON that re-runs exactly."""

import csv
import io
import json

import numpy as np
import pytest

from app.cli import main
from optimizers import Modifiers, make_config, trace
from surfaces import get_surface


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_on_minibatches_matches_the_python_api_and_reruns_from_json(capsys, tmp_path):
    args = ("trace", "--surface", "linreg", "--n", "64", "--data-seed", "0", "--batch-size", "8", "--seed", "1",
            "--optimizer", "sgd", "--set", "lr=0.05", "--steps", "120")  # fmt: skip
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    t = trace(get_surface("linreg", n=64, data_seed=0), make_config("sgd", lr=0.05), (-1.0, 4.0), 120,
              modifiers=Modifiers(batch_size=8, seed=1))  # fmt: skip
    assert [float(v) for v in rows[-1][1:4]] == [t.positions[-1, 0], t.positions[-1, 1], t.losses[-1]]
    first = tmp_path / "run.json"
    assert run_cli(capsys, *args, "--format", "json", "-o", str(first))[0] == 0
    doc = json.loads(first.read_text())
    assert doc["modifiers"]["batch_size"] == 8 and doc["modifiers"]["seed"] == 1
    assert len(doc["surface"]["points"]) == 64 and doc["surface"]["params"]["data_seed"] == 0
    again = tmp_path / "again.json"
    assert run_cli(capsys, "trace", "--from", str(first), "--format", "json", "-o", str(again))[0] == 0
    assert json.loads(again.read_text())["rows"] == doc["rows"]


def test_points_from_a_csv_file_and_json_keeps_them(capsys, tmp_path):
    pts = tmp_path / "points.csv"
    pts.write_text("u,v\n0,1\n1,3.5\n2,5\n3,7.25\n")
    out_file = tmp_path / "run.json"
    code, _, _ = run_cli(capsys, "trace", "--surface", "linreg", "--data", str(pts), "--optimizer", "adam",
                         "--steps", "50", "--format", "json", "-o", str(out_file))  # fmt: skip
    assert code == 0
    doc = json.loads(out_file.read_text())
    assert doc["surface"]["points"] == [[0.0, 1.0], [1.0, 3.5], [2.0, 5.0], [3.0, 7.25]]
    s = get_surface("linreg", points=doc["surface"]["points"])
    assert doc["rows"][0][3] == s.value(-1.0, 4.0)
    # edited points survive a re-run even though the generator's parameters would draw others
    again = tmp_path / "again.json"
    assert run_cli(capsys, "trace", "--from", str(out_file), "--format", "json", "-o", str(again))[0] == 0
    assert json.loads(again.read_text())["rows"] == doc["rows"]


@pytest.mark.parametrize(("args", "reason"), [
    (("--surface", "beale", "--data", "{csv}"), "needs a data surface"),
    (("--surface", "linreg", "--data", "{bad}"), "line 3"),
    (("--surface", "linreg", "--data", "{missing}"), "cannot read"),
    (("--surface", "linreg", "--batch-size", "-2"), "batch_size"),
    (("--surface", "linreg", "--batch-size", "5000"), "batch_size"),
    (("--surface", "linreg", "--n", "1"), "linreg.n must be in"),
    (("--surface", "linreg", "--n", "8", "--param", "n=9"), "given together"),
])  # fmt: skip
def test_bad_data_arguments_exit_2_with_a_reason(capsys, tmp_path, args, reason):
    good = tmp_path / "p.csv"
    good.write_text("1,2\n3,4\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("u,v\n1,2\n3,'4'\n")
    filled = [a.format(csv=good, bad=bad, missing=tmp_path / "nope.csv") for a in args]
    code, _, err = run_cli(capsys, "trace", *filled, "--optimizer", "sgd", "--steps", "5")
    assert code == 2 and reason in err and "Traceback" not in err


def test_a_trace_file_with_hostile_points_is_refused(capsys, tmp_path):
    t = tmp_path / "run.json"
    assert run_cli(capsys, "trace", "--surface", "linreg", "--optimizer", "sgd", "--steps", "3",
                   "--format", "json", "-o", str(t))[0] == 0  # fmt: skip
    doc = json.loads(t.read_text())
    for points in ([[1e300, 1.0], [0.0, 1.0]], [[0.0, 1.0]] * 5000, "1,2", [[0.0, "x"], [1.0, 2.0]]):
        doc["surface"]["points"] = points
        t.write_text(json.dumps(doc))
        code, _, err = run_cli(capsys, "trace", "--from", str(t))
        assert code == 2 and "points" in err, err


def test_list_surfaces_names_the_data_surfaces_without_their_points(capsys):
    code, out, _ = run_cli(capsys, "list", "surfaces", "--format", "json")
    items = {d["name"]: d for d in json.loads(out)}
    assert code == 0 and {"linreg", "logreg", "tiny_net"} <= set(items)
    assert "points" not in items["linreg"] and [p["name"] for p in items["logreg"]["parameters"]][:2] == ["n", "data_seed"]
    assert np.isfinite(items["tiny_net"]["minima"][0]["value"])
