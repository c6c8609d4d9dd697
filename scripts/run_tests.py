"""Run every test as two pytest processes side by side: the browser tests, and all the others.

    python scripts/run_tests.py            # what `make test` runs
    python scripts/run_tests.py -x -k maps # pytest options go to both halves

The browser tests keep about 1.6 of a 2-core machine's cores busy (Chromium, the app's server thread,
the test) and the other tests one, so run one after the other they leave cores idle; side by side the
suite ends about a fifth sooner (measured with a warm kernel cache: 14:00 one after the other, 11:19
side by side).
Each half is a fresh pytest process with its own job and result stores (the test session makes them),
its own app server and browser, so neither sees the other's state; they share only the compiled-kernel
cache, which Numba writes atomically.

Both halves' lines are printed as they come, each prefixed with its half's name.  Exit status: 0 when
both halves passed, otherwise the first non-zero status of the two (pytest's codes).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
SUITE = "tests"
BROWSER_TESTS = "tests/browser"


@dataclass(frozen=True)
class Half:
    """One of the two pytest processes: its name (in front of each of its lines) and its pytest arguments."""

    name: str
    args: tuple[str, ...]


def halves(extra: list[str], suite: str = SUITE, browser: str = BROWSER_TESTS) -> list[Half]:
    """The tests under ``browser``, and every other test under ``suite``, each with the options in ``extra``.

    Together they run each test of the suite exactly once."""
    return [
        Half("browser", (*extra, browser)),
        Half("others", (*extra, suite, f"--ignore={browser}")),
    ]


def combined_status(codes: list[int]) -> int:
    """0 when every half passed, else the first non-zero pytest exit status."""
    return next((c for c in codes if c != 0), 0)


def _relay(prefix: str, stream: TextIO, out: TextIO, lock: threading.Lock, last: list[str]) -> None:
    """Copy ``stream``'s lines to ``out`` with ``prefix`` in front; keep the last line (pytest's summary)."""
    for line in stream:
        with lock:
            out.write(f"{prefix} {line}")
            out.flush()
        if line.strip():
            last[0] = line.strip().strip("= ")


def main(argv: list[str], out: TextIO = sys.stdout, suite: str = SUITE, browser: str = BROWSER_TESTS) -> int:
    """Run both halves of ``suite`` (pytest options ``argv``) side by side; returns the combined status."""
    started = time.monotonic()
    lock = threading.Lock()
    runs = []
    both = halves(argv, suite, browser)
    width = max(len(half.name) for half in both)
    try:
        for half in both:
            proc = subprocess.Popen([sys.executable, "-m", "pytest", *half.args], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)  # fmt: skip
            last = [""]
            prefix = f"[{half.name:<{width}}]"
            relay = threading.Thread(target=_relay, args=(prefix, proc.stdout, out, lock, last), daemon=True)
            relay.start()
            runs.append((half, proc, relay, last))
        codes = []
        for _, proc, relay, _ in runs:
            codes.append(proc.wait())
            relay.join()
    finally:  # interrupted (Ctrl-C) or failed to start: no half outlives the runner
        for _, proc, _, _ in runs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    out.write(f"\nboth halves ended after {minutes}:{seconds:02d}\n")
    for (half, _, _, last), code in zip(runs, codes, strict=True):
        out.write(f"  {half.name}: {last[0] or 'no output'} (exit status {code})\n")
    return combined_status(codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
