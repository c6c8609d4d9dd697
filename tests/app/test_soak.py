"""`make soak` counts failures per test over repeated runs, and a run that hangs as a hang."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
soak = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soak)


def test_failures_are_counted_per_test_over_the_runs(tmp_path, capsys):
    suite = tmp_path / "test_sample.py"
    suite.write_text("def test_good():\n    assert 1 + 1 == 2\n\ndef test_bad():\n    assert 1 + 1 == 3\n")
    assert soak.main(["--runs", "2", str(suite)]) == 1
    out = capsys.readouterr().out
    assert out.count("1 passed, 1 failed") == 2
    tally = out.split("failures per test:")[1].strip().splitlines()
    assert len(tally) == 1  # test_good never failed
    count, name = tally[0].split()
    assert count == "2/2" and name.endswith("test_sample::test_bad")


def test_a_run_that_outlives_its_timeout_is_a_hang(tmp_path, capsys):
    suite = tmp_path / "test_slow.py"
    suite.write_text("import time\n\ndef test_sleeps():\n    time.sleep(60)\n")
    assert soak.main(["--runs", "1", "--timeout", "3", str(suite)]) == 1
    assert "1 runs, 1 hung" in capsys.readouterr().out


def test_a_clean_soak_exits_zero(tmp_path, capsys):
    suite = tmp_path / "test_fine.py"
    suite.write_text("def test_fine():\n    assert True\n")
    assert soak.main(["--runs", "1", str(suite)]) == 0
    assert "no test failed" in capsys.readouterr().out
