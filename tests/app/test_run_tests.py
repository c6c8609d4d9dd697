"""`make test` runs the suite as two pytest processes side by side: together they run every test once."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("run_tests", ROOT / "scripts" / "run_tests.py")
run_tests = importlib.util.module_from_spec(spec)
sys.modules["run_tests"] = run_tests  # its dataclass looks its module up there
spec.loader.exec_module(run_tests)


def _collected(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [line.split("::", 1)[1] for line in done.stdout.splitlines() if "::" in line]


def test_the_two_halves_split_a_suite_with_no_test_left_out_or_run_twice(tmp_path):
    for folder, name in (("browser", "test_page"), ("browser/deep", "test_deeper"), ("app", "test_browser_words"),
                         (".", "test_top")):  # fmt: skip
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / f"{name}.py").write_text(f"def {name}_a():\n    pass\n\ndef {name}_b():\n    pass\n")
    whole = _collected(str(tmp_path))
    split = run_tests.halves([], str(tmp_path), str(tmp_path / "browser"))
    browser, others = (_collected(*half.args) for half in split)
    assert len(whole) == 8
    assert sorted(browser) == ["test_deeper_a", "test_deeper_b", "test_page_a", "test_page_b"]
    assert sorted(browser + others) == sorted(whole)


def test_the_default_halves_are_this_suite_and_its_browser_tests():
    assert (ROOT / run_tests.SUITE / "conftest.py").is_file()
    assert (ROOT / run_tests.BROWSER_TESTS / "conftest.py").is_file()
    assert run_tests.BROWSER_TESTS.startswith(run_tests.SUITE + "/")


def _suite(tmp_path: Path, browser_body: str, other_body: str) -> tuple[str, str]:
    (tmp_path / "browser").mkdir()
    (tmp_path / "browser" / "test_page.py").write_text(browser_body)
    (tmp_path / "test_math.py").write_text(other_body)
    return str(tmp_path), str(tmp_path / "browser")


def test_a_failure_in_either_half_fails_the_run_and_both_halves_report(tmp_path):
    suite, browser = _suite(tmp_path, "def test_page():\n    assert 'a' == 'b'\n",
                            "def test_one():\n    assert 1 + 1 == 2\n\ndef test_two():\n    assert 2 * 2 == 4\n")
    out = io.StringIO()
    assert run_tests.main(["-q", "-p", "no:cacheprovider"], out, suite, browser) == 1
    text = out.getvalue()
    assert "[browser] " in text and "[others ] " in text
    summary = text.split("both halves ended after")[1]
    assert "browser: 1 failed" in summary and "(exit status 1)" in summary
    assert "others: 2 passed" in summary and "(exit status 0)" in summary


def test_options_reach_both_halves_and_a_clean_run_exits_zero(tmp_path):
    suite, browser = _suite(tmp_path,
                            "def test_page():\n    assert True\n\ndef test_skipped_by_k():\n    assert False\n",
                            "def test_one():\n    assert True\n\ndef test_other_skipped_by_k():\n    assert False\n")
    out = io.StringIO()
    assert run_tests.main(["-q", "-p", "no:cacheprovider", "-k", "not skipped"], out, suite, browser) == 0
    summary = out.getvalue().split("both halves ended after")[1]
    assert summary.count("1 passed, 1 deselected") == 2


def test_the_combined_status_is_the_first_failure():
    assert run_tests.combined_status([0, 0]) == 0
    assert run_tests.combined_status([0, 5]) == 5
    assert run_tests.combined_status([2, 1]) == 2
