"""Benchmark of exports; prints figures (not collected by pytest).

    python bench/bench_export.py

PNG with the export browser warm (target ≤ 0.5 s) against the first PNG of the
process (which starts the browser), and a 100-frame GIF of 5 trajectories
(target ≤ 10 s).  Medians of repeated runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.compute import compute  # noqa: E402
from app.export import ExportOptions, export  # noqa: E402
from app.state import from_query  # noqa: E402


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    cfg = from_query(
        "surface=beale&steps=500&opt=sgd,lr=0.01&opt=momentum,lr=0.01&opt=rmsprop,lr=0.01"
        "&opt=adam,lr=0.05&opt=adagrad,lr=0.5"
    )
    result = compute(cfg)
    slides = ExportOptions()  # 1000×800 at scale 2
    first = timed(lambda: export(cfg, "png", slides, result=result))
    warm = statistics.median(timed(lambda: export(cfg, "png", slides, result=result)) for _ in range(5))
    print(f"PNG 1000x800 @2x: first (starts the export browser) {first:.2f} s, warm median {warm:.2f} s "
          f"(target <= 0.5 s; {first / warm:.0f}x faster than a fresh browser)")  # fmt: skip
    svg = statistics.median(timed(lambda: export(cfg, "svg", slides, result=result)) for _ in range(3))
    print(f"SVG warm median {svg:.2f} s")
    gif_opts = ExportOptions(frames=100)
    gif = statistics.median(timed(lambda: export(cfg, "gif", gif_opts, result=result)) for _ in range(3))
    n = sum(r.ok for r in result.runs)
    print(f"GIF 100 frames, {n} trajectories, 1000x800: median {gif:.2f} s (target <= 10 s)")
    html = statistics.median(timed(lambda: export(cfg, "html", slides, result=result)) for _ in range(3))
    print(f"standalone HTML median {html:.2f} s")


if __name__ == "__main__":
    main()
