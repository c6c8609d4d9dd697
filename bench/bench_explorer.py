"""Explorer benchmark in headless Chromium on localhost (a script, not a test).

Measures
  1. server start → first page rendered (trajectories drawn), with a warm Numba cache and a new
     browser context (no cached scripts) each time, over --starts starts of each kind,
     interleaved: an empty result store (a first start; the strict case), the same on Dash's
     full plotly.js (``DESCENT_LAB_PLOTLY=full``; the baseline), and a restart that keeps the
     result store (what a teacher restarting the server gets); then a fresh checkout's starts
     (``--fresh`` of them, also ``--only starts`` or ``--only fresh``): server start → first race
     drawn with an empty Numba cache (every kernel compiles; target ≤ 15 s), then /maps opened from
     there → its first map drawn, and the second start on the cache that one filled (target ≤ 3 s).
     Run the fresh starts alone on the machine: they time compilation, which any other load slows;
  2. slider change → map updated, for 6 optimizers × 500 steps (the default Beale race),
     over N keyboard changes of the first card's η slider: p50 and p95;
  3. the same on a data surface with minibatches: linear regression on n = 256 points, B = 8
     (:data:`MINIBATCH_RACE`; the payload carries the points and the batch orders, and the data panel
     is redrawn with the map).
  4. sweep maps following a slider (:data:`LIVE_MAP`: Adam basins on Himmelblau, 256 × 256 × 1000,
     previewed at 128 × 128 × 300): the pointer drags the η slider as a person would (a move every
     30 ms); each preview's latency is from the slider's input event to the redraw
     (``descentlab:livemap``), and after each drag, from letting go to the settled 256 × 256 map on
     screen.  Targets: preview p50 ≤ 100 ms, p95 ≤ 200 ms; settled map ≤ 400 ms.
  5. the Explorer's basins layer following the first optimizer's η (:data:`BASINS_RACE`, Adam on
     Himmelblau, 128 × 128 starts × 300 steps): over --changes keyboard moves, from the keydown to
     the layer redrawn for the link shown (every move a new configuration: a cache miss).

The latency of a change is measured inside the page, from the keydown event to the
first animation frame after the animation engine applied the new trajectories to the
map (``descentlab:applied``).  Each change starts from a settled page (the previous
change's diagnostic panels drawn) and moves the slider one step further, so every
change is a new configuration (the server starts with an empty result cache).  Targets: start ≤ 3 s; p50 ≤ 60 ms, p95 ≤ 120 ms.

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/bench_explorer.py [--changes 40] [--fresh 3] [--only starts|fresh|races|minibatch|maps|basins]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip

PROBE = """
() => {
  window.__bench = {key: 0, paint: 0};
  document.addEventListener('keydown', () => { window.__bench.key = performance.now(); }, true);
  document.addEventListener('descentlab:applied', () => {
    requestAnimationFrame(() => { window.__bench.paint = performance.now(); });
  });
}
"""


#: 6 optimizers × 500 steps with minibatches of 8 of 256 points on linear regression
MINIBATCH_RACE = ("?surface=linreg&s.n=256&batch=8&steps=500&opt=sgd,lr=0.05&opt=momentum,lr=0.02,momentum=0.9"
                  "&opt=nesterov,lr=0.02,momentum=0.9&opt=adagrad,lr=0.5&opt=rmsprop,lr=0.01&opt=adam,lr=0.1")

#: records when Dash has rendered the page (the first control of the Explorer exists)
RENDERED_PROBE = """
new MutationObserver((_, obs) => {
  if (document.getElementById('surface')) { window.__dlRendered = performance.now(); obs.disconnect(); }
}).observe(document, {childList: true, subtree: true});
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a second start on a user's machine: Numba's cache and Python's bytecode are kept."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))
    return {**env, **extra}


def start_server(port: int, stores: str, **extra: str) -> subprocess.Popen:
    """``python -m app`` (what ``make run`` starts) with empty job and result stores in ``stores``."""
    env = server_env(DESCENT_LAB_JOBS_DIR=os.path.join(stores, "jobs"), DESCENT_LAB_RESULTS_DIR=os.path.join(stores, "results"),
                     **extra)  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


#: true once the Sweep maps page shows a computed map: its status line (``app.maps.ids.Ids.STATUS``) says how
#: many runs it swept
MAP_DRAWN = "(document.getElementById('maps-status') || {}).innerText?.includes('runs × up to')"

#: seconds the new browser context is left to settle before the server is launched: a user's browser
#: is open and idle when the server starts, while a tab created just before the launch still spends
#: ~0.3 s of the machine's cores starting its renderer, which would be counted as the server's start
BROWSER_SETTLE_S = 1.0


def time_start(browser, kept_stores: str | None = None, timeout: float = 60.0, first_map: bool = False,
               **extra: str) -> tuple[float, float, float, float, float]:  # fmt: skip
    """Seconds from launching the server to its first HTTP 200, to the first page's trajectories drawn,
    to its first paint and to its controls rendered, in a new browser context (no cached scripts) at
    1280×800, created :data:`BROWSER_SETTLE_S` before the launch; empty stores unless ``kept_stores``;
    at most ``timeout`` seconds for the trajectories.  With ``first_map``, the tab then opens /maps
    (as a user going on from the first race) and the last value is the seconds until the default map
    is drawn (its status line names its runs); NaN otherwise."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(RENDERED_PROBE)
    time.sleep(BROWSER_SETTLE_S)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    stores = kept_stores or tempfile.mkdtemp(prefix="descent-lab-bench-")
    t0 = time.perf_counter()
    server = start_server(port, stores, **extra)
    try:
        wait_http(url, 60)
        t_http = time.perf_counter() - t0
        page.goto(url)
        page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1", timeout=timeout * 1000)
        t_drawn = time.perf_counter() - t0
        # Dash has rendered the page: its surface control exists (RENDERED_PROBE)
        rendered_ms = page.evaluate("window.__dlRendered || 0")
        fcp_ms = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: 0}).startTime")
        t_map = math.nan
        if first_map:
            t_open = time.perf_counter()
            page.goto(url + "maps")
            page.wait_for_function(MAP_DRAWN, timeout=timeout * 1000)
            t_map = time.perf_counter() - t_open
        # navigation starts at t_http
        return t_http, t_drawn, t_http + fcp_ms / 1000, t_http + rendered_ms / 1000, t_map
    finally:
        stop(server)
        context.close()
        if kept_stores is None:
            shutil.rmtree(stores, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def server_starts(browser, count: int) -> None:
    """Time ``count`` server starts of each kind (interleaved) and print the medians."""
    kept = tempfile.mkdtemp(prefix="descent-lab-bench-kept-")
    time_start(browser, kept)  # the first start fills the kept store
    kinds = {
        "empty result store, compact plotly.js": lambda: time_start(browser),
        "empty result store, full plotly.js": lambda: time_start(browser, DESCENT_LAB_PLOTLY="full"),
        "restart keeping the result store, compact plotly.js": lambda: time_start(browser, kept),
    }
    stages = ("HTTP 200", "first paint", "controls rendered", "trajectories drawn")
    starts: dict[str, dict[str, list[float]]] = {k: {stage: [] for stage in stages} for k in kinds}
    for _ in range(max(1, count)):
        for name, run in kinds.items():
            t_http, t_drawn, t_paint, t_rendered, _ = run()
            for stage, t in zip(stages, (t_http, t_paint, t_rendered, t_drawn), strict=True):
                starts[name][stage].append(t)
    shutil.rmtree(kept, ignore_errors=True)
    for name, times in starts.items():
        print(f"server start, {name}, {len(times['HTTP 200'])} starts (medians; min–max):")
        for stage in stages:
            v = times[stage]
            print(f"  → {stage + ':':26s} {statistics.median(v):5.2f} s   ({min(v):.2f}–{max(v):.2f})"
                  + ("   (target ≤ 3 s)" if stage == "trajectories drawn" else ""))
    lite, full = (statistics.median(starts[k]["trajectories drawn"]) for k in list(kinds)[:2])
    print(f"  drawn ratio compact / full plotly.js (empty stores): {lite / full:.2f}")


#: longest a start on an empty Numba cache may take to draw its first race (it compiles the kernels)
COLD_START_TIMEOUT = 300.0


def fresh_checkout_starts(browser, count: int) -> None:
    """Time ``count`` fresh checkouts: server start → first race drawn with an empty Numba cache (cold),
    then /maps opened from there → its first map drawn; then a second start on the cache the first
    filled (warm); print the medians."""
    stages = ("HTTP 200", "trajectories drawn", "then /maps → map drawn")
    times: dict[str, dict[str, list[float]]] = {kind: {stage: [] for stage in stages} for kind in ("cold", "warm")}
    for _ in range(max(1, count)):
        caches = tempfile.mkdtemp(prefix="descent-lab-bench-fresh-")
        env = {"NUMBA_CACHE_DIR": caches}
        try:
            for kind in ("cold", "warm"):
                t_http, t_drawn, _, _, t_map = time_start(browser, timeout=COLD_START_TIMEOUT, first_map=kind == "cold",
                                                          **env)  # fmt: skip
                times[kind]["HTTP 200"].append(t_http)
                times[kind]["trajectories drawn"].append(t_drawn)
                times[kind]["then /maps → map drawn"].append(t_map)
        finally:
            shutil.rmtree(caches, ignore_errors=True)
    targets = {"cold": 15, "warm": 3}
    for kind, label in (("cold", "empty Numba cache"), ("warm", "second start on that cache")):
        print(f"fresh checkout, {label}, {count} starts (medians; min–max):")
        for stage in stages:
            v = times[kind][stage]
            if any(math.isnan(t) for t in v):
                continue
            print(f"  → {stage + ':':26s} {statistics.median(v):5.2f} s   ({min(v):.2f}–{max(v):.2f})"
                  + (f"   (target ≤ {targets[kind]} s)" if stage == "trajectories drawn" else ""))


def slider_changes(page, n: int) -> None:
    """Time n keyboard changes of the first card's η slider, with the fast path and through Dash alone; print p50/p95."""
    state = page.evaluate("DescentLab.state()")
    print(f"configuration: {len(state['slots'])} optimizers × {state['n']} steps")
    page.evaluate(PROBE)
    slider = page.locator('[id*="\\"group\\":\\"hp\\""][id*="\\"slot\\":0"][id*="\\"type\\":\\"slider\\""] [role="slider"]').first
    slider.focus()
    runs: dict[str, list[float]] = {"fast path": [], "Dash only": []}
    for i in range(2 * n + 4):  # interleaved, so both see the same machine; the first four warm up
        mode = "fast path" if i % 2 == 0 else "Dash only"
        page.evaluate(f"DescentLab.setFastPath({'true' if mode == 'fast path' else 'false'})")
        # start from a settled page: the previous change's diagnostics are drawn
        page.wait_for_function("DescentLab.state().diagnostics >= DescentLab.state().applied", timeout=10_000)
        page.wait_for_timeout(150)
        applied = page.evaluate("DescentLab.state().applied")
        page.keyboard.press("ArrowRight")  # always a new value: never a cached result
        page.wait_for_function(f"DescentLab.state().applied > {applied} && window.__bench.paint > window.__bench.key",
                               timeout=10_000)  # fmt: skip
        ms = page.evaluate("window.__bench.paint - window.__bench.key")
        if i >= 4:
            runs[mode].append(ms)
    for mode, latencies in runs.items():
        p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        print(f"slider change → map updated, {mode}, {len(latencies)} changes:")
        print(f"  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (targets ≤ 60 / ≤ 120 ms)"
              f"   min {min(latencies):6.1f}   max {max(latencies):6.1f}   mean {statistics.mean(latencies):6.1f}")
    fast, base = (percentile(runs[m], 0.5) for m in ("fast path", "Dash only"))
    print(f"  p50 ratio fast path / Dash only: {fast / base:.2f}")


#: the live-map benchmark's map (its preview is 128 × 128 × 300 steps)
LIVE_MAP = "maps?kind=basin&surface=himmelblau&steps=1000&opt=adam,lr=0.5&grid=256&show=minimum"


def live_map_drags(page, url: str, drags: int) -> None:
    """Time live previews while the η slider is dragged, and the settled full map after each release."""
    page.goto(url + LIVE_MAP)
    page.wait_for_function("""() => { const g = document.querySelector('#maps-graph .js-plotly-plot');
        return g && g._fullData && g._fullData.some(t => t.type === 'heatmap' && t.z.length === 256); }""",
                           timeout=120_000)  # fmt: skip
    page.wait_for_function("document.getElementById('maps-live-value').textContent.startsWith('η = ')")
    page.evaluate("window.__live = []; document.addEventListener('descentlab:livemap', e => __live.push(e.detail))")
    box = page.locator("#maps-live-slider").bounding_box()
    y = box["y"] + box["height"] / 2
    previews: list[float] = []
    settled: list[float] = []
    parts: dict[str, list[float]] = {"waited": [], "fetch": [], "draw": []}  # of the settled answers
    for d in range(drags + 1):  # the first drag warms up
        pos = page.evaluate("Number(document.getElementById('maps-live-slider').value)") / 200
        direction = -1 if d % 2 == 0 else 1
        page.mouse.move(box["x"] + box["width"] * pos, y)
        page.mouse.down()
        for i in range(1, 21):
            page.mouse.move(box["x"] + box["width"] * (pos + direction * 0.006 * i), y)
            page.wait_for_timeout(30)
        page.wait_for_timeout(300)  # the last preview lands
        value = page.inner_text("#maps-live-value")[4:]
        page.evaluate("window.__released = performance.now()")
        page.mouse.up()
        page.wait_for_function("""(v) => { const g = document.querySelector('#maps-graph .js-plotly-plot');
            const h = g._fullData.find(t => t.type === 'heatmap');
            if (h && h.z.length === 256 && g.layout.title.text.includes('η=' + v)) {
              if (!window.__settled) { window.__settled = performance.now(); } return true; }
            window.__settled = 0; return false; }""", arg=str(float(value)).rstrip("0").rstrip("."),
                               polling="raf", timeout=60_000)  # fmt: skip
        ms = page.evaluate("window.__settled - window.__released")
        page.evaluate("window.__settled = 0")
        live = page.evaluate("window.__live.splice(0)")
        if d > 0:
            previews += [e["ms"] for e in live if not e["settled"]]
            settled.append(ms)
            for e in live:
                if e["settled"]:
                    for k, v in parts.items():
                        v.append(e[k])
    p50, p95 = percentile(previews, 0.5), percentile(previews, 0.95)
    print(f"live map: Adam on Himmelblau, 128 × 128 × 300 previews while dragging η, {len(previews)} previews "
          f"over {drags} drags:")
    print(f"  slider → preview redrawn: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (targets ≤ 100 / ≤ 200 ms)"
          f"   max {max(previews):6.1f}")
    print(f"  release → settled 256 × 256 × 1000 map: median {statistics.median(settled):6.0f} ms   "
          f"max {max(settled):6.0f} ms   (target ≤ 400 ms)")
    if parts["fetch"]:
        print("    of which (medians): waiting for a preview in flight {:.0f} ms, request and compute {:.0f} ms, "
              "drawing {:.0f} ms".format(*(statistics.median(v) for v in parts.values())))


#: the basins layer's race: Adam first (its basins are drawn), 300 steps on Himmelblau
BASINS_RACE = "?surface=himmelblau&steps=300&opt=adam,lr=0.05,color=0&opt=sgd,lr=0.001,color=1&basins=1"


def basins_changes(page, url: str, n: int) -> None:
    """Time n keyboard moves of the first card's η slider, keydown → the new link's basins layer on the map
    (redrawn, or the same picture kept: a small step of η may not move a single start's basin)."""
    page.goto(url + BASINS_RACE)
    ready = ("window.DescentLabBasins && DescentLabBasins.state().drawn && !DescentLabBasins.state().pending"
             " && DescentLabBasins.state().forQuery === DescentLab.state().query")  # fmt: skip
    page.wait_for_function(ready, timeout=60_000)
    page.evaluate("document.addEventListener('keydown', () => { window.__key = performance.now(); }, true)")
    slider = page.locator('[id*="\\"group\\":\\"hp\\""][id*="\\"slot\\":0"][id*="\\"type\\":\\"slider\\""] [role="slider"]').first
    slider.focus()
    grid = page.evaluate("DescentLabBasins.state().grid")
    times: list[float] = []
    for i in range(n + 2):  # the first two warm up
        shown = page.evaluate("DescentLab.state().query")
        page.keyboard.press("ArrowRight" if (i // 8) % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"DescentLab.state().query !== {shown!r} && {ready}"
                               " && DescentLabBasins.state().shownAt > window.__key", timeout=30_000)  # fmt: skip
        if i >= 2:
            times.append(page.evaluate("DescentLabBasins.state().shownAt - window.__key"))
        page.wait_for_timeout(150)
    print(f"basins layer: Adam on Himmelblau, {grid} × {grid} starts × 300 steps, {len(times)} η moves:")
    print(f"  slider → layer on the map: p50 {percentile(times, 0.5):6.1f} ms   p95 {percentile(times, 0.95):6.1f} ms"
          f"   max {max(times):6.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=40, help="slider changes to time (default 40, at least 30)")
    parser.add_argument("--starts", type=int, default=5, help="server starts to time of each kind (default 5)")
    parser.add_argument("--fresh", type=int, default=3, help="fresh-checkout starts to time (default 3)")
    parser.add_argument("--only", choices=("all", "starts", "fresh", "races", "minibatch", "maps", "basins"),
                        default="all",
                        help="starts: the server starts only; fresh: the fresh checkout's starts only; "
                             "races: the slider changes only (no server starts); "
                             "minibatch: the minibatch race's only; maps: the live map only; basins: the basins layer only")  # fmt: skip
    parser.add_argument("--drags", type=int, default=8, help="slider drags on the live map (default 8)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # warm the Numba cache and the bytecode (a separate process: the server's first start on this machine)
    subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"], cwd=ROOT, env=server_env(), check=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})

        n_changes = max(30, args.changes)
        # 1. server start → first page rendered, three kinds of start interleaved
        if args.only in ("all", "starts"):
            server_starts(browser, args.starts)
        if args.only in ("all", "starts", "fresh"):
            fresh_checkout_starts(browser, args.fresh)
            if args.only in ("starts", "fresh"):
                browser.close()
                return 0

        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        stores = tempfile.mkdtemp(prefix="descent-lab-bench-")
        server = start_server(port, stores)
        try:
            wait_http(url, 60)
            page.goto(url)
            page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1", timeout=60_000)

            # 2. slider change → map updated, with the fast path and (baseline) through Dash alone
            if args.only in ("all", "races"):
                slider_changes(page, n_changes)
            # 3. the same with minibatches on a data surface
            if args.only in ("all", "races", "minibatch"):
                page.goto(url + MINIBATCH_RACE)
                page.wait_for_function("window.DescentLab && DescentLab.state().applied >= 1", timeout=60_000)
                page.wait_for_function("window.DescentData && DescentData.state().plotted !== null", timeout=60_000)
                print("minibatches: linear regression, n = 256, B = 8")
                slider_changes(page, n_changes)
            # 4. sweep maps following a slider
            if args.only in ("all", "maps"):
                live_map_drags(page, url, args.drags)
            if args.only in ("all", "basins"):
                basins_changes(page, url, max(20, args.changes // 2))
        finally:
            stop(server)
            browser.close()
            shutil.rmtree(stores, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
