"""Benchmark of exports; prints figures (not collected by pytest).

    python bench/bench_export.py

PNG at 1000×800 and scale 2 (target ≤ 0.5 s with the export browser warm),
timed two ways:

* after a pause: the exporter has been idle, so the export browser has
  reloaded its page in the background and draws on a fresh one, as when
  someone presses Download after looking at the page (the pause is not timed);
* back to back: exports one after the other; the previous path reloads its page
  before returning each image, the export browser draws them on the same page.

Each is measured for the export browser and for the path it replaced
(plotly.io → kaleido's sync server, which reloads its page before returning the
image), interleaved in the same process so that both see the same load; the
ratio new / previous is printed, also for the beale preset's view (what
``descent-lab export --preset beale`` draws).  A trivial figure through the
export browser shows the floor of one round trip.  Then SVG and PDF (both
paths, both ways), a 100-frame GIF of 5 trajectories (target ≤ 10 s) and the
standalone HTML.  All times are medians.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.export import browser as export_browser  # noqa: E402
from app.explorer.compute import compute
from app.export.formats import ExportOptions, export, publication_figure  # noqa: E402
from app.explorer.presets import get_preset  # noqa: E402
from app.explorer.state import from_query  # noqa: E402

REPEATS = 9
PAUSE = 0.5  # seconds of idle browser before each "after a pause" export (not timed)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def previous(result, fmt: str, opts: ExportOptions) -> bytes:
    """The image as the export module made it before: plotly.io through kaleido's sync server."""
    import kaleido
    import plotly.io as pio

    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pio.to_image(publication_figure(result), format=fmt, width=opts.width, height=opts.height,
                            scale=opts.scale)  # fmt: skip


def after_pause(fn) -> float:
    export_browser.wait_idle(fresh=True)  # what IDLE_RELOAD seconds without an export lead to
    time.sleep(PAUSE)
    return timed(fn)


def main() -> None:
    cfg = from_query(
        "surface=beale&steps=500&opt=sgd,lr=0.01&opt=momentum,lr=0.01&opt=rmsprop,lr=0.01"
        "&opt=adam,lr=0.05&opt=adagrad,lr=0.5"
    )
    result = compute(cfg)
    slides = ExportOptions()  # 1000×800 at scale 2
    first = timed(lambda: export(cfg, "png", slides, result=result))
    print(f"first PNG of the process (starts the export browser): {first:.2f} s")
    previous(result, "png", slides)  # start the old path's browser too

    def new() -> bytes:
        return export(cfg, "png", slides, result=result)

    def old() -> bytes:
        return previous(result, "png", slides)

    times: dict[str, list[float]] = {k: [] for k in ("new pause", "old pause", "new b2b", "old b2b")}
    for _ in range(REPEATS):  # interleaved: both paths see the same load
        times["new pause"].append(after_pause(new))
        times["old pause"].append(after_pause(old))
    for label, fn in (("new b2b", new), ("old b2b", old)):
        export_browser.wait_idle(fresh=True)
        times[label] = [timed(fn) for _ in range(REPEATS)]
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"PNG 1000x800 @2x, medians of {REPEATS} (target <= 0.5 s):")
    print(f"  after a pause: export browser {med['new pause']:.3f} s, previous path {med['old pause']:.3f} s "
          f"-> ratio {med['new pause'] / med['old pause']:.2f}")  # fmt: skip
    print(f"  back to back:  export browser {med['new b2b']:.3f} s, previous path {med['old b2b']:.3f} s "
          f"-> ratio {med['new b2b'] / med['old b2b']:.2f}")  # fmt: skip
    print(f"  ({first / med['new pause']:.0f}x faster than the first PNG, which starts the browser; "
          f"page reloads off the caller's path: {export_browser.defers_reload()})")  # fmt: skip

    preset = get_preset("beale").config  # the view `descent-lab export --preset beale` draws (6 runs, arrows)
    preset_result = compute(preset)
    p_new, p_old = [], []
    for _ in range(5):
        p_new.append(after_pause(lambda: export(preset, "png", slides, result=preset_result)))
        p_old.append(after_pause(lambda: previous(preset_result, "png", slides)))
    a, b = statistics.median(p_new), statistics.median(p_old)
    print(f"  the beale preset's view, after a pause: export browser {a:.3f} s, previous path {b:.3f} s "
          f"-> ratio {a / b:.2f}")  # fmt: skip

    trivial = {"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}], "layout": {}}
    floor = statistics.median(after_pause(lambda: export_browser.render(trivial, "png", 1000, 800, 2.0))
                              for _ in range(5))  # fmt: skip
    print(f"  trivial figure, same size, after a pause: {floor:.3f} s (one round trip's floor)")

    for fmt in ("svg", "pdf"):
        pause_new, pause_old = [], []
        for _ in range(5):
            pause_new.append(after_pause(lambda: export(cfg, fmt, slides, result=result)))
            pause_old.append(after_pause(lambda: previous(result, fmt, slides)))
        export_browser.wait_idle(fresh=True)
        b2b_new = [timed(lambda: export(cfg, fmt, slides, result=result)) for _ in range(5)]
        b2b_old = [timed(lambda: previous(result, fmt, slides)) for _ in range(5)]
        a, b = statistics.median(pause_new), statistics.median(pause_old)
        c, d = statistics.median(b2b_new), statistics.median(b2b_old)
        print(f"{fmt.upper()}: after a pause {a:.3f} s (previous path {b:.3f} s, ratio {a / b:.2f}); "
              f"back to back {c:.3f} s (previous {d:.3f} s, ratio {c / d:.2f})")  # fmt: skip
    for size in ("slide", "slide43", "column", "page"):  # the size presets (panels chosen by "auto")
        sized = ExportOptions(size=size)
        for fmt in ("png", "svg", "pdf"):
            med = statistics.median(after_pause(lambda: export(preset, fmt, sized, result=preset_result))
                                    for _ in range(5))  # fmt: skip
            print(f"beale preset, --size {size}, {fmt.upper()} after a pause: median {med:.3f} s")
    gif_opts = ExportOptions(frames=100)
    gif = statistics.median(timed(lambda: export(cfg, "gif", gif_opts, result=result)) for _ in range(3))
    n = sum(r.ok for r in result.runs)
    print(f"GIF 100 frames, {n} trajectories, 1000x800: median {gif:.2f} s (target <= 10 s)")
    html = statistics.median(timed(lambda: export(cfg, "html", slides, result=result)) for _ in range(3))
    print(f"standalone HTML median {html:.2f} s")


if __name__ == "__main__":
    main()
