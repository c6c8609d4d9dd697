"""Run the browser and background-job tests again and again, and print the failures per test.

    python scripts/soak.py --runs 20                      # what `make soak` runs
    python scripts/soak.py --runs 5 tests/browser/test_lab_page.py

Each run is a fresh pytest process with fresh job and result stores (the test session makes its
own), so no run sees another's state.  A run that does not finish within ``--timeout`` seconds is
killed and counted as a hang.  Exit status: 0 when every run passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the tests a soak repeats: every browser test and every test that starts background jobs
DEFAULT_TESTS = ("tests/browser", "tests/app/lab", "tests/app/hosting", "tests/app/maps")


def outcomes(report: Path) -> dict[str, str]:
    """test id → 'passed' | 'failed' | 'skipped' from a JUnit XML report."""
    out: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            out[name] = "failed"
        elif case.find("skipped") is not None:
            out[name] = "skipped"
        else:
            out[name] = "passed"
    return out


def one_run(index: int, tests: list[str], timeout: float, work: Path) -> tuple[dict[str, str] | None, float]:
    """The outcomes of one pytest run (None if it hung) and its duration."""
    report = work / f"run-{index}.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *tests]
    env = dict(os.environ, NUMBA_CACHE_DIR=os.environ.get("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache")))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None, time.monotonic() - start
    elapsed = time.monotonic() - start
    return (outcomes(report) if report.exists() else {"<no report>": "failed"}), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before a run counts as a hang")
    parser.add_argument("tests", nargs="*", default=list(DEFAULT_TESTS))
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 1000:
        parser.error("--runs must be between 1 and 1000")
    failures: Counter[str] = Counter()
    hangs, times = 0, []
    with tempfile.TemporaryDirectory(prefix="descent-lab-soak-") as tmp:
        for i in range(1, args.runs + 1):
            result, elapsed = one_run(i, args.tests, args.timeout, Path(tmp))
            times.append(elapsed)
            if result is None:
                hangs += 1
                print(f"run {i:3d}: HUNG after {elapsed:.0f} s", flush=True)
                continue
            failed = sorted(name for name, outcome in result.items() if outcome == "failed")
            failures.update(failed)
            print(f"run {i:3d}: {len(result) - len(failed)} passed, {len(failed)} failed in {elapsed:.0f} s"
                  + "".join(f"\n          {name}" for name in failed), flush=True)  # fmt: skip
    times.sort()
    print(f"\n{args.runs} runs, {hangs} hung, median {times[len(times) // 2]:.0f} s per run")
    if failures:
        print("failures per test:")
        for name, count in failures.most_common():
            print(f"  {count:3d}/{args.runs}  {name}")
    else:
        print("no test failed")
    return 0 if not failures and not hangs else 1


if __name__ == "__main__":
    sys.exit(main())
