"""``descent-lab train``, driven through an argparse parser built here (as app/cli.py wires it)."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from autoencoder.cli import CSV_COLUMNS, add_train_parser, cmd_train, optimizer_values, parse_data_arg


def _parse(argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="descent-lab")
    sub = p.add_subparsers(dest="command", required=True)
    add_train_parser(sub)
    return p.parse_args(argv.split())


def test_csv_output_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("train --data digits --max-samples 300 --hidden 16,4,16 --optimizer adam --optimizer sgd "
                  "--set sgd.lr=0.1 --epochs 3 --batch-size 32 --seed 1 --noise gaussian:0.2")  # fmt: skip
    assert args.func is cmd_train
    assert cmd_train(args) == 0
    out, err = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 4 * 2
    assert [r[1] for r in rows[1:3]] == ["adam", "sgd"] and rows[1][0] == "0" and rows[-1][0] == "3"
    assert all(float(r[2]) > 0 and float(r[3]) > 0 and float(r[4]) >= 0 for r in rows[1:])
    assert "[100%]" in err and "PSNR" in err and "Gaussian (0.2)" in err and "SGD (lr=0.1)" in err


def test_json_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "race.json"
    args = _parse(f"train --data digits --max-samples 200 --hidden 8 --optimizer lbfgs --epochs 2 "
                  f"--format json -o {target} --quiet")  # fmt: skip
    assert cmd_train(args) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    d = json.loads(target.read_text())
    assert d["runs"][0]["key"] == "lbfgs" and len(d["runs"][0]["history"]) == 3
    assert d["model"]["hidden"] == [8] and d["settings"]["epochs"] == 2
    assert len(d["psnr"]["rows"]) == 2


def test_user_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "mine.npy"
    np.save(f, np.random.default_rng(0).random((60, 4, 4)))
    assert cmd_train(_parse(f"train --data file:{f} --hidden 3 --optimizer adam --epochs 1 --quiet")) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        ("train --data digits --epochs 1", "at least one --optimizer"),
        ("train --data digits --optimizer adam --optimizer sgd --set lr=0.1", "say which optimizer"),
        ("train --data digits --optimizer adam --set sgd.lr=0.1", "not one of the raced"),
        ("train --data digits --optimizer adam --set 3.lr=0.1", "no optimizer number 3"),
        ("train --data digits --optimizer adam --set lr=fast", "lr must be a number"),
        ("train --data digits --optimizer adam --set lr=0.1 --set adam.lr=0.2", "given twice"),
        ("train --data cifar --optimizer adam", "unknown --data"),
        ("train --data mnist --optimizer adam", "needs a path"),
        ("train --data digits --optimizer adam --hidden 8,x", "comma-separated"),
        ("train --data digits --optimizer adam --noise speckle", "unknown noise type"),
        ("train --data digits --optimizer adam --epochs 1000", "epochs"),
        ("train --data digits --optimizer newton", "300 parameters"),
        ("train --data digits --optimizer adam --activation relu,tanh", "one activation per hidden layer"),
        ("train --data digits --optimizer adam --epochs 1 -o /nonexistent-dir/x.csv", "cannot write"),
    ],
)
def test_bad_input_is_one_line_value_error(argv: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        cmd_train(_parse(argv + " --quiet"))
    assert "\n" not in str(info.value)


def test_helpers() -> None:
    assert parse_data_arg("digits") == ("digits", None)
    assert parse_data_arg("mnist:/data/mnist") == ("mnist", "/data/mnist")
    assert parse_data_arg("x.csv") == ("file", "x.csv")
    assert optimizer_values(["adam", "sgd", "adam"], ["adam.lr=0.1", "2.momentum=0.9", "3.beta1=0.8"]) == [
        {"lr": "0.1"},
        {"momentum": "0.9"},
        {"lr": "0.1", "beta1": "0.8"},
    ]
